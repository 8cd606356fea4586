"""DeepSpeed: the config a TrainConfig maps to, the learning-rate schedule, and engine construction.

Precision defaults, chosen by measurement (the figures are in the package README, "Engine and
precision defaults"): DeepSpeed's ``torch_autocast`` (bf16 autocast over fp32 weights, ZeRO-0) runs
nearly as fast as a plain-torch bf16-autocast loop, while DeepSpeed's own ``bf16`` mode is much slower,
and slower still at ZeRO-1/2. So ``auto`` means ``torch_autocast`` bf16 on a GPU. On a CPU it means fp32: CPU autocast is slower than fp32 on most CPUs and gives nothing to test.

The optimizer is torch's AdamW (``"torch_adam": true``): DeepSpeed's FusedAdam JIT-compiles a CUDA
extension at start-up, which fails on machines without a matching toolkit; torch's fused AdamW kernel
ships with torch.

Gradient clipping at ZeRO-0 with fp32 weights (``fp32``, ``amp_bf16``) is ours, not DeepSpeed's
(:func:`step`): DeepSpeed's ``clip_grad_norm_`` builds two one-element tensors from Python floats on
the device every step, pageable host-to-device copies that synchronise the host with the GPU (two a step,
DeepSpeed 0.19.8). torch's foreach ``clip_grad_norm_`` computes the same
norm and coefficient (``max_norm / (norm + 1e-6)``, at most 1) without leaving the device. Where ZeRO
partitions gradients, or DeepSpeed's bf16/fp16 optimizers or its fp16 grad scaler own the gradients,
DeepSpeed still clips.
"""

from __future__ import annotations

import math
import os
from typing import Any

import torch

from .config import TrainConfig


def cuda_available() -> bool:
    return torch.cuda.is_available()


def ensure_accelerator_env() -> None:
    """DeepSpeed picks its accelerator at import time; without CUDA it must be told to use the CPU."""
    if not cuda_available():
        os.environ.setdefault("DS_ACCELERATOR", "cpu")


def skip_shm_comm_build() -> None:
    """On the CPU accelerator, DeepSpeed's communication backend JIT-compiles its shared-memory op when it
    starts (a C++ build against torch's headers, the first time on a machine) for ``inference_all_reduce``
    alone, which only tensor-parallel inference calls: training all-reduces gradients through
    torch.distributed. Marked unavailable, the op is neither built nor loaded, as on a machine that
    cannot build it."""
    from deepspeed.accelerator import get_accelerator

    if get_accelerator().device_name() != "cpu":
        return
    builder = get_accelerator().create_op_builder("ShareMemCommBuilder")
    if builder is not None:
        import deepspeed.ops

        deepspeed.ops.__compatible_ops__[builder.NAME] = False


def resolve_precision(precision: str, cuda: bool) -> str:
    if precision == "auto":
        return "amp_bf16" if cuda else "fp32"
    return precision


def own_clip_norm(cfg: TrainConfig, *, cuda: bool) -> float | None:
    """The max gradient norm :func:`step` clips to instead of DeepSpeed (gradients whole on their
    parameters, unscaled), or None where DeepSpeed clips (or nothing is clipped)."""
    precision = resolve_precision(cfg.engine.precision, cuda)
    own = cfg.optim.grad_clip > 0 and cfg.engine.zero_stage == 0 and precision in ("fp32", "amp_bf16")
    return cfg.optim.grad_clip if own else None


def deepspeed_config(cfg: TrainConfig, *, cuda: bool) -> dict[str, Any]:
    o = cfg.optim
    precision = resolve_precision(cfg.engine.precision, cuda)
    ds: dict[str, Any] = {
        "train_batch_size": o.batch_size,
        "train_micro_batch_size_per_gpu": cfg.micro_batch(),
        "gradient_accumulation_steps": o.grad_accum,
        "gradient_clipping": 0.0 if own_clip_norm(cfg, cuda=cuda) else o.grad_clip,
        "optimizer": {
            "type": "AdamW",
            "params": {
                "lr": o.lr,
                "betas": list(o.betas),
                "eps": o.eps,
                "weight_decay": o.weight_decay,
                "torch_adam": True,
                # torch's own fused kernel (no JIT build): the fastest AdamW on a GPU.
                **({"fused": True} if cuda else {}),
            },
        },
        "zero_optimization": {"stage": cfg.engine.zero_stage},
        "steps_per_print": 1 << 30,  # progress is ours; DeepSpeed's periodic prints would interleave
        "wall_clock_breakdown": False,
        # Its throughput timer (on by default) synchronises the device at the start and end of every step,
        # for the samples/s that only its periodic prints report: pairs/s in metrics.jsonl are ours.
        "timers": {"throughput": {"enabled": False}},
    }
    if cfg.engine.zero_stage == 3:
        # Lets the full fp32 weights be gathered for rs-clip-checkpoints.
        ds["zero_optimization"]["stage3_gather_16bit_weights_on_model_save"] = True
    if precision in ("amp_bf16", "amp"):
        ds["torch_autocast"] = {
            "enabled": True,
            "dtype": "bfloat16" if precision == "amp_bf16" else "float16",
        }
    elif precision == "bf16":
        ds["bf16"] = {"enabled": True}
    elif precision == "fp16":
        ds["fp16"] = {"enabled": True, "initial_scale_power": 16}
    return ds


class WarmupCosine:
    """lr multiplier: linear warm-up to 1 over ``warmup`` steps, then cosine down to ``min_ratio``.

    An object rather than a closure so that LambdaLR's state_dict (saved with the engine) holds it.
    Step ``k`` (0-based optimizer step) uses ``self(k)``.
    """

    def __init__(self, warmup: int, total: int, min_ratio: float = 0.0):
        self.warmup, self.total, self.min_ratio = warmup, total, min_ratio

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        span = max(1, self.total - self.warmup)
        progress = min(1.0, (step - self.warmup) / span)
        return self.min_ratio + (1 - self.min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def make_scheduler(cfg: TrainConfig, total_steps: int):
    """A DeepSpeed scheduler callable: DeepSpeed calls it with the optimizer it built."""
    fn = WarmupCosine(cfg.optim.warmup_steps, total_steps, cfg.optim.min_lr_ratio)

    def build(optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
        return torch.optim.lr_scheduler.LambdaLR(optimizer, fn)

    return build


def initialize(
    module: torch.nn.Module,
    params: list[dict[str, Any]],
    cfg: TrainConfig,
    total_steps: int,
    *,
    cuda: bool,
    compile_model: bool = False,
) -> Any:
    """``deepspeed.initialize`` over an already-initialised torch.distributed process group."""
    ensure_accelerator_env()
    import deepspeed

    skip_shm_comm_build()
    engine, _, _, _ = deepspeed.initialize(
        model=module,
        model_parameters=params,
        config=deepspeed_config(cfg, cuda=cuda),
        lr_scheduler=make_scheduler(cfg, total_steps),
        dist_init_required=False,
    )
    if compile_model:
        engine.compile()
    return engine


def step(engine: Any, loss: torch.Tensor, max_norm: float | None) -> None:
    """Backward and (at a gradient-accumulation boundary) the optimizer step of an engine made by
    :func:`initialize`, clipping gradients to ``max_norm`` first (:func:`own_clip_norm`'s value)."""
    engine.backward(loss)
    if max_norm and engine.is_gradient_accumulation_boundary():
        torch.nn.utils.clip_grad_norm_(
            [p for p in engine.module.parameters() if p.grad is not None], max_norm, foreach=True
        )
    engine.step()
