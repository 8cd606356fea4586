"""The GPU suite's ``decode`` part: rows decoded on the device (nvjpeg on a GPU, torchvision's CPU
decoder in the smoke) against PIL, for evaluation's preprocessing, training's augmentation and a whole
training micro-batch. The suite turns device decoding off for every later part if this fails.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

if TYPE_CHECKING:
    from gpu_suite import Suite


def part_decode(suite: Suite) -> dict[str, Any]:
    """Rows decoded on the device (nvjpeg on a GPU) against PIL, for evaluation's preprocessing and for
    training's augmentation. If this part fails, the other parts decode on the CPU (and say so)."""
    import open_clip

    from rs_clip_models.device_decode import decode_jpegs, device_plan
    from rs_clip_models.encoding import decode_image
    from rs_clip_train.augment import AugParams, augment, augment_on_device, decode
    from rs_formats import open_dataset

    rows = open_dataset(suite.data).read_row_group("test", 0, ["image_id", "image"]).to_pylist()[:64]
    datas = [r["image"] for r in rows]
    decoded = decode_jpegs(datas, suite.device)
    preprocess = open_clip.image_transform(224, is_train=False)
    plan = device_plan(preprocess)
    got = plan(decoded).cpu()
    want = torch.stack([preprocess(decode_image(d)) for d in datas])
    eval_levels = ((got - want) * torch.tensor(plan.std).view(1, 3, 1, 1) * 255).abs()
    params = [AugParams((0.05, 0.1, 0.9 + 0.001 * i, 0.95), i % 2 == 0, i % 4) for i in range(len(rows))]
    got_t = torch.stack([augment_on_device(img, p, 224) for img, p in zip(decoded, params)]).cpu()
    want_t = torch.stack(
        [
            torch.from_numpy(augment(decode(r["image"], r["image_id"], 224), p, 224)).permute(2, 0, 1)
            for r, p in zip(rows, params)
        ]
    )
    train_levels = (got_t.int() - want_t.int()).abs().float()
    loader_levels = _loader_levels(suite)
    checks = {}
    for name, levels in (
        ("eval_preprocess", eval_levels),
        ("train_augment", train_levels),
        ("train_loader", loader_levels),
    ):
        checks.update(agreement(name, levels))
    suite.shared["gpu_decode"] = all(c["ok"] for c in checks.values())
    return {"rows": len(rows), "device": str(suite.device), "checks": checks}


#: Agreement of two JPEG decoders, in grey levels (0-255) over every channel of every pixel. nvjpeg and
#: libjpeg-turbo (PIL) differ in their IDCT and chroma upsampling: most values within a level or two, pixels
#: on the sharp colour edges of the scenes' squares up to ~60 levels (measured, H200, run 1: mean 0.6, max
#: 50-60). A real fault moves the means: a pixel of shift, swapped channels or another resize filter every
#: image's, a wrong crop or a garbled image that image's; the maximum alone tells nothing. The share of
#: far-off values is a loose bound on anything local.
MEAN_LEVELS, IMAGE_MEAN_LEVELS, FAR_LEVELS, FAR_SHARE = 1.0, 2.0, 32, 1e-2


def agreement(name: str, levels: torch.Tensor) -> dict[str, Any]:
    """Checks of absolute level differences (one image per row of ``levels``) between two decoders: the
    mean, the worst image's mean, and the share of values off by more than ``FAR_LEVELS``; the 99.9th
    percentile and the maximum are recorded beside them."""
    flat = levels.flatten().float()
    mean, far = float(flat.mean()), float((flat > FAR_LEVELS).float().mean())
    worst = float(levels.flatten(1).float().mean(1).max())
    top = flat.sort().values
    return {
        f"{name}_mean_levels": {
            "value": round(mean, 3),
            "target": f"< {MEAN_LEVELS}",
            "ok": mean < MEAN_LEVELS,
        },
        f"{name}_worst_image_mean_levels": {
            "value": round(worst, 3),
            "target": f"< {IMAGE_MEAN_LEVELS}",
            "ok": worst < IMAGE_MEAN_LEVELS,
        },
        f"{name}_share_over_{FAR_LEVELS}_levels": {
            "value": round(far, 6),
            "target": f"<= {FAR_SHARE}",
            "ok": far <= FAR_SHARE,
            "p99_9": float(top[min(len(top) - 1, int(0.999 * len(top)))]),
            "max": float(top[-1]),
        },
    }


def _loader_levels(suite: Suite) -> torch.Tensor:
    """Grey-level differences between a training micro-batch assembled on the device
    (``Batch.on_device``) and the same micro-batch decoded in the loader."""
    import open_clip

    from rs_clip_train import DataConfig, DataSource
    from rs_clip_train.data import make_loader

    cfg = DataConfig(sources=[DataSource(str(suite.data))], loader_workers=0)
    batches = []
    for on_device in (False, True):
        loader = make_loader(
            cfg,
            micro_batch=16,
            image_size=224,
            tokenizer=open_clip.get_tokenizer("ViT-B-32"),
            seed=0,
            rank=0,
            world=1,
            start_micro_step=0,
            pin_memory=suite.cuda,
            jpegs_to_device=on_device,
        )
        images, texts, _ = next(iter(loader)).on_device(suite.device, 224)
        batches.append((images.cpu(), texts.cpu()))
    (a, ta), (b, tb) = batches
    if not torch.equal(ta, tb):
        raise AssertionError("the device-decoded micro-batch holds other captions than the loader's")
    return (a.int() - b.int()).abs().float()
