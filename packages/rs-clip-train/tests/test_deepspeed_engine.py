import math

import pytest
import torch

from rs_clip_train import DataSource, preset
from rs_clip_train.deepspeed_engine import (
    WarmupCosine,
    deepspeed_config,
    ensure_accelerator_env,
    make_scheduler,
    own_clip_norm,
    resolve_precision,
    step,
)


def test_warmup_then_cosine_values():
    f = WarmupCosine(warmup=4, total=14, min_ratio=0.1)
    assert [f(k) for k in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert f(4) == pytest.approx(1.0)
    assert f(9) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))  # half way: 0.55
    assert f(14) == pytest.approx(0.1) and f(20) == pytest.approx(0.1)
    values = [f(k) for k in range(4, 15)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_scheduler_drives_the_optimizer_lr():
    cfg = preset("tiny")
    cfg.optim.lr, cfg.optim.warmup_steps = 1e-3, 2
    opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=cfg.optim.lr)
    sched = make_scheduler(cfg, total_steps=6)(opt)
    lrs = []
    for _ in range(6):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[:2] == pytest.approx([5e-4, 1e-3])
    assert lrs[2] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(
        1e-3 * 0.5 * (1 + math.cos(math.pi * 3 / 4))
    )


def test_deepspeed_config_precision_and_batches():
    cfg = preset("vit-b-32")
    cfg.data.sources = [DataSource("x")]
    cfg.workers, cfg.optim.grad_accum, cfg.engine.zero_stage = 4, 2, 3
    gpu = deepspeed_config(cfg.validate(), cuda=True)
    assert gpu["torch_autocast"] == {"enabled": True, "dtype": "bfloat16"}
    assert "bf16" not in gpu and gpu["optimizer"]["params"]["torch_adam"] is True
    assert gpu["optimizer"]["params"]["fused"] is True
    assert (
        gpu["train_batch_size"],
        gpu["train_micro_batch_size_per_gpu"],
        gpu["gradient_accumulation_steps"],
    ) == (256, 32, 2)
    assert gpu["zero_optimization"]["stage"] == 3
    assert gpu["timers"] == {"throughput": {"enabled": False}}  # it would synchronise the GPU twice a step
    cpu = deepspeed_config(cfg, cuda=False)
    assert "torch_autocast" not in cpu and "fused" not in cpu["optimizer"]["params"]
    assert resolve_precision("auto", cuda=False) == "fp32" and resolve_precision("bf16", cuda=True) == "bf16"
    cfg.engine.precision = "bf16"
    assert deepspeed_config(cfg, cuda=True)["bf16"] == {"enabled": True}
    cfg.engine.precision = "amp"  # open_clip's name for fp16 autocast
    assert deepspeed_config(cfg, cuda=True)["torch_autocast"] == {"enabled": True, "dtype": "float16"}


def _trained_weights(cfg, *, ours: bool) -> list[torch.Tensor]:
    """A linear layer after three steps on large gradients (every step clipped), clipped by
    :func:`engine.step` (``ours``) or by DeepSpeed itself (the same config with DeepSpeed's clipping)."""
    import deepspeed

    torch.manual_seed(0)
    module = torch.nn.Linear(16, 4)
    config = deepspeed_config(cfg, cuda=False)
    if not ours:
        config["gradient_clipping"] = cfg.optim.grad_clip
    assert config["gradient_clipping"] == (0.0 if ours else cfg.optim.grad_clip)
    engine, *_ = deepspeed.initialize(
        model=module, model_parameters=list(module.parameters()), config=config, dist_init_required=False
    )
    g = torch.Generator().manual_seed(1)
    for _ in range(3 * cfg.optim.grad_accum):
        loss = 100 * engine(torch.randn(8, 16, generator=g)).pow(2).sum()
        step(engine, loss, own_clip_norm(cfg, cuda=False) if ours else None)
    return [p.detach().clone() for p in module.parameters()]


def test_own_clipping_at_zero0_matches_deepspeeds(monkeypatch):
    """Clipping moved out of DeepSpeed at ZeRO-0 (its clip syncs the host with the GPU) keeps the numerics."""
    import torch.distributed as dist

    ensure_accelerator_env()
    monkeypatch.setenv("LOCAL_RANK", "0")
    if not dist.is_initialized():
        dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
    cfg = preset("tiny")
    cfg.data.sources = [DataSource("x")]
    cfg.optim.batch_size, cfg.optim.grad_accum, cfg.optim.grad_clip, cfg.optim.lr = 16, 2, 0.5, 1e-2
    cfg = cfg.validate()
    assert own_clip_norm(cfg, cuda=False) == 0.5 and own_clip_norm(cfg, cuda=True) == 0.5
    ours, theirs = _trained_weights(cfg, ours=True), _trained_weights(cfg, ours=False)
    torch.manual_seed(0)
    start = list(torch.nn.Linear(16, 4).parameters())
    assert all(not torch.allclose(a, s) for a, s in zip(ours, start))  # the steps moved the weights
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    for stage, precision in ((1, "auto"), (0, "bf16"), (0, "amp")):
        cfg.engine.zero_stage, cfg.engine.precision = stage, precision
        assert own_clip_norm(cfg, cuda=True) is None  # DeepSpeed keeps clipping: partitioned or scaled grads
        assert deepspeed_config(cfg, cuda=True)["gradient_clipping"] == 0.5


_ENGINE_IN_A_FRESH_PROCESS = """
import torch, torch.distributed as dist
from rs_clip_train import DataSource, preset
from rs_clip_train.deepspeed_engine import ensure_accelerator_env, initialize
import deepspeed.comm.comm as ds_comm
ensure_accelerator_env()
dist.init_process_group("gloo", store=dist.HashStore(), rank=0, world_size=1)
cfg = preset("tiny")
cfg.data.sources = [DataSource("x")]
module = torch.nn.Linear(4, 2)
initialize(module, list(module.parameters()), cfg.validate(), 10, cuda=False)
print("shm op:", ds_comm.cdb.shm_comm_op)
"""


def test_cpu_engine_builds_no_shared_memory_op(tmp_path):
    """The engine starts without compiling DeepSpeed's shared-memory op (inference only) into an empty
    extensions cache, as on a fresh machine."""
    import os
    import subprocess
    import sys

    cache = tmp_path / "torch_extensions"
    env = dict(os.environ, TORCH_EXTENSIONS_DIR=str(cache), DS_ACCELERATOR="cpu", LOCAL_RANK="0")
    proc = subprocess.run(
        [sys.executable, "-c", _ENGINE_IN_A_FRESH_PROCESS],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "shm op: None" in proc.stdout
    assert not cache.exists() or not any(cache.rglob("*.so"))
