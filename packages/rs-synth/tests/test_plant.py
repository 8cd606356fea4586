"""Leaks planted among DOTA scenes: copies of evaluation images and of the set's own scenes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from test_detection_formats import parse_dota

from rs_synth import FORMATS, Truth
from rs_synth.classes import DOTA_V1
from rs_synth.cli import main


def pixels(path):
    with Image.open(path) as f:
        return np.asarray(f.convert("RGB"))


def test_copies_of_evaluation_images_and_of_own_scenes_follow_the_fresh_scenes(generated, tmp_path):
    captions, _ = generated("rsicd", n=60)  # has a test split: copies come from it
    scenes, _ = generated("imagefolder", n=36)
    out = tmp_path / "dota"
    truth = FORMATS["dota"].write(
        out, 10, seed=3, size=128, plant=[captions, scenes], plant_n=2, duplicates=3
    )
    assert len(truth.images) == 10 + 2 * 2 + 3
    assert all("planted" not in im.meta for im in truth.images[:10])
    copies = truth.images[10:]
    assert [im.image for im in copies] == [f"images/P{i:04d}.png" for i in range(10, 17)]
    assert [c.meta["planted"]["from"] for c in copies] == [str(captions.resolve())] * 2 + [
        str(scenes.resolve())
    ] * 2 + ["self"] * 3
    assert all(c.meta["planted"]["split"] == "test" for c in copies[:2])
    assert truth.meta["planted"] == {
        "sources": [str(captions.resolve()), str(scenes.resolve())],
        "per_source": 2,
        "duplicates": 3,
    }
    for copy in copies:
        origin = copy.meta["planted"]
        root = out if origin["from"] == "self" else Path(origin["from"])
        original = next(im for im in Truth.load(root).images if im.image == origin["of"])
        # The same picture in another file, every object labelled in DOTA's words.
        assert np.array_equal(pixels(out / copy.image), pixels(root / original.image))
        _, objs = parse_dota(out / copy.labels[0])
        assert [c for _, c, _ in objs] == [DOTA_V1[o.cls] for o in original.objects]
        for (poly, _, _), o in zip(objs, original.objects):
            assert np.abs(poly - np.array(o.poly)).max() <= 0.5
    assert len({c.meta["planted"]["of"] for c in copies[4:]}) == 3  # three different scenes of its own
    # Deterministic: the same seed copies the same images, another seed others.
    again = FORMATS["dota"].write(
        tmp_path / "again", 10, seed=3, size=128, plant=[captions, scenes], duplicates=3
    )
    assert [im.meta for im in again.images] == [im.meta for im in truth.images]
    other = FORMATS["dota"].write(
        tmp_path / "other", 10, seed=4, size=128, plant=[captions, scenes], duplicates=3
    )
    assert [im.meta["planted"]["of"] for im in other.images[10:]] != [c.meta["planted"]["of"] for c in copies]


def test_the_cli_plants_and_says_so(generated, tmp_path, capsys):
    counting, _ = generated("counting", n=40)
    out = tmp_path / "d"
    assert (
        main(
            [
                "dota",
                "--out",
                str(out),
                "--n",
                "4",
                "--size",
                "64",
                "--plant",
                str(counting),
                "--plant-n",
                "1",
                "--duplicates",
                "1",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert (
        f"rs-synth: 2 of them are copies (leaks for de-duplication to find): 1 of {counting.resolve()}, "
        "1 of its own scenes" in err
    )
    assert len(Truth.load(out).images) == 6


def test_leaks_need_a_format_that_plants_and_enough_images(generated, tmp_path, capsys):
    counting, _ = generated("counting", n=40)
    assert main(["dior", "--out", str(tmp_path / "v"), "--n", "2", "--size", "64", "--duplicates", "1"]) == 2
    assert capsys.readouterr().err == "rs-synth: error: --plant and --duplicates work with dota, not dior\n"
    assert (
        main(
            [
                "dota",
                "--out",
                str(tmp_path / "w"),
                "--n",
                "2",
                "--size",
                "64",
                "--plant",
                str(counting),
                "--plant-n",
                "40",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.startswith(f"rs-synth: error: {counting} (its test split): ") and err.endswith(
        ", 40 asked for\n"
    )
    assert not (tmp_path / "w").exists()
