"""The results table contract: written, read back, older versions read, newer and bad lines refused."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict

import pytest

from rs_formats import FormatError
from rs_formats.results_table import (
    COLUMNS,
    CSV,
    JSONL,
    VERSION,
    ResultRow,
    read_results_table,
    write_results_table,
)


def row(metric: str, value: float) -> ResultRow:
    return ResultRow(
        "m",
        "RS-Tiny",
        "fp",
        "d",
        "a" * 64,
        "test",
        "zeroshot",
        metric,
        value,
        "%",
        "t 0",
        "2026-01-01T00:00:00+00:00",
    )


def test_rows_round_trip_with_their_version_and_non_finite_figures_are_left_out(tmp_path):
    rows = [row("top1", 51.5), row("top5", float("nan")), row("top10", 90.0)]
    paths = write_results_table(rows, tmp_path)
    back = read_results_table(tmp_path)
    assert back == [rows[0], rows[2]] and all(r.format_version == VERSION == 2 for r in back)
    lines = [json.loads(line) for line in (tmp_path / JSONL).read_text().splitlines()]
    assert [line["format_version"] for line in lines] == [2, 2]
    with paths["csv"].open() as f:
        table = list(csv.DictReader(f))
    assert tuple(table[0]) == COLUMNS and [r["metric"] for r in table] == ["top1", "top10"]
    assert (tmp_path / CSV).exists()


def test_version_1_rows_without_the_column_are_read(tmp_path):
    old = {k: v for k, v in asdict(row("top1", 3.0)).items() if k != "format_version"}
    (tmp_path / JSONL).write_text(json.dumps(old) + "\n")
    assert read_results_table(tmp_path) == [row("top1", 3.0)]


@pytest.mark.parametrize(
    "line, message",
    [
        (
            {"format_version": 3},
            "format_version 3 is not supported by this rs-formats (reads rs-clip-results 1, 2)",
        ),
        ("[1, 2]", "a results row must be a JSON object"),
        ("{not json", "not a JSON line"),
        ({"value": "NaN"}, "value 'NaN' is not a finite number"),
        ({"value": True}, "value True is not a finite number"),
        ({"model": None, "split": None}, None),
    ],
)
def test_a_bad_line_is_one_error_naming_the_file_and_line(tmp_path, line, message):
    good = json.dumps(asdict(row("top1", 1.0)))
    if isinstance(line, dict):
        data = {**asdict(row("top1", 1.0)), **line}
        bad = json.dumps({k: v for k, v in data.items() if v is not None})
    else:
        bad = line
    path = tmp_path / JSONL
    path.write_text(f"{good}\n{bad}\n")
    with pytest.raises(FormatError) as err:
        read_results_table(path)
    text = str(err.value)
    assert text.startswith(f"{path}:2: ") and "\n" not in text
    assert message in text if message else "a results row without model, split" in text


def test_a_directory_without_a_table_and_a_fifo_are_refused(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        read_results_table(tmp_path)
    os.mkfifo(tmp_path / "fifo.jsonl")
    with pytest.raises(FormatError, match="fifo.jsonl"):
        read_results_table(tmp_path / "fifo.jsonl")
