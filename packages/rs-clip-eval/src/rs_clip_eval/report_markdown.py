"""``report.md``: the run laid out like the RemoteCLIP paper's Tables II-IV, published figures beside ours,
each labelled with its source (:mod:`rs_clip_eval.paper`), deltas between the first model and the others,
and the plots. Names from manifests and configurations (models, datasets, suites, paths) are escaped
(:mod:`rs_formats.markdown`)."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

import numpy as np

from rs_formats import markdown as md
from rs_formats.console import package_version

from .paper import AVERAGE, RETRIEVAL_METRICS, SOURCES, are_the_twelve, figures_for, paper_name
from .runner import RunResult

# Where each task's published figures are in the paper (for the note on datasets without one).
_PAPER_PLACE = {
    "retrieval": "Table II",
    "zeroshot": "Table III",
    "linear_probe": "Table IV",
    "knn": "Table IV",
    "fewshot": "Fig. 8",
}


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}"


def _delta(a: Any, b: Any) -> str:
    if a is None or b is None:
        return "–"
    return f"{a - b:+.2f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|",
    ]
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
        cells = [_delta_label(labels[0], other)]
        for ds, task, key in columns:
            cells.append(_delta(_metric(run, labels[0], ds, task, key), _metric(run, other, ds, task, key)))
        rows.append(cells)
    return rows


def _delta_label(first: str, other: str) -> str:
    return f"**Δ {md.text(first)} − {md.text(other)}**"


def _avg(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals and len(vals) == len(values) else None


def _published(task: str, columns: list[tuple[str, str]], used: dict[str, None]) -> list[list[str]]:
    """One row per published (source, model, backbone) with a figure in any of the (dataset, metric)
    columns: its label (model, backbone, source), then its figures; ``used`` collects the sources."""
    rows: dict[tuple[str, str, str], tuple[str, dict]] = {}
    for ds, metric in columns:
        for f in figures_for(task, ds):
            if f.metric == metric:
                rows.setdefault((f.source, f.model, f.backbone), (f.row_label, {}))[1][ds, metric] = f.value
                used[f.source] = None
    # A published delta row (Table III's) is signed, as the paper prints it and as ours are.
    return [
        [label] + [(_signed if model.startswith("Δ") else _fmt)(values.get(col)) for col in columns]
        for (_, model, _), (label, values) in rows.items()
    ]


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value:+.2f}"


def _not_at_hand(task: str, names: list[str]) -> list[str]:
    """A note naming the paper's datasets in ``names`` with no published figure for ``task`` at hand."""
    lacking = [n for n in names if paper_name(n) and not figures_for(task, n)]
    if not lacking:
        return []
    return [
        f"No published figure for {', '.join(map(md.text, lacking))} in the paper's {_PAPER_PLACE[task]} "
        "(docs/fidelity.md lists what its text gives).",
        "",
    ]


def markdown(run: RunResult, plots: dict[str, list[str]]) -> str:
    labels = [m.label for m in run.models]
    used: dict[str, None] = {}  # sources of the published figures shown, in order of appearance
    lines = [
        f"# rs-clip-eval report: suite {md.code(run.suite.name)}",
        "",
        f"rs-clip-eval {package_version('rs-clip-eval')}, {_dt.datetime.now().isoformat(timespec='seconds')}, "
        f"device {run.config.resolved_device()}, {run.seconds:.1f} s. All figures in %.",
        "",
        "## Models",
        "",
    ]
    lines += _table(
        ["Model", "Kind", "Architecture", "Source"],
        [
            [
                md.text(m.label),
                {
                    "random": "random init (untrained)",
                    "file": "weights file",
                    "checkpoint": "rs-clip checkpoint",
                }[m.kind],
                md.text(m.arch),
                md.text(m.path or "–"),
            ]
            for m in run.models
        ],
    )
    lines += ["## Datasets", ""]
    lines += _table(
        ["Dataset", "Kind", "Rows", "Tasks", "Path"],
        [
            [
                md.text(n),
                md.text(d["kind"]),
                md.text(", ".join(f"{s} {r}" for s, r in d["rows"].items())),
                ", ".join(d["tasks"]),
                md.code(d["path"], in_table=True),
            ]
            for n, d in run.datasets.items()
        ],
    )
    if run.suite.missing:
        lines += [
            f"Not found under the data root (skipped): {', '.join(map(md.text, run.suite.missing))}.",
            "",
        ]

    ret = run.datasets_with("retrieval")
    if ret:
        lines += [
            "## Image-text retrieval (as paper Table II)",
            "",
            "Image→text: a hit when any of the image's captions is in the top K; text→image: the caption's "
            "own image. Rows with a source in italics are published figures (Sources, below).",
            "",
        ]
        keys = list(RETRIEVAL_METRICS)
        header = ["Model", "I→T R@1", "R@5", "R@10", "T→I R@1", "R@5", "R@10", "Mean recall"]
        for ds in ret:
            lines += [f"### {md.text(ds)}", ""]
            rows = [[md.text(m)] + [_fmt(_metric(run, m, ds, "retrieval", k)) for k in keys] for m in labels]
            rows += _delta_rows(run, [(ds, "retrieval", k) for k in keys])
            rows += _published("retrieval", [(ds, k) for k in keys], used)
            lines += _table(header, rows) + _not_at_hand("retrieval", [ds])

    cls_tables = [
        ("zeroshot", "top1", "Zero-shot classification, top-1 (as paper Table III)"),
        ("linear_probe", "top1", "Linear probe, top-1 (as paper Table IV)"),
        ("knn", "top1", "k-NN (k=20, T=0.07), top-1 (as paper Table IV)"),
    ]
    for task, key, title in cls_tables:
        names = run.datasets_with(task)
        if not names:
            continue
        lines += [f"## {title}", ""]
        if task == "zeroshot":
            lines += [
                "Prompts: "
                + "; ".join(
                    f"{md.text(n)}: {len(run.results[labels[0]][n][task]['templates'])} template(s)"
                    for n in names
                )
                + ".",
                "",
            ]
        rows = []
        for m in labels:
            vals = [_metric(run, m, n, task, key) for n in names]
            rows.append([md.text(m)] + [_fmt(v) for v in vals] + [_fmt(_avg(vals))])
        for other in labels[1:]:
            first = [_metric(run, labels[0], n, task, key) for n in names]
            second = [_metric(run, other, n, task, key) for n in names]
            rows.append(
                [_delta_label(labels[0], other)]
                + [_delta(a, b) for a, b in zip(first, second)]
                + [_delta(_avg(first), _avg(second))]
            )
        average = [(AVERAGE, key)] if are_the_twelve(names) else []  # the paper's printed average
        rows += [
            r + ([] if average else ["–"])
            for r in _published(task, [(n, key) for n in names] + average, used)
        ]
        lines += _table(["Model"] + [md.text(n) for n in names] + ["Average"], rows) + _not_at_hand(
            task, names
        )
        if task == "zeroshot":
            extra = [
                [
                    md.text(m),
                    md.text(n),
                    _fmt(_metric(run, m, n, task, "top5")),
                    _fmt(_metric(run, m, n, task, "mean_per_class_recall")),
                ]
                for n in names
                for m in labels
            ]
            lines += _table(["Model", "Dataset", "Top-5", "Mean per-class recall"], extra)

    few = run.datasets_with("fewshot")
    if few:
        lines += ["## Few-shot linear probe (mean ± std over seeds)", ""]
        for ds in few:
            shots = list(run.results[labels[0]][ds]["fewshot"]["shots"])
            rows = []
            for m in labels:
                res = run.results[m][ds]["fewshot"]["shots"]
                rows.append([md.text(m)] + [f"{res[k]['mean']:.2f} ± {res[k]['std']:.2f}" for k in shots])
            for other in labels[1:]:
                a, b = (
                    run.results[labels[0]][ds]["fewshot"]["shots"],
                    run.results[other][ds]["fewshot"]["shots"],
                )
                rows.append(
                    [_delta_label(labels[0], other)] + [_delta(a[k]["mean"], b[k]["mean"]) for k in shots]
                )
            rows += _published("fewshot", [(ds, f"top1_{k}shot_mean") for k in shots], used)
            lines += [f"### {md.text(ds)}", ""] + _table(["Model"] + [f"{k}-shot" for k in shots], rows)
        lines += _not_at_hand("fewshot", few)
    if used:
        lines += ["## Sources of published figures", ""]
        lines += [f"- *{SOURCES[key].label}*: {SOURCES[key].citation}." for key in used] + [""]
    if any(plots.values()):
        lines += ["## Plots", ""]
        for title, files in plots.items():
            for f in files:
                lines += [f"**{md.text(title)}**: {md.code(f)}", "", f"![{md.text(title)}]({f})", ""]
    lines += [
        "## Configuration",
        "",
        f"Embedding cache: {md.code(run.cache.root)} ({run.cache.hits} hits, "
        f"{run.cache.misses} misses). Full configuration and every figure: `results.json`.",
        "",
    ]
    return "\n".join(lines)
