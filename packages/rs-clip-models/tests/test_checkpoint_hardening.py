"""A checkpoint's and a model folder's own files stay inside them; stored dtypes match the
network's; manifest numbers are checked: each refusal one FormatError naming the file."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from safetensors.torch import save_file

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_clip_models.models import TINY_MODEL, create_model
from rs_formats import FormatError, read_checkpoint
from rs_formats.checkpoint import MODEL_CONFIG, WEIGHTS


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model, _, _ = create_model(TINY_MODEL)
    return model


@pytest.fixture
def ckpt(tmp_path, tiny):
    return write_checkpoint(tmp_path / "ckpt", tiny.state_dict(), model_name=TINY_MODEL, step=3)


@pytest.mark.parametrize("name", [WEIGHTS, MODEL_CONFIG, "manifest.json"])
def test_a_checkpoint_file_linked_from_outside_is_refused(ckpt, tmp_path, name):
    elsewhere = tmp_path / "elsewhere" / name
    elsewhere.parent.mkdir()
    shutil.move(ckpt / name, elsewhere)
    (ckpt / name).symlink_to(elsewhere)
    with pytest.raises(FormatError, match=rf"^{ckpt / name}: .* leads outside .* through a symlink"):
        read_checkpoint(ckpt)
    with pytest.raises(FormatError, match="leads outside"):
        create_model(ckpt)


def test_a_link_that_stays_inside_the_checkpoint_is_fine(ckpt, tiny):
    (ckpt / "store").mkdir()
    shutil.move(ckpt / WEIGHTS, ckpt / "store" / WEIGHTS)
    (ckpt / WEIGHTS).symlink_to(ckpt / "store" / WEIGHTS)
    model, _, _ = create_model(ckpt)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), tiny.state_dict().values()))


def test_an_open_clip_folder_config_linked_from_outside_is_refused(ckpt, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copy(ckpt / WEIGHTS, folder / WEIGHTS)
    (folder / MODEL_CONFIG).symlink_to(ckpt / MODEL_CONFIG)  # a real config, but not the folder's own
    with pytest.raises(FormatError, match=rf"^{folder / MODEL_CONFIG}: .* leads outside"):
        create_model(folder)


def test_stored_dtypes_must_be_the_networks(tmp_path, tiny):
    state = {k: v.clone() for k, v in tiny.state_dict().items()}
    key = next(k for k, v in state.items() if v.dtype == torch.float32 and v.ndim == 2)
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file(half, str(tmp_path / "half.safetensors"))
    model, _, _ = create_model(TINY_MODEL, weights=tmp_path / "half.safetensors")  # fp16 -> fp32 allowed
    assert model.state_dict()[key].dtype == torch.float32
    assert torch.equal(model.state_dict()[key], state[key].half().float())
    int8 = dict(state, **{key: state[key].mul(100).round().clamp(-128, 127).to(torch.int8)})
    save_file(int8, str(tmp_path / "int8.safetensors"))
    with pytest.raises(FormatError) as err:
        create_model(TINY_MODEL, weights=tmp_path / "int8.safetensors")
    line = str(err.value)
    assert "\n" not in line and line.startswith(str(tmp_path / "int8.safetensors"))
    assert f"tensor {key} is stored as int8, but {TINY_MODEL}'s is float32" in line


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("step", "abc", r"'step' is 'abc', not a non-negative integer"),
        ("step", -1, r"'step' is '-1', not a non-negative integer"),
        ("step", True, r"'step' is 'True', not a non-negative integer"),
        ("metrics", [1], r"'metrics' is a list, not an object"),
        ("dataset", "x", r"'dataset' is a str, not an object or null"),
    ],
)
def test_manifest_numbers_and_sections_are_checked(ckpt, key, value, message):
    mpath = ckpt / "manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest[key] = value
    mpath.write_text(json.dumps(manifest))
    with pytest.raises(FormatError, match=rf"^{mpath}: {message}$"):
        read_checkpoint(ckpt)
