"""The run directory (shared by all nodes, unless the run is kept in ``--storage``) and the names in it::

run.yaml                    the TrainConfig of this run
metrics.jsonl               one JSON object per logged step (rank 0)
checkpoints/step-00000100/  rs-clip-checkpoints; train_state/ inside holds DeepSpeed's resume state
checkpoints/latest          symlink to the newest complete checkpoint
final                       symlink to the checkpoint written at the end of the run
logs/worker-0.log           what libraries print in each Ray worker (DeepSpeed, torch, Ray Train), per rank
"""

from __future__ import annotations

import os
from pathlib import Path

from rs_formats.checkpoint import TRAIN_STATE

RUN_YAML = "run.yaml"
CHECKPOINTS = "checkpoints"
METRICS = "metrics.jsonl"
LATEST = "latest"
FINAL = "final"
LOGS = "logs"


def checkpoint_name(step: int) -> str:
    return f"step-{step:08d}"


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run, or None."""
    from rs_formats import FormatError, read_checkpoint

    root = Path(run_dir) / CHECKPOINTS
    if not root.is_dir():
        return None
    for path in sorted(root.glob("step-*"), reverse=True):
        try:
            read_checkpoint(path)
        except FormatError:
            continue
        if (path / TRAIN_STATE).is_dir():
            return path
    return None


def relink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` atomically (readers see the old or the new target)."""
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)


def link_final(run_dir: Path, checkpoint: Path) -> None:
    """``RUN_DIR/final`` -> ``checkpoints/<checkpoint>`` (relative, so the run directory can move)."""
    relink(run_dir / FINAL, f"{CHECKPOINTS}/{checkpoint.name}")
