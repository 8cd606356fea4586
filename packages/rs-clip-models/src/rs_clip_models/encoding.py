"""Embedding images and texts of an rs-dataset with a CLIP model: shared by evaluation and counting.

Decoding and preprocessing run in DataLoader worker processes, so the model never waits on PIL. When the
preprocessing ends in open_clip's usual ``ToTensor`` + ``Normalize``, workers stop before them and send
uint8 tensors: a quarter of the bytes to move, and the float conversion runs on the device (the result
is the same: ``ToTensor`` is a division by 255). On a CUDA device with open_clip's evaluation
preprocessing, JPEG rows travel as bytes and are decoded and preprocessed on the device in batches
(:mod:`rs_clip_models.device_decode`): CPU cores cannot decode as fast as a GPU embeds. Batches are
prepared on the device a step ahead, in a thread (:mod:`rs_clip_models.device_feed`). Embeddings come back
L2-normalised, float32, on the CPU, in dataset order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from rs_clip_models import device_decode
from rs_clip_models.device_feed import prepared_ahead
from rs_formats import pixel_limits
from rs_formats.dataset import Dataset
from rs_formats.errors import FormatError


def decode_image(
    data: bytes, image_id: str = "?", *, dataset: str | Path | None = None, split: str | None = None
) -> Image.Image:
    """Encoded bytes from a dataset row to an RGB PIL image, under :data:`rs_formats.pixel_limits.MAX_ROW_PIXELS`.

    Errors are FormatErrors naming the dataset (when given) and the row.
    """
    row = f"split {split!r}, image {image_id!r}" if split is not None else f"image {image_id!r}"
    return pixel_limits.decode_image(data, path=dataset if dataset is not None else "<dataset row>", row=row)


def split_preprocess(
    preprocess: Callable[[Image.Image], torch.Tensor],
) -> tuple[Callable[[Image.Image], torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]:
    """``(cpu_part, device_part)`` with ``device_part(cpu_part(img)) == preprocess(img)``."""
    from torchvision.transforms import Compose, Normalize, PILToTensor

    steps = getattr(preprocess, "transforms", None)
    if (
        isinstance(preprocess, Compose)
        and len(steps) >= 2
        and isinstance(steps[-1], Normalize)
        and type(steps[-2]).__name__ in ("ToTensor", "MaybeToTensor")
    ):
        mean = torch.tensor(steps[-1].mean, dtype=torch.float32).view(1, -1, 1, 1)
        std = torch.tensor(steps[-1].std, dtype=torch.float32).view(1, -1, 1, 1)

        def on_device(batch: torch.Tensor) -> torch.Tensor:
            x = batch.float().div_(255)
            return x.sub_(mean.to(x.device)).div_(std.to(x.device))

        return Compose([*steps[:-2], PILToTensor()]), on_device
    return preprocess, lambda batch: batch


class _ImageStream(IterableDataset):
    """Batches of preprocessed images of one split; each DataLoader worker takes every k-th row group.

    A batch is ``(rows, images, jpeg_rows, jpegs)``: preprocessed images (or None) and, with
    ``jpeg_bytes``, the JPEG rows as header-checked ``(image_id, bytes)`` for the device to decode. The stream batches
    itself, so that a row that does not decode travels to the parent as a message (``("error", text)``)
    and is raised there as one FormatError naming the row: an exception raised in a worker would reach
    the user as a RuntimeError holding the worker's traceback.
    """

    def __init__(
        self,
        dataset: Dataset,
        split: str,
        preprocess: Callable[[Image.Image], torch.Tensor],
        batch_size: int,
        jpeg_bytes: bool = False,
    ):
        self.dataset, self.split, self.preprocess, self.batch_size = dataset, split, preprocess, batch_size
        self.jpeg_bytes = jpeg_bytes

    def _batch(
        self, idx: list[int], out: list[torch.Tensor], jidx: list[int], jpegs: list[tuple[str, bytes]]
    ) -> tuple:
        return (
            torch.tensor(idx, dtype=torch.int64),
            torch.stack(out) if out else None,
            torch.tensor(jidx, dtype=torch.int64),
            jpegs,
        )

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        info = get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        groups = self.dataset.row_groups(self.split)
        starts = np.cumsum([0] + [g.num_rows for g in groups])
        idx: list[int] = []
        out: list[torch.Tensor] = []
        jidx: list[int] = []
        jpegs: list[tuple[str, bytes]] = []
        for gi in range(wid, len(groups), nw):
            table = self.dataset.read_row_group(self.split, gi, ["image_id", "image"])
            ids, images = table.column(0).to_pylist(), table.column(1).to_pylist()
            for i, (iid, data) in enumerate(zip(ids, images)):
                try:
                    if self.jpeg_bytes and device_decode.is_jpeg(data):
                        # The pixel limit holds on the header before the device sees the bytes.
                        pixel_limits.open_image(
                            data, path=self.dataset.path, row=f"split {self.split!r}, image {iid!r}"
                        )
                        jidx.append(int(starts[gi]) + i)
                        jpegs.append((iid, data))
                    else:
                        img = decode_image(data, iid, dataset=self.dataset.path, split=self.split)
                        idx.append(int(starts[gi]) + i)
                        out.append(self.preprocess(img))
                except FormatError as exc:
                    yield "error", exc.reason
                    return
                if len(idx) + len(jidx) == self.batch_size:
                    yield self._batch(idx, out, jidx, jpegs)
                    idx, out, jidx, jpegs = [], [], [], []
        if idx or jidx:
            yield self._batch(idx, out, jidx, jpegs)


@torch.no_grad()
def encode_images(
    model: torch.nn.Module,
    preprocess: Callable[[Image.Image], torch.Tensor],
    dataset: Dataset,
    split: str,
    *,
    batch_size: int = 256,
    num_workers: int = 2,
    device: str | torch.device = "cpu",
    progress: bool = True,
    desc: str | None = None,
    decode_on_device: bool | None = None,
) -> np.ndarray:
    """``[N, D]`` normalised image embeddings of a split, in the split's row order.

    ``desc`` labels the progress bar (say which model is embedding); it shows only on a terminal.
    ``decode_on_device``: decode JPEG rows on ``device`` (None: where it is a GPU and ``preprocess`` is
    open_clip's evaluation pipeline; True also on a CPU, where torchvision's decoder stands in for the
    device's).
    """
    from rs_formats.console import progress as progress_bar

    n = dataset.num_rows(split)
    cpu_part, device_part = split_preprocess(preprocess)
    plan = device_decode.device_plan(preprocess) if decode_on_device is not False else None
    if decode_on_device is None and not device_decode.available(device):
        plan = None
    loader = DataLoader(
        _ImageStream(dataset, split, cpu_part, batch_size, jpeg_bytes=plan is not None),
        batch_size=None,
        num_workers=num_workers,
        pin_memory=torch.device(device).type == "cuda",
        persistent_workers=False,
        prefetch_factor=4 if num_workers else None,
    )
    out: np.ndarray | None = None
    bar = progress_bar(
        total=n, desc=desc or f"embed images {dataset.name}/{split}", unit="img", enabled=progress
    )
    pending: tuple[torch.Tensor, torch.Tensor] | None = None

    def collect(idx: torch.Tensor, feats: torch.Tensor) -> None:
        nonlocal out
        if out is None:
            out = np.empty((n, feats.shape[1]), dtype=np.float32)
        out[idx.numpy()] = feats.cpu().numpy()
        bar.update(len(idx))

    def prepare(batch: tuple[Any, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(batch[0], str):
            raise FormatError(dataset.path, batch[1])
        idx, images, jidx, jpegs = batch
        parts = [device_part(images.to(device, non_blocking=True))] if images is not None else []
        if jpegs:
            parts.append(_device_images(jpegs, plan, preprocess, dataset, split, device))
            idx = torch.cat([idx, jidx])
        return idx, torch.cat(parts) if len(parts) > 1 else parts[0]

    for idx, images in prepared_ahead(iter(loader), prepare, device):
        feats = model.encode_image(images, normalize=True).float()
        # The previous batch's features are read back only now, once this batch is queued: the device
        # encodes one batch while the host prepares and decodes the next.
        if pending is not None:
            collect(*pending)
        pending = idx, feats
    if pending is not None:
        collect(*pending)
    bar.close()
    if out is None:
        raise FormatError(dataset.path, f"split {split!r} has no images to embed")
    return out


def _device_images(
    jpegs: list[tuple[str, bytes]],
    plan: device_decode.DevicePreprocess,
    preprocess: Callable[[Image.Image], torch.Tensor],
    dataset: Dataset,
    split: str,
    device: str | torch.device,
) -> torch.Tensor:
    """``(image_id, bytes)`` JPEG rows decoded and preprocessed on the device; a row its decoder refuses
    goes through PIL (a FormatError naming the row if PIL refuses it too)."""
    decoded = device_decode.decode_jpegs([data for _, data in jpegs], device)
    done = [j for j, img in enumerate(decoded) if img is not None]
    out = torch.empty((len(jpegs), 3, plan.size, plan.size), device=device)
    if done:
        out[done] = plan([decoded[j] for j in done])
    for j, img in enumerate(decoded):
        if img is None:
            iid, data = jpegs[j]
            out[j] = preprocess(decode_image(data, iid, dataset=dataset.path, split=split)).to(device)
    return out


@torch.no_grad()
def encode_texts(
    model: torch.nn.Module,
    tokenizer: Any,
    texts: Sequence[str],
    *,
    batch_size: int = 1024,
    device: str | torch.device = "cpu",
    progress: bool = False,
    desc: str | None = None,
) -> np.ndarray:
    """``[len(texts), D]`` normalised text embeddings (``desc`` labels the progress bar)."""
    from rs_formats.console import progress as progress_bar

    chunks = []
    for start in progress_bar(range(0, len(texts), batch_size), desc=desc or "embed texts", enabled=progress):
        tokens = tokenizer(list(texts[start : start + batch_size])).to(device)
        chunks.append(model.encode_text(tokens, normalize=True).float().cpu().numpy())
    if not chunks:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(chunks)
