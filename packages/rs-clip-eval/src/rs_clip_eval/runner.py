"""Runs tasks for models over datasets: embeds through the cache, dispatches to the task modules."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from rs_clip_models.spec import ModelSpec
from rs_formats import Dataset, FormatError, open_dataset
from rs_formats.columns import captions_of, labels_of
from rs_formats.wording import class_phrase

from . import knn, linear_probe, retrieval, zeroshot
from .config import EvalConfig
from .embedder import Embedder
from .embedding_cache import EmbeddingCache
from .suites import TASKS_BY_KIND, DatasetEntry, Suite

log = logging.getLogger(__name__)

_NEEDS_KIND = {
    "retrieval": "captions",
    "zeroshot": "classification",
    "linear_probe": "classification",
    "fewshot": "classification",
    "knn": "classification",
}


def open_entry(entry: DatasetEntry) -> tuple[Dataset, tuple[str, ...]]:
    """Open a suite entry's dataset and check that its kind and splits suit the tasks asked of it."""
    ds = open_dataset(entry.path)
    tasks = entry.tasks or TASKS_BY_KIND.get(ds.kind, ())
    if not tasks:
        raise FormatError(ds.path, f"is a {ds.kind!r} dataset: no evaluation task applies to it")
    for task in tasks:
        if _NEEDS_KIND[task] != ds.kind:
            raise FormatError(
                ds.path, f"is a {ds.kind!r} dataset; task {task!r} needs a {_NEEDS_KIND[task]!r} one"
            )
    if ds.kind == "classification" and not ds.class_names:
        raise FormatError(ds.path / "manifest.json", "a classification dataset without class_names")
    for i, name in enumerate(ds.class_names or ()):
        try:
            class_phrase(name)  # what the prompts will say
        except (ValueError, TypeError, AttributeError):
            raise FormatError(
                ds.path / "manifest.json", f"class_names[{i}] is {name!r}: not a class name"
            ) from None
    learns = any(t in ("linear_probe", "fewshot", "knn") for t in tasks)
    for split in (entry.split, entry.train_split) if learns else (entry.split,):
        if split not in ds.splits:
            raise FormatError(ds.path / "manifest.json", f"has no split {split!r} (splits: {ds.splits})")
    return ds, tuple(tasks)


def probe_config(cfg: EvalConfig, suite_probe: dict[str, Any], device: str) -> linear_probe.ProbeConfig:
    return linear_probe.ProbeConfig(**{**suite_probe, **cfg.probe, "seed": cfg.seed, "device": device})


def run_task(
    task: str, emb: Embedder, ds: Dataset, entry: DatasetEntry, probe: linear_probe.ProbeConfig
) -> dict:
    if task == "retrieval":
        texts, owner = captions_of(ds, entry.split)
        return retrieval.retrieval_metrics(
            emb.images(ds, entry.split), emb.texts(ds, entry.split, texts, "captions"), owner
        ) | {"split": entry.split}
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
        return linear_probe.few_shot(
            train_x, train_y, test_x, test_y, n_classes, entry.shots, entry.seeds, probe
        )
    if task == "knn":
        return knn.knn_metrics(
            train_x, train_y, test_x, test_y, n_classes, entry.knn_k, entry.knn_temperature
        )
    raise ValueError(f"unknown task {task!r}")


@dataclass
class RunResult:
    suite: Suite
    models: list[ModelSpec]
    config: EvalConfig
    results: dict[str, dict[str, dict[str, Any]]]  # model label -> dataset name -> task -> metrics
    datasets: dict[str, dict[str, Any]]  # dataset name -> description
    embedders: dict[str, Embedder]
    opened: dict[str, tuple[Dataset, DatasetEntry]]
    cache: EmbeddingCache
    seconds: float = 0.0

    def datasets_with(self, task: str) -> list[str]:
        return [name for name, d in self.datasets.items() if task in d["tasks"]]


def unique_names(entries: list[tuple[Dataset, DatasetEntry]]) -> list[str]:
    names, seen = [], {}
    for ds, entry in entries:
        base = entry.name or ds.name
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return names


def run_suite(suite: Suite, models: list[ModelSpec], cache: EmbeddingCache, cfg: EvalConfig) -> RunResult:
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
                log.info("%s: %s on %s", model.label, task, name)
                t0 = time.perf_counter()
                with emb.for_task(f"{task} {name}"):
                    per[task] = run_task(task, emb, ds, entry, probe)
                per[task]["seconds"] = round(time.perf_counter() - t0, 3)
        emb.release()  # free the model before the next one is loaded
    datasets = {
        name: {
            "path": str(ds.path),
            "kind": ds.kind,
            "manifest_name": ds.name,
            "tasks": list(tasks),
            "manifest_sha256": ds.manifest_sha256(),
            "rows": {s: ds.num_rows(s) for s in ds.splits},
            "class_names": ds.class_names,
        }
        for name, ((ds, tasks), _) in zip(names, opened)
    }
    return RunResult(
        suite,
        models,
        cfg,
        results,
        datasets,
        embedders,
        {name: (ds, entry) for name, ((ds, _), entry) in zip(names, opened)},
        cache,
        time.perf_counter() - start,
    )
