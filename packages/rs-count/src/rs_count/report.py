"""Reports for one or more models side by side: JSON, Markdown, and plots (matplotlib, Agg backend).

Published figures: the RemoteCLIP paper reports RemoteCount only as plots (Fig. 7: top-1..top-10
accuracy curves and confusion matrices of CLIP and RemoteCLIP), not as a table, so rs-count ships no
numbers of its own invention. To show published or earlier figures next to yours, pass a reference
JSON (``--reference``): ``[{"model": ..., "variant": "words", "topk": [top1, ..., top10], "source": ...}]``
with accuracies in percent (0-100, like every figure rs-count reports; earlier releases took fractions, and
a record whose figures are all at most 1 is refused as such rather than shown as under-1% accuracies); the
report marks those rows as quoted, not measured. Plots and their file names are rs-clip-eval's
(:func:`rs_clip_eval.plot_confusion`, :func:`rs_clip_eval.slug`). Names from manifests and the reference
file are escaped in ``report.md`` (:mod:`rs_formats.markdown`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rs_clip_eval import ResultRow, pyplot, slug, write_results_table
from rs_clip_eval import plot_confusion as _plot_confusion
from rs_formats import FormatError
from rs_formats import markdown as md
from rs_formats.console import package_version
from rs_formats.inputs import read_json
from rs_formats.results_table import PERCENT, now

from .classes import REMOTECOUNT_CLASSES
from .evaluate import CountResult
from .metrics import NUM_COUNTS, TIE_RULE


def load_reference(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    refs = read_json(path)  # a regular file of bounded depth, errors naming it and the line
    if not isinstance(refs, list):
        raise FormatError(path, "must hold a list of {model, variant, topk, source} records")
    for i, r in enumerate(refs):
        topk = r.get("topk") if isinstance(r, dict) else None
        if not (
            isinstance(topk, list)
            and 1 <= len(topk) <= NUM_COUNTS
            and all(isinstance(v, (int, float)) and 0 <= v <= 100 for v in topk)
            and r.get("model")
        ):
            raise FormatError(
                path, f"record #{i} needs 'model' and 'topk' (1-10 accuracies in percent, 0-100)"
            )
        if all(v <= 1 for v in topk):
            raise FormatError(
                path,
                f"record #{i}: topk {topk} looks like fractions; reference accuracies are in "
                "percent, like every figure rs-count reports (multiply by 100)",
            )
    return refs


def to_json(
    results: Sequence[CountResult],
    path: str | Path,
    *,
    per_image: bool = True,
    reference: Sequence[dict] = (),
) -> Path:
    path = Path(path)
    doc = {
        "benchmark": "RemoteCount",
        "units": "accuracies in percent, MAE in counts",
        "tie_rule": TIE_RULE,
        "results": [r.to_dict(per_image) for r in results],
        "reference_quoted": list(reference),
    }
    return _write_text(path, json.dumps(doc, indent=2) + "\n")


def _write_text(path: Path, text: str) -> Path:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path


def _pct(v: float) -> str:
    return "–" if v != v else f"{v:.1f}"


def _name(r: CountResult) -> str:
    return f"{r.model} / {r.variant}"


def to_markdown(
    results: Sequence[CountResult], *, plots: dict[str, str] | None = None, reference: Sequence[dict] = ()
) -> str:
    if not results:
        raise ValueError("no results to report")
    r0 = results[0]
    lines = [
        "# RemoteCount",
        "",
        f"Dataset {md.code(r0.dataset)}: {r0.metrics.n} images. Template: {md.code(r0.template)}. "
        f"Accuracies in %; MAE = mean absolute count error. {TIE_RULE}",
        "",
        "## Top-k accuracy",
        "",
        "| model | variant | " + " | ".join(f"top-{k}" for k in range(1, NUM_COUNTS + 1)) + " | MAE |",
        "|---|---|" + "---:|" * (NUM_COUNTS + 1),
    ]
    for r in results:
        lines.append(
            f"| {md.text(r.model)} | {md.text(r.variant)} | "
            + " | ".join(_pct(v) for v in r.metrics.topk)
            + f" | {r.metrics.mae:.2f} |"
        )
    if reference:
        lines += [
            "",
            "Quoted reference figures (not measured here):",
            "",
            "| model | variant | " + " | ".join(f"top-{k}" for k in range(1, NUM_COUNTS + 1)) + " | source |",
            "|---|---|" + "---:|" * NUM_COUNTS + "---|",
        ]
        for ref in reference:
            topk = list(ref["topk"]) + [float("nan")] * (NUM_COUNTS - len(ref["topk"]))
            lines.append(
                f"| {md.text(ref['model'])} (quoted) | {md.text(ref.get('variant', '?'))} | "
                + " | ".join(_pct(v) for v in topk)
                + f" | {md.text(ref.get('source', ''))} |"
            )
    header = "| " + " | ".join(md.text(_name(r)) for r in results) + " |"
    classes = [c for c in REMOTECOUNT_CLASSES if c in r0.metrics.per_class]
    classes += sorted(set(r0.metrics.per_class) - set(classes))
    lines += [
        "",
        "## Top-1 accuracy per class",
        "",
        "| class | images " + header,
        "|---|---:|" + "---:|" * len(results),
    ]
    for c in classes:
        lines.append(
            f"| {md.text(c)} | {r0.metrics.per_class[c]['n']} | "
            + " | ".join(_pct(r.metrics.per_class.get(c, {}).get("top1", float("nan"))) for r in results)
            + " |"
        )
    lines += [
        "",
        "## Top-1 accuracy per count",
        "",
        "| count | images " + header,
        "|---:|---:|" + "---:|" * len(results),
    ]
    for k in sorted(r0.metrics.per_count):
        lines.append(
            f"| {k} | {r0.metrics.per_count[k]['n']} | "
            + " | ".join(_pct(r.metrics.per_count.get(k, {}).get("top1", float("nan"))) for r in results)
            + " |"
        )
    if plots:
        lines += ["", "## Plots", ""] + [f"![{md.text(title)}]({file})" for title, file in plots.items()]
    return "\n".join(lines) + "\n"


def table_rows(results: Sequence[CountResult], created: str) -> list[ResultRow]:
    """Each result's top-1..top-10 accuracy (%) and MAE (counts) as rows of rs-clip-eval's long-format results
    table; the task names the caption variant (``remotecount-words``, ``remotecount-digits``)."""
    tool = f"rs-count {package_version('rs-count')}"
    rows = []
    for r in results:
        figures = [(f"top{k}", v, PERCENT) for k, v in enumerate(r.metrics.topk, start=1)]
        figures.append(("mae", r.metrics.mae, "counts"))
        rows += [
            ResultRow(
                r.model,
                r.model_spec,
                r.fingerprint,
                r.dataset,
                r.dataset_sha256,
                r.split,
                f"remotecount-{r.variant}",
                metric,
                value,
                unit,
                tool,
                created,
            )
            for metric, value, unit in figures
        ]
    return rows


def plot_confusion(result: CountResult, path: str | Path) -> Path:
    counts = [str(k) for k in range(1, NUM_COUNTS + 1)]
    return _plot_confusion(
        result.metrics.confusion,
        counts,
        f"{_name(result)}: top-1 {_pct(result.top1)}%",
        path,
        xlabel="predicted count",
        ylabel="true count",
    )


def plot_topk(results: Sequence[CountResult], path: str | Path, reference: Sequence[dict] = ()) -> Path:
    plt = pyplot()
    ks = np.arange(1, NUM_COUNTS + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in results:
        ax.plot(ks, r.metrics.topk, marker="o", label=_name(r))
    for ref in reference:
        ax.plot(
            ks[: len(ref["topk"])],
            ref["topk"],
            linestyle="--",
            marker="x",
            label=f"{ref['model']} / {ref.get('variant', '?')} (quoted)",
        )
    ax.plot(ks, 100 * ks / NUM_COUNTS, color="grey", linestyle=":", label="chance (random ranking)")
    ax.set_xticks(ks)
    ax.set_xlabel("k")
    ax.set_ylabel("top-k accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("RemoteCount top-k accuracy")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def write_report(
    results: Sequence[CountResult],
    out_dir: str | Path,
    *,
    reference: Sequence[dict] = (),
    per_image: bool = True,
) -> dict[str, Path]:
    """``results.json``, ``results.jsonl`` / ``results.csv`` (rs-clip-eval's long-format table), ``report.md``,
    ``topk.png`` and one ``confusion-<model>-<variant>.png`` per result."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    plots: dict[str, str] = {"top-k accuracy": "topk.png"}
    files["topk"] = plot_topk(results, out / "topk.png", reference)
    used: set[str] = set()
    for r in results:
        name = f"confusion-{slug(r.model)}-{r.variant}.png"
        i = 2
        while name in used:
            name, i = f"confusion-{slug(r.model)}-{r.variant}-{i}.png", i + 1
        used.add(name)
        files[name] = plot_confusion(r, out / name)
        plots[f"confusion matrix: {_name(r)}"] = name
    files["json"] = to_json(results, out / "results.json", per_image=per_image, reference=reference)
    files |= write_results_table(table_rows(results, now()), out)
    files["markdown"] = _write_text(out / "report.md", to_markdown(results, plots=plots, reference=reference))
    return files
