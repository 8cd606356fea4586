"""``rs-clip-train export``: a checkpoint's publishing copy, checked as the Hub and its users read it.

The oracles are third-party: ``rs-formats verify``/``info`` on the copy and on its Hub-cache copy,
huggingface_hub's own ModelCard parser for the card's metadata, and bare open_clip (in a fresh process,
``HF_HUB_OFFLINE=1``) running the card's own loading snippet, whose embeddings must equal the source's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
import torch
from huggingface_hub import ModelCard

from rs_clip_eval import ResultRow, write_results_table
from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_clip_models.models import TINY_MODEL, create_model
from rs_clip_train.cli import main
from rs_formats import verify_checkpoint
from rs_formats.checkpoint import MODEL_CARD, MODEL_CONFIG, WEIGHTS
from rs_formats.cli import main as formats_main
from rs_formats.hashing import file_sha256
from rs_synth.writers.hf_hub_cache import write_hub_cache

REPO = "rs-clip-tests/rs-tiny-export"


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return create_model(TINY_MODEL)[0].eval()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny):
    """A run directory as rs-clip-train leaves it: run.yaml, a checkpoint with a resume state, ``final``."""
    root = tmp_path_factory.mktemp("run")
    (root / "run.yaml").write_text("steps: 5\n")
    state = root / "staging"
    (state / "engine").mkdir(parents=True)
    torch.save({"step": torch.tensor(5)}, state / "engine" / "mp_rank_00_model_states.pt")
    write_checkpoint(
        root / "checkpoints" / "step-00000005",
        tiny.state_dict(),
        model_name=TINY_MODEL,
        step=5,
        config={"model": {"init": "hf-hub:org/base-clip"}, "optim": {"batch_size": 8, "lr": 1e-4}},
        metrics={"loss": 1.5, "lr": 1e-5, "time": 1.7e9, "eval/mean_recall": 3.25},
        dataset={
            "name": "mix",
            "manifest_sha256": "ab" * 32,
            "sources": [
                {"name": "synth-rsicd", "manifest_sha256": "cd" * 32, "splits": ["train"], "rows": 9},
                {"name": "synth-ucm", "manifest_sha256": "ef" * 32, "splits": ["train"], "rows": 7},
            ],
        },
        preprocess_config={"size": 64},
        extra={"train_state": state},
    )
    (root / "final").symlink_to("checkpoints/step-00000005")
    return root


def _row(fingerprint, task, metric, value, *, dataset="AID", model="mine", shots=None, seed=None):
    return ResultRow(
        model, "spec", fingerprint, dataset, "a" * 64, "test", task, metric, value, "%", "t", "c", shots, seed
    )


@pytest.fixture(scope="module")
def results(tmp_path_factory, run_dir):
    sha = file_sha256(run_dir / "final" / WEIGHTS)
    rows = [
        _row(f"{TINY_MODEL}:{sha}", "zeroshot", "top1", 61.25),
        _row(f"{TINY_MODEL}:{sha}", "retrieval", "mean_recall", 12.5, dataset="RSICD"),
        _row(f"ViT-B-32:{'0' * 64}", "zeroshot", "top1", 99.0, model="other"),
        *(
            _row(f"{TINY_MODEL}:{sha}", "fewshot", "top1", v, shots=4, seed=s)
            for s, v in ((0, 40.0), (1, 50.0))
        ),
    ]
    return write_results_table(rows, tmp_path_factory.mktemp("eval"))["jsonl"]


@pytest.fixture(scope="module")
def exported(tmp_path_factory, run_dir, results):
    out = tmp_path_factory.mktemp("export") / "rs-tiny"
    argv = ["export", str(run_dir), "--out", str(out), "--results", str(results), "--repo-id", REPO]
    assert main([*argv, "--license", "mit"]) == 0
    return out


def test_the_export_holds_a_model_repository_and_verifies(exported, run_dir, capsys):
    assert {p.name for p in exported.iterdir()} == {"manifest.json", WEIGHTS, MODEL_CONFIG, MODEL_CARD}
    manifest = json.loads((exported / "manifest.json").read_text())
    source = json.loads((run_dir / "final" / "manifest.json").read_text())
    assert any(k.startswith("train_state/") for k in source["sha256"])
    assert manifest["sha256"] == {WEIGHTS: source["sha256"][WEIGHTS]}
    assert {k: v for k, v in manifest.items() if k != "sha256"} == {
        k: v for k, v in source.items() if k != "sha256"
    }
    assert (exported / WEIGHTS).read_bytes() == (run_dir / "final" / WEIGHTS).read_bytes()
    for command in ("verify", "info"):
        assert formats_main([command, str(exported)]) == 0
    assert capsys.readouterr().out.count(f"ok: {exported} (no resume state)") == 1


def test_the_card_parses_with_huggingface_hubs_model_card(exported):
    card = ModelCard.load(exported / MODEL_CARD)
    data = card.data
    assert (data.license, data.library_name, data.pipeline_tag) == (
        "mit",
        "open_clip",
        "zero-shot-image-classification",
    )
    assert data.license_name is None and data.license_link is None
    assert data.base_model == "org/base-clip" and data.datasets == ["synth-rsicd", "synth-ucm"]
    assert {"remote-sensing", "clip"} <= set(data.tags)
    got = {
        (r.task_type, r.dataset_name, r.dataset_split, r.metric_type, r.metric_value)
        for r in data.eval_results
    }
    assert got == {
        ("zero-shot-image-classification", "AID", "test", "top1", 61.25),
        ("image-text-retrieval", "RSICD", "test", "mean_recall", 12.5),
        ("image-classification", "AID", "test", "top1", 45.0),  # the mean of the two seeds' rows
    }
    few = next(r for r in data.eval_results if r.task_type == "image-classification")
    assert few.metric_name == "top1, 4-shot, mean of 2 seeds (%)"
    assert {r.metric_type for r in data.eval_results}.isdisjoint({"loss", "lr", "time", "mean_recall_val"})
    assert "training telemetry, not an evaluation" in card.text and "99.0" not in card.text


def test_licence_other_carries_a_name_and_a_link(run_dir, tmp_path):
    out = tmp_path / "other"
    argv = ["--license-name", "rs-research-only", "--license-link", "https://example.org/licence"]
    assert main(["export", str(run_dir / "final"), "--out", str(out), *argv]) == 0
    data = ModelCard.load(out / MODEL_CARD).data
    assert (data.license, data.license_name, data.license_link) == (
        "other",
        "rs-research-only",
        "https://example.org/licence",
    )
    assert data.eval_results is None and verify_checkpoint(out).step == 5


def test_the_cards_snippet_loads_the_same_network_through_bare_open_clip(exported, tmp_path, tiny):
    """The card's own code, run as it is against an offline Hub cache of the export, then against the
    folder through local-dir:; the image and text embeddings equal the source model's."""
    snippet = re.search(r"```python\n(.*?)```", (exported / MODEL_CARD).read_text(), re.S).group(1)
    assert f'"hf-hub:{REPO}"' in snippet
    cache = write_hub_cache(tmp_path / "hf" / "hub", REPO, exported)
    probe = textwrap.dedent("""
        import sys, torch
        torch.manual_seed(1)
        images = torch.rand(2, 3, 64, 64)
        with torch.no_grad():
            out = {"image": model.eval().encode_image(images), "text": model.encode_text(tokenizer(["two planes"]))}
        torch.save(out, sys.argv[1])
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(cache)}
    env["PYTHONPATH"] = ""  # only the third-party libraries: no rs-clip package on the path
    outputs = []
    for name, code in (
        ("hub", snippet),
        ("dir", snippet.replace(f'"hf-hub:{REPO}"', repr(f"local-dir:{exported}"))),
    ):
        proc = subprocess.run(
            [sys.executable, "-c", code + probe, str(tmp_path / f"{name}.pt")],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        outputs.append(torch.load(tmp_path / f"{name}.pt", weights_only=True))
    torch.manual_seed(1)
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        tokenizer = create_model(TINY_MODEL)[2]
        want = {"image": tiny.encode_image(images), "text": tiny.encode_text(tokenizer(["two planes"]))}
    for out in outputs:
        assert all(torch.equal(out[k], want[k]) for k in want)
    assert formats_main(["verify", str(next((cache).glob("models--*/snapshots/*")))]) == 0


def test_bad_exports_are_one_line_and_leave_nothing(run_dir, exported, tmp_path, capsys):
    other = write_results_table([_row(f"ViT-B-32:{'0' * 64}", "zeroshot", "top1", 1.0)], tmp_path / "e")
    out = tmp_path / "never"
    assert main(["export", str(run_dir), "--out", str(out), "--results", str(other["jsonl"])]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "no results of these weights" in err and not out.exists()
    assert main(["export", str(run_dir), "--out", str(exported)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["export", str(tmp_path), "--out", str(out)]) == 2
    assert "neither an rs-clip-checkpoint" in capsys.readouterr().err and not out.exists()
