"""Suites: which datasets to evaluate and with which tasks.

A suite file (YAML or JSON)::

    name: demo                          # optional, shown in the report
    probe: {epochs: 200}                # optional ProbeConfig overrides for linear probe and few-shot
    datasets:
      - path: data/synthetic-captions  # an rs-dataset directory (relative to the suite file)
        name: RSICD                     # optional report name (default: the manifest's name); a paper
                                        # dataset name (RSITMD, RSICD, UCM) puts the paper's figures beside
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

Built-in suite: ``paper`` (the RemoteCLIP paper's datasets, found by name under ``--data-root``). Synthetic
evaluation sets for trying things out are rs-synth's (``rs_synth.evalsets``); write a suite file for them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rs_formats import FormatError
from rs_formats.inputs import parse_json, parse_yaml, read_text

from .linear_probe import DEFAULT_SHOTS

TASKS = ("retrieval", "zeroshot", "linear_probe", "fewshot", "knn")
TASKS_BY_KIND = {"captions": ("retrieval",), "classification": ("zeroshot", "linear_probe", "fewshot", "knn")}
_ALIASES = {"zero-shot": "zeroshot", "zero_shot": "zeroshot", "linear-probe": "linear_probe",
            "linearprobe": "linear_probe", "few-shot": "fewshot", "few_shot": "fewshot", "k-nn": "knn"}
_ENTRY_KEYS = {"path", "name", "tasks", "split", "train_split", "templates", "shots", "seeds", "knn_k",
               "knn_temperature"}
_SUITE_KEYS = {"name", "datasets", "probe", "description"}
_PROBE_KEYS = {"lr", "weight_decay", "epochs", "batch_size", "search_trials", "val_fraction"}

# The paper's evaluation sets (Tables II-IV), as directory names looked for under --data-root.
PAPER_RETRIEVAL = ("RSITMD", "RSICD", "UCM")
PAPER_CLASSIFICATION = ("RSI-CB128", "RSI-CB256", "WHU-earth", "EuroSAT", "MLRSNet", "PatternNet", "RESISC45",
                        "AID", "RSSCN7", "OPTIMAL-31", "RSC11", "WHU-RS19")


class SuiteError(ValueError):
    """A suite file that cannot be used; the message names the file."""


@dataclass
class DatasetEntry:
    path: Path
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
        return {"path": str(self.path), "name": self.name, "tasks": list(self.tasks) if self.tasks else None,
                "split": self.split, "train_split": self.train_split, "templates": self.templates,
                "shots": list(self.shots), "seeds": list(self.seeds), "knn_k": self.knn_k,
                "knn_temperature": self.knn_temperature}


@dataclass
class Suite:
    name: str
    datasets: list[DatasetEntry]
    probe: dict[str, Any] = field(default_factory=dict)
    source: str = ""
    missing: list[str] = field(default_factory=list)  # paper datasets not found under the data root

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "probe": self.probe, "missing": self.missing,
                "datasets": [d.to_dict() for d in self.datasets]}


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
    path = Path(os.path.expandvars(str(raw["path"]))).expanduser()
    entry = DatasetEntry(path=path if path.is_absolute() else base / path)
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


def _find(root: Path, name: str) -> Path | None:
    def norm(s: str) -> str:
        return "".join(ch for ch in s.lower() if ch.isalnum())

    want = norm(name)
    for child in sorted(root.iterdir()) if root.is_dir() else []:
        if child.is_dir() and norm(child.name) == want:
            return child
    return None


def paper_suite(data_root: str | Path | None) -> Suite:
    """The paper's datasets found under ``data_root`` (directory names as in the paper, case and
    punctuation ignored: ``rsitmd``, ``RSI_CB128``...). Missing ones are listed, not fatal."""
    root = data_root or os.environ.get("RS_CLIP_EVAL_DATA")
    if not root:
        raise SuiteError("the 'paper' suite needs --data-root DIR (or RS_CLIP_EVAL_DATA) holding rs-dataset "
                         f"directories named like {', '.join(PAPER_RETRIEVAL + PAPER_CLASSIFICATION[:3])}, ...")
    root = Path(root)
    if not root.is_dir():
        raise SuiteError(f"{root}: no such data root")
    datasets, missing = [], []
    for names, tasks in ((PAPER_RETRIEVAL, ("retrieval",)), (PAPER_CLASSIFICATION, TASKS_BY_KIND["classification"])):
        for name in names:
            found = _find(root, name)
            if found is None:
                missing.append(name)
            else:
                datasets.append(DatasetEntry(path=found, name=name, tasks=tasks))
    if not datasets:
        raise SuiteError(f"{root}: none of the paper's datasets is there "
                         f"(looked for {', '.join(PAPER_RETRIEVAL + PAPER_CLASSIFICATION)})")
    return Suite("paper", datasets, {}, "built-in: paper", missing)


def load_suite(spec: str, *, data_root: str | Path | None = None) -> Suite:
    """The built-in ``paper`` suite, or a suite file."""
    if spec == "paper":
        return paper_suite(data_root)
    return load_suite_file(spec)
