"""Contract evolution: every consumer refuses a future ``format_version`` and reads the older ones.

A dataset or checkpoint from a newer rs-formats (here: a valid current one whose manifest says 3) must
stop each command line with one clear line that names the manifest and the version, before any work (no
Ray, no training, no output left behind) and without a traceback. Files of the previous version (v1 of
both contracts, laid out by rs-synth's independent v1 writers) are still read by every consumer; the
current version (v2) is what every package's own tests write and read. Every command runs as the user
runs it: the console script, in its own process.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

FUTURE = 3
ENV = {
    **os.environ,
    "OMP_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "DS_ACCELERATOR": "cpu",
    "RAY_AUTH_MODE": "disabled",
    "TOKENIZERS_PARALLELISM": "false",
}
COUNT_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def run(argv: list, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [script(argv[0]), *map(str, argv[1:])], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=300
    )


def _image(i: int) -> tuple[bytes, int]:
    """A small distinct PNG and its pHash (as rs-annotate computes it)."""
    from PIL import Image

    from rs_annotate.near_duplicates import phash

    # Random 4x4 blocks of colour: low frequencies differ, so pHashes are far apart (no duplicates).
    blocks = np.random.default_rng(i).integers(0, 200, (4, 4, 3), dtype=np.uint8)
    pixels = np.kron(blocks, np.ones((16, 16, 1), dtype=np.uint8))
    pixels[8 + 4 * (i % 8) : 24 + 4 * (i % 8), 10:30] = 255  # an "object" where the box says
    img = Image.fromarray(pixels)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), phash(img)


def _future(src: Path, dst: Path) -> Path:
    """The same files, as a newer writer would label them."""
    shutil.copytree(src, dst)
    manifest = json.loads((dst / "manifest.json").read_text())
    manifest["format_version"] = FUTURE
    (dst / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return dst


@pytest.fixture(scope="module")
def c(tmp_path_factory) -> SimpleNamespace:
    """Current (v2), v1 and future-version copies of a captions dataset, a counting dataset and a
    checkpoint."""
    import torch

    from rs_clip_models.checkpoint_writer import write_checkpoint
    from rs_clip_models.models import create_model
    from rs_formats import DatasetWriter
    from rs_synth.writers.rs_checkpoint_v1 import write_v1_checkpoint
    from rs_synth.writers.rs_dataset_v1 import write_v1

    root = tmp_path_factory.mktemp("contracts")
    captions = root / "captions-v2"
    with DatasetWriter(captions, name="captions", kind="captions", generator="test") as w:
        w.add_source("synthetic", "CC0", 16)
        for i in range(16):
            image, ph = _image(i)
            y = 8 + 4 * (i % 8)
            n = i % 3 + 1
            w.write(
                {
                    "image_id": f"synthetic/{i:03d}",
                    "source": "synthetic",
                    "image": image,
                    "width": 64,
                    "height": 64,
                    "phash": ph,
                    "captions": [
                        f"There {'is' if n == 1 else 'are'} {COUNT_WORDS[n - 1]} "
                        f"{'tank' if n == 1 else 'tanks'} {where} {i}."
                        for where in ("in the middle", "at the edge", "in this image", "here", "near row")
                    ],
                    "objects": [
                        {
                            "label": "storage tank",
                            "x0": 10.0,
                            "y0": float(y),
                            "x1": 30.0,
                            "y1": float(y + 16),
                            "difficult": False,
                        }
                    ],
                },
                split="train" if i < 8 else "test",
            )
    counting = root / "counting-v2"
    with DatasetWriter(counting, name="counting", kind="counting", generator="test") as w:
        for i in range(10):
            image, ph = _image(100 + i)
            noun = "plane" if i == 0 else "planes"
            w.write(
                {
                    "image_id": f"count/{i:03d}",
                    "source": "synthetic",
                    "image": image,
                    "width": 64,
                    "height": 64,
                    "phash": ph,
                    "count": i + 1,
                    "count_label": "plane",
                    "captions": [f"There {'is' if i == 0 else 'are'} {COUNT_WORDS[i]} {noun} in the image."],
                },
                split="test",
            )
    torch.manual_seed(0)
    model, _, _ = create_model("RS-Tiny")
    checkpoint = write_checkpoint(root / "ckpt", model.state_dict(), model_name="RS-Tiny", step=1)
    checkpoint_v1 = write_v1_checkpoint(root / "ckpt-v1", model.state_dict(), model_name="RS-Tiny", step=1)
    return SimpleNamespace(
        root=root,
        captions=captions,
        counting=counting,
        checkpoint=checkpoint,
        checkpoint_v1=checkpoint_v1,
        captions_v1=write_v1(captions, root / "captions-v1"),
        counting_v1=write_v1(counting, root / "counting-v1"),
        captions_future=_future(captions, root / "captions-future"),
        counting_future=_future(counting, root / "counting-future"),
        checkpoint_future=_future(checkpoint, root / "ckpt-future"),
    )


EVAL_FLAGS = ["--no-cache", "--no-plots", "--tsne-points", "0", "--loader-workers", "0", "--no-progress"]
COUNT_FLAGS = ["--no-cache", "--loader-workers", "0", "--no-progress"]
FIT = ["rs-clip-train", "fit", "--preset", "tiny", "--steps", "1", "--workers", "1"]

# name -> (argv from the fixture and an output path, the future manifest it must name)
Case = Callable[[SimpleNamespace, Path], list]
FUTURE_DATASET: dict[str, Case] = {
    "rs-formats verify": lambda c, out: ["rs-formats", "verify", c.captions_future],
    "rs-annotate validate": lambda c, out: ["rs-annotate", "validate", c.captions_future],
    "rs-annotate stats": lambda c, out: ["rs-annotate", "stats", c.captions_future],
    "rs-annotate dedup": lambda c, out: ["rs-annotate", "dedup", c.captions_future, "--out", out],
    "rs-annotate dedup --against": lambda c, out: [
        "rs-annotate",
        "dedup",
        c.captions,
        "--out",
        out,
        "--against",
        c.captions_future,
    ],
    "rs-annotate merge": lambda c, out: ["rs-annotate", "merge", c.captions, c.captions_future, "--out", out],
    "rs-annotate show": lambda c, out: ["rs-annotate", "show", c.captions_future, "-n", "4", "--out", out],
    "rs-clip-train fit --data": lambda c, out: [*FIT, "--data", c.captions_future, "--out", out],
    "rs-clip-eval retrieval --data": lambda c, out: [
        "rs-clip-eval",
        "retrieval",
        "--model",
        "RS-Tiny",
        "--data",
        c.captions_future,
        "--out",
        out,
        *EVAL_FLAGS,
    ],
    "rs-count eval --data": lambda c, out: [
        "rs-count",
        "eval",
        "--out",
        out,
        "--model",
        "RS-Tiny",
        "--data",
        c.counting_future,
        *COUNT_FLAGS,
    ],
}
FUTURE_CHECKPOINT: dict[str, Case] = {
    "rs-formats verify": lambda c, out: ["rs-formats", "verify", c.checkpoint_future],
    "rs-clip-eval retrieval --model": lambda c, out: [
        "rs-clip-eval",
        "retrieval",
        "--model",
        c.checkpoint_future,
        "--data",
        c.captions,
        "--out",
        out,
        *EVAL_FLAGS,
    ],
    "rs-count eval --model": lambda c, out: [
        "rs-count",
        "eval",
        "--out",
        out,
        "--model",
        c.checkpoint_future,
        "--data",
        c.counting,
        *COUNT_FLAGS,
    ],
    "rs-clip-train fit --init": lambda c, out: [
        *FIT,
        "--data",
        c.captions,
        "--init",
        c.checkpoint_future,
        "--out",
        out,
    ],
    "rs-clip-train fit --model": lambda c, out: [
        *FIT,
        "--data",
        c.captions,
        "--model",
        c.checkpoint_future,
        "--out",
        out,
    ],
}


def assert_refused(proc: subprocess.CompletedProcess, manifest: Path, out: Path) -> None:
    err = proc.stderr
    assert proc.returncode != 0, f"accepted a future format_version:\n{proc.stdout[-2000:]}\n{err[-2000:]}"
    assert "Traceback" not in err, err[-4000:]
    lines = [line for line in err.splitlines() if f"format_version {FUTURE}" in line]
    assert lines, f"no line names format_version {FUTURE}:\n{err[-3000:]}"
    assert str(manifest) in lines[0], f"the message does not name {manifest}:\n{lines[0]}"
    assert not out.exists(), f"a refused run left {out} behind"
    assert "Started a local Ray instance" not in proc.stdout + err, (
        "Ray was started before the files were checked"
    )


@pytest.mark.parametrize("name", FUTURE_DATASET)
def test_future_dataset_is_refused(name, c, tmp_path):
    out = tmp_path / ("sheet.png" if "show" in name else "out")
    proc = run(FUTURE_DATASET[name](c, out), cwd=tmp_path)
    manifest = (c.counting_future if "rs-count" in name else c.captions_future) / "manifest.json"
    assert_refused(proc, manifest, out)


@pytest.mark.parametrize("name", FUTURE_CHECKPOINT)
def test_future_checkpoint_is_refused(name, c, tmp_path):
    out = tmp_path / "out"
    proc = run(FUTURE_CHECKPOINT[name](c, out), cwd=tmp_path)
    assert_refused(proc, c.checkpoint_future / "manifest.json", out)


# -- the older and current versions read ---------------------------------------------------------------


def _ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert proc.returncode == 0, f"refused a readable file ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.parametrize(
    "which", ["captions", "counting", "captions_v1", "counting_v1", "checkpoint", "checkpoint_v1"]
)
def test_rs_formats_reads_v1_and_v2(which, c, tmp_path):
    assert (
        f"ok: {getattr(c, which)}" in _ok(run(["rs-formats", "verify", getattr(c, which)], tmp_path)).stdout
    )


def test_v1_is_laid_out_as_v1(c):
    from rs_formats import open_dataset

    for path in (c.captions_v1, c.counting_v1):
        assert "data" not in {p.name for p in path.iterdir()} and open_dataset(path).version == 1
    assert open_dataset(c.captions_v1).read_table("test").equals(open_dataset(c.captions).read_table("test"))


def test_rs_annotate_reads_v1(c, tmp_path):
    from rs_formats import DATASET_VERSION, open_dataset

    assert "16 rows, 0 problem(s)" in _ok(run(["rs-annotate", "validate", c.captions_v1], tmp_path)).stdout
    stats = json.loads(_ok(run(["rs-annotate", "stats", c.captions_v1], tmp_path)).stdout)
    assert stats["rows_per_split"] == {"train": 8, "test": 8} and stats["captions"] == 80
    _ok(
        run(
            ["rs-annotate", "dedup", c.captions_v1, "--out", tmp_path / "dedup", "--against", c.counting_v1],
            tmp_path,
        )
    )
    out = open_dataset(tmp_path / "dedup")  # what it writes is the current version
    assert (
        out.manifest["format_version"] == DATASET_VERSION
        and out.num_rows("train") + out.num_rows("test") == 16
    )


def test_rs_clip_eval_reads_v1(c, tmp_path):
    _ok(
        run(
            [
                "rs-clip-eval",
                "retrieval",
                "--model",
                c.checkpoint_v1,
                "--data",
                c.captions_v1,
                "--out",
                tmp_path / "out",
                *EVAL_FLAGS,
            ],
            tmp_path,
        )
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    [model] = results["models"]
    weights_sha = json.loads((c.checkpoint_v1 / "manifest.json").read_text())["sha256"]["model.safetensors"]
    assert model["kind"] == "checkpoint" and model["fingerprint"].endswith(weights_sha)
    retrieval = results["results"][model["label"]]["captions"]["retrieval"]
    assert (
        retrieval["n_images"] == 8 and retrieval["n_captions"] == 40 and 0 <= retrieval["mean_recall"] <= 100
    )


def test_rs_count_reads_v1(c, tmp_path):
    _ok(
        run(
            [
                "rs-count",
                "eval",
                "--out",
                tmp_path / "out",
                "--model",
                c.checkpoint_v1,
                "--data",
                c.counting_v1,
                *COUNT_FLAGS,
            ],
            tmp_path,
        )
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text())["results"]
    assert {r["variant"] for r in results} == {"words", "digits"}
    assert all(
        r["n"] == 10 and r["model"].startswith(f"{c.checkpoint_v1.name} (RS-Tiny, step 1)") for r in results
    )


def test_rs_clip_train_reads_v1(c, tmp_path):
    """What ``fit`` reads before it starts Ray: the datasets, the model and the initial weights.

    A whole run on v1 files (Ray, DeepSpeed, a checkpoint) is the end-to-end test's job; here the same
    functions ``fit`` calls first, on the v1 dataset and checkpoint, cheaply and in this process.
    """
    import torch
    from safetensors.torch import load_file

    from rs_clip_train import DataSource, preset
    from rs_clip_train.launch_common import check_model, plan
    from rs_clip_train.model import build_model
    from rs_formats import open_dataset

    run_cfg = preset("tiny")
    run_cfg.data.sources = [DataSource(str(c.captions_v1))]
    run_cfg.model.init = str(c.checkpoint_v1)
    run_cfg.out, run_cfg.steps, run_cfg.epochs = str(tmp_path / "run"), 1, None
    check_model(run_cfg.validate())
    facts = plan(run_cfg)
    assert facts["rows"] == 8 and facts["total_steps"] == 1
    assert facts["dataset_info"]["manifest_sha256"] == open_dataset(c.captions_v1).manifest_sha256()
    loaded = build_model(run_cfg.model).model.state_dict()
    saved = load_file(str(c.checkpoint_v1 / "model.safetensors"))
    assert saved.keys() == loaded.keys()
    assert all(torch.equal(saved[k], loaded[k].reshape(saved[k].shape)) for k in saved)

    run_cfg.model.name, run_cfg.model.init = str(c.checkpoint_v1), None  # the checkpoint as the model itself
    check_model(run_cfg)
    assert build_model(run_cfg.model).name == "RS-Tiny"
