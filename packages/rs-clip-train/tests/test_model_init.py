"""``--model`` and ``--init``: the network a run builds, what it records, and the weights it starts from.

``--init`` takes what open_clip users already have (a Hub name from the local cache, an open_clip folder,
an rs-clip-checkpoint, ``NAME:FILE``), and every checkpoint records the exact open_clip config, so a
QuickGELU network stays QuickGELU for whoever reads the checkpoint. No Ray here: only model building and
the checks ``fit`` runs before it starts any worker.
"""

from __future__ import annotations

import logging

import pytest
import torch
from conftest import write_caption_dataset
from huggingface_hub import constants
from open_clip.transformer import QuickGELU

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_clip_models.models import create_model, network_config
from rs_clip_train.cli import main
from rs_clip_train.config import ModelConfig
from rs_clip_train.model import build_model
from rs_synth.writers.hf_hub_cache import write_hub_cache

TINY = "RS-Tiny-quickgelu"


def same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A QuickGELU tiny model, as a checkpoint and in a Hub cache as ORG/NAME."""
    torch.manual_seed(3)
    model, _, _ = create_model(TINY)
    root = tmp_path_factory.mktemp("init")
    ckpt = write_checkpoint(root / "ckpt", model.state_dict(), model_name=TINY, step=5)
    torch.save(model.state_dict(), root / "weights.pt")
    return model, ckpt, write_hub_cache(root / "hub", "org/tiny", ckpt), root


@pytest.mark.parametrize(
    "init",
    ["hf-hub:org/tiny", "local-dir:{ckpt}", "{ckpt}", f"{TINY}:{{root}}/weights.pt", "{root}/weights.pt"],
)
def test_init_takes_what_open_clip_users_have(init, trained, monkeypatch):
    model, ckpt, cache, root = trained
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    bundle = build_model(ModelConfig(name=TINY, init=init.format(ckpt=ckpt, root=root)))
    assert same(bundle.model, model)
    assert bundle.model_cfg == network_config(TINY) and bundle.model_cfg["quick_gelu"]


def test_a_checkpoint_as_the_model_keeps_its_recorded_network(trained):
    model, ckpt, _, _ = trained
    bundle = build_model(ModelConfig(name=str(ckpt)))
    assert bundle.name == TINY and bundle.model_cfg["quick_gelu"] and same(bundle.model, model)
    assert {type(m.mlp.gelu) for m in bundle.model.modules() if hasattr(m, "mlp")} == {QuickGELU}


def test_weights_continued_under_another_activation_are_warned(trained, caplog):
    _, ckpt, _, _ = trained
    with caplog.at_level(logging.WARNING):
        build_model(ModelConfig(name="RS-Tiny", init=str(ckpt)))
    assert f"{ckpt}: trained as {TINY} (QuickGELU), but loaded into RS-Tiny (GELU)" in caplog.text


@pytest.mark.parametrize(
    ("init", "why"),
    [("hf-hub:org/absent", "not in the local Hugging Face cache"), ("RS-Tiny", "names no weights")],
)
def test_an_init_that_cannot_work_is_one_line(init, why, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "empty"))
    data = write_caption_dataset(tmp_path / "captions", n=8)
    code = main(
        [
            "fit",
            "--preset",
            "tiny",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "run"),
            "--steps",
            "1",
            "--init",
            init,
        ]
    )
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith(f"rs-clip-train: error: {init}: ")
    assert why in lines[0] and not (tmp_path / "run").exists()
