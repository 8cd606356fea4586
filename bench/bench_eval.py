"""Embedding throughput of rs-clip-eval: images streamed from rs-dataset shards vs tensors already on the device.

Both sides run in the same process on the same model:

* ``device_only``: preprocessed image batches already on the device, ``encode_image`` (+ normalise, copy
  back), i.e. the model's ceiling;
* ``from_shards``: ``rs_clip_models.encoding.encode_images`` (Parquet -> JPEG decode -> preprocess in DataLoader
  workers -> device), what every rs-clip-eval task runs;
* ``loader_only``: the same ``encode_images`` with a model that returns zeros: the loader's ceiling;
* ``decode_preprocess``: one core decoding and preprocessing the same images (PIL + open_clip transform).

``from_shards`` close to ``min(device_only, loader_only)`` means the pipeline overlaps well and whichever of the
two is lower is the limit.

The target is ``from_shards / device_only >= 0.9``. Figures go to bench/results/eval.json (or --out).

    python bench/bench_eval.py                                  # CPU, RS-Tiny (random init)
    python bench/bench_eval.py --model ViT-B-32 --device cuda --images 20000 --loader-workers 16 --precision amp_bf16
    python bench/bench_eval.py --model ViT-L-14 --device cuda --images 10000 --loader-workers 16 --precision amp_bf16
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from rs_clip_models.encoding import decode_image, encode_images  # noqa: E402
from rs_clip_models.models import INFERENCE_PRECISIONS, autocast, load_spec  # noqa: E402
from rs_clip_models.spec import ModelSpec  # noqa: E402
from rs_formats import open_dataset  # noqa: E402
from rs_synth.evalsets import write_classification_dataset  # noqa: E402


def _sync(device: str) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


@torch.no_grad()
def device_only(model, batch: torch.Tensor, n: int, device: str, precision: str) -> float:
    batch = batch.to(device)
    with autocast(device, precision):
        model.encode_image(batch, normalize=True).float().cpu()  # warm-up
        _sync(device)
        t0 = time.perf_counter()
        done = 0
        while done < n:
            model.encode_image(batch, normalize=True).float().cpu()
            done += len(batch)
        _sync(device)
    return done / (time.perf_counter() - t0)


def from_shards(model, preprocess, ds, args) -> float:
    with autocast(args.device, args.precision):
        t0 = time.perf_counter()
        out = encode_images(
            model,
            preprocess,
            ds,
            "test",
            batch_size=args.batch_size,
            num_workers=args.loader_workers,
            device=args.device,
            progress=False,
        )
        _sync(args.device)
    return len(out) / (time.perf_counter() - t0)


class _NoModel(torch.nn.Module):
    """Returns zeros: times the loader (Parquet, decode, preprocess, workers, transfer) without a model."""

    def encode_image(self, x: torch.Tensor, normalize: bool = True) -> torch.Tensor:
        return torch.zeros(len(x), 8, device=x.device)


def decode_preprocess(preprocess, ds, limit: int) -> dict[str, float]:
    """Per-core images/s of the loader's work, as rs_clip_models.encoding does it and in two cheaper variants
    (candidates for rs_clip_models.encoding; the variants are measured here only, nothing in rs-clip-eval uses them):
    ``uint8``: no ToTensor/Normalize on the CPU (workers ship uint8, the device converts and normalises);
    ``draft_uint8``: also JPEG DCT-domain downscaling (PIL ``draft``) to >= 2x the model input before the
    resize, which decodes far fewer pixels when stored images are much larger than the input."""
    import io

    from PIL import Image
    from torchvision.transforms import CenterCrop, PILToTensor, Resize

    rows = ds.read_table("test", ["image_id", "image"]).slice(0, limit).to_pylist()
    size = next(t.size for t in preprocess.transforms if isinstance(t, Resize))
    side = size if isinstance(size, int) else max(size)
    geometric = [t for t in preprocess.transforms if isinstance(t, (Resize, CenterCrop))]

    def uint8(img):
        for t in geometric:
            img = t(img)
        return PILToTensor()(img)

    def draft(data):
        img = Image.open(io.BytesIO(data))
        img.draft("RGB", (2 * side, 2 * side))
        return img.convert("RGB")

    variants = {
        "reference": lambda r: preprocess(decode_image(r["image"], r["image_id"])),
        "uint8": lambda r: uint8(decode_image(r["image"], r["image_id"])),
        "draft_uint8": lambda r: uint8(draft(r["image"])),
    }
    rates = {}
    for name, fn in variants.items():
        t0 = time.perf_counter()
        for r in rows:
            fn(r)
        rates[name] = round(len(rows) / (time.perf_counter() - t0), 1)
    return rates


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="RS-Tiny", help="open_clip architecture (random init; speed only)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--precision",
        default="fp32",
        choices=INFERENCE_PRECISIONS,
        help="fp32 or autocast (amp_bf16 on GPUs)",
    )
    p.add_argument("--images", type=int, default=2000, help="images in the synthetic test split")
    p.add_argument(
        "--image-size", type=int, default=256, help="stored image side (UCM/RSITMD: 256, RSICD: 224)"
    )
    p.add_argument("--batch-size", type=int, default=256, help="embedding batch")
    p.add_argument("--loader-workers", type=int, default=2, help="DataLoader workers")
    p.add_argument("--repeats", type=int, default=3, help="timed repetitions (best is reported)")
    p.add_argument("--data-dir", type=Path, default=None, help="reuse/keep the synthetic dataset here")
    p.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "eval.json", help="JSON output"
    )
    args = p.parse_args()

    tmp = None
    data = args.data_dir
    if data is None:
        tmp = tempfile.TemporaryDirectory()
        data = Path(tmp.name)
    ds_dir = data / f"bench-{args.images}-{args.image_size}"
    if not (ds_dir / "manifest.json").is_file():
        t0 = time.perf_counter()
        write_classification_dataset(
            ds_dir, n_train=0, n_test=args.images, size=args.image_size, name="bench"
        )
        print(f"generated {args.images} images of {args.image_size}px in {time.perf_counter() - t0:.1f} s")
    ds = open_dataset(ds_dir)

    model, preprocess, _ = load_spec(ModelSpec.parse(args.model), args.device)
    sample = ds.read_table("test", ["image_id", "image"]).slice(0, args.batch_size).to_pylist()
    batch = torch.stack([preprocess(decode_image(r["image"], r["image_id"])) for r in sample])

    from_shards(model, preprocess, ds, args)  # warm-up: file cache, worker start, kernels
    ceiling = max(
        device_only(model, batch, args.images, args.device, args.precision) for _ in range(args.repeats)
    )
    pipeline = max(from_shards(model, preprocess, ds, args) for _ in range(args.repeats))
    loader = max(from_shards(_NoModel(), preprocess, ds, args) for _ in range(args.repeats))
    decode = decode_preprocess(preprocess, ds, min(500, args.images))
    result = {
        "benchmark": "rs-clip-eval embedding throughput",
        "model": args.model,
        "device": args.device,
        "precision": args.precision,
        "device_name": torch.cuda.get_device_name()
        if args.device.startswith("cuda")
        else platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "images": args.images,
        "image_size": args.image_size,
        "model_input": list(batch.shape[1:]),
        "batch_size": args.batch_size,
        "workers": args.loader_workers,
        "device_only_img_s": round(ceiling, 1),
        "from_shards_img_s": round(pipeline, 1),
        "ratio": round(pipeline / ceiling, 3),
        "target_ratio": 0.9,
        "loader_only_img_s": round(loader, 1),
        "ratio_to_loader_only": round(pipeline / loader, 3),
        "decode_preprocess_img_s_per_core": decode,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    if tmp is not None:
        tmp.cleanup()


if __name__ == "__main__":
    main()
