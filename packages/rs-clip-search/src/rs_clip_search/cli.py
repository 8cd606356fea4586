"""``rs-clip-search``: index a folder of imagery, add to the index, serve the search page.

Follows the command-line convention of every rs-clip tool (:mod:`rs_formats.console`): one error line
naming the file or flag and exit status 2 on bad input.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from rs_formats.console import add_version, common_flags, package_version, run

PROG = "rs-clip-search"
log = logging.getLogger("rs_clip_search")

MODEL_HELP = (
    "the model that embeds tiles and queries, in rs-clip-eval's --model grammar (docs/zoo.md): an "
    "rs-clip-checkpoint or open_clip folder, ENTRY:FILE of the zoo, NAME:FILE, or NAME alone (random init)"
)


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device", default="auto", help="torch device: auto (cuda when available; default), cpu, cuda"
    )
    p.add_argument("--batch-size", type=int, default=64, help="tiles per forward pass (default 64)")


def build_parser() -> argparse.ArgumentParser:
    from .store import GraphParams

    common = common_flags()
    parser = argparse.ArgumentParser(prog=PROG, description="Search your own imagery by text or by example.")
    add_version(parser, PROG, package_version("rs-clip-search"))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", parents=[common], help="tile and embed a folder of imagery into a new index")
    p.add_argument(
        "folder", metavar="FOLDER", help="folder of GeoTIFF, JPEG and PNG scenes (searched recursively)"
    )
    p.add_argument("--model", required=True, metavar="[LABEL=]SPEC", help=MODEL_HELP)
    p.add_argument("--out", required=True, metavar="INDEX", help="index folder to write")
    p.add_argument("--tile", type=int, default=224, help="tile size in pixels (default 224)")
    p.add_argument("--overlap", type=int, default=0, help="pixels shared by neighbouring tiles (default 0)")
    p.add_argument(
        "--exact-below",
        type=int,
        default=GraphParams.exact_below,
        help=f"below this many tiles search is exact; at or above, an HNSW graph (default {GraphParams.exact_below:,})",
    )
    p.add_argument("--precision", default="fp32", help="open_clip precision (default fp32)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing index at --out")
    _model_flags(p)

    p = sub.add_parser("add", parents=[common], help="add new imagery to an index (existing tiles are kept)")
    p.add_argument("index", metavar="INDEX")
    p.add_argument("folder", metavar="FOLDER")
    _model_flags(p)

    p = sub.add_parser("serve", parents=[common], help="serve the search page for an index")
    p.add_argument("index", metavar="INDEX")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    _model_flags(p)
    return parser


def _index_encoder(manifest: dict, args: argparse.Namespace):
    """The model an index was built with, loaded again from its recorded source."""
    from rs_clip_models.models import resolve_device
    from rs_formats import FormatError

    from .encoder import ModelEncoder

    model = manifest["model"]
    if "source" not in model:
        raise FormatError(args.index, "the index records no loadable model (built through the Python API)")
    enc = ModelEncoder(
        model["source"], resolve_device(args.device), model.get("precision", "fp32"), args.batch_size
    )
    if enc.fingerprint != model["fingerprint"]:
        raise FormatError(
            model["source"], "these weights are not the ones the index was built with (fingerprint differs)"
        )
    return enc


def _command(args: argparse.Namespace) -> int:
    from rs_clip_models.models import resolve_device

    from .build import add_to_index, build_index
    from .encoder import ModelEncoder
    from .store import GraphParams, SearchIndex

    if args.command == "index":
        enc = ModelEncoder(args.model, resolve_device(args.device), args.precision, args.batch_size)
        m = build_index(
            args.folder,
            enc,
            args.out,
            tile=args.tile,
            overlap=args.overlap,
            params=GraphParams(exact_below=args.exact_below),
            overwrite=args.overwrite,
        )
        log.info(
            "%s: %d tiles of %d scenes (%s search; %d file(s) skipped)",
            args.out,
            m["count"],
            m["scenes"],
            m["kind"],
            m["skipped"],
        )
        return 0
    index = SearchIndex(args.index)
    if args.command == "add":
        m, added = add_to_index(args.index, args.folder, _index_encoder(index.manifest, args))
        log.info(
            "%s: added %d tiles of %d new scenes, now %d tiles (%d skipped, %d changed and left as they were)",
            args.index,
            added["tiles"],
            added["scenes"],
            m["count"],
            added["skipped"],
            added["changed"],
        )
        return 0
    import uvicorn

    from .app import create_app

    app = create_app(index, _index_encoder(index.manifest, args))
    log.info("serving %s (%d tiles) on http://%s:%d/", args.index, len(index), args.host, args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return run(PROG, build_parser(), _command, argv)
