"""Caption DOTA-format labels (rs-annotate) and count objects with a CLIP checkpoint (rs-count).

Both steps go through the packages' Python APIs; nothing here re-implements dataset I/O or model loading.
Captioning never imports torch, so ``caption_labels`` runs on machines without it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import rs_annotate
import rs_count
from rs_formats import open_dataset

#: DOTA's own layout: SRC/images/P0001.png with SRC/labelTxt/P0001.txt.
IMAGES, LABELS = "images", "labelTxt"


def caption_labels(
    src: str | Path,
    out: str | Path,
    *,
    seed: int = 0,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    examples: int = 3,
) -> dict[str, Any]:
    """B2C captions for every labelled image of ``src`` as an rs-dataset at ``out``; a summary dict."""
    report = rs_annotate.convert(
        "dota", src, out, seed=seed, workers=workers, progress=progress, overwrite=overwrite
    )
    stats = rs_annotate.stats(out)
    rows = open_dataset(out).iter_rows(columns=["image_id", "captions"])
    shown = [{"image_id": r["image_id"], "caption": r["captions"][0]} for r, _ in zip(rows, range(examples))]
    return {
        "dataset": str(out),
        "images": report.rows,
        "objects": report.objects,
        "bad": report.n_bad,
        "without_objects": len(report.empty),
        "clipped_boxes": report.clipped_boxes,
        "captions": stats["captions"],
        "caption_words_mean": stats["caption_length"]["mean"],
        "classes": stats["class_frequency"],
        "examples": shown,
    }


def count_objects(
    src: str | Path,
    model: str | Path,
    out: str | Path,
    *,
    balanced: bool = False,
    seed: int = 0,
    device: str = "auto",
    loader_workers: int = 0,
    progress: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """A RemoteCount-style set from ``src``'s labels at ``out``, and ``model``'s counting accuracy on it
    (accuracies in percent, MAE in counts).

    ``model`` is any rs-count model spec: an rs-clip-checkpoint directory (trained elsewhere),
    ``NAME:WEIGHTS`` or an open_clip name (random initialisation).
    """
    src = Path(src)
    build = rs_count.build(
        src / LABELS,
        src / IMAGES,
        out,
        rs_count.BuildRules(balanced=balanced, seed=seed),
        overwrite=overwrite,
        progress=progress,
    )
    config = rs_count.EvalConfig(device=device, loader_workers=loader_workers, progress=progress)
    results = rs_count.evaluate_model(str(model), out, variants=("words", "digits"), config=config)
    return {
        "dataset": str(out),
        "images": build.written,
        "per_count": {str(k): v for k, v in sorted(build.per_count.items())},
        "rejected": build.rejected,
        "model": results[0].model,
        "metrics": {
            r.variant: {
                "n": r.metrics.n,
                "top1": r.metrics.top1,
                "top3": r.metrics.topk[2],
                "topk": r.metrics.topk,
                "mae": r.metrics.mae,
                "per_count": {str(k): v for k, v in r.metrics.per_count.items()},
            }
            for r in results
        },
    }


def audit(
    src: str | Path,
    model: str | Path,
    out: str | Path,
    *,
    seed: int = 0,
    balanced: bool = False,
    device: str = "auto",
    workers: int = 1,
    progress: bool = True,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Both steps; writes ``out/captions``, ``out/counting`` and ``out/summary.json`` and returns the summary.

    ``workers`` processes caption the labels and decode images for the model (1: all in this process).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    captions = caption_labels(
        src, out / "captions", seed=seed, workers=workers, progress=progress, overwrite=overwrite
    )
    t1 = time.perf_counter()
    counting = count_objects(
        src,
        model,
        out / "counting",
        balanced=balanced,
        seed=seed,
        device=device,
        loader_workers=0 if workers == 1 else workers,
        progress=progress,
        overwrite=overwrite,
    )
    t2 = time.perf_counter()
    summary = {
        "source": str(src),
        "model": str(model),
        "captions": captions,
        "counting": counting,
        "seconds": {"captions": round(t1 - t0, 3), "counting": round(t2 - t1, 3)},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
