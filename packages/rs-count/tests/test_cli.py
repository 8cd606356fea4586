"""End to end through the CLI with the random-init RS-Tiny model and rs-clip checkpoints."""

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import grid_boxes, write_scene
from PIL import Image

from rs_count.cli import main
from rs_count.evaluate import evaluate_model
from rs_formats import DatasetWriter, open_dataset, write_checkpoint


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    classes = ["plane", "storage-tank", "ship"]
    for n in range(1, 11):
        for j in range(1 + n % 2):
            write_scene(root / "dota", f"P{n:02d}{j}", grid_boxes(classes[(n + j) % 3], n))
    rc = main(["build", "--labels", str(root / "dota" / "labelTxt"), "--images", str(root / "dota" / "images"),
               "--out", str(root / "ds"), "--image-size", "96", "--no-progress"])
    assert rc == 0
    return root / "ds"


@pytest.fixture(scope="module")
def tiny_state():
    import torch

    from rs_formats.models import create_model

    torch.manual_seed(1)
    model, _, _ = create_model("RS-Tiny")
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_build_eval_report(ds, tiny_state, tmp_path, capsys):
    ckpt = write_checkpoint(tmp_path / "ckpt", tiny_state, model_name="RS-Tiny", step=5)
    out = tmp_path / "report"
    rc = main(["eval", str(out), "--model", "RS-Tiny", "--model", str(ckpt), "--data", str(ds),
               "--workers", "0", "--batch-size", "4", "--no-progress"])
    assert rc == 0
    doc = json.loads((out / "results.json").read_text())
    assert [(r["model"], r["variant"]) for r in doc["results"]] == [
        ("RS-Tiny (random init)", "words"), ("RS-Tiny (random init)", "digits"),
        ("ckpt (RS-Tiny, step 5)", "words"), ("ckpt (RS-Tiny, step 5)", "digits")]
    r = doc["results"][0]
    assert r["n"] == 15 and len(r["images"]) == 15 and r["topk"]["top10"] == 1.0
    assert sum(map(sum, r["confusion"])) == 15 and set(r["per_class"]) == {"plane", "storage tank", "ship"}
    md = (out / "report.md").read_text()
    assert "| ckpt (RS-Tiny, step 5) | digits |" in md and "## Top-1 accuracy per count" in md
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert pngs == ["confusion-RS-Tiny-random-init-digits.png", "confusion-RS-Tiny-random-init-words.png",
                    "confusion-ckpt-RS-Tiny-step-5-digits.png", "confusion-ckpt-RS-Tiny-step-5-words.png",
                    "topk.png"]
    assert Image.open(out / "topk.png").size[0] > 300
    assert "top-1" in capsys.readouterr().out


def test_scores_match_a_direct_computation(ds, tiny_state, tmp_path):
    """Per-class caption batching must give the same answers as scoring each image on its own."""
    import torch
    from safetensors.torch import save_file

    from rs_count.captions import DEFAULT
    from rs_formats.models import create_model

    weights = tmp_path / "w.safetensors"
    save_file(tiny_state, str(weights))
    (res,) = evaluate_model(f"RS-Tiny:{weights}", ds, variants=("digits",), num_workers=0, progress=False)
    assert res.model == "RS-Tiny (w.safetensors)"
    model, preprocess, tokenizer = create_model("RS-Tiny", weights)
    expected = []
    with torch.no_grad():
        for row in open_dataset(ds).iter_rows("test"):
            img = model.encode_image(preprocess(Image.open(io.BytesIO(row["image"])).convert("RGB"))[None],
                                     normalize=True)
            txt = model.encode_text(tokenizer(DEFAULT.candidates(row["count_label"], "digits")), normalize=True)
            expected.append(int(np.argmax((img @ txt.T).numpy()[0])) + 1)
    assert res.metrics.predicted == expected


def test_random_init_is_reproducible(ds):
    a = evaluate_model("RS-Tiny", ds, num_workers=0, progress=False)[0]
    b = evaluate_model("RS-Tiny", ds, num_workers=0, progress=False)[0]
    assert a.metrics == b.metrics


def test_errors_are_one_line_with_exit_2(ds, tiny_state, tmp_path, capsys):
    bad = dict(tiny_state)
    bad["text_projection"] = bad["text_projection"][:, :32]
    del bad["logit_scale"]
    ckpt = write_checkpoint(tmp_path / "wrong", bad, model_name="RS-Tiny", step=1)
    assert main(["eval", str(tmp_path / "o"), "--model", str(ckpt), "--data", str(ds), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "does not match architecture RS-Tiny" in err and "logit_scale" in err and "text_projection" in err

    with DatasetWriter(tmp_path / "caps", name="caps", kind="captions") as w:
        w.write({"image_id": "a", "source": "s", "image": b"x", "width": 1, "height": 1})
    assert main(["eval", str(tmp_path / "o"), "--model", "RS-Tiny", "--data", str(tmp_path / "caps")]) == 2
    assert "rs-count needs kind 'counting'" in capsys.readouterr().err

    assert main(["eval", str(tmp_path / "o"), "--model", "No-Such-Model", "--data", str(ds)]) == 2
    assert "unknown model 'No-Such-Model'" in capsys.readouterr().err

    root = tmp_path / "d"
    write_scene(root, "A", grid_boxes("plane", 2) + [("zeppelin", 1, 1, 30, 30, 0)])
    args = ["build", "--labels", str(root / "labelTxt"), "--images", str(root / "images"), "--out",
            str(tmp_path / "x"), "--no-progress"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{root / 'labelTxt' / 'A.txt'}:5: unknown class 'zeppelin'" in err
    assert not (tmp_path / "x").exists()

    ann = tmp_path / "a.csv"
    ann.write_text("image,class,count\nA.png,plane,12\n")
    assert main(["import", str(ann), "--images", str(root / "images"), "--out", str(tmp_path / "y")]) == 2
    assert "a.csv:2: count 12 is outside RemoteCount's 1..10" in capsys.readouterr().err


def test_import_cli(tmp_path, capsys):
    root = tmp_path / "d"
    write_scene(root, "A", grid_boxes("plane", 2))
    write_scene(root, "B", grid_boxes("ship", 3))
    ann = tmp_path / "a.csv"
    ann.write_text("image,caption\nA.png,There are two planes in the image.\nB.png,There are 3 ships in the image.\n"
                   "C.png,There is one ship in the image.\n")
    rc = main(["import", str(ann), "--images", str(root / "images"), "--out", str(tmp_path / "ds"), "--skip-bad",
               "--no-progress"])
    assert rc == 0
    assert "skipped bad inputs: missing-image 1" in capsys.readouterr().out
    assert [r["count"] for r in open_dataset(tmp_path / "ds").iter_rows("test")] == [2, 3]


def test_eval_never_imports_ray_or_deepspeed(ds, tmp_path):
    code = (
        "import sys\n"
        "from rs_count.cli import main\n"
        f"rc = main(['eval', {str(tmp_path / 'o')!r}, '--model', 'RS-Tiny', '--data', {str(ds)!r},"
        " '--variant', 'words', '--workers', '0', '--no-progress'])\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'deepspeed'))\n"
        "assert not bad, bad\n"
        "assert 'torch' in sys.modules and 'open_clip' in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (tmp_path / "o" / "results.json").is_file()
