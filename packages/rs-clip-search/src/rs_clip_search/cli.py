"""``rs-clip-search``: index a folder of imagery, add to the index, serve the search page.

Follows the command-line convention of every rs-clip tool (:mod:`rs_formats.console`): one error line
naming the file or flag and exit status 2 on bad input.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence

from rs_clip_models.sources import SOURCES_HELP
from rs_formats.console import add_completion, add_version, common_flags, run
from rs_formats.flags import add_flags, from_args
from rs_formats.outputs import OutputOptions

from .options import EncoderOptions, GraphParams, IndexOptions

PROG = "rs-clip-search"
log = logging.getLogger("rs_clip_search")

MODEL_HELP = f"the model that embeds tiles and queries. {SOURCES_HELP}; or NAME alone (random initialisation)"


def build_parser() -> argparse.ArgumentParser:
    common = common_flags()
    parser = argparse.ArgumentParser(prog=PROG, description="Search your own imagery by text or by example.")
    add_version(parser, "rs-clip-search")
    add_completion(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", parents=[common], help="tile and embed a folder of imagery into a new index")
    p.add_argument(
        "folder", metavar="FOLDER", help="folder of GeoTIFF, JPEG and PNG scenes (searched recursively)"
    )
    p.add_argument("--model", required=True, metavar="[LABEL=]SPEC", help=MODEL_HELP)
    p.add_argument("--out", required=True, metavar="INDEX", help="index folder to write")
    add_flags(p, IndexOptions)
    add_flags(p, GraphParams)
    add_flags(p, OutputOptions, only=("overwrite",))
    add_flags(p, EncoderOptions)

    p = sub.add_parser("add", parents=[common], help="add new imagery to an index (existing tiles are kept)")
    p.add_argument("index", metavar="INDEX")
    p.add_argument("folder", metavar="FOLDER")
    add_flags(p, EncoderOptions)

    p = sub.add_parser("serve", parents=[common], help="serve the search page for an index")
    p.add_argument("index", metavar="INDEX")
    p.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    add_flags(p, EncoderOptions)
    return parser


def _index_encoder(manifest: dict, args: argparse.Namespace):
    """The model an index was built with, loaded again from its recorded source."""
    from rs_clip_models.models import resolve_device
    from rs_formats import FormatError

    from .encoder import ModelEncoder

    model = manifest["model"]
    if "source" not in model:
        raise FormatError(args.index, "the index records no loadable model (built through the Python API)")
    opts = from_args(args, EncoderOptions)
    enc = ModelEncoder(
        model["source"], resolve_device(opts.device), model.get("precision", "fp32"), opts.batch_size
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
    from .store import SearchIndex

    if args.command == "index":
        opts, model = from_args(args, IndexOptions), from_args(args, EncoderOptions)
        enc = ModelEncoder(args.model, resolve_device(model.device), opts.precision, model.batch_size)
        m = build_index(
            args.folder,
            enc,
            args.out,
            tile=opts.tile,
            overlap=opts.overlap,
            params=from_args(args, GraphParams),
            overwrite=from_args(args, OutputOptions).overwrite,
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
