import math

import pytest
import torch

from rs_clip_train import DataSource, preset
from rs_clip_train.engine import WarmupCosine, deepspeed_config, make_scheduler, resolve_precision


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
    assert lrs[2] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(1e-3 * 0.5 * (1 + math.cos(math.pi * 3 / 4)))


def test_deepspeed_config_precision_and_batches():
    cfg = preset("vit-b-32")
    cfg.data.sources = [DataSource("x")]
    cfg.workers, cfg.optim.grad_accum, cfg.engine.zero_stage = 4, 2, 3
    gpu = deepspeed_config(cfg.validate(), cuda=True)
    assert gpu["torch_autocast"] == {"enabled": True, "dtype": "bfloat16"}
    assert "bf16" not in gpu and gpu["optimizer"]["params"]["torch_adam"] is True
    assert gpu["optimizer"]["params"]["fused"] is True
    assert (gpu["train_batch_size"], gpu["train_micro_batch_size_per_gpu"], gpu["gradient_accumulation_steps"]) \
        == (256, 32, 2)
    assert gpu["zero_optimization"]["stage"] == 3
    cpu = deepspeed_config(cfg, cuda=False)
    assert "torch_autocast" not in cpu and "fused" not in cpu["optimizer"]["params"]
    assert resolve_precision("auto", cuda=False) == "fp32" and resolve_precision("bf16", cuda=True) == "bf16"
    cfg.engine.precision = "bf16"
    assert deepspeed_config(cfg, cuda=True)["bf16"] == {"enabled": True}
    cfg.engine.precision = "amp"  # open_clip's name for fp16 autocast
    assert deepspeed_config(cfg, cuda=True)["torch_autocast"] == {"enabled": True, "dtype": "float16"}
