"""``aerial-audit SRC --model CKPT --out OUT``: caption DOTA labels, then count objects with a checkpoint."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from rs_formats import FormatError

from .audit import audit


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aerial-audit",
        description="Caption your DOTA-format labels (rs-annotate) and measure how well a CLIP checkpoint "
        "trained elsewhere counts their objects (rs-count).",
    )
    p.add_argument("src", metavar="SRC", help="DOTA layout: SRC/images/* and SRC/labelTxt/*.txt")
    p.add_argument(
        "--model",
        required=True,
        help="an rs-clip-checkpoint directory, NAME:WEIGHTS (open_clip name + local file), "
        "or an open_clip NAME (random initialisation, as a baseline)",
    )
    p.add_argument("--out", required=True, help="output directory: captions/, counting/, summary.json")
    p.add_argument("--seed", type=int, default=0, help="seed of the captions and of balancing (default 0)")
    p.add_argument("--balanced", action="store_true", help="keep as many counting images per count 1..10")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="processes that caption and decode images (default 1: all in this process)",
    )
    p.add_argument(
        "--device", default="auto", help="torch device for the model (default auto: cuda if available)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace the datasets under OUT if they exist")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    return p


def format_summary(s: dict[str, Any]) -> str:
    cap, cnt = s["captions"], s["counting"]
    classes = ", ".join(f"{k} {v}" for k, v in sorted(cap["classes"].items(), key=lambda kv: -kv[1]))
    lines = [
        f"captions: {cap['images']} images, {cap['objects']} objects, {cap['captions']} captions "
        f"(mean {cap['caption_words_mean']:.1f} words) -> {cap['dataset']}",
        f"  classes: {classes}",
        *(f"  {e['image_id']}: {e['caption']}" for e in cap["examples"]),
        f"counting: {cnt['images']} images (per count "
        + " ".join(f"{k}:{v}" for k, v in cnt["per_count"].items())
        + f") -> {cnt['dataset']}",
        f"  model: {cnt['model']}",
        *(
            f"  {variant:<6}  top-1 {m['top1']:.1f}%  top-3 {m['top3']:.1f}%  MAE {m['mae']:.2f}  (chance top-1 10%)"
            for variant, m in cnt["metrics"].items()
        ),
        f"took {s['seconds']['captions']:.1f} s captioning, {s['seconds']['counting']:.1f} s counting",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        summary = audit(
            args.src,
            args.model,
            args.out,
            seed=args.seed,
            balanced=args.balanced,
            device=args.device,
            workers=args.workers,
            progress=not args.no_progress,
            overwrite=args.overwrite,
        )
    except (FormatError, FileExistsError, FileNotFoundError, ValueError) as exc:
        # Both libraries' errors are FormatErrors (rs_annotate.BadInput is one) naming the offending file (and
        # line): one line is enough.
        print(f"aerial-audit: error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    print(f"summary: {args.out}/summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
