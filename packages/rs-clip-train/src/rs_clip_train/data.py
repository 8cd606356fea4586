"""Training data: rs-dataset caption shards to augmented, tokenised micro-batches, reproducibly.

Every random choice (which rows, in which order, from which dataset: :mod:`rs_clip_train.streams`; which
caption, crop, flip and rotation: here) is a pure function of ``(seed, reader, position)``, where a *reader*
is one background loader process of one training worker, so resuming at optimizer step ``s`` needs only
``s``: no data-loader state is checkpointed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from rs_clip_models.device_decode import decode_jpegs, is_jpeg
from rs_formats import FormatError
from rs_formats.pixel_limits import open_image

from .augment import AugParams, augment, augment_on_device, decode, sample_aug
from .config import ConfigError, DataConfig
from .streams import SAMPLE, MixedStream, SourceStream, stream_rng

#: Unusable rows in a row after which training stops: a dataset whose every row lacks a caption or a
#: decodable image would otherwise be read round and round forever. Real datasets' bad rows are rare and
#: scattered (a shuffle window mixes them with good ones), never a thousand in a row.
MAX_UNUSABLE_IN_A_ROW = 1000


def open_caption_dataset(path: str | Path, splits: str | Sequence[str]) -> Any:
    """Open an rs-dataset and check that these splits of it can feed contrastive training; errors name the
    dataset."""
    from rs_formats import open_dataset

    ds = open_dataset(path)
    if ds.kind != "captions":
        raise ConfigError(
            f"{ds.path}: is a {ds.kind!r} dataset; training needs a 'captions' dataset "
            "(image-caption pairs, e.g. from rs-annotate)"
        )
    for split in [splits] if isinstance(splits, str) else splits:
        if split not in ds.splits:
            raise ConfigError(
                f"{ds.path}: has no split {split!r} (its manifest lists: {', '.join(ds.splits)})"
            )
        if ds.num_rows(split) == 0:
            raise ConfigError(f"{ds.path}: split {split!r} is empty")
    return ds


# ---------------------------------------------------------------------------------------------------
# The loader
# ---------------------------------------------------------------------------------------------------


@dataclass
class Batch:
    images: torch.Tensor  # [k, 3, S, S] uint8: normalised on the device, 4x less to copy than float
    texts: torch.Tensor  # [b, context] int64 token ids
    #: Rows dropped while filling this batch (no caption, undecodable image), each as one line naming the
    #: dataset, the split and the image: the worker reports them, never a traceback from a loader process.
    skipped: list[str]
    #: JPEG rows left for the device to decode: (position in the batch, image id, bytes, augmentation).
    #: ``images`` then holds the other rows, in order; without them it holds every row.
    jpegs: list[tuple[int, str, bytes, AugParams]] = field(default_factory=list)
    #: Set, with the dataset and what was skipped, instead of rows when the data ran dry
    #: (:data:`MAX_UNUSABLE_IN_A_ROW`): raised where the batch is used, in the training process.
    unusable: FormatError | None = None

    def pin_memory(self) -> Batch:
        return Batch(
            self.images.pin_memory(), self.texts.pin_memory(), self.skipped, self.jpegs, self.unusable
        )

    def on_device(self, device: torch.device, size: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
        """``(images, texts, skipped)`` on ``device`` (non-blocking copies from pinned memory): JPEG rows
        decoded there in one batch, each cropped, resized, flipped and turned there. A JPEG the device
        refuses is decoded with PIL here; one PIL refuses too is replaced by another row of the batch (every
        worker's batch must keep its size for the gathered loss) and named in ``skipped``, after the rows
        the loader skipped."""
        if self.unusable is not None:
            raise self.unusable
        images = self.images.to(device, non_blocking=True)
        texts = self.texts.to(device, non_blocking=True)
        if not self.jpegs:
            return images, texts, list(self.skipped)
        out = torch.empty((len(texts), 3, size, size), dtype=torch.uint8, device=device)
        jpeg_rows = {pos for pos, *_ in self.jpegs}
        others = [i for i in range(len(texts)) if i not in jpeg_rows]
        if others:
            out[others] = images
        dropped, bad = [], []
        for (pos, image_id, data, params), img in zip(
            self.jpegs, decode_jpegs([j[2] for j in self.jpegs], device)
        ):
            if img is not None:
                out[pos] = augment_on_device(img, params, size)
                continue
            try:
                out[pos] = torch.from_numpy(augment(decode(data, image_id, size), params, size)).permute(
                    2, 0, 1
                )
            except ValueError as exc:  # a FormatError whose reason names the image
                dropped.append(f"{getattr(exc, 'reason', exc)} (replaced by another row of its batch)")
                bad.append(pos)
        if bad:
            good = next(i for i in range(len(texts)) if i not in bad)
            texts = texts.clone()  # never the caller's tensor (a CPU "copy" to the CPU is the same one)
            out[bad], texts[bad] = out[good].clone(), texts[good].clone()
        return out, texts, self.skipped + dropped


class CaptionBatches(IterableDataset):
    """Endless micro-batches for one training worker; each DataLoader process is one reader."""

    def __init__(
        self,
        cfg: DataConfig,
        *,
        micro_batch: int,
        image_size: int,
        tokenizer: Any,
        seed: int,
        rank: int,
        world: int,
        start_micro_step: int = 0,
        jpegs_to_device: bool = False,
    ):
        self.cfg = cfg
        self.jpegs_to_device = jpegs_to_device
        self.micro_batch = micro_batch
        self.image_size = image_size
        self.tokenizer = tokenizer
        self.seed, self.rank, self.world = seed, rank, world
        self.start_micro_step = start_micro_step

    def reader_layout(self) -> tuple[int, int, int]:
        """(reader id, number of readers, micro-batches this reader already produced before the start)."""
        info = get_worker_info()
        k, per_rank = (info.id, info.num_workers) if info is not None else (0, 1)
        # The DataLoader takes its j-th batch from process j % per_rank. Micro-batch m of the run belongs to
        # reader m % per_rank, so after a resume at m0 process k plays reader (k + m0) % per_rank.
        m0 = self.start_micro_step
        role = (k + m0) % per_rank
        done = (m0 - role + per_rank - 1) // per_rank
        return self.rank * per_rank + role, self.world * per_rank, done

    def __iter__(self) -> Iterator[Batch]:
        reader, readers, done = self.reader_layout()
        cfg = self.cfg
        sources = [
            SourceStream(
                open_caption_dataset(s.path, cfg.splits_of(s)),
                cfg.splits_of(s),
                i,
                reader,
                readers,
                self.seed,
                cfg.shuffle_window,
            )
            for i, s in enumerate(cfg.sources)
        ]
        stream = iter(
            MixedStream(
                sources, [s.weight for s in cfg.sources], self.seed, reader, start=done * self.micro_batch
            )
        )
        size = self.image_size
        # Draft decoding must still leave the smallest crop at least `size` pixels wide.
        min_side = math.ceil(size / math.sqrt(cfg.crop_scale[0]))
        dry = _DryRun()
        while True:
            images = np.empty((self.micro_batch, size, size, 3), dtype=np.uint8)
            captions: list[str] = []
            skipped: list[str] = []
            jpegs: list[tuple[int, str, bytes, AugParams]] = []
            while len(captions) < self.micro_batch:
                i, d, (image_id, data, caps, split) = next(stream)
                rng = stream_rng(self.seed, SAMPLE, reader, i)
                caps = [c for c in (caps or []) if c]
                where = f"{sources[d].ds.path}: split {split!r}"
                if not caps:
                    skipped.append(f"{where}: image {image_id!r} has no caption")
                    if dry.add(sources[d].ds.path, "without a caption"):
                        break
                    continue
                caption = caps[int(rng.integers(len(caps)))]
                try:
                    if self.jpegs_to_device and is_jpeg(data):
                        # The header alone here (size, pixel limit); the device decodes the pixels.
                        header = open_image(data, row=f"image {image_id!r}")
                        jpegs.append((len(captions), image_id, data, sample_aug(rng, cfg, *header.size)))
                        captions.append(caption)
                        dry.counts.clear()
                        continue
                    img = decode(data, image_id, min_side)
                except ValueError as exc:  # a FormatError whose reason names the image
                    skipped.append(f"{where}: {getattr(exc, 'reason', exc)}")
                    if dry.add(sources[d].ds.path, "whose image does not decode"):
                        break
                    continue
                images[len(captions) - len(jpegs)] = augment(img, sample_aug(rng, cfg, *img.size), size)
                captions.append(caption)
                dry.counts.clear()
            if dry.error is not None:
                yield Batch(torch.empty(0), torch.empty(0), [], [], dry.error)
                return
            kept = images[: len(captions) - len(jpegs)]
            yield Batch(
                torch.from_numpy(kept).permute(0, 3, 1, 2).contiguous(),
                self.tokenizer(captions),
                skipped,
                jpegs,
            )


class _DryRun:
    """The unusable rows read since the last usable one: counted by dataset and reason, never listed."""

    def __init__(self) -> None:
        self.counts: dict[tuple[Path, str], int] = {}
        self.error: FormatError | None = None

    def add(self, dataset: Path, why: str) -> bool:
        """Count a row; True (with :attr:`error` set) once :data:`MAX_UNUSABLE_IN_A_ROW` are counted."""
        self.counts[dataset, why] = self.counts.get((dataset, why), 0) + 1
        if sum(self.counts.values()) < MAX_UNUSABLE_IN_A_ROW:
            return False
        datasets = list(dict.fromkeys(path for path, _ in self.counts))
        what = ", ".join(
            f"{n} {why}" + (f" in {path}" if len(datasets) > 1 else "")
            for (path, why), n in self.counts.items()
        )
        self.error = FormatError(
            datasets[0],
            f"{MAX_UNUSABLE_IN_A_ROW} rows in a row are unusable ({what}); stopping instead of reading "
            "the data round and round: fix or rebuild the dataset",
        )
        return True


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # decode parallelism comes from processes; threads would only contend


def make_loader(
    cfg: DataConfig,
    *,
    micro_batch: int,
    image_size: int,
    tokenizer: Any,
    seed: int,
    rank: int,
    world: int,
    start_micro_step: int,
    pin_memory: bool,
    jpegs_to_device: bool = False,
) -> DataLoader:
    """A worker's micro-batches; ``jpegs_to_device``: JPEG rows travel as bytes, for
    :meth:`Batch.on_device` to decode on the GPU."""
    dataset = CaptionBatches(
        cfg,
        micro_batch=micro_batch,
        image_size=image_size,
        tokenizer=tokenizer,
        seed=seed,
        rank=rank,
        world=world,
        start_micro_step=start_micro_step,
        jpegs_to_device=jpegs_to_device,
    )
    workers = cfg.loader_workers
    return DataLoader(
        dataset,
        batch_size=None,  # the dataset yields whole micro-batches
        num_workers=workers,
        prefetch_factor=cfg.prefetch_factor if workers else None,
        persistent_workers=False,
        pin_memory=pin_memory,
        worker_init_fn=_worker_init if workers else None,
    )


def epoch_rows(cfg: DataConfig) -> int:
    """Rows in all training datasets together: one epoch is this many pairs (see README)."""
    return sum(
        open_caption_dataset(s.path, cfg.splits_of(s)).num_rows(split)
        for s in cfg.sources
        for split in cfg.splits_of(s)
    )


class Normalize:
    """uint8 [b, 3, S, S] on the device to the model's normalised float input.

    Mean and std live on the device once: building them from Python lists every step would be a
    blocking host-to-device copy, i.e. a GPU sync per step."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], device: torch.device):
        self.mean = torch.tensor(mean, device=device, dtype=torch.float32).view(1, -1, 1, 1) * 255.0
        self.std = torch.tensor(std, device=device, dtype=torch.float32).view(1, -1, 1, 1) * 255.0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return (images.float() - self.mean) / self.std
