"""``rs-clip-eval compare``: saved runs side by side, with deltas, from their long-format results tables.

Each input is a ``results.jsonl`` (or a run directory holding one) written by ``rs-clip-eval`` or
``rs-count``, on any day: nothing is re-run. Every model of every input is one column, named by its label,
or ``RUN/label`` (RUN: the results file's directory) when two inputs use the same label; the rows are the
(dataset, task, metric) figures in first-seen order, and the delta columns are the first column minus each
other one, as in ``report.md``. A dataset scored on different data in different inputs (its manifest
sha256 differs) is named in a note: its figures are not comparable. A few-shot figure is the mean over the
seeds each input scored it with (one row per K). ``compare.csv``'s column names are ASCII
(``delta A - B``), for tools that read headers as identifiers; ``compare.md`` writes ``Δ A − B``.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean

from rs_formats.atomic import atomic_write_text
from rs_formats.results_table import ResultRow, read_results_table, results_file

log = logging.getLogger(__name__)
#: A figure's row: (dataset, task, metric, unit, shots); shots is None but for few-shot figures.
Row = tuple[str, str, str, str, int | None]


@dataclass
class Comparison:
    columns: list[str]  # one per (input, model)
    rows: list[Row]
    values: dict[Row, dict[str, float]]  # row -> column -> value (few-shot: the mean over seeds)
    sources: dict[str, dict[str, str]] = field(
        default_factory=dict
    )  # column -> spec, fingerprint, file, created
    notes: list[str] = field(default_factory=list)

    def deltas(self, ascii: bool = False) -> list[str]:
        sign, minus = ("delta", "-") if ascii else ("Δ", "−")
        return [f"{sign} {self.columns[0]} {minus} {c}" for c in self.columns[1:]]

    def cells(self, row: Row) -> tuple[list[float | None], list[float | None]]:
        """The row's values, one per column, and its deltas (the first column minus each other one)."""
        vals = [self.values[row].get(c) for c in self.columns]
        return vals, [None if vals[0] is None or v is None else vals[0] - v for v in vals[1:]]


def compare(paths: Sequence[str | Path], metrics: Sequence[str] = ()) -> Comparison:
    """Read every input and line its figures up (only ``metrics``, when given)."""
    if not paths:
        raise ValueError("give at least one results.jsonl or run directory")
    runs = [(results_file(p), read_results_table(p)) for p in paths]
    names = _column_names([(file, list(rows_by_model(rows))) for file, rows in runs])
    comparison = Comparison([], [], {})
    seen_data: dict[str, dict[str, str]] = {}  # dataset -> manifest sha256 -> column
    seeds: dict[Row, dict[str, list[float]]] = {}  # row -> column -> one value per seed
    for i, (file, rows) in enumerate(runs):
        for model, model_rows in rows_by_model(rows).items():
            column = names[i, model.model]
            comparison.columns.append(column)
            comparison.sources[column] = {
                "file": str(file),
                "model_spec": model.model_spec,
                "model_fingerprint": model.model_fingerprint,
                "created": model.created,
                "tool": model.tool,
            }
            for r in model_rows:
                if metrics and r.metric not in metrics:
                    continue
                key = (r.dataset, r.task, r.metric, r.unit, r.shots)
                if key not in seeds:
                    comparison.rows.append(key)
                    seeds[key] = {}
                seeds[key].setdefault(column, []).append(r.value)
                seen_data.setdefault(r.dataset, {}).setdefault(r.dataset_sha256, column)
    comparison.values = {key: {c: fmean(v) for c, v in per.items()} for key, per in seeds.items()}
    for dataset, hashes in seen_data.items():
        if len(hashes) > 1:
            note = (
                f"{dataset}: scored on different data ({'; '.join(f'{c}: manifest {h[:12]}' for h, c in hashes.items())}"
                "); its figures are not comparable"
            )
            log.warning("%s", note)
            comparison.notes.append(note)
    if not comparison.rows:
        raise ValueError(f"no figure named {', '.join(metrics)} in the inputs" if metrics else "no figures")
    return comparison


def _column_names(runs: list[tuple[Path, list[ResultRow]]]) -> dict[tuple[int, str], str]:
    """(input index, model label) -> column: the label; RUN/label when labels repeat across inputs; the
    input's position (#2 label) when the runs' directories have the same name too."""
    keys = [(i, m.model, file.parent.name) for i, (file, models) in enumerate(runs) for m in models]
    names = {}
    for i, label, run in keys:
        if sum(k[1] == label for k in keys) == 1:
            names[i, label] = label
        elif sum(k[1] == label and k[2] == run for k in keys) == 1:
            names[i, label] = f"{run}/{label}"
        else:
            names[i, label] = f"#{i + 1} {label}"
    return names


def rows_by_model(rows: list[ResultRow]) -> dict[ResultRow, list[ResultRow]]:
    """Rows grouped by model label; each group keyed by its first row (which carries spec and fingerprint)."""
    groups: dict[str, list[ResultRow]] = {}
    for r in rows:
        groups.setdefault(r.model, []).append(r)
    return {g[0]: g for g in groups.values()}


def _fmt(value: float | None, sign: str = "") -> str:
    return "–" if value is None else f"{value:{sign}.2f}"


def to_markdown(c: Comparison) -> str:
    header = ["Dataset", "Task", "Metric", *c.columns, *c.deltas()]
    lines = ["| " + " | ".join(header) + " |", "|---|---|---|" + "---:|" * (len(header) - 3)]
    for row in c.rows:
        metric = row[2] if row[3] == "%" else f"{row[2]} ({row[3]})"
        if row[4] is not None:
            metric += f", {row[4]}-shot (mean over seeds)"
        values, deltas = c.cells(row)
        cells = [row[0], row[1], metric, *map(_fmt, values), *(_fmt(d, "+") for d in deltas)]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Figures in % unless the metric says otherwise."]
    lines += [
        f"- `{col}`: {s['model_spec']} (weights {s['model_fingerprint'] or 'not fingerprinted'}), "
        f"{s['tool']}, {s['created']}, `{s['file']}`"
        for col, s in c.sources.items()
    ]
    lines += [f"- **Note**: {n}" for n in c.notes]
    return "\n".join(lines) + "\n"


def to_csv(c: Comparison) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["dataset", "task", "metric", "unit", "shots", *c.columns, *c.deltas(ascii=True)])
    for row in c.rows:
        values, deltas = c.cells(row)
        shown = [*row[:4], "" if row[4] is None else row[4]]
        writer.writerow([*shown, *("" if v is None else f"{v:.4f}" for v in values + deltas)])
    return buf.getvalue()


def write_comparison(c: Comparison, out_dir: str | Path) -> dict[str, Path]:
    """``compare.md`` and ``compare.csv`` in ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"markdown": out / "compare.md", "csv": out / "compare.csv"}
    atomic_write_text(paths["markdown"], to_markdown(c))
    atomic_write_text(paths["csv"], to_csv(c))
    return paths
