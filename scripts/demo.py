"""The whole RemoteCLIP recipe on synthetic scenes, end to end, on the embedded default (local Ray, CPU).

synthetic scenes in real source formats -> rs-annotate (convert, merge, dedup against the evaluation
sets) -> rs-clip-train (DeepSpeed on a local Ray) -> rs-clip-eval (retrieval, zero-shot, few-shot,
linear probe, k-NN) -> rs-count (RemoteCount), comparing the trained model with its initialisation.

Every stage is run through the package's own command line, printed before it runs, so the demo doubles as
a worked example. Usage: ``hatch run demo [--out DIR] [--steps N] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class Demo:
    def __init__(self, out: Path):
        self.out = out
        self.times: dict[str, float] = {}

    def run(self, *cmd: str | Path) -> None:
        args = [str(c) for c in cmd]
        print(f"\n$ {shlex.join(args)}", flush=True)
        proc = subprocess.run(args, cwd=REPO)
        if proc.returncode != 0:
            sys.exit(f"demo: stage failed ({proc.returncode}): {shlex.join(args)}")

    def stage(self, name: str):
        demo = self

        class _Timer:
            def __enter__(self):
                print(f"\n=== {name}", flush=True)
                self.t0 = time.monotonic()

            def __exit__(self, *exc):
                demo.times[name] = time.monotonic() - self.t0

        return _Timer()


def tool(name: str) -> str:
    """The console script installed next to this interpreter (the hatch env's bin/)."""
    exe = Path(sys.executable).with_name(name)
    return str(exe) if exe.exists() else name


def write_initial_checkpoint(path: Path, seed: int) -> None:
    """The random initialisation both the training run and the comparisons start from."""
    import torch

    from rs_formats import write_checkpoint
    from rs_formats.models import TINY_MODEL, create_model

    torch.manual_seed(seed)
    model, _, _ = create_model(TINY_MODEL)
    write_checkpoint(path, model.state_dict(), model_name=TINY_MODEL, step=0,
                     config={"init": "random", "seed": seed}, preprocess_config={"size": 64})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=REPO / "demo_out", help="where everything goes (replaced)")
    p.add_argument("--steps", type=int, default=1000, help="training steps for the tiny model")
    p.add_argument("--train-workers", type=int, default=1,
                   help="Ray Train workers (DeepSpeed processes) for the training stage")
    p.add_argument("--scale", type=float, default=1.0, help="multiply the number of synthetic images")
    p.add_argument("--seed", type=int, default=0, help="seed for scenes, captions, init and training")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (logs, CI)")
    p.add_argument("--until", choices=("annotate", "train", "eval", "count"), default="count",
                   help="stop after this stage")
    args = p.parse_args(argv)
    out: Path = args.out
    if out.exists():
        shutil.rmtree(out)
    raw, ds = out / "raw", out / "datasets"
    d = Demo(out)
    n = lambda k: str(max(8, int(k * args.scale)))  # noqa: E731 - local shorthand for image counts
    seed = str(args.seed)
    synth, annotate = tool("rs-synth"), tool("rs-annotate")

    with d.stage("1. synthetic scenes in source formats (rs-synth)"):
        for fmt, count, name, offset in (
            ("dota", 240, "dota", 0),
            ("dior", 160, "dior", 0),
            ("carpk", 60, "carpk", 0),
            ("rsicd", 300, "rsicd", 0),
            ("counting", 400, "counting-train", 1),  # counting scenes to learn from (another seed)
            ("imagefolder", 400, "scenes", 0),
            ("counting", 300, "counting", 0),  # the RemoteCount test scenes
        ):
            d.run(synth, fmt, "--out", raw / name, "--n", n(count), "--seed", str(args.seed + offset),
                  "--size", "256")

    quiet = ("--no-progress",) if args.no_progress else ()
    with d.stage("2. captions from annotations (rs-annotate)"):
        for fmt, name in (("dota", "dota"), ("dior", "dior"), ("carpk", "carpk")):
            d.run(annotate, "convert", fmt, raw / name, "--out", ds / name, "--seed", seed, "--split", "train",
                  *quiet)
        d.run(annotate, "convert", "dota", raw / "counting-train", "--out", ds / "counting-train", "--seed", seed,
              "--opt", "source=counting-scenes", "--split", "train", *quiet)
        d.run(annotate, "convert", "ret3", raw / "rsicd", "--out", ds / "rsicd-train", "--opt", "splits=train,val",
              "--split", "train", *quiet)
        d.run(annotate, "convert", "ret3", raw / "rsicd", "--out", ds / "rsicd-test", "--opt", "splits=test", *quiet)
        d.run(annotate, "convert", "imagefolder", raw / "scenes", "--out", ds / "scenes", *quiet)
        d.run(tool("rs-count"), "build", "--labels", raw / "counting" / "labelTxt", "--images",
              raw / "counting" / "images", "--out", ds / "count", *quiet)
        # Training data must not contain any evaluation image (pHash, across all evaluation sets).
        d.run(annotate, "dedup", *(ds / s for s in ("rsicd-train", "dota", "dior", "carpk", "counting-train")),
              "--out", ds / "train", "--against", ds / "rsicd-test", ds / "scenes", ds / "count")
        d.run(annotate, "stats", ds / "train", "--plots", out / "plots" / "annotate")
        d.run(annotate, "show", ds / "train", "-n", "16", "--out", out / "plots" / "contact_sheet.png")

    if args.until == "annotate":
        return 0
    init = out / "init"
    with d.stage("3. contrastive training (rs-clip-train: DeepSpeed on a local Ray)"):
        write_initial_checkpoint(init, args.seed)
        d.run(tool("rs-clip-train"), "fit", "--preset", "tiny", "--data", ds / "train", "--out", out / "run",
              "--init", init, "--steps", str(args.steps), "--workers", str(args.train_workers), "--seed", seed,
              *quiet)
    trained = out / "run" / "final"
    if args.until == "train":
        return 0

    with d.stage("4. evaluation (rs-clip-eval)"):
        suite = out / "suite.yaml"
        suite.write_text(
            "name: demo\nprobe: {epochs: 200}\ndatasets:\n"
            f"  - path: {ds / 'rsicd-test'}\n    name: synthetic-RSICD\n    tasks: [retrieval]\n"
            f"  - path: {ds / 'scenes'}\n    name: synthetic-scenes\n"
            "    tasks: [zeroshot, linear_probe, fewshot, knn]\n    shots: [1, 4, 16]\n    seeds: [0, 1]\n"
        )
        d.run(tool("rs-clip-eval"), "run", "--model", f"trained={trained}", "--model", f"init={init}",
              "--suite", suite, "--out", out / "eval", "--no-cache", *quiet)
    if args.until == "eval":
        return 0

    with d.stage("5. RemoteCount (rs-count)"):
        d.run(tool("rs-count"), "eval", "--model", f"trained={trained}", "--model", f"init={init}",
              "--data", ds / "count", "--out", out / "count", "--no-cache", *quiet)

    summarise(d, out)
    return 0


def summarise(d: Demo, out: Path) -> None:
    eval_results = json.loads((out / "eval" / "results.json").read_text())
    count_results = json.loads((out / "count" / "results.json").read_text())
    rows = headline_metrics(eval_results, count_results)
    print("\n=== results: trained vs initialisation")
    print(f"{'metric':42s} {'trained':>9s} {'init':>9s}")
    for name, trained, init in rows:
        print(f"{name:42s} {trained:9.2f} {init:9.2f}")
    (out / "summary.json").write_text(json.dumps(
        {"metrics": [{"metric": m, "trained": t, "init": i} for m, t, i in rows], "stage_seconds": d.times},
        indent=2))
    print("\n=== stage times")
    for name, secs in d.times.items():
        print(f"{secs:7.1f} s  {name}")
    print(f"{sum(d.times.values()):7.1f} s  total")
    print(f"\nreports: {out / 'eval' / 'report.md'}, {out / 'count' / 'report.md'}")
    print(f"plots:   {out / 'plots'}, {out / 'eval' / 'plots'}, {out / 'count'}")
    print(f"summary: {out / 'summary.json'}")


def headline_metrics(eval_results: dict, count_results: dict) -> list[tuple[str, float, float]]:
    """(metric, trained, init) rows from rs-clip-eval's and rs-count's results.json, all in %."""
    ev = eval_results["results"]
    ret, cls = ev["trained"]["synthetic-RSICD"], ev["trained"]["synthetic-scenes"]
    ret0, cls0 = ev["init"]["synthetic-RSICD"], ev["init"]["synthetic-scenes"]
    rows = [
        ("retrieval mean recall (synthetic RSICD)", ret["retrieval"]["mean_recall"],
         ret0["retrieval"]["mean_recall"]),
        ("zero-shot top-1 (synthetic scenes)", cls["zeroshot"]["top1"], cls0["zeroshot"]["top1"]),
        ("linear probe top-1", cls["linear_probe"]["top1"], cls0["linear_probe"]["top1"]),
    ]
    for k in cls["fewshot"]["shots"]:
        rows.append((f"{k}-shot linear probe top-1 (mean over seeds)", cls["fewshot"]["shots"][k]["mean"],
                     cls0["fewshot"]["shots"][k]["mean"]))
    rows.append(("k-NN top-1 (k=20, T=0.07)", cls["knn"]["top1"], cls0["knn"]["top1"]))
    count = {(r["model"], r["variant"]): r for r in count_results["results"]}
    for variant in ("words", "digits"):
        rows.append((f"RemoteCount top-1 ({variant}; chance 10)", count["trained", variant]["topk"]["top1"],
                     count["init", variant]["topk"]["top1"]))
    return rows

if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
