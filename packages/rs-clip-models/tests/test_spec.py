"""``--model`` specs: the forms every evaluating command accepts."""

from __future__ import annotations

import pytest
import torch

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_clip_models.models import TINY_MODEL, create_model, load_spec
from rs_clip_models.spec import ModelSpec
from rs_formats import FormatError


@pytest.fixture
def tiny_checkpoint(tmp_path):
    model, _, _ = create_model(TINY_MODEL)
    return write_checkpoint(tmp_path / "ckpt", model.state_dict(), model_name=TINY_MODEL, step=7)


def test_parse_forms(tiny_checkpoint, tmp_path):
    ck = ModelSpec.parse(str(tiny_checkpoint))
    assert (ck.kind, ck.arch) == ("checkpoint", "RS-Tiny") and "step 7" in ck.label
    rnd = ModelSpec.parse("RS-Tiny")
    assert rnd.kind == "random" and rnd.label == "RS-Tiny (random init)"
    named = ModelSpec.parse(f"trained={tiny_checkpoint}")
    assert named.label == "trained" and named.kind == "checkpoint"
    weights = tmp_path / "w.pt"
    torch.save(
        {"state_dict": {"module." + k: v for k, v in torch.nn.Linear(2, 2).state_dict().items()}}, weights
    )
    f = ModelSpec.parse(f"ViT-B-32:{weights}")
    assert (f.kind, f.arch, f.path) == ("file", "ViT-B-32", weights)
    with pytest.raises(FormatError, match="no such weights file"):
        ModelSpec.parse(f"ViT-B-32:{tmp_path / 'missing.pt'}")
    with pytest.raises(FormatError, match="NAME:PATH"):
        ModelSpec.parse(str(weights))
    with pytest.raises(FormatError, match="no such checkpoint directory"):
        ModelSpec.parse(str(tmp_path / "nope" / "ckpt"))


def test_random_init_is_the_same_every_time_and_spares_the_callers_rng():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, _, _ = load_spec(ModelSpec.parse("RS-Tiny"))
    b, _, _ = load_spec(ModelSpec.parse("RS-Tiny"))
    assert torch.rand(1).item() == before.item()
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
