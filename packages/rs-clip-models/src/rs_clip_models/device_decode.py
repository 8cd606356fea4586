"""Decoding JPEG rows on the device, batched, and preprocessing them there as open_clip does a PIL image.

Why: a GPU embeds 256 px images faster than the machine's CPU cores decode them (bench/RESULTS.md), so
where CUDA is present JPEG rows go to the device as bytes and ``torchvision.io.decode_jpeg`` decodes a
whole batch there (nvjpeg). The same function on the CPU runs libjpeg instead, which is how the tests compare this path with PIL's.

Decisions:

- Only open_clip's evaluation preprocessing is reproduced (:func:`device_plan`): ``Resize(n)`` of the
  shortest side (bicubic, antialiased), ``CenterCrop(n)``, RGB, ``ToTensor``, ``Normalize``. Any other
  pipeline keeps the CPU path, so a custom ``preprocess`` is never approximated.
- The resize is torchvision's tensor resize (bicubic with antialias), which follows PIL's filter; the
  result is rounded to uint8 as PIL's is, so both paths differ only by decoder and filter rounding
  (a few grey levels; the tests bound it).
- Rows that are not JPEG, or that the device decoder refuses (CMYK, progressive oddities, corruption),
  decode on the CPU with PIL like every other row: the same pixels within tolerance, and a row broken for
  PIL too fails with the FormatError naming it, as before. The pixel limit of
  :data:`rs_formats.pixel_limits.MAX_ROW_PIXELS` is checked on the header before any bytes reach the device.
- Images of one size are resized together (shards are written at one size), others one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

#: Every JPEG starts with an SOI marker followed by another marker.
_JPEG_MAGIC = b"\xff\xd8\xff"


def is_jpeg(data: bytes) -> bool:
    return data[:3] == _JPEG_MAGIC


@dataclass(frozen=True)
class DevicePreprocess:
    """open_clip's evaluation preprocessing as numbers: shortest side to ``size``, centre ``size`` crop."""

    size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def __call__(self, images: Sequence[torch.Tensor]) -> torch.Tensor:
        """uint8 ``[3, H, W]`` images (any sizes, one device) to the model's ``[n, 3, size, size]`` float input."""
        from torchvision.transforms import InterpolationMode
        from torchvision.transforms import functional as F

        out: list[torch.Tensor | None] = [None] * len(images)
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, img in enumerate(images):
            by_shape.setdefault(tuple(img.shape), []).append(i)
        for idx in by_shape.values():
            batch = torch.stack([images[i] for i in idx])
            batch = F.resize(batch, [self.size], interpolation=InterpolationMode.BICUBIC, antialias=True)
            batch = F.center_crop(batch, [self.size, self.size])
            for j, i in enumerate(idx):
                out[i] = batch[j]
        x = torch.stack(out).float().div_(255)  # type: ignore[arg-type]
        mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
        return x.sub_(mean).div_(std)


def device_plan(preprocess: Any) -> DevicePreprocess | None:
    """The :class:`DevicePreprocess` equal to ``preprocess`` when it is open_clip's evaluation pipeline
    (square ``Resize`` of the shortest side, bicubic, antialiased; ``CenterCrop``; RGB; to tensor;
    ``Normalize``), else None."""
    from torchvision.transforms import CenterCrop, Compose, InterpolationMode, Normalize, Resize

    steps = list(getattr(preprocess, "transforms", []))
    if not isinstance(preprocess, Compose) or len(steps) != 5:
        return None
    resize, crop, mode, to_tensor, norm = steps
    if not (isinstance(resize, Resize) and isinstance(crop, CenterCrop) and isinstance(norm, Normalize)):
        return None
    if type(mode).__name__ not in ("MaybeConvertMode", "function") or type(to_tensor).__name__ not in (
        "MaybeToTensor",
        "ToTensor",
    ):
        return None
    if getattr(mode, "mode", "RGB") != "RGB" and type(mode).__name__ == "MaybeConvertMode":
        return None
    size = (
        resize.size if isinstance(resize.size, int) else (resize.size[0] if len(resize.size) == 1 else None)
    )
    if (
        size is None
        or resize.interpolation != InterpolationMode.BICUBIC
        or resize.max_size is not None
        or resize.antialias is False
        or tuple(crop.size) != (size, size)
        or len(norm.mean) != 3
    ):
        return None
    return DevicePreprocess(int(size), tuple(float(m) for m in norm.mean), tuple(float(s) for s in norm.std))


def decode_jpegs(datas: Sequence[bytes], device: str | torch.device) -> list[torch.Tensor | None]:
    """RGB uint8 ``[3, H, W]`` tensors on ``device``, one per JPEG; None where the decoder refused a row.

    One batched call decodes them all (nvjpeg on a GPU); when that call fails, each row is tried alone so
    that one bad row costs only itself.
    """
    from torchvision.io import ImageReadMode, decode_jpeg

    if not datas:
        return []
    device = torch.device(device)
    raw = [torch.frombuffer(bytearray(d), dtype=torch.uint8) for d in datas]
    try:
        return list(decode_jpeg(raw, mode=ImageReadMode.RGB, device=device))
    except RuntimeError:
        pass
    out: list[torch.Tensor | None] = []
    for r in raw:
        try:
            out.append(decode_jpeg(r, mode=ImageReadMode.RGB, device=device))
        except RuntimeError:
            out.append(None)
    return out


def available(device: str | torch.device) -> bool:
    """Whether rows can be decoded on ``device``: a CUDA device and a torchvision built with nvjpeg."""
    device = torch.device(device)
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    try:
        from torchvision.io import decode_jpeg  # noqa: F401
    except ImportError:
        return False
    return True
