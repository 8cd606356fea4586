"""The resume state under train_state/: every file's sha256 in the manifest, checked by verify."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil

import pytest
import torch

from rs_clip_models.checkpoint_writer import write_checkpoint
from rs_formats import FormatError, verify_checkpoint
from rs_formats.checkpoint import WEIGHTS, resume_state_sums
from rs_formats.cli import main as cli_main


@pytest.fixture
def ckpt(tmp_path):
    state = tmp_path / "staging"
    (state / "engine").mkdir(parents=True)
    torch.save({"step": torch.tensor(3)}, state / "engine" / "mp_rank_00_model_states.pt")
    (state / "rng-rank0.pt").write_bytes(b"rng bytes")
    weights = {"w": torch.arange(6.0).reshape(2, 3)}
    return write_checkpoint(
        tmp_path / "ckpt",
        weights,
        model_name="RS-Tiny",
        step=3,
        extra={"train_state": state},
    )


def test_every_file_of_the_resume_state_is_listed_with_its_sha256(ckpt):
    sums = json.loads((ckpt / "manifest.json").read_text())["sha256"]
    files = sorted(p.relative_to(ckpt).as_posix() for p in (ckpt / "train_state").rglob("*") if p.is_file())
    assert files == ["train_state/engine/mp_rank_00_model_states.pt", "train_state/rng-rank0.pt"]
    assert set(sums) == {WEIGHTS, *files}
    for rel in files:
        assert sums[rel] == hashlib.sha256((ckpt / rel).read_bytes()).hexdigest()
    info = verify_checkpoint(ckpt)
    assert resume_state_sums(info) == {rel: sums[rel] for rel in files}


def _verify_fails(ckpt, match: str) -> None:
    with pytest.raises(FormatError, match=match):
        verify_checkpoint(ckpt)


def test_an_altered_file_is_named(ckpt):
    path = ckpt / "train_state" / "engine" / "mp_rank_00_model_states.pt"
    data = bytearray(path.read_bytes())
    data[-30] ^= 0xFF
    path.write_bytes(bytes(data))
    _verify_fails(
        ckpt,
        re.escape(f"{path}: sha256 mismatch with the manifest: the resume state is corrupt or was altered"),
    )


def test_an_added_or_a_missing_file_is_named(ckpt):
    extra = ckpt / "train_state" / "engine" / "zero_pp_rank_0_mp_rank_00_optim_states.pt"
    extra.write_bytes(b"x")
    _verify_fails(ckpt, re.escape(f"{extra}: not listed in the manifest's sha256"))
    extra.unlink()
    (ckpt / "train_state" / "rng-rank0.pt").unlink()
    _verify_fails(ckpt, r"train_state/rng-rank0\.pt: missing: the manifest lists it")


def test_links_and_special_files_are_refused_without_being_read(ckpt, tmp_path):
    rng = ckpt / "train_state" / "rng-rank0.pt"
    rng.unlink()
    rng.symlink_to(tmp_path / "staging-outside")
    _verify_fails(ckpt, re.escape(f"{rng}: a symbolic link inside an rs-clip-checkpoint"))
    rng.unlink()
    os.mkfifo(rng)  # reading it would block forever
    _verify_fails(ckpt, re.escape(f"{rng}: is a FIFO (named pipe), not a regular file; refusing to read it"))


def test_a_manifest_without_resume_state_checksums_cannot_be_verified(ckpt):
    manifest = json.loads((ckpt / "manifest.json").read_text())
    manifest["sha256"] = {WEIGHTS: manifest["sha256"][WEIGHTS]}
    (ckpt / "manifest.json").write_text(json.dumps(manifest))
    _verify_fails(ckpt, r"train_state: the manifest records no checksums for the resume state")


def test_the_cli_reports_one_line_naming_the_file(ckpt, capsys):
    assert cli_main(["verify", str(ckpt)]) == 0
    assert capsys.readouterr().out.strip().endswith(f"ok: {ckpt}")
    (ckpt / "train_state" / "rng-rank0.pt").write_bytes(b"other bytes")
    assert cli_main(["verify", str(ckpt)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"rs-formats: error: {ckpt / 'train_state' / 'rng-rank0.pt'}: sha256 mismatch "
        "with the manifest: the resume state is corrupt or was altered"
    ]


def test_a_checkpoint_without_its_resume_state_verifies_as_having_none(ckpt, capsys):
    """A Hub copy (upload_folder ignoring train_state/*) keeps the manifest's entries; the checkpoint loads
    and verifies, and the CLI says there is no resume state. An emptied train_state/ is still checked."""
    (ckpt / "train_state" / "rng-rank0.pt").unlink()
    _verify_fails(ckpt, r"train_state/rng-rank0\.pt: missing: the manifest lists it")
    shutil.rmtree(ckpt / "train_state")
    assert verify_checkpoint(ckpt).step == 3
    assert cli_main(["verify", str(ckpt)]) == 0
    assert capsys.readouterr().out.strip().endswith(f"ok: {ckpt} (no resume state)")
    assert cli_main(["info", str(ckpt)]) == 0
