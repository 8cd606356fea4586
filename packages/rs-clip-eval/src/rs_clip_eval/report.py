"""Reports: ``results.json`` (every figure and the full configuration), ``report.md`` laid out like the
RemoteCLIP paper's Tables II-IV with published figures beside ours, and PNG plots (matplotlib, Agg)."""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from rs_formats.console import package_version

from .plots import make_plots
from .runner import RunResult

# Published retrieval mean recall (RemoteCLIP paper, Table II). Keyed by
# normalised dataset name. The paper's zero-shot / linear-probe / k-NN tables are not transcribed here:
# add them to PAPER_TABLES in the same form (task -> dataset -> {model: figure}) to get them in the report.
PAPER_TABLES: dict[str, dict[str, dict[str, float]]] = {
    "retrieval": {
        "rsitmd": {"RemoteCLIP ViT-B-32": 49.38, "RemoteCLIP ViT-L-14": 50.52, "GeoRSCLIP-FT ViT-B-32": 51.81},
        "rsicd": {"RemoteCLIP ViT-B-32": 35.26, "RemoteCLIP ViT-L-14": 36.35, "GeoRSCLIP-FT ViT-B-32": 38.87},
        "ucm": {"RemoteCLIP ViT-B-32": 56.36},
    },
}
_ALIASES = {"ucmcaptions": "ucm", "ucmerced": "ucm", "ucmercedcaptions": "ucm"}


def paper_key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return _ALIASES.get(key, key)


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}"


def _delta(a: Any, b: Any) -> str:
    if a is None or b is None:
        return "–"
    return f"{a - b:+.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def _metric(run: RunResult, model: str, dataset: str, task: str, key: str) -> float | None:
    value = run.results.get(model, {}).get(dataset, {}).get(task, {}).get(key)
    return value if isinstance(value, (int, float)) else None


def _delta_rows(run: RunResult, columns: list[tuple[str, str, str]]) -> list[list[str]]:
    """One row per later model: first model minus it, column by column ((dataset, task, metric) triples)."""
    labels = [m.label for m in run.models]
    rows = []
    for other in labels[1:]:
        cells = [f"**Δ {labels[0]} − {other}**"]
        for ds, task, key in columns:
            cells.append(_delta(_metric(run, labels[0], ds, task, key), _metric(run, other, ds, task, key)))
        rows.append(cells)
    return rows


def _avg(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals and len(vals) == len(values) else None


def markdown(run: RunResult, plots: dict[str, list[str]]) -> str:
    labels = [m.label for m in run.models]
    lines = [f"# rs-clip-eval report: suite `{run.suite.name}`", "",
             f"rs-clip-eval {package_version('rs-clip-eval')}, {_dt.datetime.now().isoformat(timespec='seconds')}, "
             f"device {run.config.resolved_device()}, {run.seconds:.1f} s. All figures in %.", "", "## Models", ""]
    lines += _table(["Model", "Kind", "Architecture", "Source"],
                    [[m.label, {"random": "random init (untrained)", "file": "weights file",
                                "checkpoint": "rs-clip checkpoint"}[m.kind], m.arch, str(m.path or "–")]
                     for m in run.models])
    lines += ["## Datasets", ""]
    lines += _table(["Dataset", "Kind", "Rows", "Tasks", "Path"],
                    [[n, d["kind"], ", ".join(f"{s} {r}" for s, r in d["rows"].items()), ", ".join(d["tasks"]),
                      f"`{d['path']}`"] for n, d in run.datasets.items()])
    if run.suite.missing:
        lines += [f"Not found under the data root (skipped): {', '.join(run.suite.missing)}.", ""]

    ret = run.datasets_with("retrieval")
    if ret:
        lines += ["## Image-text retrieval (as paper Table II)", "",
                  "Image→text: a hit when any of the image's captions is in the top K; text→image: the caption's "
                  "own image. Rows marked *(paper)* are published figures (mean recall only).", ""]
        keys = ["i2t_R@1", "i2t_R@5", "i2t_R@10", "t2i_R@1", "t2i_R@5", "t2i_R@10", "mean_recall"]
        header = ["Model", "I→T R@1", "R@5", "R@10", "T→I R@1", "R@5", "R@10", "Mean recall"]
        for ds in ret:
            lines += [f"### {ds}", ""]
            rows = [[m] + [_fmt(_metric(run, m, ds, "retrieval", k)) for k in keys] for m in labels]
            rows += _delta_rows(run, [(ds, "retrieval", k) for k in keys])
            for model, value in PAPER_TABLES["retrieval"].get(paper_key(ds), {}).items():
                rows.append([f"{model} *(paper)*"] + ["–"] * 6 + [_fmt(value)])
            lines += _table(header, rows)

    cls_tables = [("zeroshot", "top1", "Zero-shot classification, top-1 (as paper Table III)"),
                  ("linear_probe", "top1", "Linear probe, top-1 (as paper Table IV)"),
                  ("knn", "top1", "k-NN (k=20, T=0.07), top-1 (as paper Table IV)")]
    for task, key, title in cls_tables:
        names = run.datasets_with(task)
        if not names:
            continue
        lines += [f"## {title}", ""]
        if task == "zeroshot":
            lines += ["Prompts: " + "; ".join(f"{n}: {len(run.results[labels[0]][n][task]['templates'])} template(s)"
                                             for n in names) + ".", ""]
        rows = []
        for m in labels:
            vals = [_metric(run, m, n, task, key) for n in names]
            rows.append([m] + [_fmt(v) for v in vals] + [_fmt(_avg(vals))])
        for other in labels[1:]:
            first = [_metric(run, labels[0], n, task, key) for n in names]
            second = [_metric(run, other, n, task, key) for n in names]
            rows.append([f"**Δ {labels[0]} − {other}**"] + [_delta(a, b) for a, b in zip(first, second)]
                        + [_delta(_avg(first), _avg(second))])
        for model in sorted({mm for n in names for mm in PAPER_TABLES.get(task, {}).get(paper_key(n), {})}):
            vals = [PAPER_TABLES[task].get(paper_key(n), {}).get(model) for n in names]
            rows.append([f"{model} *(paper)*"] + [_fmt(v) for v in vals] + ["–"])
        lines += _table(["Model"] + names + ["Average"], rows)
        if task == "zeroshot":
            extra = [[m, n, _fmt(_metric(run, m, n, task, "top5")), _fmt(_metric(run, m, n, task, "mean_per_class_recall"))]
                     for n in names for m in labels]
            lines += _table(["Model", "Dataset", "Top-5", "Mean per-class recall"], extra)

    few = run.datasets_with("fewshot")
    if few:
        lines += ["## Few-shot linear probe (mean ± std over seeds)", ""]
        for ds in few:
            shots = list(run.results[labels[0]][ds]["fewshot"]["shots"])
            rows = []
            for m in labels:
                res = run.results[m][ds]["fewshot"]["shots"]
                rows.append([m] + [f"{res[k]['mean']:.2f} ± {res[k]['std']:.2f}" for k in shots])
            for other in labels[1:]:
                a, b = run.results[labels[0]][ds]["fewshot"]["shots"], run.results[other][ds]["fewshot"]["shots"]
                rows.append([f"**Δ {labels[0]} − {other}**"] + [_delta(a[k]["mean"], b[k]["mean"]) for k in shots])
            lines += [f"### {ds}", ""] + _table(["Model"] + [f"{k}-shot" for k in shots], rows)
    if any(plots.values()):
        lines += ["## Plots", ""]
        for title, files in plots.items():
            for f in files:
                lines += [f"**{title}**: `{f}`", "", f"![{title}]({f})", ""]
    lines += ["## Configuration", "", f"Embedding cache: `{run.cache.root}` ({run.cache.hits} hits, "
              f"{run.cache.misses} misses). Full configuration and every figure: `results.json`.", ""]
    return "\n".join(lines)


def to_json(run: RunResult, plots: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "rs_clip_eval_version": package_version("rs-clip-eval"),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(run.seconds, 3),
        "suite": run.suite.to_dict(),
        "config": run.config.to_dict() | {"device": run.config.resolved_device()},
        "models": [m.to_dict() | {"fingerprint": run.embedders[m.label].fingerprint} for m in run.models],
        "datasets": run.datasets,
        "results": run.results,
        "paper": PAPER_TABLES,
        "cache": run.cache.stats(),
        "plots": plots,
    }


def write_report(run: RunResult, out_dir: Path, plots: bool = True, tsne_max_points: int = 1000) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    made = make_plots(run, out_dir, tsne_max_points) if plots else {}
    results = to_json(run, made)
    paths = {"json": out_dir / "results.json", "markdown": out_dir / "report.md"}
    for key, text in (("json", json.dumps(results, indent=1, default=str) + "\n"), ("markdown", markdown(run, made))):
        tmp = paths[key].with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(paths[key])
    return paths
