"""``rs-clip-eval``: evaluate CLIP checkpoints on remote-sensing suites or single tasks.

    rs-clip-eval run --model CKPT_DIR --model RS-Tiny --suite suite.yaml OUT_DIR
    rs-clip-eval retrieval --model ViT-B-32:RemoteCLIP-ViT-B-32.pt --data rsitmd/ OUT_DIR
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import __version__

MODEL_HELP = ("model to evaluate; repeat to compare. Forms: an rs-clip-checkpoint directory; NAME:PATH (an "
              "open_clip architecture plus a local .safetensors/.pt/.bin file, e.g. a RemoteCLIP release); "
              "NAME alone (random initialisation, seed 0). Prefix LABEL= to name it in the report, "
              "e.g. trained=runs/ckpt. The first model is the one the deltas are computed for.")


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative integers, got {text!r}")
    return values


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", action="append", required=True, metavar="M", help=MODEL_HELP)
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="where results.json, report.md and plots/ go")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="embedding cache (default $RS_CLIP_EVAL_CACHE or ~/.cache/rs-clip-eval)")
    p.add_argument("--no-cache", action="store_true", help="always embed afresh and store nothing")
    p.add_argument("--device", default="auto", help="torch device: auto (cuda when available), cpu, cuda, cuda:1")
    p.add_argument("--precision", default="fp32", choices=["fp32", "amp", "amp_bf16"],
                   help="fp32 (default), or fp32 weights under fp16 / bf16 autocast (GPUs); part of the cache key")
    p.add_argument("--batch-size", type=int, default=256, help="images per embedding batch (default 256)")
    p.add_argument("--workers", type=int, default=2, help="DataLoader processes decoding images (default 2)")
    p.add_argument("--epochs", type=int, default=None,
                   help="linear-probe / few-shot epochs (paper: 1000; lower it for quick looks)")
    p.add_argument("--search-trials", type=int, default=None,
                   help="random-search trials over lr and weight decay (paper: 5; 1 = paper setting only)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--tsne-points", type=int, default=1000,
                   help="points per t-SNE map, images and texts together (0 = no t-SNE; default 1000)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _single(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, type=Path, help="an rs-dataset directory")
    p.add_argument("--split", default="test", help="split scored (default test)")
    p.add_argument("--name", default=None, help="dataset name in the report (default: the manifest's name)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rs-clip-eval", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"rs-clip-eval {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run a suite of datasets and tasks, write a paper-style report")
    _common(run)
    run.add_argument("--suite", required=True,
                     help="'paper' (the paper's datasets under --data-root), 'demo' (synthetic, generated "
                          "into OUT_DIR/demo-data) or a suite file (YAML/JSON; see the README)")
    run.add_argument("--data-root", type=Path, default=None,
                     help="directory holding the paper's datasets as rs-datasets (suite 'paper')")
    for verb, help_text in (("retrieval", "image-text retrieval on a captions dataset"),
                            ("zeroshot", "zero-shot classification on a classification dataset"),
                            ("linear-probe", "full-data linear probe on a classification dataset"),
                            ("fewshot", "few-shot linear probes on a classification dataset"),
                            ("knn", "k-NN classification on a classification dataset")):
        p = sub.add_parser(verb, help=help_text)
        _common(p)
        _single(p)
        if verb != "retrieval":
            p.add_argument("--train-split", default="train", help="split learned from (default train)")
        if verb == "zeroshot":
            p.add_argument("--templates", action="append", default=None,
                           help="a template set (default, resisc45, remote-sensing) or a template with {}; "
                                "repeat to ensemble (default: 'a satellite photo of {}.')")
        if verb == "fewshot":
            p.add_argument("--shots", type=_ints, default=[1, 4, 8, 16, 32],
                           help="comma-separated shots per class (default 1,4,8,16,32)")
            p.add_argument("--seeds", type=_ints, default=[0, 1, 2], help="comma-separated seeds (default 0,1,2)")
        if verb == "knn":
            p.add_argument("--k", type=int, default=20, help="neighbours (default 20)")
            p.add_argument("--temperature", type=float, default=0.07, help="vote temperature (default 0.07)")
    return parser


def _suite(args: argparse.Namespace):
    from .suites import DatasetEntry, Suite, load_suite

    if args.command == "run":
        return load_suite(args.suite, data_root=args.data_root, demo_dir=args.out_dir / "demo-data")
    task = {"linear-probe": "linear_probe"}.get(args.command, args.command)
    entry = DatasetEntry(path=args.data, name=args.name, tasks=(task,), split=args.split)
    if task != "retrieval":
        entry.train_split = args.train_split
    if task == "zeroshot" and args.templates:
        entry.templates = args.templates[0] if len(args.templates) == 1 else args.templates
    if task == "fewshot":
        entry.shots, entry.seeds = tuple(args.shots), tuple(args.seeds)
    if task == "knn":
        entry.knn_k, entry.knn_temperature = args.k, args.temperature
    return Suite(task, [entry], {}, f"command line: {args.command}")


def run(args: argparse.Namespace) -> int:
    from rs_formats.spec import ModelSpec

    from .cache import EmbeddingCache
    from .report import write_report
    from .runner import RunConfig, run_suite

    models = [ModelSpec.parse(m) for m in args.model]
    suite = _suite(args)
    probe = {k: v for k, v in (("epochs", args.epochs), ("search_trials", args.search_trials)) if v is not None}
    if any(v < 1 for v in probe.values()) or args.batch_size < 1 or args.workers < 0:
        raise ValueError("--epochs, --search-trials and --batch-size must be >= 1, --workers >= 0")
    cfg = RunConfig(device=args.device, precision=args.precision, batch_size=args.batch_size,
                    workers=args.workers, progress=not args.no_progress, probe=probe)
    cache = EmbeddingCache(args.cache_dir, enabled=not args.no_cache)
    result = run_suite(suite, models, cache, cfg)
    paths = write_report(result, args.out_dir, plots=not args.no_plots, tsne_max_points=args.tsne_points)
    print(f"wrote {paths['markdown']} and {paths['json']} ({result.seconds:.1f} s; "
          f"cache {cache.hits} hits, {cache.misses} misses)")
    return 0


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    from rs_formats import FormatError

    from .suites import SuiteError

    try:
        return run(args)
    except (FormatError, SuiteError, FileNotFoundError, FileExistsError, ValueError, RuntimeError) as exc:
        # FormatError and SuiteError already name the file; the others get the command's prefix.
        print(f"rs-clip-eval: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rs-clip-eval: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
