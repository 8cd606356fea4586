"""Runs tasks for models over datasets: embeds through the cache, dispatches to the task modules."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from rs_formats import Dataset, FormatError, open_dataset
from rs_formats.columns import captions_of, labels_of
from rs_formats.spec import ModelSpec

from . import knn, linear_probe, retrieval, zeroshot
from .cache import EmbeddingCache
from .suites import TASKS_BY_KIND, DatasetEntry, Suite

_NEEDS_KIND = {"retrieval": "captions", "zeroshot": "classification", "linear_probe": "classification",
               "fewshot": "classification", "knn": "classification"}


@dataclass
class RunConfig:
    device: str = "auto"
    precision: str = "fp32"
    batch_size: int = 256
    workers: int = 2
    progress: bool = True
    probe: dict[str, Any] = field(default_factory=dict)  # ProbeConfig overrides (CLI beats suite)

    def resolved_device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Embedder:
    """One model's embeddings of datasets; the model is loaded only on the first cache miss."""

    def __init__(self, spec: ModelSpec, cache: EmbeddingCache, cfg: RunConfig):
        self.spec, self.cache, self.cfg = spec, cache, cfg
        self.device = cfg.resolved_device()
        self._fingerprint: str | None = None
        self._loaded: tuple[Any, Any, Any] | None = None

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = self.spec.fingerprint()
        return self._fingerprint

    def _model(self) -> tuple[Any, Any, Any]:
        if self._loaded is None:
            self._loaded = self.spec.load(self.device, self.cfg.precision)
        return self._loaded

    def _autocast(self):
        from rs_formats.models import autocast

        return autocast(self.device, self.cfg.precision)

    def _key(self, ds: Dataset, split: str, what: str) -> str:
        return self.cache.key(self.fingerprint, ds.manifest_sha256(), split, what, self.cfg.precision)

    def _meta(self, ds: Dataset, split: str, what: str) -> dict[str, Any]:
        return {"model": self.spec.to_dict(), "fingerprint": self.fingerprint, "dataset": str(ds.path),
                "dataset_name": ds.name, "split": split, "what": what}

    def images(self, ds: Dataset, split: str) -> np.ndarray:
        def compute() -> np.ndarray:
            from rs_formats.embed import encode_images

            model, preprocess, _ = self._model()
            with self._autocast():
                    return encode_images(model, preprocess, ds, split, batch_size=self.cfg.batch_size,
                                     num_workers=self.cfg.workers, device=self.device, progress=self.cfg.progress)

        return self.cache.get_or_compute(self._key(ds, split, "images"), compute, self._meta(ds, split, "images"))

    def texts(self, ds: Dataset, split: str, texts: list[str], what: str) -> np.ndarray:
        """Embeddings of ``texts``; ``what`` plus the texts' hash make the cache key."""
        digest = hashlib.sha256(json.dumps(texts).encode()).hexdigest()[:16]

        def compute() -> np.ndarray:
            from rs_formats.embed import encode_texts

            model, _, tokenizer = self._model()
            with self._autocast():
                return encode_texts(model, tokenizer, texts, device=self.device, progress=self.cfg.progress)

        key = self._key(ds, split, f"{what}:{digest}")
        return self.cache.get_or_compute(key, compute, self._meta(ds, split, what))


def open_entry(entry: DatasetEntry) -> tuple[Dataset, tuple[str, ...]]:
    """Open a suite entry's dataset and check that its kind suits the tasks asked of it."""
    ds = open_dataset(entry.path)
    tasks = entry.tasks or TASKS_BY_KIND.get(ds.kind, ())
    if not tasks:
        raise FormatError(ds.path, f"is a {ds.kind!r} dataset: no evaluation task applies to it")
    for task in tasks:
        if _NEEDS_KIND[task] != ds.kind:
            raise FormatError(ds.path, f"is a {ds.kind!r} dataset; task {task!r} needs a {_NEEDS_KIND[task]!r} one")
    if ds.kind == "classification" and not ds.class_names:
        raise FormatError(ds.path / "manifest.json", "a classification dataset without class_names")
    return ds, tuple(tasks)


def probe_config(cfg: RunConfig, suite_probe: dict[str, Any], device: str) -> linear_probe.ProbeConfig:
    return linear_probe.ProbeConfig(**{**suite_probe, **cfg.probe, "device": device})


def run_task(task: str, emb: Embedder, ds: Dataset, entry: DatasetEntry, probe: linear_probe.ProbeConfig) -> dict:
    if task == "retrieval":
        texts, owner = captions_of(ds, entry.split)
        return retrieval.retrieval_metrics(emb.images(ds, entry.split), emb.texts(ds, entry.split, texts, "captions"),
                                           owner) | {"split": entry.split}
    n_classes = len(ds.class_names)
    if task == "zeroshot":
        templates = zeroshot.resolve_templates(entry.templates)
        prompts = zeroshot.class_prompts(ds.class_names, templates)
        weights = zeroshot.class_weights(emb.texts(ds, entry.split, prompts, "prompts"), n_classes)
        metrics = zeroshot.zeroshot_metrics(emb.images(ds, entry.split), labels_of(ds, entry.split), weights)
        return metrics | {"split": entry.split, "templates": templates}
    train_x, train_y = emb.images(ds, entry.train_split), labels_of(ds, entry.train_split)
    test_x, test_y = emb.images(ds, entry.split), labels_of(ds, entry.split)
    if task == "linear_probe":
        return linear_probe.linear_probe(train_x, train_y, test_x, test_y, n_classes, probe)
    if task == "fewshot":
        return linear_probe.few_shot(train_x, train_y, test_x, test_y, n_classes, entry.shots, entry.seeds, probe)
    if task == "knn":
        return knn.knn_metrics(train_x, train_y, test_x, test_y, n_classes, entry.knn_k, entry.knn_temperature)
    raise ValueError(f"unknown task {task!r}")


@dataclass
class RunResult:
    suite: Suite
    models: list[ModelSpec]
    config: RunConfig
    results: dict[str, dict[str, dict[str, Any]]]  # model label -> dataset name -> task -> metrics
    datasets: dict[str, dict[str, Any]]  # dataset name -> description
    embedders: dict[str, Embedder]
    opened: dict[str, tuple[Dataset, DatasetEntry]]
    cache: EmbeddingCache
    seconds: float = 0.0


def unique_names(entries: list[tuple[Dataset, DatasetEntry]]) -> list[str]:
    names, seen = [], {}
    for ds, entry in entries:
        base = entry.name or ds.name
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return names


def run_suite(suite: Suite, models: list[ModelSpec], cache: EmbeddingCache, cfg: RunConfig) -> RunResult:
    """Every task of every dataset for every model. Datasets are all opened (validated) before any work."""
    start = time.perf_counter()
    if len({m.label for m in models}) != len(models):
        raise ValueError("two --model arguments have the same label; name them with LABEL=SPEC")
    opened = [(open_entry(e), e) for e in suite.datasets]
    pairs = [(ds, e) for (ds, _), e in opened]
    names = unique_names(pairs)
    device = cfg.resolved_device()
    probe = probe_config(cfg, suite.probe, device)
    embedders = {m.label: Embedder(m, cache, cfg) for m in models}
    results: dict[str, dict[str, dict[str, Any]]] = {m.label: {} for m in models}
    for model in models:
        emb = embedders[model.label]
        for name, ((ds, tasks), entry) in zip(names, opened):
            per = results[model.label].setdefault(name, {})
            for task in tasks:
                t0 = time.perf_counter()
                per[task] = run_task(task, emb, ds, entry, probe)
                per[task]["seconds"] = round(time.perf_counter() - t0, 3)
        emb._loaded = None  # free the model before the next one is loaded
    datasets = {name: {"path": str(ds.path), "kind": ds.kind, "manifest_name": ds.name, "tasks": list(tasks),
                       "manifest_sha256": ds.manifest_sha256(),
                       "rows": {s: ds.num_rows(s) for s in ds.splits}, "class_names": ds.class_names}
                for name, ((ds, tasks), _) in zip(names, opened)}
    return RunResult(suite, models, cfg, results, datasets, embedders,
                     {name: (ds, entry) for name, ((ds, _), entry) in zip(names, opened)}, cache,
                     time.perf_counter() - start)
