"""Training data: rs-dataset caption shards to augmented, tokenised micro-batches, reproducibly.

Every random choice (row order, dataset mixing, caption, crop, flip, rotation) is a pure function of
``(seed, reader, position)``, where a *reader* is one background loader process of one training worker.
A reader's stream is therefore fully determined by how many samples it has produced, and resuming at
optimizer step ``s`` only needs ``s``: whole row groups before the resume point are skipped without being
read, and at most one shuffle window is re-read. No data-loader state has to be checkpointed.

Partitioning: the row groups of each dataset are dealt round-robin to the readers (each reader reads only
its own part of the shards). When a dataset has too few row groups for that to be balanced, every reader
reads every group and keeps every ``readers``-th row instead. Either way each row belongs to exactly one
reader; a reader loops over its part forever, reshuffled every pass (see README, "epochs").
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

from rs_formats.device_decode import decode_jpegs, is_jpeg
from rs_formats.images import open_image

from .augment import AugParams, augment, augment_on_device, decode, sample_aug
from .config import ConfigError, DataConfig

# Stream tags keep the random streams of the different decisions independent of each other.
_ORDER, _WINDOW, _MIX, _SAMPLE = 1, 2, 3, 4
_MIX_BLOCK = 4096
#: Deal whole row groups only when every reader gets at least this many (imbalance <= 1/this).
_MIN_GROUPS_PER_READER = 8
_COLUMNS = ["image_id", "image", "captions"]


def _rng(*key: int) -> np.random.Generator:
    return np.random.default_rng([int(k) for k in key])


def open_caption_dataset(path: str | Path, splits: str | Sequence[str]) -> Any:
    """Open an rs-dataset and check that these splits of it can feed contrastive training; errors name the
    dataset."""
    from rs_formats import open_dataset

    ds = open_dataset(path)
    if ds.kind != "captions":
        raise ConfigError(f"{ds.path}: is a {ds.kind!r} dataset; training needs a 'captions' dataset "
                          "(image-caption pairs, e.g. from rs-annotate)")
    for split in [splits] if isinstance(splits, str) else splits:
        if split not in ds.splits:
            raise ConfigError(f"{ds.path}: has no split {split!r} (its manifest lists: {', '.join(ds.splits)})")
        if ds.num_rows(split) == 0:
            raise ConfigError(f"{ds.path}: split {split!r} is empty")
    return ds


# ---------------------------------------------------------------------------------------------------
# Partitioning and the per-dataset stream of one reader
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """The rows ``offset, offset + stride, ...`` of one row group, all read by a single reader."""

    group: int  # index into the row groups of the stream's splits, in split order
    group_rows: int
    offset: int = 0
    stride: int = 1

    @property
    def num_rows(self) -> int:
        return len(range(self.offset, self.group_rows, self.stride))


def partition(group_sizes: Sequence[int], reader: int, readers: int) -> list[Unit]:
    """This reader's share of a split; over all readers every row appears exactly once."""
    if len(group_sizes) >= _MIN_GROUPS_PER_READER * readers:
        return [Unit(g, group_sizes[g]) for g in range(reader, len(group_sizes), readers)]
    units = [Unit(g, n, reader, readers) for g, n in enumerate(group_sizes)]
    return [u for u in units if u.num_rows > 0]


class SourceStream:
    """One reader's endless, reshuffled-every-pass stream of rows from one dataset (one split, or several
    read as one pool: their row groups are partitioned and shuffled together)."""

    def __init__(self, ds: Any, split: str | Sequence[str], source_index: int, reader: int, readers: int,
                 seed: int, window: int):
        self.ds = ds
        self.splits = [split] if isinstance(split, str) else list(split)
        self.key = (seed, source_index, reader)
        self.window = max(1, window)
        self.groups = [(s, g) for s in self.splits for g in range(len(ds.row_groups(s)))]
        self.units = partition([g.num_rows for s in self.splits for g in ds.row_groups(s)], reader, readers)
        self.pass_rows = sum(u.num_rows for u in self.units)
        if self.pass_rows == 0:
            rows = sum(ds.num_rows(s) for s in self.splits)
            raise ConfigError(f"{ds.path}: split(s) {', '.join(self.splits)} have fewer rows ({rows}) than there "
                              f"are data readers ({readers}); use fewer workers or loader workers")

    def _windows(self, epoch: int) -> list[list[Unit]]:
        order = _rng(*self.key, _ORDER, epoch).permutation(len(self.units))
        return [[self.units[i] for i in order[j:j + self.window]] for j in range(0, len(order), self.window)]

    def _read(self, unit: Unit) -> dict[str, list[Any]]:
        split, group = self.groups[unit.group]
        table = self.ds.read_row_group(split, group, _COLUMNS)
        out = {c: table.column(c).to_pylist()[unit.offset::unit.stride] for c in _COLUMNS}
        return out | {"split": [split] * len(out["image_id"])}

    def rows(self, start: int = 0) -> Iterator[tuple[str, bytes, list[str] | None, str]]:
        """``(image_id, image_bytes, captions, split)`` from position ``start`` on, forever."""
        epoch, skip = divmod(start, self.pass_rows)
        while True:
            for w, units in enumerate(self._windows(epoch)):
                size = sum(u.num_rows for u in units)
                if skip >= size:  # before the resume point: skipped without reading
                    skip -= size
                    continue
                parts = [self._read(u) for u in units]
                ids = [x for p in parts for x in p["image_id"]]
                images = [x for p in parts for x in p["image"]]
                caps = [x for p in parts for x in p["captions"]]
                splits = [x for p in parts for x in p["split"]]
                for j in _rng(*self.key, _WINDOW, epoch, w).permutation(size)[skip:]:
                    yield ids[j], images[j], caps[j], splits[j]
                skip = 0
            epoch += 1


def mix_choices(seed: int, reader: int, probs: np.ndarray, start: int, count: int) -> np.ndarray:
    """Which dataset each of samples ``start .. start+count-1`` of a reader is drawn from."""
    out = []
    block, offset = divmod(start, _MIX_BLOCK)
    while count > 0:
        draws = _rng(seed, _MIX, reader, block).choice(len(probs), size=_MIX_BLOCK, p=probs)
        take = draws[offset:offset + count]
        out.append(take)
        count -= len(take)
        block, offset = block + 1, 0
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class MixedStream:
    """A reader's samples: datasets mixed by weight, each sample tagged with its stream position."""

    def __init__(self, sources: list[SourceStream], weights: Sequence[float], seed: int, reader: int,
                 start: int = 0):
        self.sources = sources
        self.probs = np.asarray(weights, dtype=np.float64) / float(np.sum(weights))
        self.seed, self.reader, self.start = seed, reader, start

    def __iter__(self) -> Iterator[tuple[int, int, tuple[str, bytes, list[str] | None, str]]]:
        n = len(self.sources)
        if n == 1:
            for i, row in enumerate(self.sources[0].rows(self.start), self.start):
                yield i, 0, row
            return
        # Replay the mixing decisions up to the resume point to find each dataset's own position.
        counts = np.zeros(n, dtype=np.int64)
        done = 0
        while done < self.start:
            chunk = min(_MIX_BLOCK * 16, self.start - done)
            counts += np.bincount(mix_choices(self.seed, self.reader, self.probs, done, chunk), minlength=n)
            done += chunk
        iters = [s.rows(int(c)) for s, c in zip(self.sources, counts)]
        i = self.start
        while True:
            for d in mix_choices(self.seed, self.reader, self.probs, i, _MIX_BLOCK - i % _MIX_BLOCK):
                yield i, int(d), next(iters[d])
                i += 1


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

    def pin_memory(self) -> Batch:
        return Batch(self.images.pin_memory(), self.texts.pin_memory(), self.skipped, self.jpegs)

    def on_device(self, device: torch.device, size: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
        """``(images, texts, skipped)`` on ``device`` (non-blocking copies from pinned memory): JPEG rows
        decoded there in one batch, each cropped, resized, flipped and turned there. A JPEG the device
        refuses is decoded with PIL here; one PIL refuses too is replaced by another row of the batch (every
        worker's batch must keep its size for the gathered loss) and named in ``skipped``, after the rows
        the loader skipped."""
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
        for (pos, image_id, data, params), img in zip(self.jpegs, decode_jpegs([j[2] for j in self.jpegs], device)):
            if img is not None:
                out[pos] = augment_on_device(img, params, size)
                continue
            try:
                out[pos] = torch.from_numpy(augment(decode(data, image_id, size), params, size)).permute(2, 0, 1)
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

    def __init__(self, cfg: DataConfig, *, micro_batch: int, image_size: int, tokenizer: Any, seed: int,
                 rank: int, world: int, start_micro_step: int = 0, jpegs_to_device: bool = False):
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
        sources = [SourceStream(open_caption_dataset(s.path, cfg.splits_of(s)), cfg.splits_of(s), i, reader,
                                readers, self.seed, cfg.shuffle_window) for i, s in enumerate(cfg.sources)]
        stream = iter(MixedStream(sources, [s.weight for s in cfg.sources], self.seed, reader,
                                  start=done * self.micro_batch))
        size = self.image_size
        # Draft decoding must still leave the smallest crop at least `size` pixels wide.
        min_side = math.ceil(size / math.sqrt(cfg.crop_scale[0]))
        while True:
            images = np.empty((self.micro_batch, size, size, 3), dtype=np.uint8)
            captions: list[str] = []
            skipped: list[str] = []
            jpegs: list[tuple[int, str, bytes, AugParams]] = []
            while len(captions) < self.micro_batch:
                i, d, (image_id, data, caps, split) = next(stream)
                rng = _rng(self.seed, _SAMPLE, reader, i)
                caps = [c for c in (caps or []) if c]
                where = f"{sources[d].ds.path}: split {split!r}"
                if not caps:
                    skipped.append(f"{where}: image {image_id!r} has no caption")
                    continue
                caption = caps[int(rng.integers(len(caps)))]
                try:
                    if self.jpegs_to_device and is_jpeg(data):
                        # The header alone here (size, pixel limit); the device decodes the pixels.
                        header = open_image(data, row=f"image {image_id!r}")
                        jpegs.append((len(captions), image_id, data, sample_aug(rng, cfg, *header.size)))
                        captions.append(caption)
                        continue
                    img = decode(data, image_id, min_side)
                except ValueError as exc:  # a FormatError whose reason names the image
                    skipped.append(f"{where}: {getattr(exc, 'reason', exc)}")
                    continue
                images[len(captions) - len(jpegs)] = augment(img, sample_aug(rng, cfg, *img.size), size)
                captions.append(caption)
            kept = images[:len(captions) - len(jpegs)]
            yield Batch(torch.from_numpy(kept).permute(0, 3, 1, 2).contiguous(), self.tokenizer(captions), skipped,
                        jpegs)


def _worker_init(_: int) -> None:
    torch.set_num_threads(1)  # decode parallelism comes from processes; threads would only contend


def make_loader(cfg: DataConfig, *, micro_batch: int, image_size: int, tokenizer: Any, seed: int, rank: int,
                world: int, start_micro_step: int, pin_memory: bool, jpegs_to_device: bool = False) -> DataLoader:
    """A worker's micro-batches; ``jpegs_to_device``: JPEG rows travel as bytes, for
    :meth:`Batch.on_device` to decode on the GPU."""
    dataset = CaptionBatches(cfg, micro_batch=micro_batch, image_size=image_size, tokenizer=tokenizer,
                             seed=seed, rank=rank, world=world, start_micro_step=start_micro_step,
                             jpegs_to_device=jpegs_to_device)
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
    return sum(open_caption_dataset(s.path, cfg.splits_of(s)).num_rows(split)
               for s in cfg.sources for split in cfg.splits_of(s))


class Normalize:
    """uint8 [b, 3, S, S] on the device to the model's normalised float input.

    Mean and std live on the device once: building them from Python lists every step would be a
    blocking host-to-device copy, i.e. a GPU sync per step."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], device: torch.device):
        self.mean = torch.tensor(mean, device=device, dtype=torch.float32).view(1, -1, 1, 1) * 255.0
        self.std = torch.tensor(std, device=device, dtype=torch.float32).view(1, -1, 1, 1) * 255.0

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return (images.float() - self.mean) / self.std
