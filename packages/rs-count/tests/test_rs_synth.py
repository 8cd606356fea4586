"""Build rules on rs_synth's counting scenes (DOTA v1.0 labelTxt, CRLF, GoogleEarth/GF headers)."""

import json

from rs_count.build import build
from rs_count.classes import REMOTECOUNT_CLASSES
from rs_count.rules import BuildRules
from rs_formats import open_dataset
from rs_synth.writers import counting


def test_every_synthetic_counting_scene_is_kept_with_its_true_count(tmp_path):
    truth = counting.write(tmp_path / "synth", 40, seed=3, size=128)
    expected = {f"dota/P{im.index:04d}": (im.meta["count"], im.meta["count_class"]) for im in truth.images}
    rep = build(
        tmp_path / "synth" / "labelTxt",
        tmp_path / "synth" / "images",
        tmp_path / "ds",
        BuildRules(short_side=96),
        progress=False,
    )
    got = {
        r["image_id"]: (r["count"], r["count_label"])
        for r in open_dataset(tmp_path / "ds").iter_rows("test", columns=["image_id", "count", "count_label"])
    }
    assert {k: expected[k] for k in got} == got  # every kept image has its true count and class
    # at 96 px the thin bridges are below the 8 px minimum object size; nothing else is rejected
    assert rep.rejected == {"too-small": 10}
    assert {v[1] for k, v in expected.items() if k not in got} == {"bridge"}
    assert set(rep.per_class) == set(REMOTECOUNT_CLASSES[:3])
    row = next(open_dataset(tmp_path / "ds").iter_rows("test"))
    assert (row["width"], row["height"]) == (96, 96) and json.loads(row["meta"])["imagesource"] in (
        "GF",
        "GoogleEarth",
    )
