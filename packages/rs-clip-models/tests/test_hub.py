"""Checkpoints that survive the Hugging Face Hub, and the open_clip folders people already have.

An rs-clip-checkpoint (format 2) is laid out as an open_clip Hub repository. The Hub is stood in for by a
cache laid out on disk as huggingface_hub lays it out (``models--ORG--NAME/{blobs,refs/main,snapshots/REV}``,
snapshot files linking to blobs), read with ``HF_HUB_OFFLINE=1``: bare open_clip must load exactly our
weights through ``hf-hub:``, ``local-dir:`` and a name plus ``pretrained=FILE``, and so must our loader.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from huggingface_hub import ModelCard
from open_clip.transformer import QuickGELU

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_clip_models.models import create_model, load_spec, network_config
from rs_clip_models.spec import ModelSpec
from rs_formats import FormatError, read_checkpoint, verify_checkpoint
from rs_formats.checkpoint import MODEL_CARD, MODEL_CONFIG, WEIGHTS, WEIGHTS_V1
from rs_synth.writers.hf_hub_cache import write_hub_cache
from rs_synth.writers.rs_checkpoint_v1 import write_v1_checkpoint

TINY = "RS-Tiny-quickgelu"
REPO = "rs-clip-tests/tiny-quickgelu"
DATASET = {"name": "remoteclip-train", "manifest_sha256": "ab" * 32, "splits": ["train", "val"]}


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k].reshape(a[k].shape)) for k in a)


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model, _, _ = create_model(TINY)
    return model


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory, tiny):
    return write_checkpoint(
        tmp_path_factory.mktemp("ckpt") / "step-00000300",
        tiny.state_dict(),
        model_name=TINY,
        step=300,
        config={
            "model": {"name": TINY, "init": "openai-vit-b-32:/weights/ViT-B-32.pt"},
            "optim": {"batch_size": 256, "lr": 4e-5},
        },
        metrics={"loss": 1.25, "eval/mean_recall": 42.5},
        dataset=DATASET,
        preprocess_config={"size": 64},
    )


def test_the_layout_is_open_clips_hub_layout_with_a_model_card(ckpt):
    names = {p.name for p in ckpt.iterdir()}
    assert (
        names == {"manifest.json", WEIGHTS, MODEL_CONFIG, MODEL_CARD}
        and WEIGHTS == "open_clip_model.safetensors"
    )
    info = verify_checkpoint(ckpt)
    assert info.manifest["format_version"] == 2 and set(info.manifest["sha256"]) == {WEIGHTS}
    assert (
        info.model_config["model_cfg"] == network_config(TINY)
        and info.model_config["model_cfg"]["quick_gelu"]
    )
    card = ModelCard.load(ckpt / MODEL_CARD)
    assert (card.data.library_name, card.data.pipeline_tag) == ("open_clip", "zero-shot-image-classification")
    assert (card.data.license, card.data.license_name) == ("other", "unspecified")
    assert card.data.datasets == ["remoteclip-train"] and card.data.base_model is None
    assert card.data.eval_results is None  # what training logged is no evaluation
    for fact in (
        f"# {TINY}, step 300",
        "activation QuickGELU",
        "`openai-vit-b-32:/weights/ViT-B-32.pt`",
        "`remoteclip-train`",
        f"manifest sha256 `{'ab' * 32}`",
        "splits train, val",
        "global batch of 256",
        "(training telemetry, not an evaluation): loss 1.25",
        "held-out split checked during training (`--eval-data`): mean_recall 42.5",
        "## Licence",
        "hf-hub:ORG/NAME",
    ):
        assert fact in card.text, fact


def test_a_quickgelu_checkpoint_comes_back_quickgelu_through_our_loader(ckpt, tiny):
    model, _, _ = create_model(ckpt)
    assert same_weights(tiny.state_dict(), model.state_dict())
    assert {type(m.mlp.gelu) for m in model.modules() if hasattr(m, "mlp")} == {QuickGELU}


def test_version_1_is_still_read_and_a_newer_one_refused_in_one_line(tmp_path, tiny):
    v1 = write_v1_checkpoint(tmp_path / "v1", tiny.state_dict(), model_name=TINY, step=3)
    info = verify_checkpoint(v1)
    assert info.weights.name == WEIGHTS_V1 and info.step == 3
    model, _, _ = create_model(v1)
    assert same_weights(tiny.state_dict(), model.state_dict())
    manifest = json.loads((v1 / "manifest.json").read_text())
    (v1 / "manifest.json").write_text(json.dumps({**manifest, "format_version": 3}))
    with pytest.raises(FormatError) as err:
        read_checkpoint(v1)
    assert "\n" not in str(
        err.value
    ) and "format_version 3 is not supported by this rs-formats (reads 1, 2)" in str(err.value)


def test_version_2_must_record_its_open_clip_config(tmp_path, ckpt):
    copy = Path(shutil.copytree(ckpt, tmp_path / "c"))
    (copy / MODEL_CONFIG).unlink()
    with pytest.raises(FormatError, match=r"open_clip_config\.json: missing, or without 'model_cfg'"):
        read_checkpoint(copy)


def test_bare_open_clip_loads_exactly_our_weights_from_an_offline_hub_cache(tmp_path, ckpt, tiny):
    """hf-hub:, local-dir: and name + pretrained=FILE in a fresh process that has only open_clip and the
    environment a user sets (HF_HUB_OFFLINE=1, HF_HOME, HF_HUB_CACHE); then our loader, in the same process."""
    cache = write_hub_cache(tmp_path / "hf" / "hub", REPO, ckpt)
    configs = Path(__import__("rs_clip_models").__file__).with_name("model_configs") / f"{TINY}.json"
    script = textwrap.dedent(f"""
        import json, logging, sys, warnings
        import open_clip, torch
        from safetensors.torch import save_file
        logging.basicConfig(level=logging.WARNING)
        warnings.simplefilter("error")  # a QuickGELU-mismatch warning would fail the load
        open_clip.add_model_config({str(configs)!r})  # the name is ours; open_clip builds it from its JSON
        out = {{}}
        for key, name, pretrained in (("hub", "hf-hub:{REPO}", None), ("dir", "local-dir:{ckpt}", None),
                                      ("file", "{TINY}", "{ckpt / WEIGHTS}")):
            model = open_clip.create_model(name, pretrained=pretrained)
            out[key] = model.state_dict()
            out[key + "-quickgelu"] = torch.tensor(float(all(
                type(m.mlp.gelu).__name__ == "QuickGELU" for m in model.modules() if hasattr(m, "mlp"))))
        from rs_clip_models.models import load_spec
        from rs_clip_models.spec import ModelSpec
        out["ours"] = load_spec(ModelSpec.parse("hf-hub:{REPO}"))[0].state_dict()
        torch.save(out, sys.argv[1])
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(cache)}
    proc = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "out.pt")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "No pretrained weights loaded" not in proc.stderr and "Could not find" not in proc.stderr
    out = torch.load(tmp_path / "out.pt", weights_only=True)
    for key in ("hub", "dir", "file", "ours"):
        assert same_weights(tiny.state_dict(), out[key]), key
    assert all(out[f"{key}-quickgelu"] == 1 for key in ("hub", "dir", "file"))


def test_our_tools_take_hub_names_and_plain_open_clip_folders(tmp_path, monkeypatch, tiny):
    """A plain open_clip folder (no manifest; a pickled state dict, read weights-only) by path, local-dir:
    and hf-hub:; a name missing from the cache and a folder holding another architecture's weights are one
    error each."""
    from huggingface_hub import constants

    folder = tmp_path / "laion-style"
    folder.mkdir()
    (folder / "open_clip_config.json").write_text(
        json.dumps({"model_cfg": network_config(TINY), "preprocess_cfg": {}})
    )
    torch.save(tiny.state_dict(), folder / "open_clip_pytorch_model.bin")
    wrong = tmp_path / "wrong"
    shutil.copytree(folder, wrong)
    config = json.loads((wrong / "open_clip_config.json").read_text())
    config["model_cfg"]["embed_dim"] = 32
    (wrong / "open_clip_config.json").write_text(json.dumps(config))
    cache = tmp_path / "hub"
    write_hub_cache(cache, "org/tiny", folder)
    write_hub_cache(cache, "org/wrong", wrong)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    for text in (str(folder), f"local-dir:{folder}", "hf-hub:org/tiny"):
        spec = ModelSpec.parse(text)
        assert spec.kind == "open_clip" and spec.label == text
        assert same_weights(tiny.state_dict(), load_spec(spec)[0].state_dict()), text
    assert ModelSpec.parse(str(folder)).fingerprint() == ModelSpec.parse("hf-hub:org/tiny").fingerprint()
    with pytest.raises(FormatError, match=r"^hf-hub:org/missing: not in the local Hugging Face cache"):
        ModelSpec.parse("hf-hub:org/missing")
    with pytest.raises(
        FormatError,
        match=r"open_clip_pytorch_model\.bin: does not match architecture "
        r"hf-hub:org/wrong: \d+ of another shape",
    ):
        load_spec(ModelSpec.parse("hf-hub:org/wrong"))
