"""Contract 3: the long results table, ``rs-clip-results`` (version 2; version 1 is still read): one row
per model x dataset x task x metric (docs/contracts.md).

Every rs-clip tool that scores models (``rs-clip-eval``, ``rs-count``) writes its figures in this one layout
beside its report, as ``results.jsonl`` (one JSON object a line) and ``results.csv`` (the same rows), so that
runs made on different days, by either tool, are compared without re-running anything
(``rs-clip-eval compare``) and load as they are into pandas (``read_json(path, lines=True)``), Polars,
DuckDB or a spreadsheet. Each row says which weights and which data gave it:

========================  =========================================================================
``model``                 the model's label in the run (``--model LABEL=...``)
``model_spec``            the ``--model`` argument, without the label
``model_fingerprint``     the weights' identity: ``ARCH:sha256`` of the weights file, or the random
                          initialisation's recipe (:meth:`rs_clip_models.spec.ModelSpec.fingerprint`); empty
                          for a model handed over in memory
``dataset``               the dataset's name in the run's report (the paper's name for paper datasets)
``dataset_sha256``        sha256 of the dataset's ``manifest.json`` (which lists every shard's checksum)
``split``                 the split scored
``task``, ``metric``      e.g. ``retrieval`` / ``mean_recall``, ``fewshot`` / ``top1``
``value``                 the figure
``unit``                  ``%`` for every accuracy and recall; anything else says so (``counts``)
``tool``                  the tool and its version, e.g. ``rs-clip-eval 0.1.0``
``created``               when the run finished (UTC, ISO 8601)
``shots``                 examples per class of a few-shot figure; empty (null) otherwise
``seed``                  the seed that drew a few-shot figure's support set; empty (null) otherwise
``format_version``        this layout's version (2); version 1 rows lacked the column
========================  =========================================================================

A few-shot probe scored with several seeds is one row per seed (``shots`` and ``seed`` say which), never a
mean packed into the metric's name: group by everything but ``seed`` for the mean and spread. Version 1
rows (no ``format_version``, no ``shots``/``seed``) read with both empty.

Every row carries the version, not a header line, so that the file stays one JSON object a line that any
reader loads as it is. A row of a version this reader does not know is an error naming the file and
line, never a guess. rs-clip-eval and rs-count write their tables through :func:`write_results_table`, so
there is one writer and one reader.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .atomic import atomic_write_text
from .errors import FormatError
from .inputs import read_text

FORMAT = "rs-clip-results"
VERSION = 2
READABLE_VERSIONS = (1, 2)
JSONL, CSV = "results.jsonl", "results.csv"
PERCENT = "%"


@dataclass(frozen=True)
class ResultRow:
    model: str
    model_spec: str
    model_fingerprint: str
    dataset: str
    dataset_sha256: str
    split: str
    task: str
    metric: str
    value: float
    unit: str
    tool: str
    created: str
    shots: int | None = None
    seed: int | None = None
    format_version: int = VERSION


#: Columns a table may lack (version 1's, written before they existed): read as None.
OPTIONAL = ("shots", "seed")
COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ResultRow))
#: Columns every row of every version has.
REQUIRED: tuple[str, ...] = tuple(c for c in COLUMNS if c not in (*OPTIONAL, "format_version"))


def now() -> str:
    """The ``created`` stamp: the current UTC time to the second."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def write_results_table(rows: list[ResultRow], out_dir: str | Path) -> dict[str, Path]:
    """Write ``results.jsonl`` and ``results.csv`` into ``out_dir`` (each atomically); a figure that is
    missing or not finite (a top-5 of a 3-class set) is left out rather than written as a number."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    kept = [r for r in rows if isinstance(r.value, (int, float)) and math.isfinite(r.value)]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(r) for r in kept)
    paths = {"jsonl": out / JSONL, "csv": out / CSV}
    atomic_write_text(paths["jsonl"], "".join(json.dumps(asdict(r)) + "\n" for r in kept))
    atomic_write_text(paths["csv"], buf.getvalue())
    return paths


def results_file(path: str | Path) -> Path:
    """``path`` itself, or the ``results.jsonl`` in a run directory."""
    path = Path(path)
    if path.is_dir():
        path = path / JSONL
        if not path.is_file():
            raise FormatError(
                path,
                "no such file: not a directory written by rs-clip-eval or rs-count "
                "(or written before they wrote results.jsonl)",
            )
    elif not path.is_file():
        raise FormatError(path, "no such results file or run directory")
    return path


def read_results_table(path: str | Path) -> list[ResultRow]:
    """The rows of a ``results.jsonl`` (or of the one in a run directory), version 1 rows read as version 2;
    a bad line is an error naming the file and the line."""
    path = results_file(path)
    rows = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise FormatError(path, f"not a JSON line: {exc.msg}", number) from None
        if not isinstance(raw, dict):
            raise FormatError(path, "a results row must be a JSON object", number)
        version = raw.get("format_version", 1)
        if version not in READABLE_VERSIONS or isinstance(version, bool):
            raise FormatError(
                path,
                f"format_version {version!r} is not supported by this rs-formats (reads "
                f"{FORMAT} {', '.join(map(str, READABLE_VERSIONS))}); upgrade rs-formats to read it",
                number,
            )
        missing = [c for c in REQUIRED if c not in raw]
        if missing:
            raise FormatError(path, f"a results row without {', '.join(missing)}", number)
        value = raw["value"]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            raise FormatError(path, f"value {value!r} is not a finite number", number)
        for c in OPTIONAL:
            if raw.get(c) is not None and (not isinstance(raw[c], int) or isinstance(raw[c], bool)):
                raise FormatError(path, f"{c} {raw[c]!r} is not a whole number", number)
        text = {c: str(raw[c]) for c in REQUIRED if c != "value"}
        rows.append(ResultRow(**text, value=value, **{c: raw.get(c) for c in OPTIONAL}))
    if not rows:
        raise FormatError(path, "holds no results")
    return rows
