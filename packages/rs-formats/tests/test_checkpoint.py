from __future__ import annotations

import json
import pickle

import open_clip
import pytest
import torch

from rs_formats import FormatError, read_checkpoint, verify_checkpoint, write_checkpoint
from rs_formats.checkpoint import WEIGHTS
from rs_formats.models import TINY_MODEL, create_model, load_state_dict


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model, _, _ = create_model(TINY_MODEL)
    return model


@pytest.fixture
def ckpt(tmp_path, tiny):
    return write_checkpoint(tmp_path / "ckpt", tiny.state_dict(), model_name=TINY_MODEL, step=7,
                            config={"lr": 1e-3}, metrics={"loss": 1.5}, preprocess_config={"size": 64})


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_round_trip_through_our_loader(ckpt, tiny):
    info = verify_checkpoint(ckpt)
    assert info.model_name == TINY_MODEL and info.step == 7 and info.manifest["metrics"] == {"loss": 1.5}
    model, _, tokenizer = create_model(ckpt)
    assert same_weights(model, tiny)
    assert tokenizer(["two planes"]).shape == (1, 32)


def test_open_clip_loads_it_with_no_code_of_ours(ckpt, tiny):
    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{ckpt}")
    assert same_weights(model, tiny)
    # Built-in architectures load the same file through the usual `pretrained=` path.
    vit = open_clip.create_model("ViT-B-32")
    path = write_checkpoint(ckpt.parent / "vit", vit.state_dict(), model_name="ViT-B-32", step=0)
    again = open_clip.create_model("ViT-B-32", pretrained=str(path / WEIGHTS))
    assert same_weights(again, vit)


def test_logit_scale_of_shape_one_is_accepted(tmp_path, tiny):
    state = dict(tiny.state_dict())
    state["logit_scale"] = state["logit_scale"].reshape(1)  # as DeepSpeed holds it
    path = write_checkpoint(tmp_path / "c", state, model_name=TINY_MODEL, step=1)
    model, _, _ = create_model(path)
    assert model.logit_scale.ndim == 0 and torch.equal(model.logit_scale, tiny.logit_scale)


def test_remoteclip_style_pt_with_wrappers_and_prefixes(tmp_path, tiny):
    wrapped = {"epoch": 3, "state_dict": {f"module.{k}": v for k, v in tiny.state_dict().items()}}
    torch.save(wrapped, tmp_path / "RemoteCLIP-RS-Tiny.pt")
    model, _, _ = create_model(TINY_MODEL, tmp_path / "RemoteCLIP-RS-Tiny.pt")
    assert same_weights(model, tiny)


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_pickles_with_objects_are_refused(tmp_path):
    with open(tmp_path / "evil.pt", "wb") as f:
        pickle.dump({"state_dict": {}, "x": Evil()}, f)
    with pytest.raises(FormatError, match=r"evil\.pt: holds Python objects beyond tensors"):
        load_state_dict(tmp_path / "evil.pt")


def test_wrong_architecture_names_the_first_mismatching_keys(ckpt):
    with pytest.raises(FormatError, match=r"does not match architecture ViT-B-32: \d+ missing \(first: "):
        create_model("ViT-B-32", ckpt / WEIGHTS)


def test_missing_manifest(ckpt):
    (ckpt / "manifest.json").unlink()
    with pytest.raises(FormatError, match=r"manifest\.json: missing"):
        read_checkpoint(ckpt)


def test_unknown_version(ckpt):
    m = json.loads((ckpt / "manifest.json").read_text())
    m["format_version"] = 99
    (ckpt / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(FormatError, match="format_version 99 is not supported"):
        create_model(ckpt)


def test_a_pickle_inside_is_refused(ckpt, tiny):
    torch.save(tiny.state_dict(), ckpt / "model.pt")
    with pytest.raises(FormatError, match=r"model\.pt: a pickle file inside"):
        read_checkpoint(ckpt)


def test_pickle_disguised_as_safetensors(ckpt, tiny):
    torch.save(tiny.state_dict(), ckpt / WEIGHTS)
    with pytest.raises(FormatError, match=rf"{WEIGHTS}: not a safetensors file"):
        create_model(ckpt)


def test_corrupt_weights_fail_verification(ckpt):
    data = bytearray((ckpt / WEIGHTS).read_bytes())
    data[-10] ^= 0xFF
    (ckpt / WEIGHTS).write_bytes(bytes(data))
    with pytest.raises(FormatError, match="sha256 mismatch"):
        verify_checkpoint(ckpt)


def test_failed_write_leaves_nothing(tmp_path, tiny):
    with pytest.raises(FileNotFoundError):
        write_checkpoint(tmp_path / "c", tiny.state_dict(), model_name=TINY_MODEL, step=1,
                         extra={"train_state": tmp_path / "does-not-exist"})
    assert list(tmp_path.iterdir()) == []


def test_missing_weights_file_is_not_downloaded(tmp_path):
    with pytest.raises(FormatError, match="nothing is downloaded"):
        create_model("ViT-B-32", tmp_path / "RemoteCLIP-ViT-B-32.pt")
