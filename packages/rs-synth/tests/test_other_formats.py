"""Caption, classification, segmentation, instance and video writers parse back and agree with the truth."""

import json

import numpy as np
import pytest
from PIL import Image

from rs_synth.classes import ISAID_CLASSES, ISAID_PALETTE
from rs_synth.cli import main
from rs_synth.truth import Truth
from rs_synth.writers.segmentation import ISPRS_PALETTE


@pytest.mark.parametrize(
    "name,js,pre",
    [
        ("rsicd", "dataset_rsicd.json", "rsicd_precomp"),
        ("rsitmd", "dataset_RSITMD.json", "rsitmd_precomp"),
        ("ucm-captions", "dataset.json", "ucm_precomp"),
    ],
)
def test_caption_json_and_precomp(generated, shared_data, name, js, pre):
    out, truth = generated(name, n=20)
    real = json.loads(
        (shared_data / "sydney_captions/data/captions/dataset_sydney_modified.json").read_text()
    )
    doc = json.loads((out / js).read_text())
    assert set(doc) == set(real)
    real_img, real_sent = real["images"][0], real["images"][0]["sentences"][0]
    seen_splits = set()
    for im, t in zip(doc["images"], truth.images):
        assert set(im) == set(real_img)
        assert im["filename"] == t.image.split("/")[-1] and (out / t.image).is_file()
        assert len(im["sentences"]) == 5 and im["sentids"] == [s["sentid"] for s in im["sentences"]]
        for s in im["sentences"]:
            assert set(s) == set(real_sent) - {"tokens_transformers"}
            assert s["imgid"] == im["imgid"] and s["tokens"] and s["raw"].endswith(".")
        assert [s["raw"] for s in im["sentences"]] == t.captions
        assert len(set(t.captions)) >= 3  # varied
        seen_splits.add(im["split"])
    assert seen_splits >= {"train", "test"}
    total = 0
    for split in ("train", "val", "test"):
        caps = (out / pre / f"{split}_caps.txt").read_text().splitlines()
        names = (out / pre / f"{split}_filename.txt").read_text().splitlines()
        assert len(caps) == len(names) and len(names) % 5 == 0
        for k in range(0, len(names), 5):
            assert len(set(names[k : k + 5])) == 1
        total += len(caps)
    assert total == 5 * len(doc["images"])


def test_captions_name_the_objects_and_counts(generated):
    from rs_formats.wording import number_word
    from rs_synth.captions import SYNONYMS

    out, truth = generated("rsicd", n=30)
    checked = 0
    for t in truth.images:
        counts = t.counts()
        if len(counts) != 1:
            continue
        ((cls, n),) = counts.items()
        text = " ".join(t.captions)
        assert any(noun in text for noun in SYNONYMS.get(cls, (cls,))), (cls, text)
        if n > 1:
            assert f"{number_word(n)} " in text, (n, text)
        checked += 1
    assert checked >= 3


def test_imagefolder_tree(generated):
    out, truth = generated("imagefolder", n=36)
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == sorted(truth.classes)
    assert {"denseresidential", "golf_course", "Airport"} <= set(folders)
    for f in folders:
        files = list((out / f).iterdir())
        assert len(files) == 2 and all(p.suffix == ".jpg" for p in files)
    assert truth.meta["natural_names"]["golf_course"] == "golf course"
    assert {im.meta["class"] for im in truth.images} == set(folders)
    # Object-dominant classes really contain their objects.
    for im in truth.images:
        if im.meta["class"] in ("airplane", "storagetanks", "ship"):
            assert len(im.objects) >= 1


def test_loveda_masks(generated):
    out, truth = generated("loveda", n=8)
    assert {im.theme for im in truth.images} == {"urban", "rural"}
    for im in truth.images:
        assert im.image.split("/")[1] in ("Urban", "Rural") and im.image.split("/")[0] in ("Train", "Val")
        m = Image.open(out / im.labels[0])
        assert m.mode == "L" and m.size == Image.open(out / im.image).size
        a = np.asarray(m)
        assert a.max() <= 7
        hist = {str(k): int(v) for k, v in enumerate(np.bincount(a.ravel(), minlength=8)) if v}
        assert hist == im.meta["pixels_per_class"]
        if "0" in hist:  # no-data pixels are black in the image
            assert np.asarray(Image.open(out / im.image))[a == 0].max() == 0


@pytest.mark.parametrize("name", ["potsdam", "vaihingen"])
def test_isprs_rgb_labels(generated, name):
    out, truth = generated(name, n=3)
    pal = np.array(ISPRS_PALETTE)
    for im in truth.images:
        lab = np.asarray(Image.open(out / im.labels[0]).convert("RGB")).reshape(-1, 3)
        codes = (lab[:, None, :] == pal[None]).all(-1)
        assert codes.any(1).all()  # every pixel is one of the six colours
        hist = {str(k): int(v) for k, v in enumerate(codes.sum(0)) if v}
        assert hist == im.meta["pixels_per_class"]
    if name == "potsdam":
        v = truth.images[0].meta["variants"]
        rgb, irrg = np.asarray(Image.open(out / v["RGB"])), np.asarray(Image.open(out / v["IRRG"]))
        rgbir = np.asarray(Image.open(out / v["RGBIR"]))
        assert rgbir.shape[-1] == 4 and (rgbir[..., :3] == rgb).all()
        assert (irrg[..., 0] == rgbir[..., 3]).all() and (irrg[..., 1] == rgb[..., 0]).all()


def test_isaid_masks_match_truth(generated, shared_data):
    real = shared_data / "isaid/train/images"
    real_files = sorted(p.name for p in real.iterdir())
    out, truth = generated("isaid", n=6)
    im0 = truth.images[0]
    stem = im0.image.rsplit("/", 1)[1][:-4]
    ours = sorted(p.name for p in (out / im0.image).parent.iterdir() if p.name.startswith(stem))
    assert [f.replace("P0005", stem) for f in real_files] == ours
    pal = {c: ISAID_PALETTE[i] for i, c in enumerate(ISAID_CLASSES)}
    for im in truth.images:
        color = np.asarray(Image.open(out / im.labels[0]).convert("RGB")).astype(int)
        idrgb = np.asarray(Image.open(out / im.labels[1]).convert("RGB")).astype(int)
        ids = idrgb[..., 0] + 256 * idrgb[..., 1] + 65536 * idrgb[..., 2]
        assert set(np.unique(ids)) - {0} == {o.instance_id for o in im.objects}
        assert (color[ids == 0] == 0).all()
        for o in im.objects:
            m = ids == o.instance_id
            assert int(m.sum()) == o.meta["pixels"]
            assert (color[m] == pal[o.cls]).all()
            ys, xs = np.nonzero(m)
            assert xs.min() >= o.box[0] - 1 and xs.max() <= o.box[2] + 1


def test_sdd_annotations_and_video(tmp_path):
    import cv2  # the [video] extra, part of the [test] extra

    from rs_synth.writers import sdd

    truth = sdd.write(tmp_path / "sdd", 1, size=160, frames=30)
    im = truth.images[0]
    rows = [r.split(" ") for r in (tmp_path / "sdd" / im.labels[0]).read_text().splitlines()]
    assert len(rows) == im.meta["rows"] > 0
    tracks = [int(r[0]) for r in rows]
    assert tracks == sorted(tracks)
    for r in rows:
        assert len(r) == 10 and r[9].startswith('"') and r[9].strip('"') in truth.classes
        assert r[6] in "01" and r[8] in "01"
    per_frame = [sum(1 for r in rows if int(r[5]) == f and r[6] == "0") for f in range(30)]
    assert per_frame == im.meta["objects_per_frame"]
    cap = cv2.VideoCapture(str(tmp_path / "sdd" / im.image))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 30


def test_cli_writes_and_reports(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["counting", "--out", str(out), "--n", "3", "--size", "64", "--seed", "2"]) == 0
    printed = capsys.readouterr()
    assert printed.out == f"{out}\n"
    assert "rs-synth: wrote 3 counting images" in printed.err
    t = Truth.load(out)
    assert len(t.images) == 3 and t.seed == 2 and t.size == 64
    assert main(["counting", "--out", str(out), "--n", "1", "--size", "64"]) == 2
    assert (
        capsys.readouterr().err
        == f"rs-synth: error: {out}: directory is not empty (pass overwrite=True / --overwrite)\n"
    )
    assert main(["counting", "--out", str(out), "--n", "1", "--size", "64", "--overwrite", "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert len(Truth.load(out).images) == 1
    with pytest.raises(SystemExit) as exc:
        main(["nonsense", "--out", str(tmp_path / "x")])
    assert exc.value.code == 2


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--n", "0"], "--n must be >= 1, got 0"),
        (["--size", "16"], "--size must be between 32 and 8192, got 16"),
        (["--size", "1000000"], "--size must be between 32 and 8192, got 1000000"),
        (["--n", "1", "--size", "64", "OLD"], "the output directory is given twice"),
    ],
)
def test_cli_usage_errors_exit_2_with_one_line(tmp_path, capsys, argv, message):
    argv = [str(tmp_path / "x") if a == "OLD" else a for a in argv]
    assert main(["dota", "--out", str(tmp_path / "o"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"rs-synth: error: {message}") and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_cli_needs_an_output_directory(capsys):
    assert main(["dota", "--n", "1"]) == 2
    assert capsys.readouterr().err == "rs-synth: error: no output directory: give --out OUT\n"


def test_cli_positional_out_still_works_with_a_warning(tmp_path, capsys):
    out = tmp_path / "old"
    assert main(["counting", "--n", "1", str(out), "--size", "64"]) == 0  # after options too, as before
    err = capsys.readouterr().err
    assert f"rs-synth: warning: the positional OUT is deprecated and will be removed; use --out {out}" in err
    assert len(Truth.load(out).images) == 1


def test_cli_version_is_the_installed_one(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out == f"rs-synth {version('rs-synth')}\n"
