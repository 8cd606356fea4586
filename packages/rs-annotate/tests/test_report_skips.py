"""Skipped inputs and boxes dropped by a format's rules reach OUT.report.json and the console summary."""

import json

import numpy as np
from PIL import Image

from rs_annotate import convert
from rs_annotate.cli import main
from rs_annotate.report import MAX_EXAMPLES, report_path


def write_image(path, size, value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value % 256, np.uint8)).save(path)


def test_imagefolder_stray_files_are_counted_by_reason(tmp_path, capsys):
    src = tmp_path / "src"
    for cls in ("beach", "forest"):
        for i in range(3):
            write_image(src / cls / f"{cls}{i}.png", (16, 16), value=40 * i)
    (src / "beach" / "notes.txt").write_text("not an image")
    (src / "forest" / "Thumbs.db").write_bytes(b"\0")
    (src / "README.txt").write_text("beside the class folders, not an image: not part of the set")
    write_image(src / "stray.png", (16, 16))  # an image outside the class folders
    out = tmp_path / "out"
    assert (
        main(["convert", "imagefolder", str(src), "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    )
    captured = capsys.readouterr()
    assert captured.out == f"{out}\n"  # the product on stdout, the account of the work on stderr
    assert "3 inputs skipped: 2 not an image file (by extension), 1 not inside a class folder" in captured.err
    assert "3 skipped input(s)" in captured.err
    report = json.loads(report_path(out).read_text())
    assert report["rows"] == 6 and report["n_skipped"] == 3
    assert report["skipped"] == {
        "not inside a class folder": {"count": 1, "examples": ["stray.png"]},
        "not an image file (by extension)": {"count": 2, "examples": ["beach/notes.txt", "forest/Thumbs.db"]},
    }


VISDRONE = [
    "10,10,20,20,1,4,0,0\n0,0,30,30,0,0,0,0\n40,40,5,5,1,11,0,0\n50,50,6,6,0,0,0,0\n",  # 2 ignored, 1 others
    "5,5,10,10,1,9,0,0\n",  # nothing dropped
    "1,1,8,8,0,0,0,0\n",  # only an ignored region: the image has no objects left
]


def _visdrone(root, n_files=3):
    for i in range(n_files):
        write_image(root / "images" / f"{i:07d}.jpg", (64, 64), value=60 * i)
        (root / "annotations").mkdir(parents=True, exist_ok=True)
        (root / "annotations" / f"{i:07d}.txt").write_text(VISDRONE[i % len(VISDRONE)])
    return root


def test_visdrone_ignored_and_others_are_counted_in_the_report(tmp_path):
    src = _visdrone(tmp_path / "VisDrone2019-DET-val")
    report = convert(
        "visdrone",
        src,
        tmp_path / "out",
        workers=2,
        chunksize=1,
        progress=False,
        reader_options={"others_label": None},
    )
    assert report.rows == 2 and report.empty == ["visdrone/0000002"]
    assert report.dropped_by_reader == {
        "ignored regions": {"count": 3, "examples": ["visdrone/0000000", "visdrone/0000002"]},
        "others": {"count": 1, "examples": ["visdrone/0000000"]},
    }
    assert "4 boxes dropped by visdrone rules: 3 ignored regions, 1 others" in report.summary()
    saved = json.loads(report_path(tmp_path / "out").read_text())
    assert saved["n_dropped_by_reader"] == 4 and saved["dropped_by_reader"] == report.dropped_by_reader
    # by default category 11 is kept (the 11th class): only the ignored regions are left in the table
    kept = convert("visdrone", src, tmp_path / "kept", workers=1, progress=False)
    assert list(kept.dropped_by_reader) == ["ignored regions"]


def test_examples_are_capped_but_counts_are_not(tmp_path):
    src = _visdrone(tmp_path / "v", n_files=3 * MAX_EXAMPLES)
    report = convert("visdrone", src, tmp_path / "out", workers=1, progress=False)
    ignored = report.dropped_by_reader["ignored regions"]
    assert ignored["count"] == 3 * MAX_EXAMPLES and len(ignored["examples"]) == MAX_EXAMPLES


def test_sdd_skipped_video_reaches_the_report(tmp_path):
    from rs_synth.registry import FORMATS

    FORMATS["sdd"].write(tmp_path / "sdd", 1, seed=0, size=96, frames=12)
    extra = tmp_path / "sdd" / "annotations" / "nowhere" / "video9"
    extra.mkdir(parents=True)
    (extra / "annotations.txt").write_text('1 1 1 5 5 0 0 0 0 "Biker"\n')
    report = convert(
        "sdd",
        tmp_path / "sdd",
        tmp_path / "out",
        workers=1,
        progress=False,
        keep_empty=True,
        reader_options={"stride": 4, "missing_video": "skip"},
    )
    [(reason, entry)] = report.skipped.items()
    assert reason.startswith("no video for these annotations") and entry["count"] == 1
    assert entry["examples"] == ["annotations/nowhere/video9/annotations.txt"]
