"""A training sample's pixels: decoding and augmentation (crop + resize, flip, quarter turns), in a loader
process with PIL or on the GPU with torchvision, to the same result within decoder tolerance.

Decisions the paper leaves open (RemoteCLIP trains with open_clip's augmentation):

- The crop follows torchvision's RandomResizedCrop rule (area in ``crop_scale``, aspect in [3/4, 4/3],
  ten tries, then the centre crop with the aspect clamped to that range: a 16:9 frame, where no crop of
  90% of the area fits the aspect range, gives its central 4:3 part, not the whole frame squashed),
  drawn in relative units and rounded to whole pixels (:func:`pixel_box`), and cut out before the
  resize, so that PIL and torchvision's tensor resize see the same pixels; the resize is bicubic with
  antialiasing in both. Every draw comes from the generator the loader seeds from seed, reader and
  position, so a row's augmentation does not depend on the process that reads it.
- Flips are horizontal; rotations are exact quarter turns (aerial images have no canonical "up").
- On a GPU, JPEG rows are decoded there (:mod:`rs_clip_models.device_decode`, nvjpeg, batched): loader
  processes then only read Parquet, check headers, draw the augmentation and tokenise, which CPU cores
  do far faster than they decode (a GPU trains ViT-B-32 on more pairs a second than a few cores decode
  and resize: bench/RESULTS.md). Rows that are not JPEG are decoded in the loader as before; a
  JPEG the device refuses is decoded with PIL in the training process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from rs_formats.pixel_limits import decode_image

if TYPE_CHECKING:
    from PIL import Image

    from .config import DataConfig


@dataclass(frozen=True)
class AugParams:
    box: tuple[float, float, float, float]  # crop as fractions of width/height: x0, y0, x1, y1
    flip: bool
    rot90: int  # counter-clockwise quarter turns, 0-3


RATIO = (3 / 4, 4 / 3)  # torchvision's RandomResizedCrop aspect range (width / height)


def sample_aug(rng: np.random.Generator, cfg: DataConfig, width: int, height: int) -> AugParams:
    """torchvision's ``RandomResizedCrop.get_params`` (area in crop_scale, aspect in :data:`RATIO`, ten
    tries, then the centre crop with the image's aspect clamped to RATIO) in relative units."""
    lo, hi = cfg.crop_scale
    for _ in range(10):
        area = rng.uniform(lo, hi)
        ratio = math.exp(rng.uniform(math.log(RATIO[0]), math.log(RATIO[1])))
        fw = math.sqrt(area * ratio * height / width)
        fh = math.sqrt(area / ratio * width / height)
        if fw <= 1 and fh <= 1:
            x0, y0 = rng.uniform(0, 1 - fw), rng.uniform(0, 1 - fh)
            box = (x0, y0, x0 + fw, y0 + fh)
            break
    else:
        aspect = width / height
        fw = min(1.0, RATIO[1] / aspect)  # wider than 4:3: full height, 4:3 wide
        fh = min(1.0, aspect / RATIO[0])  # taller than 3:4: full width, 4:3 high
        box = ((1 - fw) / 2, (1 - fh) / 2, (1 + fw) / 2, (1 + fh) / 2)
    flip = bool(cfg.hflip and rng.random() < 0.5)
    rot = int(rng.integers(4)) if cfg.rotate90 else 0
    return AugParams(box, flip, rot)


def pixel_box(params: AugParams, width: int, height: int) -> tuple[int, int, int, int]:
    """The crop in whole pixels ``(left, top, right, bottom)``, at least one pixel each way."""
    x0, y0, x1, y1 = params.box
    left, top = min(round(x0 * width), width - 1), min(round(y0 * height), height - 1)
    return (
        left,
        top,
        max(left + 1, min(round(x1 * width), width)),
        max(top + 1, min(round(y1 * height), height)),
    )


def decode(data: bytes, image_id: str, min_side: int) -> Image.Image:
    """Decode to RGB under rs-formats' row pixel limit (a bomb's header is refused before any decoding);
    JPEGs decode at a reduced scale (DCT draft) when that still covers ``min_side``. Raises FormatError
    (a ValueError) naming the image.

    Draft mode decodes a large JPEG at a fraction of its full-size cost, which is what lets a few loader
    processes keep a GPU busy on full-resolution shards.
    """
    return decode_image(data, row=f"image {image_id!r}", draft=(min_side, min_side))


def augment(img: Image.Image, params: AugParams, size: int) -> np.ndarray:
    """Crop + resize (bicubic), flip, rotate: an HxWx3 uint8 array. Rotations are exact transposes."""
    from PIL import Image

    # Crop, then resize: a resize with ``box=`` would also read pixels beyond the box for the filter's
    # support, which a tensor slice cannot; cropped first, both paths see exactly the same pixels.
    out = img.crop(pixel_box(params, *img.size)).resize((size, size), Image.Resampling.BICUBIC)
    arr = np.asarray(out)
    if params.flip:
        arr = arr[:, ::-1]
    if params.rot90:
        arr = np.rot90(arr, params.rot90)
    return np.ascontiguousarray(arr)


def augment_on_device(img: torch.Tensor, params: AugParams, size: int) -> torch.Tensor:
    """:func:`augment` of a decoded ``[3, H, W]`` uint8 tensor, where it lies: ``[3, size, size]`` uint8."""
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import functional as F

    left, top, right, bottom = pixel_box(params, img.shape[2], img.shape[1])
    out = F.resize(
        img[:, top:bottom, left:right], [size, size], interpolation=InterpolationMode.BICUBIC, antialias=True
    )
    if params.flip:
        out = out.flip(2)
    if params.rot90:
        out = torch.rot90(out, params.rot90, dims=(1, 2))
    return out
