"""Suites: which datasets to evaluate and with which tasks.

A suite file (YAML or JSON)::

    name: demo                          # optional, shown in the report
    probe: {epochs: 200}                # optional ProbeConfig overrides for linear probe and few-shot
    datasets:
      - path: data/synthetic-captions  # an rs-dataset directory (relative to the suite file)
        name: RSICD                     # optional report name (default: the manifest's name); a paper
                                        # dataset name (RSICD, AID, RS2800...) puts published figures beside
        tasks: [retrieval]              # optional; default from the dataset kind (below)
        split: test                     # optional; split scored by retrieval and zero-shot (default test)
      - path: data/synthetic-scenes
        tasks: [zeroshot, linear_probe, fewshot, knn]
        train_split: train              # optional; split the probes and k-NN learn from (default train)
        templates: default              # zero-shot prompts: a set name (default, resisc45,
                                        # remote-sensing) or a list of templates with {} (quote
                                        # them in YAML: ["a satellite photo of {}."])
        shots: [1, 4, 8, 16, 32]        # few-shot K values
        seeds: [0, 1, 2]                # few-shot seeds
        knn_k: 20
        knn_temperature: 0.07

Default tasks: ``captions`` datasets -> retrieval; ``classification`` -> zeroshot, linear_probe, fewshot, knn.

Built-in suite: ``paper`` (the RemoteCLIP paper's 15 datasets under the paper's names, found under ``--data-root``
by the directory names docs/reproduce.md writes; :mod:`rs_clip_eval.paper`). Synthetic
evaluation sets for trying things out are rs-synth's (``rs_synth.evalsets``); write a suite file for them.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rs_formats import FormatError
from rs_formats.inputs import parse_json, parse_yaml, read_text
from rs_formats.location import path_or_uri

from .linear_probe import DEFAULT_SHOTS
from .paper import PAPER_DATASETS, PaperDataset, name_key

TASKS = ("retrieval", "zeroshot", "linear_probe", "fewshot", "knn")
TASKS_BY_KIND = {"captions": ("retrieval",), "classification": ("zeroshot", "linear_probe", "fewshot", "knn")}
_ALIASES = {
    "zero-shot": "zeroshot",
    "zero_shot": "zeroshot",
    "linear-probe": "linear_probe",
    "linearprobe": "linear_probe",
    "few-shot": "fewshot",
    "few_shot": "fewshot",
    "k-nn": "knn",
}
_ENTRY_KEYS = {
    "path",
    "name",
    "tasks",
    "split",
    "train_split",
    "templates",
    "shots",
    "seeds",
    "knn_k",
    "knn_temperature",
}
_SUITE_KEYS = {"name", "datasets", "probe", "description"}
_PROBE_KEYS = {"lr", "weight_decay", "epochs", "batch_size", "search_trials", "val_fraction", "standardise"}

log = logging.getLogger(__name__)


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the file."""


@dataclass
class DatasetEntry:
    path: Path | str  # a dataset's directory, or its URI
    name: str | None = None
    tasks: tuple[str, ...] | None = None
    split: str = "test"
    train_split: str = "train"
    templates: Any = None
    shots: tuple[int, ...] = DEFAULT_SHOTS
    seeds: tuple[int, ...] = (0, 1, 2)
    knn_k: int = 20
    knn_temperature: float = 0.07

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "name": self.name,
            "tasks": list(self.tasks) if self.tasks else None,
            "split": self.split,
            "train_split": self.train_split,
            "templates": self.templates,
            "shots": list(self.shots),
            "seeds": list(self.seeds),
            "knn_k": self.knn_k,
            "knn_temperature": self.knn_temperature,
        }


@dataclass
class Suite:
    name: str
    datasets: list[DatasetEntry]
    probe: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    missing: list[str] = field(default_factory=list)  # paper datasets not found under the data root

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source": self.source,
            "probe": self.probe,
            "missing": self.missing,
            "datasets": [d.to_dict() for d in self.datasets],
        }


def normalise_task(name: str, where: str) -> str:
    task = _ALIASES.get(str(name).lower(), str(name).lower())
    if task not in TASKS:
        raise SuiteError(f"{where}: unknown task {name!r} (tasks: {', '.join(TASKS)})")
    return task


def _entry(raw: Any, base: Path, where: str) -> DatasetEntry:
    if isinstance(raw, str):
        raw = {"path": raw}
    if not isinstance(raw, dict) or "path" not in raw:
        raise SuiteError(f"{where}: each dataset needs at least a 'path'")
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(_ENTRY_KEYS)})")
    path = path_or_uri(os.path.expandvars(str(raw["path"])))
    if isinstance(path, Path):  # relative to the suite file; a URI is absolute as it is
        path = base / path.expanduser()
    entry = DatasetEntry(path=path)
    if raw.get("name") is not None:
        entry.name = str(raw["name"])
    if raw.get("tasks") is not None:
        tasks = raw["tasks"] if isinstance(raw["tasks"], list) else [raw["tasks"]]
        entry.tasks = tuple(normalise_task(t, where) for t in tasks)
    for key in ("split", "train_split"):
        if key in raw:
            setattr(entry, key, str(raw[key]))
    if "templates" in raw:
        entry.templates = raw["templates"]
    try:
        if "shots" in raw:
            entry.shots = tuple(int(s) for s in raw["shots"])
        if "seeds" in raw:
            entry.seeds = tuple(int(s) for s in raw["seeds"])
        if "knn_k" in raw:
            entry.knn_k = int(raw["knn_k"])
        if "knn_temperature" in raw:
            entry.knn_temperature = float(raw["knn_temperature"])
    except (TypeError, ValueError) as exc:
        raise SuiteError(f"{where}: bad number in dataset {raw['path']!r}: {exc}") from None
    if any(s < 1 for s in entry.shots) or entry.knn_k < 1 or entry.knn_temperature <= 0:
        raise SuiteError(f"{where}: shots and knn_k must be >= 1 and knn_temperature > 0")
    return entry


def parse_suite(data: Any, base: Path, where: str) -> Suite:
    if not isinstance(data, dict):
        raise SuiteError(f"{where}: a suite must be a mapping with a 'datasets' list")
    unknown = set(data) - _SUITE_KEYS
    if unknown:
        raise SuiteError(f"{where}: unknown key(s) {sorted(unknown)} (allowed: {sorted(_SUITE_KEYS)})")
    raw = data.get("datasets")
    if not isinstance(raw, list) or not raw:
        raise SuiteError(f"{where}: 'datasets' must be a non-empty list")
    probe = data.get("probe") or {}
    if not isinstance(probe, dict) or set(probe) - _PROBE_KEYS:
        raise SuiteError(f"{where}: 'probe' may only set {sorted(_PROBE_KEYS)}")
    datasets = [_entry(r, base, f"{where} (dataset {i + 1})") for i, r in enumerate(raw)]
    return Suite(str(data.get("name", Path(where).stem)), datasets, dict(probe), where)


def load_suite_file(path: str | Path) -> Suite:
    """A suite file (``.json``, else YAML): a regular text file of plain data, errors naming it and the line."""
    path = Path(path)
    if not path.exists():
        raise SuiteError(f"{path}: no such suite file (or use the built-in suite: paper)")
    try:
        text = read_text(path)  # regular files only; not UTF-8 is an error naming the file and line
        data = parse_json(text, path) if path.suffix == ".json" else parse_yaml(text, path)
    except FormatError as exc:
        raise SuiteError(str(exc)) from None
    return parse_suite(data, path.parent, str(path))


def _find(root: Path, dataset: PaperDataset) -> Path | None:
    """The directory under ``root`` holding a paper dataset: the first of its folder names (or the paper's
    own name) present, case and punctuation ignored; another match is logged as not used."""
    children = {name_key(c.name): c for c in sorted(root.iterdir()) if c.is_dir()}
    keys = dict.fromkeys(name_key(n) for n in (*dataset.folders, dataset.name))
    found = [children[k] for k in keys if k in children]
    if len(found) > 1:
        log.warning(
            "%s: using %s as %s; %s not used",
            root,
            found[0].name,
            dataset.name,
            ", ".join(f.name for f in found[1:]),
        )
    return found[0] if found else None


def paper_suite(data_root: str | Path | None) -> Suite:
    """The paper's datasets found under ``data_root``, named as the paper names them (RS2800, SIRI-WHU, ...;
    :data:`rs_clip_eval.paper.PAPER_DATASETS`), looked for under docs/reproduce.md's directory names
    (``eurosat-rgb``, ``rsscn7``, ``whu-earth``...) or the paper's, case and punctuation ignored. Missing ones
    are listed, not fatal."""
    root = data_root or os.environ.get("RS_CLIP_EVAL_DATA")
    looked_for = ", ".join(d.folders[0] for d in PAPER_DATASETS)
    if not root:
        raise SuiteError(
            "the 'paper' suite needs --data-root DIR (or RS_CLIP_EVAL_DATA) holding rs-dataset "
            f"directories named like {looked_for}"
        )
    root = Path(root)
    if not root.is_dir():
        raise SuiteError(f"{root}: no such data root")
    datasets, missing = [], []
    for paper in PAPER_DATASETS:
        found = _find(root, paper)
        if found is None:
            missing.append(paper.name)
        else:
            datasets.append(DatasetEntry(path=found, name=paper.name, tasks=TASKS_BY_KIND[paper.kind]))
    if not datasets:
        raise SuiteError(f"{root}: none of the paper's datasets is there (looked for {looked_for})")
    return Suite("paper", datasets, {}, "built-in: paper", missing)


def load_suite(spec: str, *, data_root: str | Path | None = None) -> Suite:
    """The built-in ``paper`` suite, or a suite file."""
    if spec == "paper":
        return paper_suite(data_root)
    return load_suite_file(spec)
