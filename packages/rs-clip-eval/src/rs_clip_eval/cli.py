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
from dataclasses import asdict
from pathlib import Path

from rs_formats.console import add_completion, add_version, common_flags, run
from rs_formats.flags import add_flags, from_args
from rs_formats.location import URI_SCHEMES, path_or_uri, uri_help
from rs_formats.outputs import OutputOptions

from .config import EmbedOptions, EvalConfig, RunOptions
from .flags import add_embedding_flags, add_model_flag, add_out_flag, eval_config, open_cache, output_dir
from .suites import DatasetEntry

PROG = "rs-clip-eval"


def _common(p: argparse.ArgumentParser) -> None:
    add_model_flag(p, " The first model is the one the deltas are computed for.")
    add_out_flag(p, "results.json, report.md and plots/")
    add_embedding_flags(p, seed=True)
    add_flags(p, RunOptions)


#: The suite-entry settings each single-task command takes as flags.
ENTRY_SETTINGS = {
    "retrieval": ("split", "name"),
    "zeroshot": ("split", "name", "train_split", "templates"),
    "linear-probe": ("split", "name", "train_split"),
    "fewshot": ("split", "name", "train_split", "shots", "seeds"),
    "knn": ("split", "name", "train_split", "knn_k", "knn_temperature"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_version(parser, "rs-clip-eval")
    add_completion(parser)
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
        f"whose dataset paths may be URIs ({URI_SCHEMES})",
    )
    run_p.add_argument(
        "--data-root",
        type=path_or_uri,
        default=None,
        help=uri_help("the folder holding the paper's datasets as rs-datasets (suite 'paper')"),
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
        p.add_argument(
            "--data",
            required=True,
            type=path_or_uri,
            help=uri_help("an rs-dataset"),
        )
        add_flags(p, DatasetEntry, only=ENTRY_SETTINGS[verb])
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
        help=uri_help("an rs-dataset"),
    )
    e.add_argument("--split", default="train", help="split embedded (default train)")
    add_out_flag(e, "the embeddings (Parquet and embeddings.json)", uri=True)
    add_embedding_flags(e, legacy_workers=False)
    add_flags(e, EmbedOptions)
    add_flags(e, OutputOptions, only=("overwrite",))
    s = sub.add_parser(
        "search", parents=[console], help="the images of embedded data that best match text queries"
    )
    add_model_flag(s, " The model that embedded them.")
    s.add_argument(
        "--embeddings",
        required=True,
        type=path_or_uri,
        help=uri_help("embeddings written by `rs-clip-eval embed`"),
    )
    s.add_argument("--query", action="append", required=True, help="a text query (repeatable)")
    s.add_argument("-k", type=int, default=10, help="images per query (default 10)")
    add_flags(s, EvalConfig, only=("device",))


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
        overwrite=from_args(args, OutputOptions).overwrite,
        **asdict(from_args(args, EmbedOptions)),
    )
    print(out)
    return 0


def _search(args: argparse.Namespace) -> int:
    import json

    from .api import search

    for hit in search(
        args.embeddings, _one_model(args), args.query, k=args.k, device=eval_config(args).device
    ).to_pylist():
        print(json.dumps(hit))
    return 0


def _suite(args: argparse.Namespace):
    from .suites import Suite, load_suite

    if args.command == "run":
        return load_suite(args.suite, data_root=args.data_root)
    task = {"linear-probe": "linear_probe"}.get(args.command, args.command)
    entry = from_args(args, DatasetEntry, path=args.data, tasks=(task,))
    if isinstance(entry.templates, list) and len(entry.templates) == 1:
        entry.templates = entry.templates[0]
    return Suite(task, [entry], {}, f"command line: {args.command}")


def evaluate(args: argparse.Namespace) -> int:
    import json

    from .api import run as run_models

    out = output_dir(args)
    options = from_args(args, RunOptions)
    table = run_models(
        args.model,
        _suite(args),
        out=out,
        config=eval_config(args, probe=options.probe),
        cache=open_cache(args),
        plots=options.plots,
        tsne_points=options.tsne_points,
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
