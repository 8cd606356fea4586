"""One worker's training: the model in a DeepSpeed engine, its data, and the step loop with its metrics.

The loss stays on the device between logged steps (reading it every step would stall a GPU); a logged
value is the mean over the steps since the previous log, averaged over ranks. A non-finite loss stops
the run with the step it happened at.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from rs_clip_models.device_feed import prepared_ahead

from .checkpointing import Checkpoints
from .config import TrainConfig
from .deepspeed_engine import own_clip_norm
from .deepspeed_engine import step as engine_step
from .distributed import barrier, gather_objects, mean_over_ranks
from .metrics import MetricsLog
from .run_dir import METRICS, link_final

if TYPE_CHECKING:
    from .worker_session import Session

log = logging.getLogger(__name__)
#: Skipped rows each worker names in a warning; later ones are only counted.
MAX_SKIPS_TOLD = 10
#: Called after every optimizer step on every rank with (step, rank, metrics-or-None).
StepCallback = Callable[[int, int, "dict[str, Any] | None"], None]


class Trainer:
    """State of one worker's training: engine, data, checkpoints. One instance per worker process."""

    def __init__(
        self,
        run: TrainConfig,
        total_steps: int,
        *,
        session: Session,
        resume_from: Path | None,
        dataset_info: dict[str, Any] | None = None,
    ):
        from rs_clip_models import device_decode

        from .data import Normalize, make_loader
        from .deepspeed_engine import initialize
        from .loss import ContrastiveModel
        from .model import build_model, param_groups, to_engine_layout

        self.run, self.total_steps = run, total_steps
        self.session = session
        self.rank, self.world, self.device = session.rank, session.world, session.device
        self.run_dir = Path(run.out)
        self.skips_told = 0
        device = self.device
        torch.manual_seed(run.seed)  # identical initialisation on every rank
        self.bundle = build_model(run.model)
        scalars = to_engine_layout(self.bundle.model)
        module = ContrastiveModel(self.bundle.model).to(device)
        self.cuda = device.type == "cuda"
        self.engine = initialize(
            module,
            param_groups(module, run.optim.weight_decay),
            run,
            total_steps,
            cuda=self.cuda,
            compile_model=run.model.compile,
        )
        self.checkpoints = Checkpoints(
            run, self.engine, self.bundle, scalars, session=session, dataset_info=dataset_info
        )
        self.step = self.checkpoints.load(resume_from) if resume_from is not None else 0
        self.checkpoints.prepare()
        self.metrics = MetricsLog(run, self.step) if self.rank == 0 else None
        pre = self.bundle.preprocess_cfg
        self.normalize = Normalize(pre.get("mean", (0.0, 0.0, 0.0)), pre.get("std", (1.0, 1.0, 1.0)), device)
        size = pre.get("size", 224)
        self.image_size = size[0] if isinstance(size, (tuple, list)) else int(size)
        self.loader = make_loader(
            run.data,
            micro_batch=run.micro_batch(),
            image_size=self.image_size,
            tokenizer=self.bundle.tokenizer,
            seed=run.seed,
            rank=self.rank,
            world=self.world,
            start_micro_step=self.step * run.optim.grad_accum,
            pin_memory=self.cuda,
            jpegs_to_device=self.cuda and run.data.gpu_decode and device_decode.available(device),
        )

    def fit(
        self, step_callback: StepCallback | None = None, steps_per_epoch: int | None = None
    ) -> Path | None:
        run, engine = self.run, self.engine
        accum = run.optim.grad_accum
        clip = own_clip_norm(run, cuda=self.cuda)
        # The next micro-batch is copied (and its JPEGs decoded) on a side stream while this one trains.
        batches = prepared_ahead(
            iter(self.loader), lambda b: b.on_device(self.device, self.image_size), self.device
        )
        window_start, window_steps = time.perf_counter(), 0
        last_saved = None
        nodes = gather_objects(self.session.node_id)
        if self.metrics is not None:
            self.metrics.write(
                {
                    "step": self.step,
                    "event": "start",
                    "total_steps": self.total_steps,
                    "world_size": self.world,
                    "nodes": nodes,
                    "time": time.time(),
                }
            )
        loss_sum, skipped = torch.zeros((), device=self.device), 0
        while self.step < self.total_steps:
            for _ in range(accum):
                images, texts, skipped_rows = next(batches)
                loss = engine(self.normalize(images), texts)
                engine_step(engine, loss, clip)
                loss_sum += loss.detach().float()
                skipped += len(skipped_rows)
                self._tell_skips(skipped_rows)
            self.step += 1
            window_steps += 1
            record = None
            is_last = self.step == self.total_steps
            if self.step % run.log_every == 0 or is_last or self.step % run.checkpoint_every == 0:
                loss_value = float(loss_sum) / (accum * window_steps)
                if not math.isfinite(loss_value):
                    raise FloatingPointError(
                        f"loss is {loss_value} before step {self.step}: lower the lr or check the data"
                    )
                record = self._record(loss_value, skipped, window_start, window_steps, steps_per_epoch)
                loss_sum, skipped = torch.zeros((), device=self.device), 0
                window_start, window_steps = time.perf_counter(), 0
                if self.metrics is not None:
                    self.metrics.write(record)
            if step_callback is not None:
                step_callback(self.step, self.rank, record)
            if self.step % run.checkpoint_every == 0 or is_last:
                last_saved = self.checkpoints.save(self.step, record or {}, self.metrics)
                window_start = time.perf_counter()  # pairs/s measures training, not checkpoint writing
            elif record is not None:
                self.session.report(record)  # a checkpoint's report carries its step's record
        if self.rank == 0 and last_saved is not None and run.storage is None:  # else storage.publish_final
            link_final(self.run_dir, last_saved)
        if self.metrics is not None:
            self.metrics.write({"step": self.step, "event": "end", "time": time.time()})
            self.metrics.close()
        batches.close()  # stops the thread that feeds the device
        del batches  # ... and the loader processes
        barrier()
        return last_saved

    def _tell_skips(self, lines: list[str]) -> None:
        """A warning naming each skipped row (the first few of each worker; all are counted)."""
        for line in lines:
            if self.skips_told < MAX_SKIPS_TOLD:
                log.warning("%s; skipped (counted in skipped_rows)", line)
            elif self.skips_told == MAX_SKIPS_TOLD:
                log.warning("more rows skipped: from now on only counted (skipped_rows in %s)", METRICS)
            self.skips_told += 1

    def _record(
        self,
        loss: float,
        skipped: int,
        since: float,
        steps: int,
        steps_per_epoch: int | None,
    ) -> dict[str, Any]:
        """One metrics.jsonl line (collective: loss and skips are reduced over ranks)."""
        from .loss import MAX_LOGIT_SCALE

        loss = mean_over_ranks(loss, self.device)
        skipped = int(round(mean_over_ranks(skipped, self.device) * self.world))
        elapsed = max(time.perf_counter() - since, 1e-9)
        scale = min(self._logit_scale(), MAX_LOGIT_SCALE)
        try:
            temperature = math.exp(-scale)
        except OverflowError:
            raise FloatingPointError(
                f"logit scale is exp({scale:.3g}) after step {self.step}: training diverged; "
                "lower the lr or check the data"
            ) from None
        record = {
            "step": self.step,
            "loss": loss,
            "lr": self.engine.get_lr()[0],
            "logit_scale": math.exp(scale),
            "temperature": temperature,
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
