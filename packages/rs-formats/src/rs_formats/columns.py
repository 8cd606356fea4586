"""What a task reads from a split, checked against the contract: captions with their rows, class labels.

Shared by every consumer that scores a model on a dataset (rs-clip-eval's tasks, rs-clip-train's
in-training evaluation), so that "the captions of a split" means the same rows in the same order for all.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset
from .errors import FormatError


def captions_of(ds: Dataset, split: str) -> tuple[list[str], np.ndarray]:
    """Every non-empty caption of a split, flattened in row order, with the row index of its image."""
    texts, owner = [], []
    for i, caps in enumerate(ds.read_table(split, ["captions"]).column("captions").to_pylist()):
        for c in caps or []:
            if c:
                texts.append(c)
                owner.append(i)
    if not texts:
        raise FormatError(ds.path, f"split {split!r} has no captions to retrieve")
    return texts, np.asarray(owner, dtype=np.int64)


def labels_of(ds: Dataset, split: str) -> np.ndarray:
    """The ``label`` column of a split as int64, every row labelled and inside ``class_names``."""
    labels = ds.read_table(split, ["label"]).column("label").to_pylist()
    if any(v is None for v in labels):
        raise FormatError(ds.path, f"split {split!r}: {sum(v is None for v in labels)} rows have no label")
    arr = np.asarray(labels, dtype=np.int64)
    n = len(ds.class_names or [])
    if len(arr) and (arr.min() < 0 or arr.max() >= n):
        raise FormatError(
            ds.path, f"split {split!r}: labels run {arr.min()}..{arr.max()} but there are {n} classes"
        )
    return arr
