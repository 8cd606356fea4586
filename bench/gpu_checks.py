"""The GPU suite's correctness parts: training through ``rs_clip_train.fit`` (``--launcher none``) as a user
runs it, checked against independent readers (bare open_clip, metrics.jsonl, a second run), and the
helpers the other parts' modules share (``decode`` in :mod:`gpu_decoders`, ``resume`` in :mod:`gpu_resume`).

Tolerances: on a GPU the runs use bf16 autocast, whose kernels (and ZeRO's partitioned reductions, and
inductor's fusions) round differently, so losses of runs that should be the same are compared with a
relative tolerance of 2e-2 there and 1e-4 in fp32 on a CPU. The resume check runs in fp32 everywhere
(:mod:`gpu_resume`); the compile check compares
the first step only (bf16 runs drift apart chaotically after a few steps).
"""

from __future__ import annotations

import json
import math
import os
import threading
import traceback
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from gpu_suite import Suite


def init_process_group(cuda: bool) -> None:
    """One process group for every run of the suite: NCCL on a GPU (world size 1), gloo on a CPU. fit()
    uses a group that is already there (DeepSpeed keeps what it derives from it for the process's life)."""
    import torch.distributed as dist

    if dist.is_initialized():
        return
    os.environ["LOCAL_RANK"] = "0"  # DeepSpeed reads it whatever set the group up
    if cuda:
        torch.cuda.set_device(0)
    dist.init_process_group("nccl" if cuda else "gloo", store=dist.HashStore(), rank=0, world_size=1)


def run_config(suite: Suite, name: str, *, steps: int, batch: int, log_every: int, model: str) -> Any:
    from rs_clip_train import DataConfig, DataSource, preset

    cfg = preset("vit-b-32" if suite.cuda else "tiny")
    cfg.model.name = model
    cfg.data = DataConfig(
        sources=[DataSource(str(suite.data))],
        loader_workers=suite.loader_workers,
        prefetch_factor=4,
        gpu_decode=suite.gpu_decode(),
    )
    cfg.optim.batch_size, cfg.optim.warmup_steps = batch, max(1, steps // 10)
    if suite.cuda:
        cfg.optim.lr = (
            2e-4  # from scratch, a few hundred steps: the preset's fine-tuning lr learns too slowly
        )
    cfg.steps, cfg.log_every, cfg.checkpoint_every, cfg.keep = steps, log_every, steps, 2
    cfg.launcher, cfg.seed, cfg.out = "none", 0, str(suite.work / "runs" / name)
    return cfg.validate()


def metrics(run_dir: str | Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines() if line]


def losses(run_dir: str | Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in metrics(run_dir) if "loss" in r}


def rel_diff(a: dict[int, float], b: dict[int, float]) -> float:
    if a.keys() != b.keys() or not a:
        return math.inf
    return max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-6) for k in a)


def tolerance(suite: Suite) -> float:
    return 2e-2 if suite.cuda else 1e-4


def bare_open_clip(checkpoint: Path) -> tuple[torch.nn.Module, Any, Any]:
    """The checkpoint as open_clip alone reads it (its own config file: no rs-clip code involved)."""
    import open_clip

    model, _, preprocess = open_clip.create_model_and_transforms(f"local-dir:{checkpoint}")
    return model.eval(), preprocess, open_clip.get_tokenizer(f"local-dir:{checkpoint}")


def stored_weights(checkpoint: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    from rs_formats.checkpoint import WEIGHTS

    return load_file(str(Path(checkpoint) / WEIGHTS))


def max_weight_diff(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> float:
    if a.keys() != b.keys():
        return math.inf
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


def zero_shot(suite: Suite, model: torch.nn.Module, preprocess: Any, tokenizer: Any) -> float:
    """Accuracy of picking each test image's caption among all distinct captions (chance: 1/40)."""
    from rs_clip_models.encoding import encode_images, encode_texts
    from rs_clip_models.models import autocast
    from rs_formats import open_dataset
    from rs_formats.columns import captions_of

    ds = open_dataset(suite.data)
    texts, owner = captions_of(ds, "test")
    classes = sorted(set(texts))
    truth = torch.tensor([classes.index(t) for t in texts])[torch.from_numpy(owner).argsort()]
    model = model.to(suite.device)
    precision = "amp_bf16" if suite.cuda else "fp32"
    with autocast(suite.device, precision):
        img = encode_images(
            model,
            preprocess,
            ds,
            "test",
            device=suite.device,
            progress=False,
            num_workers=suite.loader_workers,
            decode_on_device=None if suite.gpu_decode() else False,
        )
        txt = encode_texts(model, tokenizer, classes, device=suite.device)
    pred = torch.from_numpy(img @ txt.T).argmax(1)
    return round(float((pred == truth).float().mean()), 4)


class SyncWatch:
    """A step callback that watches the step loop's thread between two logged steps (a logged step syncs
    on purpose, to read the loss): CUDA's sync debugging makes implicit synchronisations warn (a ``.item()``,
    a pageable copy), and ``torch.cuda.synchronize``, which sync debugging does not report (DeepSpeed's
    throughput timer calls it), is wrapped. Each one is kept with its full path and callers."""

    def __init__(self, cuda: bool, log_every: int):
        self.cuda, self.first, self.last = cuda, log_every, 2 * log_every - 1
        self.active = False
        self.found: list[str] = []
        self.stacks: dict[str, str] = {}
        self._synchronize = torch.cuda.synchronize

    def __call__(self, step: int, rank: int, record: Any) -> None:
        if self.cuda and step == self.first:
            self.active = True
            torch.cuda.set_sync_debug_mode("warn")
            torch.cuda.synchronize = self._explicit
        elif self.cuda and step == self.last:
            torch.cuda.set_sync_debug_mode("default")
            torch.cuda.synchronize = self._synchronize
            self.active = False

    def close(self) -> None:
        torch.cuda.synchronize = self._synchronize
        if self.active and self.cuda:
            torch.cuda.set_sync_debug_mode("default")
        self.active = False

    def _explicit(self, *args: Any, **kwargs: Any) -> None:
        self.note("torch.cuda.synchronize")
        self._synchronize(*args, **kwargs)

    def warning(self, message: Any, category: Any, filename: str, lineno: int, *_: Any, **__: Any) -> None:
        """A ``warnings.showwarning``: implicit synchronisations, as sync debugging reports them."""
        if "synchroniz" in str(message):
            self.note(f"{filename}:{lineno}")

    def note(self, where: str) -> None:
        # Only the step loop's thread: the thread that prepares batches ahead runs on its own stream.
        if not self.active or threading.current_thread() is not threading.main_thread():
            return
        # Without this method and the hook that called it (``_explicit`` or ``warning``).
        frames = [f for f in traceback.extract_stack()[:-2] if not f.filename.endswith("warnings.py")]
        if where == "torch.cuda.synchronize" and frames:
            where = f"torch.cuda.synchronize from {frames[-1].filename}:{frames[-1].lineno}"
        self.found.append(where)
        # The callers too (innermost first): a line in a library says little without them.
        self.stacks.setdefault(
            where, " < ".join(f"{f.filename}:{f.lineno} ({f.name})" for f in frames[::-1][:8])
        )

    def summary(self) -> dict[str, Any]:
        return {
            w: {"count": self.found.count(w), "stack": self.stacks[w]} for w in sorted(set(self.found))[:8]
        }


def part_train(suite: Suite) -> dict[str, Any]:
    from rs_clip_models.models import create_model
    from rs_clip_train import fit
    from rs_clip_train.deepspeed_engine import deepspeed_config

    p = suite.profile
    cfg = run_config(
        suite, "train", steps=p.train_steps, batch=p.train_batch, log_every=p.log_every, model=p.model
    )
    watch = SyncWatch(suite.cuda, p.log_every)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = watch.warning
            final = fit(cfg, step_callback=watch, progress=False)
    finally:
        watch.close()
    curve = losses(cfg.out)
    steps = sorted(curve)
    ds = deepspeed_config(cfg, cuda=suite.cuda)
    out: dict[str, Any] = {
        "model": p.model,
        "steps": p.train_steps,
        "batch": p.train_batch,
        "loss": curve,
        "pairs_per_s_last_log": metrics(cfg.out)[-2].get("pairs_per_s"),
        "deepspeed": {k: ds.get(k) for k in ("torch_autocast", "bf16", "optimizer")},
    }
    checks: dict[str, Any] = {
        "loss_finite": {"value": all(math.isfinite(v) for v in curve.values())},
        "loss_falls": {"value": round(curve[steps[-1]] / curve[steps[0]], 3), "target": "< 0.9"},
        "backend": {"value": torch.distributed.get_backend(), "target": "nccl" if suite.cuda else "gloo"},
    }
    checks["loss_finite"]["ok"] = checks["loss_finite"]["value"]
    checks["loss_falls"]["ok"] = checks["loss_falls"]["value"] < 0.9
    checks["backend"]["ok"] = checks["backend"]["value"] == checks["backend"]["target"]
    if suite.cuda:
        autocast_cfg = ds.get("torch_autocast") or {}
        checks["bf16_torch_autocast_fused_adamw"] = {
            "value": f"{autocast_cfg.get('dtype')}, fused={ds['optimizer']['params'].get('fused')}",
            "ok": autocast_cfg.get("dtype") == "bfloat16" and ds["optimizer"]["params"].get("fused") is True,
        }
        checks["host_syncs_between_logs"] = {
            "value": len(watch.found),
            "target": 0,
            "ok": not watch.found,
            "where": watch.summary(),
        }
    final = Path(final).resolve()
    bare, preprocess, tokenizer = bare_open_clip(final)
    ours, _, _ = create_model(final)
    stored = stored_weights(final)
    checks["bare_open_clip_same_weights"] = {
        "value": max(max_weight_diff(bare.state_dict(), stored), max_weight_diff(ours.state_dict(), stored)),
        "target": 0.0,
    }
    checks["bare_open_clip_same_weights"]["ok"] = checks["bare_open_clip_same_weights"]["value"] == 0.0
    trained = zero_shot(suite, bare, preprocess, tokenizer)
    torch.manual_seed(0)
    init, _, _ = create_model(p.model)
    before = zero_shot(suite, init, preprocess, tokenizer)
    checks["zero_shot_trained_vs_init"] = {
        "value": trained,
        "init": before,
        "chance": 1 / 40,
        "ok": trained > before + 0.1 or not suite.cuda,
    }
    suite.shared["train_final"] = final
    return {**out, "checks": checks}


def part_zero(suite: Suite) -> dict[str, Any]:
    from rs_clip_train import fit

    p = suite.profile
    curves, weights, checks = {}, {}, {}
    for stage in (0, 1, 2, 3):
        cfg = run_config(
            suite, f"zero{stage}", steps=p.zero_steps, batch=p.zero_batch, log_every=1, model=p.model
        )
        cfg.engine.zero_stage = stage
        final = Path(fit(cfg, progress=False)).resolve()
        curves[stage] = losses(cfg.out)
        bare, _, _ = bare_open_clip(final)
        weights[stage] = bare.state_dict()
        checks[f"stage{stage}_bare_open_clip_loads"] = {
            "value": max_weight_diff(weights[stage], stored_weights(final)),
            "target": 0.0,
        }
        checks[f"stage{stage}_bare_open_clip_loads"]["ok"] = (
            checks[f"stage{stage}_bare_open_clip_loads"]["value"] == 0
        )
        if stage:
            diff = rel_diff(curves[stage], curves[0])
            checks[f"stage{stage}_loss_vs_stage0"] = {
                "value": diff,
                "target": tolerance(suite),
                "ok": diff <= tolerance(suite),
            }
            checks[f"stage{stage}_weights_vs_stage0"] = {"value": max_weight_diff(weights[stage], weights[0])}
    suite.shared["zero0_curve"] = curves[0]
    return {
        "steps": p.zero_steps,
        "batch": p.zero_batch,
        "loss": {str(k): v for k, v in curves.items()},
        "checks": checks,
    }


def part_compile(suite: Suite) -> dict[str, Any]:
    """One step eager and one with ``--compile`` from the same initial weights, at the compiled speed
    part's batch (its graphs are in inductor's cache by then): the first step's loss (the forward pass)
    and the update that step made (backward and optimizer) agree. Only one step: in bf16, runs that
    round differently drift apart chaotically after a few steps (run 1: step 1 6.95395 against 6.95400,
    3 % apart by step 6), which says nothing about the compiled graph."""
    from rs_clip_train import fit
    from rs_clip_train.model import build_model

    p = suite.profile
    batch = p.compiled_batch or p.speed_batch
    runs = {}
    for compiled in (False, True):
        cfg = run_config(suite, f"compile-{compiled}", steps=1, batch=batch, log_every=1, model=p.model)
        cfg.model.compile = compiled
        final = Path(fit(cfg, progress=False)).resolve()
        runs[compiled] = (losses(cfg.out), stored_weights(final))
    torch.manual_seed(cfg.seed)  # the Trainer's initial weights, made as it makes them
    start = build_model(cfg.model).model.state_dict()
    (eager_loss, eager), (compiled_loss, compiled) = runs[False], runs[True]
    keys = [k for k in start if k in eager and k in compiled and start[k].shape == eager[k].shape]
    moved = {
        name: torch.cat([(w[k].float() - start[k].float()).flatten() for k in keys])
        for name, w in (("eager", eager), ("compiled", compiled))
    }
    # Adam's first step moves every weight by about lr (plus decay): much more means other start weights.
    biggest = max(float(d.abs().max()) for d in moved.values()) / cfg.optim.lr
    agree = float(torch.nn.functional.cosine_similarity(moved["eager"], moved["compiled"], dim=0))
    diff = rel_diff(compiled_loss, eager_loss)
    return {
        "batch": batch,
        "loss": {"eager": eager_loss, "compiled": compiled_loss},
        "checks": {
            "first_loss_compiled_vs_eager": {
                "value": diff,
                "target": tolerance(suite),
                "ok": diff <= tolerance(suite),
            },
            "first_update_in_lr_units": {
                "value": round(biggest, 3),
                "target": "<= 2",
                "ok": 0 < biggest <= 2,
            },
            "first_update_cosine_compiled_vs_eager": {
                "value": round(agree, 5),
                "target": ">= 0.9",
                "ok": agree >= 0.9,
            },
        },
    }
