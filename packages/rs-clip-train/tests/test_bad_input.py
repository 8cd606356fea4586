"""Bad input stops before any training, with one line naming the problem (no traceback, no run dir)."""

import json
import shutil
from pathlib import Path

import pytest
from conftest import write_caption_dataset

from rs_clip_train.cli import main
from rs_formats.checkpoint import WEIGHTS


def _fit(capsys, tmp_path: Path, *args: str) -> tuple[int, str]:
    code = main(["fit", "--out", str(tmp_path / "run"), "--steps", "2", *args])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not (tmp_path / "run").exists()
    return code, err


def test_unknown_preset(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["fit", "--preset", "vit-h-99", "--data", "x", "--out", "y"])
    assert exc.value.code == 2
    assert "invalid choice: 'vit-h-99'" in capsys.readouterr().err


def test_missing_dataset_dir(capsys, tmp_path):
    code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--data", str(tmp_path / "nope"))
    assert code == 2 and f"{tmp_path / 'nope'}: no such dataset directory" in err


def test_dataset_of_the_wrong_kind(capsys, tmp_path):
    ds = write_caption_dataset(tmp_path / "cls", n=8, kind="classification", name="cls")
    code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--data", str(ds))
    assert code == 2 and "is a 'classification' dataset; training needs a 'captions' dataset" in err


def test_unknown_format_version(capsys, tmp_path, caption_ds):
    ds = tmp_path / "future"
    shutil.copytree(caption_ds, ds)
    manifest = json.loads((ds / "manifest.json").read_text())
    (ds / "manifest.json").write_text(json.dumps(manifest | {"format_version": 3}))
    code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--data", str(ds))
    assert code == 2 and "manifest.json: format_version 3 is not supported" in err


def test_unknown_model_and_missing_init(capsys, tmp_path, caption_ds):
    code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--model", "ViT-Q-1", "--data", str(caption_ds))
    assert code == 2 and "unknown model 'ViT-Q-1'" in err
    code, err = _fit(
        capsys, tmp_path, "--preset", "tiny", "--init", str(tmp_path / "w.pt"), "--data", str(caption_ds)
    )
    assert code == 2 and "w.pt: no such weights file (nothing is downloaded" in err


def test_missing_out_and_data(capsys, tmp_path):
    assert main(["fit", "--preset", "tiny", "--data", "x"]) == 2
    assert "--out RUN_DIR is required" in capsys.readouterr().err
    assert main(["fit", "--preset", "tiny", "--out", str(tmp_path / "r")]) == 2
    assert "no training data" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_state():
    import torch

    from rs_clip_models.models import TINY_MODEL, create_model

    torch.manual_seed(0)
    return create_model(TINY_MODEL)[0].state_dict()


def test_init_files_are_checked_before_anything_starts(capsys, tmp_path, caption_ds, tiny_state):
    """Format and fit to the architecture, one line naming the file, before a worker (or Ray) starts."""
    import torch
    from safetensors.torch import save_file

    def fit_init(path) -> str:
        code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--init", str(path), "--data", str(caption_ds))
        assert code == 2 and len(err.splitlines()) == 1
        return err

    short = dict(tiny_state)
    del short["text_projection"]
    save_file({k: v.contiguous() for k, v in short.items()}, tmp_path / "other.safetensors")
    assert (
        "other.safetensors: does not match architecture RS-Tiny: 1 missing (first: text_projection)"
        in fit_init(tmp_path / "other.safetensors")
    )

    (tmp_path / "garbage.safetensors").write_bytes(b"\x00" * 64)
    assert "garbage.safetensors: not a safetensors file" in fit_init(tmp_path / "garbage.safetensors")

    marker = tmp_path / "payload-ran"

    class Payload:
        def __reduce__(self):
            return exec, (f"open({str(marker)!r}, 'w')",)

    torch.save({"state_dict": tiny_state, "hook": Payload()}, tmp_path / "hostile.pt")
    assert "hostile.pt: holds Python objects beyond tensors; refusing to unpickle it" in fit_init(
        tmp_path / "hostile.pt"
    )
    assert not marker.exists()


def test_a_model_checkpoint_with_broken_weights_is_named(capsys, tmp_path, caption_ds, tiny_state):
    from rs_clip_models.checkpoint_writer import write_checkpoint
    from rs_clip_models.models import TINY_MODEL

    ckpt = write_checkpoint(tmp_path / "ckpt", tiny_state, model_name=TINY_MODEL, step=1)
    weights = ckpt / WEIGHTS
    weights.write_bytes(weights.read_bytes()[:1000])
    code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--model", str(ckpt), "--data", str(caption_ds))
    assert code == 2 and f"{weights}: " in err and len(err.splitlines()) == 1


def test_a_split_the_dataset_lacks(capsys, tmp_path, caption_ds):
    code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--data", str(caption_ds), "--split", "train,val")
    assert code == 2 and err.strip().splitlines() == [
        f"rs-clip-train: error: {caption_ds}: has no split 'val' (its manifest lists: train)"
    ]
    code, err = _fit(capsys, tmp_path, "--preset", "tiny", "--data", f"{caption_ds}@tset")
    assert code == 2 and f"{caption_ds}: has no split 'tset'" in err
