"""A worker's part in the run's checkpoints: staging, publishing, pruning, reporting, resuming.

Every rank writes its engine state (and its RNG state) into a hidden staging directory; when all have,
rank 0 writes the weights and renames the whole checkpoint into place, so ``checkpoints/step-*`` is always
complete. Hidden entries found at start-up are stagings an interrupted attempt never published. Resuming
reads the engine and RNG state only through :mod:`rs_clip_train.resume_state` (checksums, never unpickled).

With ``--storage`` no directory is shared: each rank stages its own part in its node's working copy and
Ray Train assembles the checkpoint in the store (:mod:`rs_clip_train.storage`); nothing is published or
pruned locally (Ray prunes the store).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from rs_formats.checkpoint import TRAIN_STATE

from .distributed import barrier, broadcast_from_rank0, gather_objects, is_rank0
from .run_dir import CHECKPOINTS, LATEST, checkpoint_name, latest_checkpoint, relink

if TYPE_CHECKING:
    from .config import TrainConfig
    from .metrics import MetricsLog
    from .model import ModelBundle
    from .worker_session import Session

#: DeepSpeed's tag for the engine state inside ``train_state/``.
ENGINE_TAG = "engine"
#: What DeepSpeed copies into every ZeRO checkpoint besides the state: its scripts that consolidate the
#: shards into full weights. model.safetensors holds those already, and a resume state holds data only.
RECOVERY_SCRIPTS = ("zero_to_fp32.py", "zero_to_torch.py")


def _rng_file(state_dir: Path, rank: int) -> Path:
    return state_dir / f"rng-rank{rank}.pt"


def _rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class Checkpoints:
    """The checkpoints of one run as one worker sees them. ``save`` is collective: every rank calls it."""

    def __init__(
        self,
        run: TrainConfig,
        engine: Any,
        bundle: ModelBundle,
        scalars: set[str],
        *,
        session: Session,
        dataset_info: dict[str, Any] | None = None,
    ):
        self.run, self.engine, self.bundle, self.scalars = run, engine, bundle, scalars
        self.session, self.dataset_info = session, dataset_info
        self.rank, self.device = session.rank, session.device
        self.root = Path(run.out) / CHECKPOINTS

    def load(self, path: Path) -> int:
        """Restore the engine, scheduler and this rank's RNG from checkpoint ``path``; returns its step."""
        from rs_formats import read_checkpoint

        from .resume_state import ResumeState, reading_through

        info = read_checkpoint(path)
        state = path / TRAIN_STATE
        resume = ResumeState(path)
        with reading_through(self.engine, resume):
            load_path, _ = self.engine.load_checkpoint(str(state), tag=ENGINE_TAG)
        if load_path is None:
            raise RuntimeError(f"{state}: DeepSpeed found no engine state to resume from")
        if self.run.engine.zero_stage == 3:
            # ZeRO-3 loading leaves the small (persistent) parameters gathered, where a fresh engine has
            # every parameter partitioned. DeepSpeed registers a parameter read outside its module's forward
            # (logit_scale, attention's out_proj) only when it finds it partitioned, so after a resume that
            # would happen at the first checkpoint, after the parameter fetch order was recorded, and the
            # next step fails ("tracing error"). Partitioned again, the resumed engine starts as a fresh one.
            self.engine.empty_partition_cache()
        rng = _rng_file(state, self.rank)
        if rng.exists():
            _set_rng_state(resume.load(rng), self.device)
        return info.step

    def prepare(self) -> None:
        """Create the checkpoints directory and drop what an earlier attempt left in it: unpublished
        stagings, loaded downloads (collective, after every rank has loaded its resume state)."""
        self.root.mkdir(parents=True, exist_ok=True)
        nodes = gather_objects(self.session.node_id)
        # With --storage each node has its own working copy, shared by its ranks, and a restart may place
        # other ranks on a node than before (a killed rank's staging is nobody's now): the node's lowest
        # rank clears it. On a filesystem all nodes share, rank 0 does.
        cleaner = nodes.index(nodes[self.rank]) if self.run.storage is not None else 0
        if self.rank == cleaner:
            for entry in self.root.glob(".*"):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
        barrier()

    def save(self, step: int, metrics: dict[str, Any], log: MetricsLog | None) -> Path:
        """Write checkpoint ``step-N``, evaluate it if asked, publish it, prune, and report it."""
        name = checkpoint_name(step)
        if self.run.storage is not None:
            return self._save_part(name, step, metrics, log)
        final = self.root / name
        staging = self.root / f".{name}.{TRAIN_STATE}"
        if self.rank == 0 and staging.exists():
            shutil.rmtree(staging)
        barrier()
        self.engine.save_checkpoint(str(staging), tag=ENGINE_TAG, save_latest=False)
        torch.save(_rng_state(self.device), _rng_file(staging, self.rank))
        state = self._full_state_dict()
        barrier()  # every rank's part of the engine state is on disk
        if self.rank == 0:
            for script in RECOVERY_SCRIPTS:
                (staging / script).unlink(missing_ok=True)
            metrics = self._write(final, state, step, metrics, log, staging)
            relink(self.root / LATEST, name)
            self._prune()
        barrier()
        self.session.report(metrics, final if self.rank == 0 else None)
        return final

    def _save_part(self, name: str, step: int, metrics: dict[str, Any], log: MetricsLog | None) -> Path:
        """``save`` with ``--storage``: this rank's part of the checkpoint, in the stored layout, reported
        for Ray to upload into the stored ``checkpoints/<name>``; rank 0's part holds the weights and the
        manifest, which lists every rank's files."""
        from rs_formats.checkpoint import files_under
        from rs_formats.hashing import file_sha256

        holder = self.root / f".{name}.rank-{self.rank}"  # this rank's, in its node's working copy
        shutil.rmtree(holder, ignore_errors=True)
        staging, part = holder / "staging" / TRAIN_STATE, holder / name
        (staging / ENGINE_TAG).mkdir(parents=True)  # DeepSpeed creates it on rank 0 only
        self.engine.save_checkpoint(str(staging), tag=ENGINE_TAG, save_latest=False)
        torch.save(_rng_state(self.device), _rng_file(staging, self.rank))
        for script in RECOVERY_SCRIPTS:
            (staging / script).unlink(missing_ok=True)
        state = self._full_state_dict()
        mine = {rel: file_sha256(staging.parent / rel) for rel in files_under(staging.parent, TRAIN_STATE)}
        sums = gather_objects(mine)
        if self.rank == 0:
            others = {rel: sha for rank_sums in sums[1:] for rel, sha in rank_sums.items()}
            metrics = self._write(part, state, step, metrics, log, staging, others)
        else:
            part.mkdir()
            staging.rename(part / TRAIN_STATE)
        self.session.report(metrics, part)  # uploaded before it returns
        shutil.rmtree(holder, ignore_errors=True)
        return self.root / name

    def _write(
        self,
        path: Path,
        state: dict[str, torch.Tensor],
        step: int,
        metrics: dict[str, Any],
        log: MetricsLog | None,
        staging: Path,
        others: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Evaluate (if asked) and write the checkpoint at ``path`` (rank 0); returns its metrics."""
        from rs_clip_models.checkpoint_writer import write_checkpoint

        b = self.bundle
        if self.run.eval_data:
            from .evaluate import retrieval

            scores = retrieval(state, b.name, self.run.eval_data, self.run.eval_split, self.device)
            metrics = {**metrics, **scores}
            if log is not None:
                log.write({"step": step, **scores})
        write_checkpoint(
            path,
            state,
            model_name=b.name,
            step=step,
            config=self.run.to_dict(),
            metrics=metrics,
            dataset=self.dataset_info,
            model_config=b.model_cfg,
            preprocess_config=b.preprocess_cfg,
            extra={TRAIN_STATE: staging},
            extra_sha256=others,
            overwrite=True,
        )
        return metrics

    def _full_state_dict(self) -> dict[str, torch.Tensor] | None:
        """open_clip's state dict of the trained model on rank 0 (gathered under ZeRO-3), None elsewhere."""
        from .model import export_state_dict

        clip = self.engine.module.clip
        if self.run.engine.zero_stage == 3:
            import deepspeed

            with deepspeed.zero.GatheredParameters(list(clip.parameters()), modifier_rank=None):
                return export_state_dict(clip, self.scalars) if self.rank == 0 else None
        return export_state_dict(clip, self.scalars) if self.rank == 0 else None

    def _prune(self) -> None:
        steps = sorted(self.root.glob("step-*"))
        for old in steps[: -self.run.keep]:
            shutil.rmtree(old, ignore_errors=True)


def resume_point(run: TrainConfig, requested: str | None, restored: Path | None) -> Path | None:
    """The checkpoint every rank resumes from: the newest of the launcher's (``restored``, after a worker
    failure) and the run directory's (a resumed run, or a checkpoint written just before a crash that the
    launcher never registered). Rank 0 decides, so all ranks agree. With ``--storage`` it is the
    launcher's alone, Ray's record of the store, which every rank downloaded for itself."""
    if run.storage is not None:
        return restored
    choice = None
    if is_rank0():
        from rs_formats import read_checkpoint

        candidates = [latest_checkpoint(run.out), Path(requested) if requested else None, restored]
        found = [(read_checkpoint(p).step, str(p)) for p in candidates if p is not None and p.is_dir()]
        choice = max(found)[1] if found else None
    choice = broadcast_from_rank0(choice)
    return Path(choice) if choice else None
