"""docs/reproduce.md's data commands, run as written on rs-synth stand-ins of every source in the release
layouts: each training dataset holds every split the recipe promises (Table I's composition: all splits,
minus the RET-3 test splits and DOTA's and iSAID's validation images), and the de-duplicated training set
holds them all together.

The commands are read from the document itself, so the document cannot drift from what is tested.
"""

from __future__ import annotations

import re
import shlex
from collections import Counter
from pathlib import Path

import pytest

from rs_annotate.cli import main as annotate
from rs_annotate.imaging import tile_windows
from rs_formats import open_dataset
from rs_synth.registry import FORMATS

RECIPE = Path(__file__).resolve().parents[1] / "docs" / "reproduce.md"

#: /data/raw/<folder> -> (rs-synth format, images, size, seed, writer keywords). Seeds chosen so that each
#: stand-in has every split its source has (the recipe's --opt splits=train,val must find val).
STAND_INS = {
    "RSICD": ("rsicd", 20, 48, 0, {}),
    "RSITMD": ("rsitmd", 20, 48, 0, {}),
    "UCM-captions": ("ucm-captions", 20, 48, 1, {}),
    "DOTA/train": ("dota", 3, 256, 0, {}),
    "DIOR": ("dior", 10, 96, 0, {}),
    "HRRSD": ("hrrsd", 10, 96, 1, {}),
    "RSOD": ("rsod", 4, 96, 0, {}),
    "LEVIR": ("levir", 3, 96, 0, {}),
    "HRSC2016": ("hrsc2016", 8, 96, 0, {}),
    "AU-AIR": ("auair", 3, 128, 0, {}),
    "CARPK_devkit": ("carpk", 6, 128, 0, {}),
    "StanfordDrone": ("sdd", 1, 96, 0, {"frames": 61}),
    "VisDrone2019-DET": ("visdrone", 10, 96, 0, {}),
    "iSAID": ("isaid", 6, 1000, 0, {}),
    "LoveDA": ("loveda", 8, 64, 0, {}),
    "Potsdam": ("potsdam", 2, 600, 0, {"layout": "release"}),
    "Vaihingen": ("vaihingen", 3, 600, 0, {"layout": "release"}),
}
#: The splits each training dataset must hold, given the stand-in's own (Table I: everything but what
#: evaluation needs); a source without a split of its own is all "train".
RET3 = {"rsicd", "rsitmd", "ucm"}
NO_SPLIT = {"rsod", "levir", "auair", "sdd", "potsdam", "vaihingen"}
TRAIN_ONLY = {"dota", "isaid"}  # DOTA val (and iSAID val, the same images) is RemoteCount's source


def commands(section: str, tool: str = "rs-annotate ") -> list[list[str]]:
    """The commands of one tool in the code blocks of one section of the recipe, comments dropped."""
    text = RECIPE.read_text()
    start = text.index(section)
    end = text.find("\n## ", start + 1)
    blocks = re.findall(r"```bash\n(.*?)```", text[start:end], re.S)
    lines = " ".join(blocks).replace("\\\n", " ").splitlines()
    words = [shlex.split(line.split("#")[0]) for line in lines]
    return [w[w.index(tool.strip()) :] for w in words if tool.strip() in w]


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recipe")
    raw, out = tmp / "raw", tmp / "rs"
    truths = {}
    for folder, (fmt, n, size, seed, kwargs) in STAND_INS.items():
        truths[folder] = FORMATS[fmt].write(raw / folder, n, seed=seed, size=size, **kwargs)

    def local(arg: str) -> str:
        return arg.replace("/data/raw/", f"{raw}/").replace("/data/rs/", f"{out}/")

    converts = [c for c in commands("## 1. Captions") if c[1] == "convert" and "$s" not in " ".join(c)]
    ran = {}
    for cmd in converts:
        args = [local(a) for a in cmd[1:]]
        assert annotate([*args, "--workers", "1", "--no-progress"]) == 0, cmd
        ran[Path(args[args.index("--out") + 1])] = cmd[3].removeprefix("/data/raw/")
    return raw, out, truths, ran, local


def test_every_source_of_table_one_is_converted(recipe):
    _, out, truths, ran, _ = recipe
    training = {folder for path, folder in ran.items() if path.parent == out}
    assert training == set(STAND_INS) and len(training) == 17
    assert {p.name for p in ran if p.parent == out / "eval"} == {"RSICD", "RSITMD", "UCM"}


def _splits(truth, name: str) -> Counter:
    """The stand-in's images per split, named as the reader names them."""
    rename = {"trainval": "train"}
    return Counter(rename.get(im.split.lower(), im.split.lower()) for im in truth.images)


def test_each_training_dataset_holds_every_split_of_its_source(recipe):
    _, out, truths, ran, _ = recipe
    for path, folder in ran.items():
        if path.parent != out:
            continue
        ds, truth, name = open_dataset(path), truths[folder], path.name
        have = _splits(truth, name)
        if name in RET3:
            want = {"train", "val"}
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
    _, out, _, _, _ = recipe
    for name in ("potsdam", "vaihingen"):
        classes = open_dataset(out / name).manifest["stats"]["convert"]["objects_per_class"]
        assert set(classes) <= {"building", "low vegetation", "tree", "car"} and classes, (name, classes)
    visdrone = open_dataset(out / "visdrone").manifest["stats"]["convert"]["objects_per_class"]
    assert "other object" in visdrone and "ignored regions" not in visdrone


@pytest.fixture(scope="module")
def merged(recipe) -> Path:
    """The recipe's de-duplicated training set, against its evaluation sets."""
    _, out, _, ran, local = recipe
    dedup = [c for c in commands("## 1. Captions") if c[1] == "dedup"]
    assert len(dedup) == 1
    cmd = dedup[0]
    sources = re.fullmatch(r"/data/rs/\{(.*)\}", cmd[2]).group(1).split(",")
    args = [local(f"/data/rs/{s}") for s in sources] + [local(a) for a in cmd[3 : cmd.index("--against") + 1]]
    args += [str(p) for p in ran if p.parent == out / "eval"]
    assert annotate(["dedup", *args, "--no-progress"]) == 0
    return out / "remoteclip-train"


def test_the_deduplicated_training_set_holds_every_split(merged):
    ds = open_dataset(merged)
    assert set(ds.splits) == {"train", "val", "test"}
    test_sources = set(ds.read_table("test", ["source"]).column("source").to_pylist())
    assert test_sources and not test_sources & RET3  # the RET-3 test splits stay evaluation data


def test_the_documented_training_commands_train_on_every_split(merged, recipe):
    from rs_clip_train.cli import build_parser, resolve_args
    from rs_clip_train.launcher import plan

    local = recipe[4]
    fits = [c for c in commands("## 2. Continual pretraining", "rs-clip-train ") if c[1] == "fit"]
    assert len(fits) == 4  # three presets, and the cluster command
    ds = open_dataset(merged)
    for cmd in fits:
        cfg = resolve_args(build_parser().parse_args([local(a) for a in cmd[1:]]))
        assert plan(cfg.validate())["rows"] == sum(ds.num_rows(s) for s in ds.splits), cmd
