"""The GPU suite's speed parts: each rate beside its ceiling, measured in the same process minutes apart.

Training (pairs/s, one worker): ``ceiling_torch`` is plain torch (fused AdamW, the same autocast) on
synthetic tensors already on the device; ``deepspeed_synthetic`` is rs-clip-train's engine
(:func:`rs_clip_train.deepspeed_engine.initialize`) on the same tensors; ``deepspeed_shards`` is what a worker's
step loop runs (:class:`rs_clip_train.train_loop.Trainer`'s body: rs-clip-train's loader, pinned batches,
non-blocking copies, :class:`~rs_clip_train.data.Normalize`, engine step). Evaluation (images/s):
``ceiling_encode`` embeds a batch already on the device; ``shards`` is
:func:`rs_clip_models.encoding.encode_images` over the shards (JPEGs decoded on the device where it can);
``shards_cpu_decode`` the same with PIL decoding in loader processes, for comparison.

Every rate is time-boxed (a warm-up, then a fixed window), so the suite's length does not depend on how
fast the device is. Peak memory is ``torch.cuda.max_memory_allocated`` of each measurement.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def reset_memory(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak_gib(device: torch.device) -> float | None:
    return round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if device.type == "cuda" else None


def timed(
    step: Callable[[Any], Any],
    batches: Iterator[Any],
    *,
    warmup_s: float,
    window_s: float,
    batch: int,
    device: torch.device,
) -> float:
    """Items/s of ``step`` over a ``window_s`` window after ``warmup_s`` (at least two steps each). The clock
    is read without synchronising: the queue ahead of the device is bounded, and the end is synchronised."""
    end = time.perf_counter() + warmup_s
    n = 0
    while n < 2 or time.perf_counter() < end:
        step(next(batches))
        n += 1
    sync(device)
    t0 = time.perf_counter()
    n = 0
    while n < 2 or time.perf_counter() - t0 < window_s:
        step(next(batches))
        n += 1
    sync(device)
    return batch * n / (time.perf_counter() - t0)


def _repeat(x: Any) -> Iterator[Any]:
    while True:
        yield x


def train_rates(
    cfg: Any, *, device: torch.device, modes: tuple[str, ...], warmup_s: float, window_s: float
) -> dict[str, Any]:
    """Pairs/s and peak GiB of each of ``modes`` for the run ``cfg`` (its model, batch, compile, data)."""
    from rs_clip_models.device_decode import available
    from rs_clip_models.device_feed import prepared_ahead
    from rs_clip_train.data import Normalize, make_loader
    from rs_clip_train.deepspeed_engine import initialize, own_clip_norm, resolve_precision
    from rs_clip_train.deepspeed_engine import step as backward_step
    from rs_clip_train.loss import ContrastiveModel
    from rs_clip_train.model import build_model, param_groups, to_engine_layout

    cuda = device.type == "cuda"
    amp = {"amp_bf16": torch.bfloat16, "amp": torch.float16}.get(
        resolve_precision(cfg.engine.precision, cuda)
    )
    batch = cfg.optim.batch_size
    torch.manual_seed(0)
    bundle = build_model(cfg.model)
    to_engine_layout(bundle.model)
    pre = bundle.preprocess_cfg
    size = pre["size"][0] if isinstance(pre["size"], (list, tuple)) else int(pre["size"])
    normalize = Normalize(pre["mean"], pre["std"], device)
    g = torch.Generator().manual_seed(0)
    synthetic = (
        torch.randint(0, 255, (batch, 3, size, size), dtype=torch.uint8, generator=g).to(device),
        torch.randint(1, 1000, (batch, bundle.tokenizer.context_length), generator=g).to(device),
    )

    def shards(on_device: bool = cfg.data.gpu_decode) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        loader = make_loader(
            cfg.data,
            micro_batch=batch,
            image_size=size,
            tokenizer=bundle.tokenizer,
            seed=0,
            rank=0,
            world=1,
            start_micro_step=0,
            pin_memory=cuda,
            jpegs_to_device=cuda and on_device and available(device),
        )
        # As the Trainer feeds its engine: prepared on a side stream a step ahead.
        for images, texts, _ in prepared_ahead(iter(loader), lambda b: b.on_device(device, size), device):
            yield images, texts

    def torch_step() -> Callable[[Any], None]:
        module = ContrastiveModel(bundle.model).to(device)
        run = torch.compile(module) if cfg.model.compile else module
        opt = torch.optim.AdamW(param_groups(module, 0.1), lr=1e-5, fused=cuda)

        def step(b: tuple[torch.Tensor, torch.Tensor]) -> None:
            with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                loss = run(normalize(b[0]), b[1])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            opt.step()

        return step

    def engine_step() -> Callable[[Any], None]:
        module = ContrastiveModel(bundle.model).to(device)
        engine = initialize(
            module, param_groups(module, 0.1), cfg, 10_000, cuda=cuda, compile_model=cfg.model.compile
        )

        clip = own_clip_norm(cfg, cuda=cuda)

        def step(b: tuple[torch.Tensor, torch.Tensor]) -> None:
            loss = engine(normalize(b[0]), b[1])
            backward_step(engine, loss, clip)

        return step

    makers = {
        "ceiling_torch": (torch_step, lambda: _repeat(synthetic)),
        "deepspeed_synthetic": (engine_step, lambda: _repeat(synthetic)),
        "deepspeed_shards": (engine_step, shards),
        "deepspeed_shards_cpu_decode": (engine_step, lambda: shards(False)),
    }
    out: dict[str, Any] = {"pairs_per_s": {}, "peak_gib": {}}
    for mode in modes:
        make, source = makers[mode]
        reset_memory(device)
        batches = source()
        out["pairs_per_s"][mode] = round(
            timed(make(), batches, warmup_s=warmup_s, window_s=window_s, batch=batch, device=device), 1
        )
        out["peak_gib"][mode] = peak_gib(device)
        del batches  # stops the loader processes before the next measurement
    rates = out["pairs_per_s"]
    if "ceiling_torch" in rates:
        out["ratios"] = {
            f"{m}/ceiling_torch": round(rates[m] / rates["ceiling_torch"], 3)
            for m in rates
            if m != "ceiling_torch"
        }
    return out


@torch.no_grad()
def eval_rates(
    model_name: str,
    data: Path,
    split: str,
    *,
    batch: int,
    workers: int,
    device: torch.device,
    warmup_s: float,
    window_s: float,
    cpu_decode_too: bool,
    device_decode: bool = True,
) -> dict[str, Any]:
    """Images/s of embedding ``split`` of the shards vs encoding a batch already on the device."""
    from rs_clip_models.device_decode import available
    from rs_clip_models.encoding import encode_images
    from rs_clip_models.models import autocast, create_model
    from rs_formats import open_dataset

    precision = "amp_bf16" if device.type == "cuda" else "fp32"
    reset_memory(device)
    torch.manual_seed(0)
    model, preprocess, _ = create_model(model_name, device=device)
    size = model.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    x = torch.randn(batch, 3, size, size, device=device)
    on_device = device_decode and available(device)
    out: dict[str, Any] = {"precision": precision, "decode_on_device": on_device, "images_per_s": {}}
    with autocast(device, precision):
        out["images_per_s"]["ceiling_encode"] = round(
            timed(
                lambda b: model.encode_image(b, normalize=True).float(),
                _repeat(x),
                warmup_s=warmup_s,
                window_s=window_s,
                batch=batch,
                device=device,
            ),
            1,
        )
        out["peak_gib"] = peak_gib(device)
        ds = open_dataset(data)
        variants = {
            "shards": on_device,
            **({"shards_cpu_decode": False} if cpu_decode_too and on_device else {}),
        }
        for name, on_device in variants.items():
            t0 = time.perf_counter()
            emb = encode_images(
                model,
                preprocess,
                ds,
                split,
                batch_size=batch,
                num_workers=workers,
                device=device,
                progress=False,
                decode_on_device=on_device,
            )
            sync(device)
            out["images_per_s"][name] = round(len(emb) / (time.perf_counter() - t0), 1)
    rates = out["images_per_s"]
    out["ratios"] = {
        f"{m}/ceiling_encode": round(rates[m] / rates["ceiling_encode"], 3)
        for m in rates
        if m != "ceiling_encode"
    }
    out["rows"] = ds.num_rows(split)
    return out
