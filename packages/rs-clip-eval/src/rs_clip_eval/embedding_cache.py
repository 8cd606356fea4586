"""On-disk embedding cache: each (model, dataset, split, texts) is embedded once.

The key is the model's fingerprint (sha256 of its weights, or its random-init recipe) plus the dataset's
manifest sha256 (which lists every shard's checksum), so a changed checkpoint or dataset can never be
served stale embeddings, and retrieval, zero-shot, probes, k-NN and plots of one run (or of later runs)
share them. Entries are ``<key>.npy`` plus ``<key>.json`` (what they hold), written atomically, or only a
``<key>.json`` that points at an embeddings directory (or URI) written by ``rs-clip-eval embed``
(:mod:`rs_formats.embeddings`, adopted with :meth:`EmbeddingCache.adopt`): an archive's embeddings
computed on a cluster serve evaluations without a copy. Such an entry is used only while the directory
still records the same key.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rs_formats import FormatError
from rs_formats.atomic import atomic_write_text
from rs_formats.location import absolute

CACHE_VERSION = 1


def default_cache_dir() -> Path:
    env = os.environ.get("RS_CLIP_EVAL_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rs-clip-eval"


class EmbeddingCache:
    def __init__(self, root: str | Path | None = None, enabled: bool = True):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(
        model_fingerprint: str, dataset_sha256: str, split: str, what: str, precision: str = "fp32"
    ) -> str:
        raw = json.dumps([CACHE_VERSION, model_fingerprint, dataset_sha256, split, what, precision])
        return hashlib.sha256(raw.encode()).hexdigest()

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npy"

    def get_or_compute(self, key: str, compute: Callable[[], np.ndarray], meta: dict[str, Any]) -> np.ndarray:
        path = self.path(key)
        arr = self._load(key, path) if self.enabled else None
        if arr is not None:
            self.hits += 1
            return arr
        self.misses += 1
        arr = np.ascontiguousarray(compute(), dtype=np.float32)
        if self.enabled:
            self._write(
                path, arr, {**meta, "key": key, "shape": list(arr.shape), "cache_version": CACHE_VERSION}
            )
        return arr

    def _load(self, key: str, path: Path) -> np.ndarray | None:
        """The entry's array, or None when there is none (a damaged entry is recomputed, never trusted)."""
        try:
            if path.is_file():
                return np.load(path, allow_pickle=False)
            link = path.with_suffix(".json")
            target = json.loads(link.read_text()).get("embeddings") if link.is_file() else None
            if target is None:
                return None
            from rs_formats.embeddings import open_embeddings

            embeddings = open_embeddings(target)
            return embeddings.matrix()[1] if embeddings.meta.get("cache_key") == key else None
        except (OSError, ValueError, FormatError):
            return None

    def adopt(self, key: str, embeddings: str | Path, meta: dict[str, Any]) -> None:
        """Serve ``key`` from an embeddings directory or URI from now on (no copy of the vectors is made)."""
        if not self.enabled:
            return
        link = self.path(key).with_suffix(".json")
        link.parent.mkdir(parents=True, exist_ok=True)
        record = {
            **meta,
            "key": key,
            "embeddings": absolute(str(embeddings)),  # a URI as it is: the cache is local, they need not be
            "cache_version": CACHE_VERSION,
        }
        atomic_write_text(link, json.dumps(record, indent=1, default=str) + "\n")

    def _write(self, path: Path, arr: np.ndarray, meta: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Not mkstemp: its files are 0600, and a cache shared on a cluster keeps the umask's modes.
        tmp = path.with_name(f".tmp-{os.getpid()}-{secrets.token_hex(6)}.npy")
        try:
            with open(tmp, "xb") as f:
                np.save(f, arr, allow_pickle=False)
            path.with_suffix(".json").write_text(json.dumps(meta, indent=1, default=str) + "\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def stats(self) -> dict[str, Any]:
        return {"dir": str(self.root), "enabled": self.enabled, "hits": self.hits, "misses": self.misses}
