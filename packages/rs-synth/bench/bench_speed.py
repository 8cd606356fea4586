"""Images per CPU-second of rs-synth on one core: scene rendering alone and full writers (render + encode +
labels), at 256 px and 1024 px. Prints a table and writes JSON (default: bench_speed.json here)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from rs_synth import FORMATS, sample_scene
from rs_synth.classes import DOTA_V1


def rate(fn, n: int) -> float:
    """Images per CPU-second of this process: on a shared machine wall time measures the neighbours too."""
    t0 = time.process_time()
    fn(n)
    return n / (time.process_time() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=200, help="images per 256 px measurement (1024 px uses n/8)")
    ap.add_argument("--out", default=str(Path(__file__).with_suffix(".json")), help="JSON result path")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    res: dict = {
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cores_used": 1,
        "images_per_s": {},
    }
    classes = set(DOTA_V1)
    for size in (256, 1024):
        n = args.n if size == 256 else max(8, args.n // 8)
        r = {
            "render": rate(
                lambda k, s=size: [sample_scene(np.random.default_rng(i), s, classes) for i in range(k)], n
            )
        }
        for fmt in ("dota", "counting", "rsicd", "dior", "isaid", "loveda"):
            with tempfile.TemporaryDirectory() as d:
                r[fmt] = rate(lambda k, f=fmt, s=size, d=d: FORMATS[f].write(Path(d) / "o", k, size=s), n)
        res["images_per_s"][str(size)] = {k: round(v, 1) for k, v in r.items()}
        print(f"{size:>5}px  " + "  ".join(f"{k} {v:7.1f}/s" for k, v in r.items()), flush=True)
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
