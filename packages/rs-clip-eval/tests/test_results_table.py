"""The long-format results table (write, read back, bad files) and ``rs-clip-eval compare`` over saved tables."""

from __future__ import annotations

import csv
import dataclasses
import json

import pytest

from rs_clip_eval import ResultRow, read_results_table, write_results_table
from rs_clip_eval.cli import main
from rs_clip_eval.comparison import compare, to_csv, to_markdown
from rs_formats import FormatError


def _row(model, dataset, metric, value, *, task="zeroshot", sha="a" * 64, unit="%"):
    return ResultRow(
        model,
        f"spec-of-{model}",
        f"fp-{model}",
        dataset,
        sha,
        "test",
        task,
        metric,
        value,
        unit,
        "rs-clip-eval 0.1.0",
        "2026-01-02T03:04:05+00:00",
    )


def test_written_rows_read_back_and_missing_figures_are_left_out(tmp_path):
    rows = [
        _row("m", "AID", "top1", 61.25),
        _row("m", "AID", "top5", None),
        _row("m", "AID", "mae", float("nan")),
        _row("m", "count", "mae", 1.5, task="remotecount-words", unit="counts"),
    ]
    paths = write_results_table(rows, tmp_path / "run")
    assert read_results_table(tmp_path / "run") == [rows[0], rows[3]] == read_results_table(paths["jsonl"])
    with open(paths["csv"], newline="") as f:
        assert [r["metric"] for r in csv.DictReader(f)] == ["top1", "mae"]
    assert not list((tmp_path / "run").glob(".*"))  # no temporary file left behind


@pytest.mark.parametrize(
    "content, where, message",
    [
        ('{"model": "m"}\n', ":2", "a results row without model_spec"),
        ("not json\n", ":2", "not a JSON line"),
        (None, "", "holds no results"),
    ],
)
def test_bad_results_files_are_named_with_their_line(tmp_path, content, where, message):
    good = json.dumps(_row("m", "AID", "top1", 1.0).__dict__) + "\n"
    path = tmp_path / "results.jsonl"
    path.write_text("" if content is None else good + content)
    with pytest.raises(FormatError) as err:
        read_results_table(path)
    assert str(err.value).startswith(f"{path}{where}: {message}")


def test_a_directory_without_a_table_is_named(tmp_path):
    with pytest.raises(FormatError, match="results.jsonl: no such file"):
        read_results_table(tmp_path)


def test_compare_lines_runs_up_with_deltas_and_flags_different_data(tmp_path):
    write_results_table(
        [_row("clip", "AID", "top1", 68.0), _row("clip", "RSICD", "mean_recall", 20.0, task="retrieval")],
        tmp_path / "a",
    )
    write_results_table(
        [
            _row("ours", "AID", "top1", 70.5),
            _row("ours", "UCM", "mean_recall", 50.0, task="retrieval"),
            _row("clip", "AID", "top1", 66.0, sha="b" * 64),
        ],
        tmp_path / "b",
    )
    c = compare([tmp_path / "a", tmp_path / "b" / "results.jsonl"])
    assert c.columns == ["a/clip", "ours", "b/clip"]  # a repeated label is told apart by its run
    assert c.rows == [
        ("AID", "zeroshot", "top1", "%", None),
        ("RSICD", "retrieval", "mean_recall", "%", None),
        ("UCM", "retrieval", "mean_recall", "%", None),
    ]
    assert c.cells(c.rows[0]) == ([68.0, 70.5, 66.0], [-2.5, 2.0])
    assert c.cells(c.rows[2]) == ([None, 50.0, None], [None, None])
    assert c.notes == [
        f"AID: scored on different data (a/clip: manifest {'a' * 12}; b/clip: manifest {'b' * 12}); "
        "its figures are not comparable"
    ]
    assert c.sources["ours"]["model_fingerprint"] == "fp-ours"
    # The same file twice: columns by position.
    assert compare([tmp_path / "a", tmp_path / "a"]).columns == ["#1 clip", "#2 clip"]


def test_compare_command_output_and_errors(tmp_path, capsys):
    write_results_table([_row("x", "AID", "top1", 50.0), _row("x", "AID", "top5", 90.0)], tmp_path / "a")
    assert main(["compare", str(tmp_path / "a"), "--metric", "top5"]) == 0
    out = capsys.readouterr().out
    assert "| AID | zeroshot | top5 | 90.00 |" in out and "top1" not in out.split("Figures in %")[0]
    for args, needle in (
        (["compare", str(tmp_path / "none")], "no such results file or run directory"),
        (["compare", str(tmp_path)], "results.jsonl: no such file"),
        (["compare", str(tmp_path / "a"), "--metric", "R@1"], "no figure named R@1"),
    ):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.startswith("rs-clip-eval: error: ") and needle in err and err.count("\n") == 1


def test_few_shot_figures_are_one_row_per_seed_and_compare_averages_them(tmp_path):
    few = [
        dataclasses.replace(_row("m", "AID", "top1", v, task="fewshot"), shots=k, seed=seed)
        for k, seed, v in ((4, 0, 40.0), (4, 1, 50.0), (4, 2, 45.0), (16, 0, 70.0))
    ]
    paths = write_results_table([_row("m", "AID", "top1", 61.0), *few], tmp_path / "run")
    assert read_results_table(paths["jsonl"])[1:] == few
    with open(paths["csv"], newline="") as f:
        table = list(csv.DictReader(f))
    assert [(r["shots"], r["seed"]) for r in table] == [
        ("", ""),
        ("4", "0"),
        ("4", "1"),
        ("4", "2"),
        ("16", "0"),
    ]
    c = compare([tmp_path / "run"])
    assert c.rows == [
        ("AID", "zeroshot", "top1", "%", None),
        ("AID", "fewshot", "top1", "%", 4),
        ("AID", "fewshot", "top1", "%", 16),
    ]
    assert [c.cells(r)[0] for r in c.rows] == [[61.0], [45.0], [70.0]]
    assert "| AID | fewshot | top1, 4-shot (mean over seeds) | 45.00 |" in to_markdown(c)


def test_tables_written_before_shots_and_seed_read_and_bad_ones_are_named(tmp_path):
    old = {k: v for k, v in _row("m", "AID", "top1", 1.0).__dict__.items() if k not in ("shots", "seed")}
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(old) + "\n")
    assert read_results_table(path)[0].shots is None
    path.write_text(json.dumps({**old, "shots": "4", "seed": 0}) + "\n")
    with pytest.raises(FormatError, match=r"results\.jsonl:1: shots '4' is not a whole number"):
        read_results_table(path)


def test_compare_csv_column_names_are_ascii(tmp_path):
    write_results_table([_row("a", "AID", "top1", 1.0)], tmp_path / "x")
    write_results_table([_row("b", "AID", "top1", 3.0)], tmp_path / "y")
    header = to_csv(compare([tmp_path / "x", tmp_path / "y"])).splitlines()[0]
    assert header == "dataset,task,metric,unit,shots,a,b,delta a - b" and header.isascii()
