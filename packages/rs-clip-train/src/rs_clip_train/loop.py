"""The training function each Ray Train worker runs: DeepSpeed steps, metrics, checkpoints, resume.

Run directory layout (shared by all nodes)::

    run.yaml                    the TrainConfig of this run
    metrics.jsonl               one JSON object per logged step (rank 0)
    checkpoints/step-00000100/  rs-clip-checkpoints; train_state/ inside holds DeepSpeed's resume state
    checkpoints/latest          symlink to the newest complete checkpoint
    final                       symlink to the checkpoint written at the end of the run

A checkpoint is staged in hidden directories and renamed into place by rank 0 only when every rank
has written its part, so ``checkpoints/step-*`` is always complete.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

from .config import TrainConfig

CHECKPOINTS = "checkpoints"
METRICS = "metrics.jsonl"
TRAIN_STATE = "train_state"
ENGINE_TAG = "engine"
#: Called after every optimizer step on every rank with (step, rank, metrics-or-None).
StepCallback = Callable[[int, int, "dict[str, Any] | None"], None]


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


def _relink(link: Path, target: str) -> None:
    """Point ``link`` at ``target`` atomically (readers see the old or the new target)."""
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    tmp.symlink_to(target)
    os.replace(tmp, link)


class MetricsLog:
    """metrics.jsonl (and TensorBoard when installed), written by rank 0 only."""

    def __init__(self, run_dir: Path, resume_step: int):
        self.path = run_dir / METRICS
        # Steps after the resume point were computed by an interrupted attempt and are redone now.
        if self.path.exists():
            kept = [line for line in self.path.read_text().splitlines()
                    if line.strip() and json.loads(line).get("step", 0) <= resume_step]
            tmp = self.path.with_name(f".{METRICS}.tmp")
            tmp.write_text("".join(line + "\n" for line in kept))
            os.replace(tmp, self.path)
        self.file = open(self.path, "a", buffering=1)
        self.tb = None
        try:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(run_dir / "tensorboard"), purge_step=resume_step + 1)
        except ImportError:  # tensorboard is optional
            pass

    def write(self, record: dict[str, Any]) -> None:
        self.file.write(json.dumps(record) + "\n")
        if self.tb is not None and "loss" in record:
            for key in ("loss", "lr", "temperature", "pairs_per_s"):
                if key in record:
                    self.tb.add_scalar(f"train/{key}", record[key], record["step"])

    def close(self) -> None:
        self.file.close()
        if self.tb is not None:
            self.tb.close()


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def _gather_objects(obj: Any) -> list[Any]:
    if not dist.is_initialized():
        return [obj]
    out: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def _mean_over_ranks(value: float, device: torch.device) -> float:
    t = torch.tensor([value], dtype=torch.float64, device=device)
    if dist.is_initialized():
        dist.all_reduce(t)
        t /= dist.get_world_size()
    return float(t.item())


def _rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class Trainer:
    """State of one worker's training: engine, data, checkpointing. One instance per worker process."""

    def __init__(self, run: TrainConfig, total_steps: int, *, rank: int, world: int, device: torch.device,
                 resume_from: Path | None, dataset_info: dict[str, Any] | None = None, node_id: str = ""):
        from .data import Normalize, make_loader
        from .engine import initialize
        from .loss import ContrastiveModel
        from .model import build_model, param_groups, to_engine_layout

        self.run, self.total_steps = run, total_steps
        self.rank, self.world, self.device = rank, world, device
        self.run_dir = Path(run.out)
        self.ckpt_root = self.run_dir / CHECKPOINTS
        self.dataset_info = dataset_info
        self.node_id = node_id
        torch.manual_seed(run.seed)  # identical initialisation on every rank
        self.bundle = build_model(run.model)
        self.scalars = to_engine_layout(self.bundle.model)
        module = ContrastiveModel(self.bundle.model).to(device)
        self.cuda = device.type == "cuda"
        self.engine = initialize(module, param_groups(module, run.optim.weight_decay), run, total_steps,
                                 cuda=self.cuda, compile_model=run.model.compile)
        self.step = 0
        if resume_from is not None:
            self._load(resume_from)
        self.ckpt_root.mkdir(parents=True, exist_ok=True)
        if rank == 0:
            self._remove_stale_staging()
        _barrier()
        self.metrics = MetricsLog(self.run_dir, self.step) if rank == 0 else None
        pre = self.bundle.preprocess_cfg
        self.normalize = Normalize(pre.get("mean", (0.0, 0.0, 0.0)), pre.get("std", (1.0, 1.0, 1.0)), device)
        size = pre.get("size", 224)
        self.image_size = size[0] if isinstance(size, (tuple, list)) else int(size)
        self.loader = make_loader(run.data, micro_batch=run.micro_batch(), image_size=self.image_size,
                                  tokenizer=self.bundle.tokenizer, seed=run.seed, rank=rank, world=world,
                                  start_micro_step=self.step * run.optim.grad_accum, pin_memory=self.cuda)

    # -- checkpoints -------------------------------------------------------------------------------
    def _load(self, path: Path) -> None:
        from rs_formats import read_checkpoint

        info = read_checkpoint(path)
        state = path / TRAIN_STATE
        load_path, _ = self.engine.load_checkpoint(str(state), tag=ENGINE_TAG)
        if load_path is None:
            raise RuntimeError(f"{state}: DeepSpeed found no engine state to resume from")
        self.step = info.step
        rng = state / f"rng-rank{self.rank}.pt"
        if rng.exists():
            _set_rng_state(torch.load(rng, weights_only=True), self.device)

    def _remove_stale_staging(self) -> None:
        # Hidden entries are staging directories of checkpoints an interrupted attempt never published.
        for entry in self.ckpt_root.glob(".*"):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def _full_state_dict(self) -> dict[str, torch.Tensor] | None:
        from .model import export_state_dict

        clip = self.engine.module.clip
        if self.run.engine.zero_stage == 3:
            import deepspeed

            with deepspeed.zero.GatheredParameters(list(clip.parameters()), modifier_rank=None):
                return export_state_dict(clip, self.scalars) if self.rank == 0 else None
        return export_state_dict(clip, self.scalars) if self.rank == 0 else None

    def save(self, metrics: dict[str, Any]) -> Path:
        """Write checkpoint ``step-N`` (collective: every rank must call it) and report it to Ray."""
        from rs_formats import write_checkpoint

        name = checkpoint_name(self.step)
        final = self.ckpt_root / name
        staging = self.ckpt_root / f".{name}.{TRAIN_STATE}"
        if self.rank == 0 and staging.exists():
            shutil.rmtree(staging)
        _barrier()
        self.engine.save_checkpoint(str(staging), tag=ENGINE_TAG, save_latest=False)
        torch.save(_rng_state(self.device), staging / f"rng-rank{self.rank}.pt")
        state = self._full_state_dict()
        _barrier()  # every rank's part of the engine state is on disk
        if self.rank == 0:
            b = self.bundle
            if self.run.eval_data:
                from .evaluate import retrieval

                scores = retrieval(state, b.name, self.run.eval_data, self.run.eval_split, self.device)
                metrics = {**metrics, **scores}
                if self.metrics is not None:
                    self.metrics.write({"step": self.step, **scores})
            write_checkpoint(final, state, model_name=b.name, step=self.step, config=self.run.to_dict(),
                             metrics=metrics, dataset=self.dataset_info, model_config=b.model_cfg,
                             preprocess_config=b.preprocess_cfg, extra={TRAIN_STATE: staging}, overwrite=True)
            _relink(self.ckpt_root / "latest", name)
            self._prune()
        _barrier()
        self._report(metrics, final)
        return final

    def _prune(self) -> None:
        steps = sorted(self.ckpt_root.glob("step-*"))
        for old in steps[:-self.run.keep]:
            shutil.rmtree(old, ignore_errors=True)

    def _report(self, metrics: dict[str, Any], path: Path | None) -> None:
        import ray.train
        from ray.train import CheckpointUploadMode

        checkpoint = ray.train.Checkpoint.from_directory(str(path)) if path is not None and self.rank == 0 else None
        # The checkpoint already sits in the run directory (Ray's storage): register it, copy nothing.
        ray.train.report(metrics, checkpoint=checkpoint, checkpoint_upload_mode=CheckpointUploadMode.NO_UPLOAD)

    # -- the loop ----------------------------------------------------------------------------------
    def fit(self, step_callback: StepCallback | None = None, steps_per_epoch: int | None = None) -> Path | None:
        run, engine = self.run, self.engine
        accum = run.optim.grad_accum
        batches = iter(self.loader)
        window_start, window_steps = time.perf_counter(), 0
        last_saved = None
        nodes = _gather_objects(self.node_id)
        if self.metrics is not None:
            self.metrics.write({"step": self.step, "event": "start", "total_steps": self.total_steps,
                                "world_size": self.world, "nodes": nodes, "time": time.time()})
        # The loss stays on the device between log steps: reading it every step would stall the GPU.
        loss_sum, skipped = torch.zeros((), device=self.device), 0
        while self.step < self.total_steps:
            for _ in range(accum):
                batch = next(batches)
                images = self.normalize(batch.images.to(self.device, non_blocking=True))
                texts = batch.texts.to(self.device, non_blocking=True)
                loss = engine(images, texts)
                engine.backward(loss)
                engine.step()
                loss_sum += loss.detach().float()
                skipped += batch.skipped
            self.step += 1
            window_steps += 1
            record = None
            is_last = self.step == self.total_steps
            if self.step % run.log_every == 0 or is_last or self.step % run.checkpoint_every == 0:
                loss_value = float(loss_sum) / (accum * window_steps)  # mean over the steps since the last log
                if not math.isfinite(loss_value):
                    raise FloatingPointError(f"loss is {loss_value} before step {self.step}: lower the lr or check "
                                             "the data")
                record = self._metrics(loss_value, skipped, window_start, window_steps, steps_per_epoch)
                loss_sum, skipped = torch.zeros((), device=self.device), 0
                window_start, window_steps = time.perf_counter(), 0
                if self.metrics is not None:
                    self.metrics.write(record)
            if step_callback is not None:
                step_callback(self.step, self.rank, record)
            if self.step % run.checkpoint_every == 0 or is_last:
                last_saved = self.save(record or {})
                window_start = time.perf_counter()  # pairs/s measures training, not checkpoint writing
        if self.rank == 0 and last_saved is not None:
            _relink(self.run_dir / "final", f"{CHECKPOINTS}/{last_saved.name}")
        if self.metrics is not None:
            self.metrics.write({"step": self.step, "event": "end", "time": time.time()})
            self.metrics.close()
        del batches  # stops the loader processes
        _barrier()
        return last_saved

    def _metrics(self, loss: float, skipped: int, since: float, steps: int, steps_per_epoch: int | None,
                 ) -> dict[str, Any]:
        from .loss import MAX_LOGIT_SCALE

        loss = _mean_over_ranks(loss, self.device)
        skipped = int(round(_mean_over_ranks(skipped, self.device) * self.world))
        elapsed = max(time.perf_counter() - since, 1e-9)
        scale = self._logit_scale()
        record = {
            "step": self.step,
            "loss": loss,
            "lr": self.engine.get_lr()[0],
            "logit_scale": math.exp(min(scale, MAX_LOGIT_SCALE)),
            "temperature": math.exp(-min(scale, MAX_LOGIT_SCALE)),
            "pairs_per_s": self.run.optim.batch_size * steps / elapsed,
            "skipped_rows": skipped,
            "time": time.time(),
        }
        if steps_per_epoch:
            record["epoch"] = self.step / steps_per_epoch
        return record

    def _logit_scale(self) -> float:
        param = self.engine.module.clip.logit_scale
        if self.run.engine.zero_stage == 3:
            import deepspeed

            with deepspeed.zero.GatheredParameters([param]):
                return float(param.detach().float().reshape(-1)[0])
        return float(param.detach().float().reshape(-1)[0])


def train_func(config: dict[str, Any]) -> None:
    """Ray Train entry point: ``config`` holds the run (as a dict) and launcher-computed facts."""
    from .engine import ensure_accelerator_env

    ensure_accelerator_env()
    import ray
    import ray.train
    import ray.train.torch

    _quiet_deepspeed()
    run = TrainConfig.from_dict(config["run"])
    ctx = ray.train.get_context()
    rank, world = ctx.get_world_rank(), ctx.get_world_size()
    device = ray.train.torch.get_device()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    resume = _resume_point(run, config.get("resume_from"), device)
    trainer = Trainer(run, config["total_steps"], rank=rank, world=world, device=device, resume_from=resume,
                      dataset_info=config.get("dataset_info"), node_id=ray.get_runtime_context().get_node_id())
    trainer.fit(config.get("step_callback"), config.get("steps_per_epoch"))


def _resume_point(run: TrainConfig, requested: str | None, device: torch.device) -> Path | None:
    """The checkpoint every rank resumes from: the newest of Ray's (after a worker failure) and the
    run directory's (a resumed run, or a checkpoint written just before a crash that Ray never registered).
    Rank 0 decides, so all ranks agree."""
    import ray.train

    choice: list[str | None] = [None]
    if not dist.is_initialized() or dist.get_rank() == 0:
        from rs_formats import read_checkpoint

        candidates = [latest_checkpoint(run.out), Path(requested) if requested else None]
        ray_ckpt = ray.train.get_checkpoint()
        if ray_ckpt is not None:
            candidates.append(Path(ray_ckpt.path))
        found = [(read_checkpoint(p).step, str(p)) for p in candidates if p is not None and p.is_dir()]
        choice = [max(found)[1] if found else None]
    if dist.is_initialized():
        dist.broadcast_object_list(choice, src=0)
    return Path(choice[0]) if choice[0] else None


def _quiet_deepspeed() -> None:
    import logging

    # open_clip narrates model creation at INFO on the root logger; keep worker output to what matters.
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("DeepSpeed").setLevel(logging.WARNING)
    try:
        from deepspeed.utils import logger

        logger.setLevel(logging.WARNING)
    except ImportError:
        pass
