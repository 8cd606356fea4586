"""The rows one reader of one training worker reads, in order: a pure function of the seed, the reader and
the position, so that a resumed run reads exactly what an uninterrupted one would (:mod:`rs_clip_train.data`
turns them into batches).

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

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rs_formats.settings import ConfigError

# Stream tags keep the random streams of the different decisions independent of each other.
_ORDER, _WINDOW, _MIX, SAMPLE = 1, 2, 3, 4
_MIX_BLOCK = 4096
#: Deal whole row groups only when every reader gets at least this many (imbalance <= 1/this).
_MIN_GROUPS_PER_READER = 8
COLUMNS = ["image_id", "image", "captions"]


def stream_rng(*key: int) -> np.random.Generator:
    """The random generator of one decision (a stream tag) at one key: independent of every other key."""
    return np.random.default_rng([int(k) for k in key])


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

    def __init__(
        self,
        ds: Any,
        split: str | Sequence[str],
        source_index: int,
        reader: int,
        readers: int,
        seed: int,
        window: int,
    ):
        self.ds = ds
        self.splits = [split] if isinstance(split, str) else list(split)
        self.key = (seed, source_index, reader)
        self.window = max(1, window)
        self.groups = [(s, g) for s in self.splits for g in range(len(ds.row_groups(s)))]
        self.units = partition([g.num_rows for s in self.splits for g in ds.row_groups(s)], reader, readers)
        self.pass_rows = sum(u.num_rows for u in self.units)
        if self.pass_rows == 0:
            rows = sum(ds.num_rows(s) for s in self.splits)
            raise ConfigError(
                f"{ds.path}: split(s) {', '.join(self.splits)} have fewer rows ({rows}) than there "
                f"are data readers ({readers}); use fewer workers or loader workers"
            )

    def _windows(self, epoch: int) -> list[list[Unit]]:
        order = stream_rng(*self.key, _ORDER, epoch).permutation(len(self.units))
        return [
            [self.units[i] for i in order[j : j + self.window]] for j in range(0, len(order), self.window)
        ]

    def _read(self, unit: Unit) -> dict[str, list[Any]]:
        split, group = self.groups[unit.group]
        table = self.ds.read_row_group(split, group, COLUMNS)
        out = {c: table.column(c).to_pylist()[unit.offset :: unit.stride] for c in COLUMNS}
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
                for j in stream_rng(*self.key, _WINDOW, epoch, w).permutation(size)[skip:]:
                    yield ids[j], images[j], caps[j], splits[j]
                skip = 0
            epoch += 1


def mix_choices(seed: int, reader: int, probs: np.ndarray, start: int, count: int) -> np.ndarray:
    """Which dataset each of samples ``start .. start+count-1`` of a reader is drawn from."""
    out = []
    block, offset = divmod(start, _MIX_BLOCK)
    while count > 0:
        draws = stream_rng(seed, _MIX, reader, block).choice(len(probs), size=_MIX_BLOCK, p=probs)
        take = draws[offset : offset + count]
        out.append(take)
        count -= len(take)
        block, offset = block + 1, 0
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class MixedStream:
    """A reader's samples: datasets mixed by weight, each sample tagged with its stream position."""

    def __init__(
        self, sources: list[SourceStream], weights: Sequence[float], seed: int, reader: int, start: int = 0
    ):
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
