"""Composition: examples/caption-and-count, a downstream project on rs-annotate + rs-count only (rs-count
brings rs-clip-eval, its embedding machinery: torch, no Ray or DeepSpeed).

A fresh venv gets the example and exactly the packages it names (from their folders; torch from the
machine's package index), then runs its console script on rs-synth scenes with a checkpoint written
here, "trained elsewhere". Building the venv takes a minute or two, hence ``slow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

import pytest
from conftest import REPO
from doc_commands import doc_commands
from doc_installs import install_words

pytestmark = pytest.mark.slow

EXAMPLE = REPO / "examples" / "caption-and-count"
N_SCENES = 40
STEP = 123
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}


def run(cmd: list[str | Path], check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=ENV)
    assert not check or proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def venv_python(tmp_path_factory) -> Path:
    """A fresh venv with the example installed by its README's own command (run in the repository)."""
    root = tmp_path_factory.mktemp("audit-venv")
    venv.EnvBuilder(with_pip=True, clear=True).create(root)
    python = root / "bin" / "python"
    (cmd,) = [
        c for c in doc_commands(f"examples/{EXAMPLE.name}/README.md") if c.text.startswith("pip install")
    ]
    words = install_words(cmd)
    assert "./examples/caption-and-count" in words
    proc = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *words[2:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert proc.returncode == 0, f"{cmd.where()}: {cmd.text}\n{proc.stderr[-4000:]}"
    return python


@pytest.fixture(scope="module")
def scenes(tmp_path_factory):
    """RemoteCount-style scenes in DOTA's layout (images/ + labelTxt/) and their ground truth."""
    from rs_synth import FORMATS

    out = tmp_path_factory.mktemp("labels") / "my-labels"
    truth = FORMATS["counting"].write(out, N_SCENES, seed=3, size=256)
    return out, {Path(im.image).stem: im for im in truth.images}


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    """A seeded RS-Tiny written with rs-formats in this environment: the checkpoint "trained elsewhere"."""
    import torch

    from rs_clip_models.checkpoint_writer import write_checkpoint
    from rs_clip_models.models import create_model

    torch.manual_seed(7)
    model, _, _ = create_model("RS-Tiny")
    out = tmp_path_factory.mktemp("elsewhere") / "final"
    return write_checkpoint(
        out, model.state_dict(), model_name="RS-Tiny", step=STEP, metrics={"trained": "elsewhere"}
    )


def installed(python: Path) -> set[str]:
    out = run([python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"]).stdout
    return {line.split("==")[0].lower().replace("_", "-") for line in out.splitlines() if "==" in line}


def test_installs_only_what_it_composes(venv_python):
    have = installed(venv_python)
    assert {
        "aerial-audit",
        "rs-annotate",
        "rs-count",
        "rs-clip-eval",
        "rs-formats",
        "torch",
        "open-clip-torch",
    } <= have
    assert not {"ray", "deepspeed", "rs-clip-train", "rs-synth"} & have
    probe = "import importlib.util as u; print([m for m in ('ray', 'deepspeed', 'rs_clip_train', 'rs_synth') if u.find_spec(m)])"
    assert run([venv_python, "-c", probe]).stdout.strip() == "[]"


def test_console_script_captions_and_counts(venv_python, scenes, checkpoint, tmp_path):
    from rs_count import EvalConfig, evaluate_model
    from rs_formats import open_dataset, verify_dataset

    src, truth = scenes
    out = tmp_path / "audit"
    proc = run(
        [venv_python.with_name("aerial-audit"), src, "--model", checkpoint, "--out", out, "--no-progress"]
    )
    assert f"model: {checkpoint.name} (RS-Tiny, step {STEP})" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())

    # Captions: one row per labelled scene, five B2C captions naming its objects, boxes as labelled.
    cap = summary["captions"]
    assert cap["images"] == cap["captions"] / 5 == N_SCENES and cap["bad"] == 0
    assert cap["objects"] == sum(len(t.objects) for t in truth.values())
    verify_dataset(out / "captions")
    ds = open_dataset(out / "captions")
    assert ds.kind == "captions" and ds.num_rows("train") == N_SCENES
    for row in ds.iter_rows(columns=["image_id", "captions", "objects"]):
        t = truth[row["image_id"].split("/", 1)[1]]
        assert len(row["objects"]) == len(t.objects)
        assert {o["label"] for o in row["objects"]} == {o.cls for o in t.objects}
        assert len(row["captions"]) == 5
        for caption in row["captions"]:
            assert any(o.cls in caption for o in t.objects), (row["image_id"], caption)
    assert cap["examples"][0]["caption"] in proc.stdout

    # Counting: RemoteCount rows whose count is the scene's true number of objects of its class.
    cnt = summary["counting"]
    counting = open_dataset(out / "counting")
    assert counting.kind == "counting" and counting.num_rows("test") == cnt["images"] > 0
    for row in counting.iter_rows("test", columns=["image_id", "count", "count_label"]):
        t = truth[row["image_id"].split("/", 1)[1]]
        assert t.counts() == {row["count_label"]: row["count"]}
    assert sum(cnt["per_count"].values()) == cnt["images"]
    assert set(cnt["metrics"]) == {"words", "digits"}
    for m in cnt["metrics"].values():
        assert m["n"] == cnt["images"]
        topk = m["topk"]
        # percent, like every rs-clip metric
        assert len(topk) == 10 and topk[-1] == 100.0 and all(a <= b for a, b in zip(topk, topk[1:]))
        assert 0.0 <= m["top1"] == topk[0] and m["top3"] == topk[2]
        assert 0.0 <= m["mae"] <= 9.0

    # The figures are the checkpoint's (not a random init): the same evaluation here gives the same numbers.
    here = {
        r.variant: r.metrics
        for r in evaluate_model(
            str(checkpoint),
            out / "counting",
            variants=("words", "digits"),
            config=EvalConfig(loader_workers=0, progress=False),
        )
    }
    for variant, m in cnt["metrics"].items():
        assert m["topk"] == pytest.approx(here[variant].topk, abs=1e-9)
        assert m["mae"] == pytest.approx(here[variant].mae, abs=1e-9)


def test_bad_checkpoint_is_one_line(venv_python, scenes, tmp_path):
    src, _ = scenes
    proc = run(
        [
            venv_python.with_name("aerial-audit"),
            src,
            "--model",
            tmp_path,
            "--out",
            tmp_path / "audit",
            "--no-progress",
        ],
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("aerial-audit: error: ") and "manifest.json" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_rs_annotate_stays_torch_free_next_to_torch(venv_python, scenes, tmp_path):
    src, _ = scenes
    # torch really is importable here, so the check below is not vacuous.
    assert run([venv_python, "-c", "import torch; print(torch.__version__)"]).stdout.strip()
    probe = f"""
import sys
import rs_annotate
from aerial_audit import caption_labels
report = rs_annotate.convert("dota", {str(src)!r}, {str(tmp_path / "direct")!r}, workers=1, progress=False)
stats = rs_annotate.stats({str(tmp_path / "direct")!r})
summary = caption_labels({str(src)!r}, {str(tmp_path / "example")!r}, workers=1, progress=False)
leaked = sorted(m for m in sys.modules if m == "torch" or m.startswith("torch."))
assert not leaked, leaked
print(report.rows, stats["captions"], summary["images"])
"""
    assert run([venv_python, "-c", probe]).stdout.split() == [str(N_SCENES), str(5 * N_SCENES), str(N_SCENES)]
