"""One model's embeddings of rs-datasets and texts: the piece every evaluation (and rs-count) embeds through.

Public API (``from rs_clip_eval import Embedder``). An :class:`Embedder` built from a ``--model`` spec
loads the model only on the first cache miss and caches every array under the weights' fingerprint,
the dataset's manifest sha256, the split, what was embedded and the precision (:mod:`.embedding_cache`); one
built from an already-loaded model (:meth:`Embedder.from_model`) has no fingerprint and never caches.
Both embed under :func:`rs_clip_models.models.autocast` at the configured precision, so "amp_bf16" means
the same thing in every task and package.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import numpy as np

from rs_clip_models.spec import ModelSpec
from rs_formats import Dataset
from rs_formats.console import progress_enabled

from .config import EvalConfig
from .embedding_cache import EmbeddingCache

log = logging.getLogger(__name__)


class Embedder:
    def __init__(
        self,
        spec: ModelSpec | None = None,
        cache: EmbeddingCache | None = None,
        cfg: EvalConfig | None = None,
        *,
        loaded: tuple[Any, Any, Any] | None = None,
        label: str | None = None,
    ):
        if (spec is None) == (loaded is None):
            raise ValueError(
                "an Embedder needs either a model spec or a loaded (model, preprocess, tokenizer)"
            )
        self.spec, self.cache, self.cfg = spec, cache, cfg or EvalConfig()
        self.label = label or (spec.label if spec is not None else "model")
        self.device = self.cfg.resolved_device()
        self._loaded = loaded
        self._fingerprint: str | None = None
        self._task: str | None = None

    @classmethod
    def from_model(
        cls, model: Any, preprocess: Any, tokenizer: Any, cfg: EvalConfig | None = None, label: str = "model"
    ) -> Embedder:
        """Embed with a model already in memory (on ``cfg``'s device; without a ``cfg``, on the device its
        parameters are on); nothing is cached."""
        if cfg is None:
            param = next(model.parameters(), None)
            cfg = EvalConfig(device=str(param.device) if param is not None else "cpu")
        return cls(cfg=cfg, loaded=(model, preprocess, tokenizer), label=label)

    @property
    def fingerprint(self) -> str | None:
        """The weights' identity (sha256 or random-init recipe); None for a model handed in loaded."""
        if self._fingerprint is None and self.spec is not None:
            self._fingerprint = self.spec.fingerprint()
        return self._fingerprint

    @contextlib.contextmanager
    def for_task(self, task: str) -> Iterator[Embedder]:
        """What is embedded inside the block is for ``task``: progress bars say "LABEL TASK: images ..."."""
        previous, self._task = self._task, task
        try:
            yield self
        finally:
            self._task = previous

    def _bar(self, what: str, ds: Dataset, split: str) -> str:
        return f"{self.label}{f' {self._task}' if self._task else ''}: {what} {ds.name}/{split}"

    @property
    def caching(self) -> bool:
        return self.spec is not None and self.cache is not None and self.cache.enabled

    def model(self) -> tuple[Any, Any, Any]:
        """``(model, preprocess, tokenizer)``, loading it from the spec the first time."""
        if self._loaded is None:
            log.info("loading %s on %s (%s)", self.label, self.device, self.cfg.precision)
            from rs_clip_models.models import load_spec

            self._loaded = load_spec(self.spec, self.device, self.cfg.precision)
        return self._loaded

    def release(self) -> None:
        """Free a model loaded from the spec (before the next model of a comparison is loaded)."""
        if self.spec is not None:
            self._loaded = None

    def images(self, ds: Dataset, split: str) -> np.ndarray:
        """``[N, D]`` L2-normalised embeddings of a split's images, in row order."""

        def compute() -> np.ndarray:
            from rs_clip_models.encoding import encode_images
            from rs_clip_models.models import autocast

            model, preprocess, _ = self.model()
            log.info("%s: embedding %d images of %s/%s", self.label, ds.num_rows(split), ds.name, split)
            with autocast(self.device, self.cfg.precision):
                return encode_images(
                    model,
                    preprocess,
                    ds,
                    split,
                    batch_size=self.cfg.batch_size,
                    num_workers=self.cfg.loader_workers,
                    device=self.device,
                    progress=progress_enabled(self.cfg.progress),
                    desc=self._bar("images", ds, split),
                )

        return self._cached(ds, split, "images", compute)

    def texts(self, ds: Dataset, split: str, texts: list[str], what: str) -> np.ndarray:
        """``[len(texts), D]`` embeddings of texts about a split; ``what`` and the texts' hash key the cache."""

        def compute() -> np.ndarray:
            from rs_clip_models.encoding import encode_texts
            from rs_clip_models.models import autocast

            model, _, tokenizer = self.model()
            log.info("%s: embedding %d %s of %s/%s", self.label, len(texts), what, ds.name, split)
            with autocast(self.device, self.cfg.precision):
                return encode_texts(
                    model,
                    tokenizer,
                    texts,
                    batch_size=self.cfg.batch_size,
                    device=self.device,
                    progress=progress_enabled(self.cfg.progress),
                    desc=self._bar(what.split(":")[0], ds, split),
                )

        digest = hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:16]
        return self._cached(ds, split, f"{what}:{digest}", compute)

    def cache_key(self, ds: Dataset, split: str, what: str = "images") -> str:
        """The cache key of what :meth:`images` (or :meth:`texts`) returns for a split (needs a spec)."""
        return EmbeddingCache.key(self.fingerprint, ds.manifest_sha256(), split, what, self.cfg.precision)

    def cache_meta(self, ds: Dataset, split: str, what: str = "images") -> dict[str, Any]:
        """What a cache entry records about its embeddings."""
        return {
            "model": self.spec.to_dict(),
            "fingerprint": self.fingerprint,
            "dataset": str(ds.path),
            "dataset_name": ds.name,
            "split": split,
            "what": what.split(":")[0],
        }

    def _cached(self, ds: Dataset, split: str, what: str, compute) -> np.ndarray:
        if not self.caching:
            return np.ascontiguousarray(compute(), dtype=np.float32)
        return self.cache.get_or_compute(
            self.cache_key(ds, split, what), compute, self.cache_meta(ds, split, what)
        )
