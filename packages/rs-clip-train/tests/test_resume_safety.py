"""Resuming never unpickles: a resume state is checked against the manifest's checksums and read with
torch's weights_only loader, by the driver before any worker starts and by DeepSpeed inside the worker."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch
from conftest import ARGS, EVERY

from rs_clip_train.cli import main
from rs_formats.checkpoint import WEIGHTS

pytestmark = pytest.mark.slow


class _Payload:
    """What a hostile resume state holds: unpickling it runs code (here: it writes ``marker``)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').write('the payload ran')",)


def _copy_first_checkpoint(run: Path, to: Path) -> Path:
    first = f"step-{EVERY:08d}"
    shutil.copytree(run / "checkpoints" / first, to / "checkpoints" / first)
    (to / "checkpoints" / "latest").symlink_to(first)
    return to / "checkpoints" / first


def _plant(state_file: Path, marker: Path) -> None:
    """Replace a file of the resume state by a torch file whose pickle runs code, and show that it does."""
    torch.save({"optimizer_state_dict": {"loss_scaler": _Payload(marker)}}, state_file)
    torch.load(state_file, weights_only=False)  # what DeepSpeed itself would do
    assert marker.read_text() == "the payload ran"
    marker.unlink()


def _set_manifest_sums(checkpoint: Path, sums: dict[str, str]) -> None:
    manifest = json.loads((checkpoint / "manifest.json").read_text())
    manifest["sha256"] = sums
    (checkpoint / "manifest.json").write_text(json.dumps(manifest))


def _resume(capsys, run_dir: Path, caption_ds: Path, stage: int) -> tuple[int, str]:
    code = main(
        [
            "fit",
            "--launcher",
            "none",
            *ARGS,
            "--zero-stage",
            str(stage),
            "--data",
            str(caption_ds),
            "--out",
            str(run_dir),
        ]
    )
    return code, capsys.readouterr().err


def test_a_hostile_resume_state_is_refused_and_its_payload_never_runs(
    zero_runs, caption_ds, tmp_path, capsys
):
    from rs_formats import verify_checkpoint

    run_dir, marker = tmp_path / "run", tmp_path / "payload-ran"
    ckpt = _copy_first_checkpoint(zero_runs[2], run_dir)
    hostile = ckpt / "train_state" / "engine" / "zero_pp_rank_1_mp_rank_00_optim_states.pt"
    _plant(hostile, marker)
    # A complete forgery: the manifest's checksums match the planted file, so verify finds nothing wrong.
    sums = json.loads((ckpt / "manifest.json").read_text())["sha256"]
    _set_manifest_sums(
        ckpt, sums | {hostile.relative_to(ckpt).as_posix(): hashlib.sha256(hostile.read_bytes()).hexdigest()}
    )
    verify_checkpoint(ckpt)

    code, err = _resume(capsys, run_dir, caption_ds, 2)
    assert code == 2 and not marker.exists()
    assert err.splitlines() == [
        f"rs-clip-train: error: {hostile}: holds a reference to exec, not only "
        "tensors and plain data: a resume state is never unpickled beyond those; refusing it"
    ]
    assert not (run_dir / "metrics.jsonl").exists()  # refused before any worker trained


def test_an_altered_resume_state_is_refused_naming_the_file(torchrun_run, caption_ds, tmp_path, capsys):
    run_dir = tmp_path / "run"
    ckpt = _copy_first_checkpoint(torchrun_run, run_dir)
    state = ckpt / "train_state" / "engine" / "mp_rank_00_model_states.pt"
    data = bytearray(state.read_bytes())
    data[len(data) // 2] ^= 0x01
    state.write_bytes(bytes(data))
    code, err = _resume(capsys, run_dir, caption_ds, 0)
    assert code == 2 and "Traceback" not in err
    assert err.splitlines() == [
        f"rs-clip-train: error: {state}: sha256 mismatch with the manifest: the resume "
        "state is corrupt or was altered"
    ]


def test_deepspeed_reads_the_resume_state_only_through_the_safe_loader(torchrun_run, caption_ds, tmp_path):
    """The worker on its own, without the driver's check, and with a manifest that lists no checksums for
    the resume state (as written before they were recorded): DeepSpeed's load is still refused."""
    from rs_clip_train import DataSource, preset
    from rs_clip_train.launch_common import prepare
    from rs_clip_train.launch_torchrun import _process_group
    from rs_clip_train.worker import loop_config, train
    from rs_clip_train.worker_session import PlainSession
    from rs_formats import FormatError

    run_dir, marker = tmp_path / "run", tmp_path / "payload-ran"
    ckpt = _copy_first_checkpoint(torchrun_run, run_dir)
    hostile = ckpt / "train_state" / "engine" / "mp_rank_00_model_states.pt"  # what DeepSpeed reads first
    _plant(hostile, marker)
    sums = json.loads((ckpt / "manifest.json").read_text())["sha256"]
    _set_manifest_sums(ckpt, {WEIGHTS: sums[WEIGHTS]})

    cfg = preset("tiny")
    cfg.data.sources, cfg.out, cfg.steps = [DataSource(str(caption_ds))], str(run_dir), 2 * EVERY
    cfg.data.loader_workers, cfg.launcher = 0, "none"
    run, facts = prepare(cfg)
    cpu = torch.device("cpu")
    with _process_group(cpu), pytest.raises(FormatError, match="holds a reference to exec,") as exc:
        train(loop_config(run, facts, None, None), PlainSession(cpu))
    assert exc.value.path == hostile and not marker.exists()
