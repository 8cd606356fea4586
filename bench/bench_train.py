"""Training throughput of rs-clip-train: shards vs the on-device ceiling, DeepSpeed vs plain torch.

Four loops in one process, on the same model, batch and precision (one worker, no Ray):

* ``ceiling_torch``: plain torch (AdamW, the same autocast), synthetic tensors already on the device;
* ``deepspeed_synthetic``: the DeepSpeed engine rs-clip-train builds, same synthetic tensors;
* ``torch_from_shards``: plain torch fed by rs-clip-train's loader (Parquet -> decode -> augment -> tokens in
  background processes -> device);
* ``deepspeed_from_shards``: what every rs-clip-train worker runs (engine + loader);
* ``loader_only``: the loader alone, batches copied to the device and dropped: the data ceiling.

On a GPU the loader runs on otherwise idle cores, so end-to-end can reach the device ceiling when
``loader_only`` exceeds it; on a small CPU the loader and the model compete for the same cores.

Reported ratios: ``end_to_end = deepspeed_from_shards / ceiling_torch`` (target >= 0.95 on a GPU) and
``deepspeed_overhead = 1 - deepspeed_synthetic / ceiling_torch`` (target <= 0.08).

    python bench/bench_train.py                                   # CPU, RS-Tiny, batch 64
    python bench/bench_train.py --model ViT-B-32 --batch 256 --loader-workers 12 --image-px 512   # GPU
    python bench/bench_train.py --model ViT-B-32 --batch 1024 --loader-workers 12 --image-px 512
    python bench/bench_train.py --model ViT-L-14 --batch 128 --loader-workers 12 --image-px 512
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from rs_clip_models.device_feed import prepared_ahead  # noqa: E402
from rs_clip_train import PRECISIONS, DataConfig, DataSource, preset  # noqa: E402
from rs_clip_train.data import Normalize, make_loader  # noqa: E402
from rs_clip_train.deepspeed_engine import (  # noqa: E402
    cuda_available,
    ensure_accelerator_env,
    initialize,
    own_clip_norm,
    resolve_precision,
)
from rs_clip_train.deepspeed_engine import step as engine_step  # noqa: E402
from rs_clip_train.loss import ContrastiveModel  # noqa: E402
from rs_clip_train.model import build_model, param_groups, to_engine_layout  # noqa: E402


def write_dataset(path: Path, n: int, px: int) -> Path:
    """JPEG scenes of ``px`` pixels (decode cost is what matters here, not content)."""
    from rs_formats import DatasetWriter

    rng = np.random.default_rng(0)
    base = rng.integers(60, 200, size=(px, px, 3), dtype=np.uint8)
    with DatasetWriter(path, name="bench", kind="captions", generator="bench_train") as w:
        for i in range(n):
            img = Image.fromarray(np.roll(base, i * 7, axis=(0, 1)))
            draw = ImageDraw.Draw(img)
            for _ in range(8):
                x, y = (int(v) for v in rng.integers(0, px - 20, 2))
                draw.rectangle(
                    (x, y, x + px // 12, y + px // 12), fill=tuple(int(c) for c in rng.integers(0, 255, 3))
                )
            buf = io.BytesIO()
            img.save(buf, format="JPEG", quality=90)
            w.write(
                {
                    "image_id": f"b/{i}",
                    "source": "bench",
                    "image": buf.getvalue(),
                    "width": px,
                    "height": px,
                    "captions": [f"scene {i % 97} with {i % 7} boxes", f"an aerial image number {i % 13}"],
                }
            )
    return path


def _init_dist(cuda: bool) -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        return
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    os.environ.update(
        MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK="0", WORLD_SIZE="1", LOCAL_RANK="0"
    )
    dist.init_process_group("nccl" if cuda else "gloo", rank=0, world_size=1)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(step, batches, warmup: int, steps: int, batch: int, device: torch.device) -> float:
    for _ in range(warmup):
        step(next(batches))
    _sync(device)
    t = time.perf_counter()
    for _ in range(steps):
        step(next(batches))
    _sync(device)
    return batch * steps / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="RS-Tiny", help="open_clip model name")
    ap.add_argument("--batch", type=int, default=64, help="batch size (pairs per step)")
    ap.add_argument("--steps", type=int, default=30, help="timed steps per loop")
    ap.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    ap.add_argument(
        "--rounds", type=int, default=3, help="interleaved timing rounds (best of each mode reported)"
    )
    ap.add_argument("--precision", default="auto", choices=PRECISIONS, help="as rs-clip-train --precision")
    ap.add_argument("--zero-stage", type=int, default=0)
    ap.add_argument("--compile", action="store_true", help="torch.compile both models")
    ap.add_argument("--loader-workers", type=int, default=2, help="decode/augment processes")
    ap.add_argument("--image-px", type=int, default=128, help="stored image size in the benchmark shards")
    ap.add_argument("--rows", type=int, default=2000, help="rows in the benchmark shards")
    ap.add_argument("--data", help="an existing captions dataset instead of generated shards")
    ap.add_argument("--out", default="bench/results/train.json")
    args = ap.parse_args()

    ensure_accelerator_env()
    cuda = cuda_available()
    device = torch.device("cuda", 0) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    _init_dist(cuda)
    precision = resolve_precision(args.precision, cuda)
    amp = {"amp_bf16": torch.bfloat16, "amp": torch.float16}.get(precision)

    cfg = preset("tiny")
    cfg.model.name, cfg.model.compile = args.model, args.compile
    cfg.optim.batch_size, cfg.optim.warmup_steps, cfg.engine.precision = args.batch, 10, args.precision
    cfg.engine.zero_stage = args.zero_stage
    tmp = tempfile.TemporaryDirectory()
    data = (
        Path(args.data) if args.data else write_dataset(Path(tmp.name) / "shards", args.rows, args.image_px)
    )
    cfg.data = DataConfig(
        sources=[DataSource(str(data))], loader_workers=args.loader_workers, prefetch_factor=4
    )
    cfg.validate()

    def fresh():
        torch.manual_seed(0)
        bundle = build_model(cfg.model)
        to_engine_layout(bundle.model)
        return bundle, ContrastiveModel(bundle.model).to(device)

    bundle, _ = fresh()
    pre = bundle.preprocess_cfg
    size = pre["size"][0] if isinstance(pre["size"], (list, tuple)) else pre["size"]
    ctx = bundle.tokenizer.context_length
    g = torch.Generator(device="cpu").manual_seed(0)
    synthetic = (
        torch.randint(0, 255, (args.batch, 3, size, size), dtype=torch.uint8, generator=g).to(device),
        torch.randint(1, 1000, (args.batch, ctx), generator=g).to(device),
    )

    def repeat(x):
        while True:
            yield x

    def shards():
        loader = make_loader(
            cfg.data,
            micro_batch=args.batch,
            image_size=size,
            tokenizer=bundle.tokenizer,
            seed=0,
            rank=0,
            world=1,
            start_micro_step=0,
            pin_memory=cuda,
            jpegs_to_device=cuda and cfg.data.gpu_decode,
        )
        for images, texts, _ in prepared_ahead(iter(loader), lambda b: b.on_device(device, size), device):
            yield images, texts

    normalize = Normalize(pre["mean"], pre["std"], device)

    def torch_step_fn():
        _, module = fresh()
        if args.compile:
            module = torch.compile(module)
        opt = torch.optim.AdamW(param_groups(module, 0.1), lr=1e-4, fused=cuda)

        def step(batch):
            images, texts = batch
            with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
                loss = module(normalize(images), texts)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
            opt.step()

        return step

    def ds_step_fn():
        _, module = fresh()
        engine = initialize(
            module, param_groups(module, 0.1), cfg, 10_000, cuda=cuda, compile_model=args.compile
        )
        clip = own_clip_norm(cfg, cuda=cuda)

        def step(batch):
            images, texts = batch
            loss = engine(normalize(images), texts)
            engine_step(engine, loss, clip)

        return step

    # Interleaved rounds, best of each: on a shared machine load comes and goes, and a mode measured only
    # while something else ran would be misjudged.
    modes = {
        "loader_only": (lambda: lambda batch: None, shards),
        "ceiling_torch": (torch_step_fn, lambda: repeat(synthetic)),
        "deepspeed_synthetic": (ds_step_fn, lambda: repeat(synthetic)),
        "torch_from_shards": (torch_step_fn, shards),
        "deepspeed_from_shards": (ds_step_fn, shards),
    }
    steps = {name: make() for name, (make, _) in modes.items()}
    rounds: dict[str, list[float]] = {name: [] for name in modes}
    for r in range(args.rounds):
        for name, (_, source) in modes.items():
            # A fresh loader per measurement: one left running would prefetch while other modes are timed.
            rounds[name].append(_time(steps[name], source(), args.warmup, args.steps, args.batch, device))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.0f}" for k, v in rounds.items()), flush=True)
    results = {name: max(v) for name, v in rounds.items()}
    for name, value in results.items():
        print(f"{name:<24} {value:>10.1f} pairs/s (best of {args.rounds})")

    ratios = {
        "end_to_end": results["deepspeed_from_shards"] / results["ceiling_torch"],
        "deepspeed_overhead": 1 - results["deepspeed_synthetic"] / results["ceiling_torch"],
        "loader_efficiency_torch": results["torch_from_shards"] / results["ceiling_torch"],
    }
    for k, v in ratios.items():
        print(f"{k:<24} {v:>10.3f}")
    import deepspeed

    record = {
        "model": args.model,
        "batch": args.batch,
        "precision": precision,
        "zero_stage": args.zero_stage,
        "compile": args.compile,
        "loader_workers": args.loader_workers,
        "image_px": args.image_px,
        "steps": args.steps,
        "rounds": rounds,
        "pairs_per_s": results,
        "ratios": ratios,
        "device": torch.cuda.get_device_name(device)
        if cuda
        else f"cpu ({os.cpu_count()} cores, {platform.processor()})",
        "versions": {"torch": torch.__version__, "deepspeed": deepspeed.__version__},
        "date": time.strftime("%Y-%m-%d"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    tmp.cleanup()


if __name__ == "__main__":
    main()
