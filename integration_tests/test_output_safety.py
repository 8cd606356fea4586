"""The source is never at risk: every command of the six tools refuses an output that is, lies inside or
contains one of its inputs, and ``--overwrite`` replaces only a folder an rs-clip tool wrote (or an empty
one). Each case is refused in one line (exit 2) before anything is written or removed.

rs-formats' commands read only; the rule they all share is :func:`rs_formats.outputs.check_output`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from rs_annotate.cli import main as annotate
from rs_clip_eval.cli import main as clip_eval
from rs_clip_train.cli import main as train
from rs_count.cli import main as count
from rs_synth.cli import main as synth


def _tree(root: Path) -> dict[str, str]:
    """Every file under ``root`` with its digest: what must survive a refused command unchanged."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    """A DOTA tree, the rs-dataset converted from it, a counting dataset and a report folder."""
    from rs_synth.evalsets import write_captions_dataset

    root = tmp_path_factory.mktemp("safety")
    assert synth(["dota", "--out", str(root / "dota"), "--n", "3", "--size", "96", "-q"]) == 0
    assert (
        annotate(["convert", "dota", str(root / "dota"), "--out", str(root / "ds"), "-q", "--workers", "1"])
        == 0
    )
    write_captions_dataset(root / "caps", n_images=8, size=32)
    (root / "user").mkdir()
    (root / "user" / "notes.txt").write_text("the user's own file\n")
    (root / "ann.csv").write_text("image,class,count\nP0000.png,plane,1\n")
    return root


CASES = {
    "annotate convert: out is the source": (
        annotate,
        "convert dota {r}/dota --out {r}/dota --overwrite",
        "--out is the input",
    ),
    "annotate convert: out inside the source": (
        annotate,
        "convert dota {r}/dota --out {r}/dota/labelTxt/new",
        "--out lies inside the input",
    ),
    "annotate convert: out contains the source": (
        annotate,
        "convert dota {r}/dota/. --out {r} --overwrite",
        "--out contains the input",
    ),
    "annotate convert: overwrite a user's folder": (
        annotate,
        "convert dota {r}/dota --out {r}/user --overwrite",
        "no rs-clip tool wrote",
    ),
    "annotate merge": (annotate, "merge {r}/ds {r}/caps --out {r}/ds --overwrite", "--out is the input"),
    "annotate dedup --against": (
        annotate,
        "dedup {r}/caps --against {r}/ds --out {r}/ds/more",
        "--out lies inside the input",
    ),
    "annotate export webdataset": (
        annotate,
        "export webdataset {r}/ds --out {r}/ds/wds",
        "--out lies inside the input",
    ),
    "annotate export csv: overwrite a user's folder": (
        annotate,
        "export csv {r}/ds --out {r}/user --overwrite",
        "no rs-clip tool wrote",
    ),
    "annotate show": (annotate, "show {r}/ds --out {r}/ds/sheet.png", "--out lies inside the input"),
    "annotate stats --plots": (
        annotate,
        "stats {r}/ds --plots {r}/ds/plots",
        "--plots lies inside the input",
    ),
    "synth --plant": (synth, "rsicd --plant {r}/ds --out {r}/ds/x --n 2", "--out lies inside the input"),
    "synth: overwrite a user's folder": (
        synth,
        "dota --out {r}/user --overwrite --n 2",
        "no rs-clip tool wrote",
    ),
    "train fit: run dir inside the data": (
        train,
        "fit --preset tiny --steps 1 --data {r}/caps --out {r}/caps/run",
        "--out lies inside the input",
    ),
    "eval retrieval: report into the dataset": (
        clip_eval,
        "retrieval --model RS-Tiny --data {r}/caps --out {r}/caps/data --no-cache",
        "--out lies inside the input",
    ),
    "eval embed: overwrite a user's folder": (
        clip_eval,
        "embed --model RS-Tiny --data {r}/caps --out {r}/user --overwrite --no-cache",
        "no rs-clip tool wrote",
    ),
    "eval compare": (clip_eval, "compare {r}/ds --out {r}/ds", "--out is the input"),
    "count build": (
        count,
        "build --labels {r}/dota/labelTxt --images {r}/dota/images --out {r}/dota --overwrite",
        "--out contains the input",
    ),
    "count import": (
        count,
        "import {r}/ann.csv --images {r}/dota/images --out {r} --overwrite",
        "--out contains the input",
    ),
    "count eval": (count, "eval --model RS-Tiny --data {r}/ds --out {r}/ds --no-cache", "--out is the input"),
}


@pytest.mark.parametrize("case", CASES)
def test_refused_before_anything_is_written(case, work, capsys):
    tool, args, why = CASES[case]
    before = _tree(work)
    code = tool([*args.format(r=work).split(), "-q"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err and why in err, err
    assert _tree(work) == before
    assert not [p for p in work.rglob(".*") if ".old-" in p.name or ".tmp-" in p.name]


def test_overwrite_replaces_our_own_and_empty_folders(work, tmp_path, capsys):
    out = tmp_path / "again"
    args = ["convert", "dota", str(work / "dota"), "--out", str(out), "-q", "--workers", "1", "--overwrite"]
    out.mkdir()
    assert annotate(args) == 0  # an empty folder
    (out / "stale.txt").write_text("left by the previous run")
    assert annotate(args) == 0  # our dataset (its manifest says so)
    assert not (out / "stale.txt").exists() and (out / "manifest.json").is_file()
    synth_args = ["dota", "--out", str(tmp_path / "synth"), "--size", "96", "-q", "--overwrite", "--n"]
    assert synth([*synth_args, "3"]) == 0
    assert synth([*synth_args, "2"]) == 0  # rs-synth's own tree (its _truth.json says so)
    assert len(list((tmp_path / "synth" / "images").iterdir())) == 2
