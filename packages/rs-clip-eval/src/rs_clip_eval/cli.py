"""``rs-clip-eval``: evaluate CLIP checkpoints on remote-sensing suites or single tasks.

rs-clip-eval run --model CKPT_DIR --model RS-Tiny --suite suite.yaml --out report/
rs-clip-eval retrieval --model remoteclip-vit-b-32:RemoteCLIP-ViT-B-32.pt --data rsitmd/ --out report/
rs-clip-eval embed --model CKPT_DIR --data archive/ --split train --out archive-emb/ --engine ray
rs-clip-eval search --model CKPT_DIR --embeddings archive-emb/ --query "many planes at an airport" -k 20
rs-clip-eval compare report/ older-report/ count-report/ --out comparison/
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rs_formats.console import add_version, common_flags, package_version, run
from rs_formats.location import path_or_uri

from .flags import add_embedding_flags, add_model_flag, add_out_flag, eval_config, open_cache, output_dir

PROG = "rs-clip-eval"


def _ints(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated non-negative integers, got {text!r}")
    return values


def _common(p: argparse.ArgumentParser) -> None:
    add_model_flag(p, " The first model is the one the deltas are computed for.")
    add_out_flag(p, "results.json, report.md and plots/")
    add_embedding_flags(p)
    p.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the probes' validation split and search and of the t-SNE sample (default 0)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=None,
        help="linear-probe / few-shot epochs (paper: 1000; lower it for quick looks)",
    )
    p.add_argument(
        "--search-trials",
        type=int,
        default=None,
        help="random-search trials over lr and weight decay (paper: 5; 1 = paper setting only)",
    )
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument(
        "--tsne-points",
        type=int,
        default=1000,
        help="points per t-SNE map, images and texts together (0 = no t-SNE; default 1000)",
    )


def _single(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data",
        required=True,
        type=path_or_uri,
        help="an rs-dataset directory or URI (s3://, gs://, hdfs://, file://)",
    )
    p.add_argument("--split", default="test", help="split scored (default test)")
    p.add_argument("--name", default=None, help="dataset name in the report (default: the manifest's name)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_version(parser, PROG, package_version("rs-clip-eval"))
    sub = parser.add_subparsers(dest="command", required=True)
    console = common_flags()
    run_p = sub.add_parser(
        "run", parents=[console], help="run a suite of datasets and tasks, write a paper-style report"
    )
    _common(run_p)
    run_p.add_argument(
        "--suite",
        required=True,
        help="'paper' (the paper's datasets under --data-root) or a suite file (YAML/JSON; see the README), "
        "whose dataset paths may be URIs (s3://, gs://, hdfs://, file://)",
    )
    run_p.add_argument(
        "--data-root",
        type=Path,
        default=None,
        help="directory holding the paper's datasets as rs-datasets (suite 'paper')",
    )
    for verb, help_text in (
        ("retrieval", "image-text retrieval on a captions dataset"),
        ("zeroshot", "zero-shot classification on a classification dataset"),
        ("linear-probe", "full-data linear probe on a classification dataset"),
        ("fewshot", "few-shot linear probes on a classification dataset"),
        ("knn", "k-NN classification on a classification dataset"),
    ):
        p = sub.add_parser(verb, parents=[console], help=help_text)
        _common(p)
        _single(p)
        if verb != "retrieval":
            p.add_argument("--train-split", default="train", help="split learned from (default train)")
        if verb == "zeroshot":
            p.add_argument(
                "--templates",
                action="append",
                default=None,
                help="a template set (default, resisc45, remote-sensing) or a template with {}; "
                "repeat to ensemble (default: 'a satellite photo of {}.')",
            )
        if verb == "fewshot":
            p.add_argument(
                "--shots",
                type=_ints,
                default=[1, 4, 8, 16, 32],
                help="comma-separated shots per class (default 1,4,8,16,32)",
            )
            p.add_argument(
                "--seeds", type=_ints, default=[0, 1, 2], help="comma-separated seeds (default 0,1,2)"
            )
        if verb == "knn":
            p.add_argument("--k", type=int, default=20, help="neighbours (default 20)")
            p.add_argument("--temperature", type=float, default=0.07, help="vote temperature (default 0.07)")
    cmp = sub.add_parser(
        "compare",
        parents=[console],
        help="saved runs side by side with deltas, from their results.jsonl (nothing is re-run)",
    )
    cmp.add_argument(
        "results",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="results.jsonl files, or the directories rs-clip-eval and rs-count wrote them to",
    )
    cmp.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the table there as compare.md and compare.csv",
    )
    cmp.add_argument(
        "--metric",
        type=lambda t: tuple(m.strip() for m in t.split(",") if m.strip()),
        default=(),
        help="comma-separated metrics to show, e.g. top1,mean_recall (default: every one)",
    )
    _archive_commands(sub, console)
    return parser


def _compare(args: argparse.Namespace) -> int:
    from .api import compare

    table = compare(args.results, args.metric, out=args.out)
    print(table.schema.metadata[b"markdown"].decode(), end="")
    return 0


def _archive_commands(sub: argparse._SubParsersAction, console: argparse.ArgumentParser) -> None:
    from .archive import ENGINES

    e = sub.add_parser(
        "embed",
        parents=[console],
        help="embed a dataset's images once, as Parquet keyed by image id (here or on a Ray cluster)",
    )
    add_model_flag(e, " One model.")
    e.add_argument(
        "--data",
        required=True,
        type=path_or_uri,
        help="an rs-dataset directory or URI (s3://, gs://, hdfs://, file://)",
    )
    e.add_argument("--split", default="train", help="split embedded (default train)")
    add_out_flag(e, "the embeddings (Parquet and embeddings.json)")
    add_embedding_flags(e, legacy_workers=False)
    e.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local (this machine, the evaluation path) or ray (Ray Data actors on a cluster; needs "
        "rs-clip-eval[ray]) (default local)",
    )
    e.add_argument(
        "--address",
        default=None,
        help="--engine ray: the cluster (default RAY_ADDRESS, else a private local Ray)",
    )
    e.add_argument(
        "--workers",
        type=int,
        default=None,
        help="--engine ray: actors, each with its own model (default: one per GPU, else one per CPU)",
    )
    e.add_argument(
        "--cpus-per-worker", type=int, default=1, help="--engine ray: CPUs (decode threads) per actor"
    )
    e.add_argument(
        "--gpus-per-worker",
        type=float,
        default=None,
        help="--engine ray: GPUs per actor (default 1 when the cluster has GPUs, else 0)",
    )
    e.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    s = sub.add_parser(
        "search", parents=[console], help="the images of embedded data that best match text queries"
    )
    add_model_flag(s, " The model that embedded them.")
    s.add_argument(
        "--embeddings", required=True, type=Path, help="a directory written by `rs-clip-eval embed`"
    )
    s.add_argument("--query", action="append", required=True, help="a text query (repeatable)")
    s.add_argument("-k", type=int, default=10, help="images per query (default 10)")
    s.add_argument("--device", default="auto", help="torch device for the queries (default auto)")


def _one_model(args: argparse.Namespace) -> str:
    if len(args.model) != 1:
        raise ValueError(f"{args.command} takes one --model")
    return args.model[0]


def _embed(args: argparse.Namespace) -> int:
    from .api import embed

    out = output_dir(args)
    embed(
        _one_model(args),
        args.data,
        out,
        split=args.split,
        config=eval_config(args),
        cache=open_cache(args),
        engine=args.engine,
        address=args.address,
        workers=args.workers,
        cpus_per_worker=args.cpus_per_worker,
        gpus_per_worker=args.gpus_per_worker,
        overwrite=args.overwrite,
    )
    print(out)
    return 0


def _search(args: argparse.Namespace) -> int:
    import json

    from .api import search

    for hit in search(
        args.embeddings, _one_model(args), args.query, k=args.k, device=args.device
    ).to_pylist():
        print(json.dumps(hit))
    return 0


def _suite(args: argparse.Namespace):
    from .suites import DatasetEntry, Suite, load_suite

    if args.command == "run":
        return load_suite(args.suite, data_root=args.data_root)
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


def evaluate(args: argparse.Namespace) -> int:
    import json

    from .api import run as run_models

    out = output_dir(args)
    probe = {
        k: v for k, v in (("epochs", args.epochs), ("search_trials", args.search_trials)) if v is not None
    }
    if any(v < 1 for v in probe.values()):
        raise ValueError("--epochs and --search-trials must be >= 1")
    table = run_models(
        args.model,
        _suite(args),
        out=out,
        config=eval_config(args, probe=probe, seed=args.seed),
        cache=open_cache(args),
        plots=not args.no_plots,
        tsne_points=args.tsne_points,
    )
    files = json.loads(table.schema.metadata[b"files"])
    print(files["markdown"])
    print(files["json"])
    return 0


def _command(args: argparse.Namespace) -> int:
    return {"embed": _embed, "search": _search, "compare": _compare}.get(args.command, evaluate)(args)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    return run(PROG, build_parser(), _command, argv)


if __name__ == "__main__":
    sys.exit(main())
