"""Reports: ``results.json`` (every figure and the full configuration), ``results.jsonl`` / ``results.csv``
(the long-format table, :mod:`rs_formats.results_table`), ``report.md`` (:mod:`rs_clip_eval.report_markdown`)
and PNG plots (matplotlib, Agg; :mod:`rs_clip_eval.plots`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rs_formats.console import package_version
from rs_formats.results_table import PERCENT, ResultRow, now, write_results_table

from .paper import RETRIEVAL_METRICS, figures_for
from .plots import make_plots
from .report_markdown import markdown
from .runner import RunResult

# The figures of each task in the long-format table (fewshot: top1 of every K and seed, as rows).
_TABLE_METRICS = {
    "retrieval": RETRIEVAL_METRICS,
    "zeroshot": ("top1", "top5", "mean_per_class_recall"),
    "linear_probe": ("top1", "top5", "mean_per_class_recall"),
    "knn": ("top1", "mean_per_class_recall"),
}


def table_rows(run: RunResult, created: str) -> list[ResultRow]:
    """The run's figures as rows of the long-format results table (:mod:`rs_formats.results_table`)."""
    fixed = {"unit": PERCENT, "tool": f"rs-clip-eval {package_version('rs-clip-eval')}", "created": created}
    rows = []
    for model in run.models:
        fingerprint = run.embedders[model.label].fingerprint or ""
        for name, per_task in run.results[model.label].items():
            split, sha = run.opened[name][1].split, run.datasets[name]["manifest_sha256"]
            for task, metrics in per_task.items():
                if task == "fewshot":  # one row per K and seed: (metric, value, shots, seed)
                    figures = [
                        ("top1", one["top1"], int(k), one["seed"])
                        for k, v in metrics["shots"].items()
                        for one in v["runs"]
                    ]
                else:
                    figures = [(key, metrics.get(key), None, None) for key in _TABLE_METRICS[task]]
                where = {
                    **fixed,
                    "model": model.label,
                    "model_spec": model.text,
                    "model_fingerprint": fingerprint,
                }
                where |= {"dataset": name, "dataset_sha256": sha, "split": split, "task": task}
                rows += [
                    ResultRow(**where, metric=key, value=value, shots=k, seed=s)
                    for key, value, k, s in figures
                    if value is not None
                ]
    return rows


def to_json(run: RunResult, plots: dict[str, list[str]], created: str | None = None) -> dict[str, Any]:
    return {
        "rs_clip_eval_version": package_version("rs-clip-eval"),
        "created": created or now(),
        "seconds": round(run.seconds, 3),
        "suite": run.suite.to_dict(),
        "config": run.config.to_dict() | {"device": run.config.resolved_device()},
        "models": [m.to_dict() | {"fingerprint": run.embedders[m.label].fingerprint} for m in run.models],
        "datasets": run.datasets,
        "results": run.results,
        "published": [
            f.to_dict()
            for name, d in run.datasets.items()
            for task in d["tasks"]
            for f in figures_for(task, name)
        ],
        "cache": run.cache.stats(),
        "plots": plots,
    }


def write_report(
    run: RunResult, out_dir: Path, plots: bool = True, tsne_max_points: int = 1000
) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    made = make_plots(run, out_dir, tsne_max_points) if plots else {}
    created = now()
    results = to_json(run, made, created)
    paths = write_results_table(table_rows(run, created), out_dir)
    paths |= {"json": out_dir / "results.json", "markdown": out_dir / "report.md"}
    for key, text in (
        ("json", json.dumps(results, indent=1, default=str) + "\n"),
        ("markdown", markdown(run, made)),
    ):
        tmp = paths[key].with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(paths[key])
    return paths
