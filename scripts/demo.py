"""The whole RemoteCLIP recipe on synthetic scenes, end to end, on the embedded default (local Ray, CPU).

synthetic scenes in real source formats -> rs-annotate (convert, dedup against the evaluation sets) ->
rs-clip-train (DeepSpeed on a local Ray) -> rs-clip-eval (retrieval, zero-shot, few-shot, linear probe,
k-NN) -> rs-count (RemoteCount), comparing the trained model with its initialisation -> rs-clip-search (an
index of the scenes, and the command that serves the search page; no server is left running).

Every stage is run through the package's own command line, printed before it runs, so the demo doubles as
a worked example. The training scenes hold a few planted leaks (copies of evaluation images, repeated
scenes: ``rs-synth dota --plant``) for the de-duplication stage to find. What the libraries under the tools
print (Ray, DeepSpeed, torch) goes to the training run's logs/, named in the summary.
Usage: ``hatch run demo [--out DIR] [--steps N] [--scale X] [--train-workers N] [--seed S]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from demo_runner import Demo  # scripts/, beside this file
from demo_summary import summarise

REPO = Path(__file__).resolve().parents[1]
#: Copies of each evaluation set's images planted among the DOTA training scenes, and repeated scenes.
PLANT_PER_SET, DUPLICATES = 2, 2


def tool(name: str) -> str:
    """The console script installed next to this interpreter (the hatch env's bin/)."""
    exe = Path(sys.executable).with_name(name)
    return str(exe) if exe.exists() else name


def write_initial_checkpoint(path: Path, seed: int) -> None:
    """The random initialisation both the training run and the comparisons start from."""
    import torch

    from rs_clip_models.checkpoint_writer import write_checkpoint
    from rs_clip_models.models import TINY_MODEL, create_model

    torch.manual_seed(seed)
    model, _, _ = create_model(TINY_MODEL)
    write_checkpoint(
        path,
        model.state_dict(),
        model_name=TINY_MODEL,
        step=0,
        config={"init": "random", "seed": seed},
        preprocess_config={"size": 64},
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, default=REPO / "demo_out", help="where everything goes (replaced)")
    p.add_argument("--steps", type=int, default=400, help="training steps for the tiny model (default 400)")
    p.add_argument(
        "--train-workers",
        type=int,
        default=1,
        help="Ray Train workers (DeepSpeed processes) for the training stage",
    )
    p.add_argument("--scale", type=float, default=1.0, help="multiply the number of synthetic images")
    p.add_argument("--seed", type=int, default=0, help="seed for scenes, captions, init and training")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (logs, CI)")
    p.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="tools run side by side where a stage has independent ones (default: the CPU count)",
    )
    p.add_argument(
        "--until",
        choices=("annotate", "train", "eval", "count"),
        default="count",
        help="stop after this stage",
    )
    args = p.parse_args(argv)
    out: Path = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    raw, ds = out / "raw", out / "datasets"
    d = Demo(out, REPO, args.jobs)
    n = lambda k: str(max(8, int(k * args.scale)))  # noqa: E731 - local shorthand for image counts
    seed = str(args.seed)
    synth, annotate = tool("rs-synth"), tool("rs-annotate")
    evaluation = ("rsicd", "scenes", "counting")  # what the evaluation sets are made from
    leaks = [a for name in evaluation for a in ("--plant", raw / name)]
    leaks += ["--plant-n", str(PLANT_PER_SET), "--duplicates", str(DUPLICATES)]

    with d.stage("1. synthetic scenes in source formats (rs-synth)"):
        writers = (
            ("rsicd", 300, "rsicd", 0, ()),  # captions: train/val to learn from, test to evaluate on
            ("imagefolder", 400, "scenes", 0, ()),  # the scene-classification evaluation set
            ("counting", 300, "counting", 0, ()),  # the RemoteCount test scenes
            ("dota", 240, "dota", 0, leaks),  # ... plus copies of evaluation images and repeated scenes
            ("dior", 160, "dior", 0, ()),
            ("carpk", 60, "carpk", 0, ()),
            ("counting", 400, "counting-train", 1, ()),  # counting scenes to learn from (another seed)
        )
        size = ("--size", "256")
        d.run_all(
            [
                (
                    (synth, fmt, "--out", raw / name, "--n", n(count), "--seed", str(args.seed + offset))
                    + size
                    + tuple(extra),
                    (0, 1, 2) if extra else (),  # dota copies images of the evaluation sets
                )
                for fmt, count, name, offset, extra in writers
            ]
        )

    quiet = ("--no-progress",) if args.no_progress else ()
    with d.stage("2. captions from annotations (rs-annotate)"):
        for fmt, name in (("dota", "dota"), ("dior", "dior"), ("carpk", "carpk")):
            d.run(
                annotate,
                "convert",
                fmt,
                raw / name,
                "--out",
                ds / name,
                "--seed",
                seed,
                "--split",
                "train",
                *quiet,
            )
        d.run(
            annotate,
            "convert",
            "dota",
            raw / "counting-train",
            "--out",
            ds / "counting-train",
            "--seed",
            seed,
            "--opt",
            "source=counting-scenes",
            "--split",
            "train",
            *quiet,
        )
        d.run(
            annotate,
            "convert",
            "ret3",
            raw / "rsicd",
            "--out",
            ds / "rsicd-train",
            "--opt",
            "splits=train,val",
            "--split",
            "train",
            *quiet,
        )
        d.run(
            annotate,
            "convert",
            "ret3",
            raw / "rsicd",
            "--out",
            ds / "rsicd-test",
            "--opt",
            "splits=test",
            *quiet,
        )
        d.run(annotate, "convert", "imagefolder", raw / "scenes", "--out", ds / "scenes", *quiet)
        d.run(
            tool("rs-count"),
            "build",
            "--labels",
            raw / "counting" / "labelTxt",
            "--images",
            raw / "counting" / "images",
            "--out",
            ds / "count",
            *quiet,
        )
        # Training data must not contain any evaluation image (pHash, across all evaluation sets).
        d.run(
            annotate,
            "dedup",
            *(ds / s for s in ("rsicd-train", "dota", "dior", "carpk", "counting-train")),
            "--out",
            ds / "train",
            "--against",
            ds / "rsicd-test",
            ds / "scenes",
            ds / "count",
            *quiet,
        )
        d.run(annotate, "stats", ds / "train", "--plots", out / "plots" / "annotate", capture=True)
        print(stats_line(json.loads((out / "plots" / "annotate" / "stats.json").read_text())))
        d.run(annotate, "show", ds / "train", "-n", "16", "--out", out / "plots" / "contact_sheet.png")

    if args.until == "annotate":
        return 0
    init = out / "init"
    with d.stage("3. contrastive training (rs-clip-train: DeepSpeed on a local Ray)"):
        write_initial_checkpoint(init, args.seed)
        d.run(
            tool("rs-clip-train"),
            "fit",
            "--preset",
            "tiny",
            "--data",
            ds / "train",
            "--out",
            out / "run",
            "--init",
            init,
            "--steps",
            str(args.steps),
            "--workers",
            str(args.train_workers),
            "--seed",
            seed,
            *quiet,
        )
    trained = out / "run" / "final"
    if args.until == "train":
        return 0

    cache = ("--cache-dir", out / "cache")  # each split embedded once per model, shared by every task
    with d.stage("4. evaluation (rs-clip-eval)"):
        suite = out / "suite.yaml"
        suite.write_text(
            "name: demo\nprobe: {epochs: 200}\ndatasets:\n"
            f"  - path: {ds / 'rsicd-test'}\n    name: synthetic-RSICD\n    tasks: [retrieval]\n"
            f"  - path: {ds / 'scenes'}\n    name: synthetic-scenes\n"
            "    tasks: [zeroshot, linear_probe, fewshot, knn]\n    shots: [1, 4, 16]\n    seeds: [0, 1]\n"
        )
        d.run(
            tool("rs-clip-eval"),
            "run",
            "--model",
            f"trained={trained}",
            "--model",
            f"init={init}",
            "--suite",
            suite,
            "--out",
            out / "eval",
            *cache,
            *quiet,
        )
    if args.until == "eval":
        return 0

    with d.stage("5. RemoteCount (rs-count)"):
        d.run(
            tool("rs-count"),
            "eval",
            "--model",
            f"trained={trained}",
            "--model",
            f"init={init}",
            "--data",
            ds / "count",
            "--out",
            out / "count",
            *cache,
            *quiet,
        )

    with d.stage("6. archive search (rs-clip-search)"):
        # the scene-classification scenes, one folder per class, as an archive to search
        d.run(
            tool("rs-clip-search"),
            "index",
            raw / "scenes",
            "--model",
            f"trained={trained}",
            "--out",
            out / "search-index",
            "--tile",
            "256",
            *quiet,
        )

    summarise(out, d.times, args.steps)
    serve = shlex.join([tool("rs-clip-search"), "serve", str(out / "search-index")])
    print(f"\n=== search the synthetic archive in a browser (http://127.0.0.1:8000/)\n{serve}", flush=True)
    return 0


def stats_line(stats: dict) -> str:
    """A few lines instead of ``rs-annotate stats``'s JSON (which is in plots/annotate/stats.json)."""
    rows = sum(stats["rows_per_split"].values())
    sources = ", ".join(
        f"{k} {v}" for k, v in sorted(stats["images_per_source"].items(), key=lambda kv: -kv[1])
    )
    return (
        f"training set: {rows} images ({sources}); {len(stats['class_frequency'])} object classes; "
        f"{stats['captions']} captions of {stats['caption_length']['mean']:.1f} words on average, "
        f"{stats['vocabulary']} distinct words"
    )


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
