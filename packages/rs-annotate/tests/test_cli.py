import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rs_annotate.cli import build_parser, main
from rs_formats import open_dataset


@pytest.fixture(scope="module")
def converted(dota_src, tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "dota"
    assert (
        main(
            [
                "convert",
                "dota",
                str(dota_src),
                "--out",
                str(out),
                "--workers",
                "1",
                "--no-progress",
                "--short-side",
                "128",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    return out


def test_every_flag_has_help_and_every_command_the_console_flags():
    parser = build_parser()
    subs = next(a for a in parser._actions if a.dest == "command")
    assert set(subs.choices) == {
        "convert",
        "merge",
        "dedup",
        "stats",
        "show",
        "validate",
        "datasets",
        "export",
    }
    layouts = next(a for a in subs.choices["export"]._actions if a.dest == "layout")
    assert set(layouts.choices) == {"webdataset", "csv"}
    commands = {**subs.choices, **{f"export {k}": v for k, v in layouts.choices.items()}}
    for name, sub in commands.items():
        if name == "export":
            continue  # only chooses the layout

        for action in sub._actions:
            assert action.help, f"{name}: {action.dest} has no help"
        flags = {o for a in sub._actions for o in a.option_strings}
        assert {"-v", "-q", "--no-progress"} <= flags, name
        if name in ("convert", "merge", "dedup", "show", "export webdataset", "export csv"):
            assert "--out" in flags, name


def test_version_comes_from_the_package_metadata(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out == f"rs-annotate {version('rs-annotate')}\n"


def test_convert_and_validate(converted, capsys):
    ds = open_dataset(converted)
    assert sum(ds.num_rows(s) for s in ds.splits) == 8
    assert main(["validate", str(converted)]) == 0
    assert "8 rows, 0 problem(s)" in capsys.readouterr().out


def test_errors_are_one_line_with_exit_2(converted, tmp_path, capsys):
    assert main(["convert", "dota", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("rs-annotate: error: ") and "missing: no such directory" in err
    assert err.count("\n") == 1
    assert main(["convert", "no-such-format", str(tmp_path / "src"), "--out", str(tmp_path / "o")]) == 2
    assert "unknown format 'no-such-format'" in capsys.readouterr().err
    assert main(["convert", "dota", str(tmp_path), "--out", str(converted)]) == 2  # output exists
    assert "already exists" in capsys.readouterr().err
    assert (
        main(["convert", "dota", str(tmp_path / "src"), "--out", str(tmp_path / "o"), "--opt", "novalue"])
        == 2
    )
    assert main(["validate", str(tmp_path)]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_merge_dedup_with_contamination(converted, dota_src, tmp_path, capsys):
    # the same scenes under another source name: every image is a duplicate of the first set
    other = tmp_path / "other"
    assert (
        main(
            [
                "convert",
                "dota",
                str(dota_src),
                "--out",
                str(other),
                "--workers",
                "1",
                "--no-progress",
                "--short-side",
                "128",
                "--opt",
                "source=dota-copy",
            ]
        )
        == 0
    )
    assert main(["merge", str(converted), str(other), "--out", str(tmp_path / "merged")]) == 0
    merged = open_dataset(tmp_path / "merged")
    assert sum(merged.num_rows(s) for s in merged.splits) == 16
    assert {s["name"] for s in merged.manifest["sources"]} == {"dota", "dota-copy"}

    # a "test set" holding one of the images
    test_set = tmp_path / "test"
    rows = [r for s in merged.splits for r in merged.read_table(s).to_pylist()]
    from rs_formats import DatasetWriter

    with DatasetWriter(test_set, name="t", kind="captions") as w:
        w.write({**rows[0], "image_id": "rsicd/x"}, split="test")
    assert (
        main(
            [
                "dedup",
                str(converted),
                str(other),
                "--out",
                str(tmp_path / "clean"),
                "--against",
                str(test_set),
            ]
        )
        == 0
    )
    clean = open_dataset(tmp_path / "clean")
    kept = [r for s in clean.splits for r in clean.read_table(s).to_pylist()]
    assert len(kept) == 7
    assert all(r["source"] == "dota" for r in kept)  # the first dataset on the command line wins
    assert rows[0]["image_id"] not in {r["image_id"] for r in kept}
    report = json.loads((tmp_path / "clean.report.json").read_text())
    assert report["removed_contaminated"] == 2  # the image and its copy in the second set
    assert report["contaminated_per_against"] == {str(test_set): 2}
    assert "(7 duplicates, 2 matching test images: 2 of test); report: " in capsys.readouterr().err
    assert {c["test"]["image_id"] for c in report["contamination"]} == {"rsicd/x"}
    assert report["removed_duplicates"] == 7 and report["rows_out"] == 7
    assert all(d["duplicate_of"]["dataset"] == str(converted) for d in report["duplicates"])


def test_dedup_takes_a_glob_over_datasets_and_their_reports(converted, tmp_path, capsys):
    from rs_formats import DatasetWriter

    # `--against /data/rs/eval/*` over a folder of converted sets matches each X.report.json beside X too
    ds = open_dataset(converted)
    row = ds.read_table(ds.splits[0]).to_pylist()[0]
    with DatasetWriter(tmp_path / "eval" / "RSICD", name="RSICD", kind="captions") as w:
        w.write({**row, "image_id": "rsicd/x"}, split="test")
    (tmp_path / "eval" / "RSICD.report.json").write_text("{}")
    inputs = sorted(str(p) for p in converted.parent.glob("*"))
    against = sorted(str(p) for p in (tmp_path / "eval").glob("*"))
    assert inputs == [str(converted), f"{converted}.report.json"] and len(against) == 2
    assert main(["dedup", *inputs, "--out", str(tmp_path / "clean"), "--against", *against]) == 0
    err = capsys.readouterr().err
    assert "inputs: left out one report file (X.report.json beside dataset X)" in err
    assert "--against: left out one report file" in err
    report = json.loads((tmp_path / "clean.report.json").read_text())
    assert (report["rows_in"], report["removed_contaminated"], report["rows_out"]) == (8, 1, 7)
    # a report whose dataset is not among the arguments is not taken for one: still an error naming it
    assert main(["dedup", str(converted), "--out", str(tmp_path / "c2"), "--against", against[1]]) == 2
    assert "RSICD.report.json/manifest.json" in capsys.readouterr().err


def test_stats_show_datasets(converted, tmp_path, capsys):
    assert main(["stats", str(converted), "--plots", str(tmp_path / "plots")]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["images_per_source"] == {"dota": 8}
    assert sum(st["class_frequency"].values()) == st["objects_per_source"]["dota"]
    assert st["captions"] == 40 and st["caption_length"]["mean"] > 5
    # Beside the paper's Table I (DOTA: 1,409 images, 15 classes, 98,990 boxes).
    boxes = st["objects_per_source"]["dota"]
    assert st["table_i"] == {
        "dota": {"images": [8, 1409], "classes": [len(st["class_frequency"]), 15], "boxes": [boxes, 98990]}
    }
    for png in ("caption_length.png", "class_frequency.png", "images_per_source.png"):
        assert (tmp_path / "plots" / png).stat().st_size > 1000
    assert main(["show", str(converted), "-n", "5", "--out", str(tmp_path / "sheet.png")]) == 0
    from PIL import Image

    assert Image.open(tmp_path / "sheet.png").size[0] > 400
    assert main(["datasets"]) == 0
    listing = capsys.readouterr().out
    assert "dota  [captions]" in listing and "https://captain-whu.github.io/DOTA/" in listing


def test_validate_finds_row_problems(converted, tmp_path, capsys):
    from rs_formats import DatasetWriter

    ds = open_dataset(converted)
    row = ds.read_table(ds.splits[0]).to_pylist()[0]
    bad = {**row, "objects": [{**row["objects"][0], "x1": 999.0}], "captions": row["captions"][:2]}
    with DatasetWriter(tmp_path / "bad", name="bad", kind="captions") as w:
        w.write(bad)
    assert main(["validate", str(tmp_path / "bad")]) == 1
    out = capsys.readouterr().out
    assert "outside the 128x128 image" in out and "has 2 caption(s)" in out


def test_importing_and_converting_never_imports_torch(dota_src, tmp_path):
    code = (
        "import sys\n"
        "import rs_annotate, rs_annotate.cli\n"
        "from rs_annotate.cli import main\n"
        f"assert main(['convert', 'dota', {str(dota_src)!r}, '--out', {str(tmp_path / 'o')!r}, '--workers', '1',"
        " '--no-progress']) == 0\n"
        "main(['stats', " + repr(str(tmp_path / "o")) + "])\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'torchvision', 'open_clip'))\n"
        "assert not bad, bad\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]


def test_deprecated_spellings_work_for_one_release_with_a_warning(dota_src, tmp_path, capsys):
    out = tmp_path / "old"
    assert (
        main(
            [
                "convert",
                "dota",
                str(dota_src),
                str(out),
                "--workers",
                "1",
                "--max-side",
                "64",
                "--image-format",
                "PNG",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "the positional OUT is deprecated" in err and f"use --out {out}" in err
    assert (
        "--max-side is deprecated" in err and "--image-format PNG is deprecated" in err and "use png" in err
    )
    rows = [r for s in open_dataset(out).splits for r in open_dataset(out).read_table(s).to_pylist()]
    assert {(r["width"], r["height"]) for r in rows} == {(64, 64)} and rows[0]["image"][:4] == b"\x89PNG"
    assert main(["merge", str(out), str(tmp_path / "merged")]) == 0  # last positional is OUT
    assert "positional OUT is deprecated" in capsys.readouterr().err
    assert open_dataset(tmp_path / "merged").manifest["name"] == "merged"


def test_output_given_twice_or_not_at_all_is_a_usage_error(dota_src, tmp_path, capsys):
    for argv in (
        ["convert", "dota", str(dota_src), str(tmp_path / "a"), "--out", str(tmp_path / "b")],
        ["convert", "dota", str(dota_src)],
        ["show", str(tmp_path), str(tmp_path / "a.png"), "--out", str(tmp_path / "b.png")],
        ["merge", str(tmp_path)],
        ["convert", "dota", str(dota_src), "--out", str(tmp_path / "c"), "--image-format", "gif"],
    ):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == 2, argv
        assert "error:" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_quiet_keeps_the_product_and_drops_the_account(dota_src, tmp_path, capsys):
    out = tmp_path / "q"
    assert main(["convert", "dota", str(dota_src), "--out", str(out), "--workers", "1", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{out}\n" and captured.err == ""
    assert main(["convert", "dota", str(dota_src), "--out", str(tmp_path / "v"), "--workers", "1"]) == 0
    assert "8 rows from 8 items" in capsys.readouterr().err


def test_a_dead_worker_fails_the_job_with_status_1(dota_src, tmp_path, monkeypatch, capsys):
    from test_pipeline import DyingReader

    from rs_annotate.readers import base

    monkeypatch.setitem(base.READERS, "dying", DyingReader)
    assert main(["convert", "dying", str(dota_src), "--out", str(tmp_path / "o"), "--workers", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("rs-annotate: error: a worker process died") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
