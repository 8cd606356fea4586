from __future__ import annotations

import json
import os
import pickle

import open_clip
import pytest
import torch

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_clip_models.models import TINY_MODEL, create_model, load_state_dict
from rs_formats import FormatError, read_checkpoint, verify_checkpoint
from rs_formats.checkpoint import WEIGHTS
from rs_formats.open_clip_config import check_open_clip_config


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model, _, _ = create_model(TINY_MODEL)
    return model


@pytest.fixture
def ckpt(tmp_path, tiny):
    return write_checkpoint(
        tmp_path / "ckpt",
        tiny.state_dict(),
        model_name=TINY_MODEL,
        step=7,
        config={"lr": 1e-3},
        metrics={"loss": 1.5},
        preprocess_config={"size": 64},
    )


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
        write_checkpoint(
            tmp_path / "c",
            tiny.state_dict(),
            model_name=TINY_MODEL,
            step=1,
            extra={"train_state": tmp_path / "does-not-exist"},
        )
    assert list(tmp_path.iterdir()) == []


def test_missing_weights_file_is_not_downloaded(tmp_path):
    with pytest.raises(FormatError, match="nothing is downloaded"):
        create_model("ViT-B-32", tmp_path / "RemoteCLIP-ViT-B-32.pt")


def test_verify_without_a_weights_checksum_fails_instead_of_saying_ok(ckpt, capsys):
    from rs_formats.cli import main

    m = json.loads((ckpt / "manifest.json").read_text())
    del m["sha256"]
    (ckpt / "manifest.json").write_text(json.dumps(m))
    assert main(["verify", str(ckpt)]) == 2
    out, err = capsys.readouterr()
    assert "ok:" not in out
    assert err == (
        f"rs-formats: error: {ckpt / 'manifest.json'}: 'sha256' is None, not a map of file names to "
        "checksums: cannot verify the weights\n"
    )
    m["sha256"] = {"other.bin": "0" * 64}
    (ckpt / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(FormatError, match=rf"no sha256 of {WEIGHTS} in 'sha256' \(got None\): cannot verify"):
        verify_checkpoint(ckpt)


@pytest.mark.parametrize(
    "path, value, message",
    [
        (
            ("model_cfg", "vision_cfg", "width"),
            0,
            r"model_cfg\.vision_cfg\.width: 0 is not a positive integer",
        ),
        (
            ("model_cfg", "vision_cfg", "width"),
            10**9,
            r"model_cfg: describes a model of about .* over the limit",
        ),
        (
            ("model_cfg", "vision_cfg", "width"),
            48,
            r"model_cfg\.vision_cfg\.width: 48 is not a multiple of head_width 32",
        ),
        (
            ("model_cfg", "vision_cfg", "patch_size"),
            128,
            r"model_cfg\.vision_cfg\.patch_size: 128 is larger than the image",
        ),
        (
            ("model_cfg", "vision_cfg", "layers"),
            [3, -1, 6, 3],
            r"model_cfg\.vision_cfg\.layers: \[3, -1, 6, 3\] is not four positive",
        ),
        (
            ("model_cfg", "text_cfg", "heads"),
            3,
            r"model_cfg\.text_cfg\.width: 64 is not a multiple of heads 3",
        ),
        (
            ("model_cfg", "text_cfg", "vocab_size"),
            "49408",
            r"model_cfg\.text_cfg\.vocab_size: '49408' is not a positive integer",
        ),
        (
            ("model_cfg", "text_cfg", "layers"),
            True,
            r"model_cfg\.text_cfg\.layers: True is not a positive integer",
        ),
        (("model_cfg", "embed_dim"), -64, r"model_cfg\.embed_dim: -64 is not a positive integer"),
        (
            ("model_cfg", "vision_cfg", "timm_model_pretrained"),
            True,
            r"model_cfg\.vision_cfg\.timm_model_pretrained: true would download",
        ),
        (("model_cfg", "text_cfg"), [], r"model_cfg\.text_cfg: expected an object, got list"),
        (("preprocess_cfg", "std"), [0.2, 0.0, 0.2], r"preprocess_cfg\.std: .* in \(0, 1\]"),
        # Sizes that count in the limit: a 10**6 context is a 4 TB causal mask, a 10**8 embedding 50 GB.
        (("model_cfg", "text_cfg", "context_length"), 10**6, r"model_cfg: describes a model of about 1e\+12"),
        (("model_cfg", "embed_dim"), 10**9, r"model_cfg: describes a model of about"),
        (
            ("model_cfg", "vision_cfg", "image_size"),
            10**6,
            r"model_cfg\.vision_cfg\.image_size: .* up to 8192",
        ),
        (
            ("model_cfg", "text_cfg", "hf_model_name"),
            "no-such-org/no-such-model",
            r"model_cfg\.text_cfg\.hf_model_name: .* would download it",
        ),
        (
            ("model_cfg", "vision_cfg", "timm_model_name"),
            "hf-hub:timm/vit_tiny_patch16_224",
            r"model_cfg\.vision_cfg\.timm_model_name: .* fetched from the Hugging Face Hub",
        ),
        (
            ("model_cfg", "vision_cfg", "timm_model_name"),
            "no_such_timm_model",
            r"model_cfg\.vision_cfg\.timm_model_name: timm knows no model 'no_such_timm_model'",
        ),
        (("preprocess_cfg", "mean"), [0.5, 0.5], r"preprocess_cfg\.mean: .* three numbers in \[0, 1\]"),
        (("preprocess_cfg", "mean"), [0.5, 2.0, 0.5], r"preprocess_cfg\.mean: .* three numbers in \[0, 1\]"),
        (("preprocess_cfg", "size"), 0, r"preprocess_cfg\.size: 0 is not a positive integer up to 8192"),
        (("preprocess_cfg", "size"), [224, 10**5], r"preprocess_cfg\.size: .* up to 8192"),
        (
            ("preprocess_cfg", "interpolation"),
            "lanczos",
            r"preprocess_cfg\.interpolation: 'lanczos' is not one of",
        ),
        (("preprocess_cfg", "resize_mode"), "crop", r"preprocess_cfg\.resize_mode: 'crop' is not one of"),
    ],
)
def test_impossible_model_configs_are_refused_before_a_model_is_built(
    ckpt, monkeypatch, path, value, message
):
    cfg_path = ckpt / "open_clip_config.json"
    cfg = json.loads(cfg_path.read_text())
    node = cfg
    for key in path[:-1]:
        node = node[key]
    if path[-1] == "timm_model_pretrained":
        node["timm_model_name"] = "vit_tiny_patch16_224"
    node[path[-1]] = value
    cfg_path.write_text(json.dumps(cfg))
    monkeypatch.setattr(
        open_clip, "create_model_and_transforms", lambda *a, **k: pytest.fail("a model was built")
    )
    monkeypatch.setattr(
        open_clip, "get_model_config", lambda name: None
    )  # as for an architecture only the file has
    with pytest.raises(FormatError, match=rf"^{cfg_path}: {message}"):
        create_model(ckpt)


@pytest.mark.parametrize(("key", "value"), [("context_length", 10**6), ("embed_dim", 10**8)])
def test_sizes_of_a_real_architecture_count_in_the_limit(key, value):
    model_cfg = json.loads(json.dumps(open_clip.get_model_config("ViT-B-32")))
    check_open_clip_config({"model_cfg": model_cfg}, "ok.json")
    (model_cfg["text_cfg"] if key == "context_length" else model_cfg)[key] = value
    with pytest.raises(FormatError, match=r"^bad\.json: model_cfg: describes a model of about"):
        check_open_clip_config({"model_cfg": model_cfg}, "bad.json")


@pytest.mark.parametrize("text", ["[" * 5000 + "]" * 5000, '{"model_cfg": 3}', "[]"])
def test_malformed_config_and_manifest_files_are_one_error(ckpt, text):
    for name in ("open_clip_config.json", "manifest.json"):
        original = (ckpt / name).read_text()
        (ckpt / name).write_text(text)
        with pytest.raises(FormatError, match=rf"^{ckpt / name}: "):
            read_checkpoint(ckpt)
        (ckpt / name).write_text(original)


def test_special_files_in_a_checkpoint_are_refused(ckpt):
    (ckpt / WEIGHTS).unlink()
    (ckpt / WEIGHTS).symlink_to("/dev/zero")
    with pytest.raises(FormatError, match=rf"{WEIGHTS}: is a character device, not a regular file"):
        read_checkpoint(ckpt)


@pytest.mark.parametrize("mask, files, dirs", [(0o022, "0o644", "0o755"), (0o027, "0o640", "0o750")])
def test_published_checkpoints_get_the_umask_modes(tmp_path, tiny, mask, files, dirs):
    state = tmp_path / "train_state"
    (state / "global_step1").mkdir(parents=True)
    (state / "global_step1" / "optim.pt").write_bytes(b"state")
    os.chmod(state / "global_step1" / "optim.pt", 0o600)  # as some writers leave their files
    old = os.umask(mask)
    try:
        ckpt = write_checkpoint(
            tmp_path / "ckpt", tiny.state_dict(), model_name=TINY_MODEL, step=1, extra={"train_state": state}
        )
    finally:
        os.umask(old)
    # safetensors writes its file 0600 on its own; the published checkpoint must not keep that.
    found = {("dir", oct(ckpt.stat().st_mode & 0o777))}
    found |= {("dir" if p.is_dir() else "file", oct(p.stat().st_mode & 0o777)) for p in ckpt.rglob("*")}
    assert found == {("dir", dirs), ("file", files)}
