"""docs/reproduce.md's data commands, run as written on rs-synth stand-ins of every source in the release
layouts: each training dataset holds every split the recipe promises (Table I's composition: all splits,
except that RET-3 and VisDrone give their train splits only and DOTA and iSAID keep their validation images
out), and the de-duplicated training set holds them all together.

The commands are the document's own, run by test_docs_commands.py's runner (the session's ``docs``
fixture: the recipe runs once), so the document cannot drift from what is tested.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from doc_commands import doc_commands
from doc_runs import tool_argv
from doc_stand_ins import RECIPE_SOURCES, SCENE_SETS

from rs_annotate.source_images import tile_windows
from rs_formats import open_dataset
from rs_synth import Truth

RECIPE = "docs/reproduce.md"
STAND_INS = {k: v for k, v in RECIPE_SOURCES.items() if k != "DOTA/val"}  # DOTA val is RemoteCount's
#: The splits each training dataset must hold, given the stand-in's own (Table I); a source without a
#: split of its own is all "train".
RET3 = {"rsicd", "rsitmd", "ucm"}
NO_SPLIT = {"rsod", "levir", "auair", "sdd", "potsdam", "vaihingen"}
# DOTA val (and iSAID val, the same images) is RemoteCount's source; Table I counts RET-3's train splits
# (UCM 1,676 of its 1,680) and VisDrone-DET's (6,471).
TRAIN_ONLY = {"dota", "isaid", "visdrone"} | RET3


def commands(section: str, tool: str, verb: str) -> list[list[str]]:
    """One tool's commands of one section of the recipe, as that tool's arguments (before substitutions)."""
    found = [tool_argv(c.words) for c in doc_commands(RECIPE) if c.section.startswith(section)]
    return [args for t in found if t and t[0] == tool and t[1][:1] == [verb] for args in [t[1]]]


@pytest.fixture(scope="module")
def recipe(docs):
    docs.run(RECIPE)
    world = docs.world(RECIPE)
    raw, out = world / "data" / "raw", world / "data" / "rs"
    truths = {folder: Truth.load(raw / folder) for folder in STAND_INS}
    ran = {}  # the dataset each convert of section 1 wrote -> its raw folder
    for args in commands("1. Captions", "rs-annotate", "convert"):
        ran[world / args[args.index("--out") + 1].lstrip("/")] = args[2].removeprefix("/data/raw/")
    return raw, out, truths, ran


def test_every_source_of_table_one_is_converted(recipe):
    _, out, truths, ran = recipe
    training = {folder for path, folder in ran.items() if path.parent == out}
    assert training == set(STAND_INS) and len(training) == 17
    assert {p.name for p in ran if p.parent == out / "eval"} == {"RSICD", "RSITMD", "UCM", *SCENE_SETS}


def _splits(truth, name: str) -> Counter:
    """The stand-in's images per split, named as the reader names them."""
    rename = {"trainval": "train"}
    return Counter(rename.get(im.split.lower(), im.split.lower()) for im in truth.images)


def test_each_training_dataset_holds_every_split_of_its_source(recipe):
    _, out, truths, ran = recipe
    for path, folder in ran.items():
        if path.parent != out:
            continue
        ds, truth, name = open_dataset(path), truths[folder], path.name
        have = _splits(truth, name)
        if name in RET3 | {"visdrone"}:
            want = {"train"}
            assert {"train", "val", "test"} <= set(have), (name, have)  # the stand-in has all three
        elif name in NO_SPLIT | TRAIN_ONLY:
            want = {"train"}
        else:
            want = set(have)
            assert len(want) >= 2, (name, have)  # a stand-in with several splits shows they all get in
        assert set(ds.splits) == want, (name, ds.splits, have)
        stats = ds.manifest["stats"]["convert"]
        if name in ("potsdam", "vaihingen", "isaid"):  # tiled: every window, rows or skipped as empty
            size = truth.size
            per_image = len(tile_windows(size, size, *((512, 0) if name != "isaid" else (896, 384))))
            images = sum(have.values()) if name != "isaid" else have["train"]
            assert (
                per_image > 1
                and sum(ds.num_rows(s) for s in ds.splits) + stats["empty"] == images * per_image
            )
            assert stats["pixels"] == {"train": "re-encoded"}
        elif name != "sdd":
            counted = {s: ds.num_rows(s) for s in ds.splits}
            assert sum(counted.values()) + stats["empty"] == sum(have[s] for s in want), (name, counted, have)


def test_isprs_classes_and_visdrone_classes_as_table_one_counts_them(recipe):
    _, out, _, _ = recipe
    for name in ("potsdam", "vaihingen"):
        classes = open_dataset(out / name).manifest["stats"]["convert"]["objects_per_class"]
        assert set(classes) <= {"building", "low vegetation", "tree", "car"} and classes, (name, classes)
    visdrone = open_dataset(out / "visdrone").manifest["stats"]["convert"]["objects_per_class"]
    assert "other object" in visdrone and "ignored regions" not in visdrone


@pytest.fixture(scope="module")
def merged(recipe) -> Path:
    """The recipe's de-duplicated training set (its dedup command, against /data/rs/eval/* as written)."""
    (dedup,) = commands("1. Captions", "rs-annotate", "dedup")
    assert dedup[dedup.index("--against") + 1] == "/data/rs/eval/*"
    return recipe[1] / Path(dedup[dedup.index("--out") + 1]).name


def test_the_deduplicated_training_set_holds_every_split(merged):
    ds = open_dataset(merged)
    assert set(ds.splits) == {"train", "val", "test"}
    test_sources = set(ds.read_table("test", ["source"]).column("source").to_pylist())
    assert test_sources and not test_sources & RET3  # the RET-3 test splits stay evaluation data


def test_the_documented_training_commands_train_on_every_split(merged, recipe):
    from rs_clip_train.cli import build_parser, resolve_args
    from rs_clip_train.launch_common import plan

    world = recipe[1].parents[1]
    fits = commands("2. Continual pretraining", "rs-clip-train", "fit")
    assert len(fits) == 4  # three presets, and the cluster command
    ds = open_dataset(merged)
    for args in fits:
        local = [world / a.lstrip("/") if a.startswith("/data/") else a for a in args]
        cfg = resolve_args(build_parser().parse_args([str(a) for a in local]))
        assert plan(cfg.validate())["rows"] == sum(ds.num_rows(s) for s in ds.splits), args
