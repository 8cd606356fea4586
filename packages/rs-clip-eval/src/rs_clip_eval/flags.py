"""The flags every evaluating command shares (rs-clip-eval's commands, ``rs-count eval``), defined once.

Public API: :func:`add_model_flag`, :func:`add_embedding_flags`, :func:`add_out_flag`, then
:func:`output_dir`, :func:`eval_config` and :func:`open_cache` to read them back. Names follow
:data:`rs_formats.console.SHARED_FLAGS`: ``--out``, ``--device`` (default auto), ``--precision`` (open_clip's
inference precisions), ``--loader-workers`` (DataLoader decode processes; ``--workers`` is its deprecated
spelling), ``--seed``. A positional OUT_DIR, the old way to name the output, is accepted for one more
release with a deprecation warning; giving it and ``--out`` is an error.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rs_clip_models.sources import SOURCES_HELP
from rs_clip_models.spec import RANDOM_INIT_SEED
from rs_formats.flags import add_flags, from_args
from rs_formats.location import path_or_uri, uri_help

from .config import EvalConfig

if TYPE_CHECKING:
    from .embedding_cache import EmbeddingCache

log = logging.getLogger(__name__)

MODEL_HELP = (
    f"model to evaluate; repeat to compare. {SOURCES_HELP}; or NAME alone (random initialisation, "
    f"seed {RANDOM_INIT_SEED}). Prefix LABEL= to name it in the report, "
    "e.g. trained=runs/ckpt."
)


def add_model_flag(p: argparse.ArgumentParser, extra_help: str = "") -> None:
    p.add_argument(
        "--model", action="append", required=True, metavar="[LABEL=]SPEC", help=MODEL_HELP + extra_help
    )


#: The settings of :class:`EvalConfig` every evaluating command takes as flags.
EMBEDDING_SETTINGS = ("device", "precision", "batch_size", "loader_workers")


def add_embedding_flags(p: argparse.ArgumentParser, legacy_workers: bool = True, seed: bool = False) -> None:
    """--device, --precision, --batch-size, --loader-workers (:class:`EvalConfig`'s fields), --seed with
    ``seed``, --cache-dir, --no-cache; and ``--workers``, the old spelling of --loader-workers, on the
    commands that had it."""
    add_flags(p, EvalConfig, only=EMBEDDING_SETTINGS + (("seed",) if seed else ()), aliases=legacy_workers)
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="embedding cache (default $RS_CLIP_EVAL_CACHE or ~/.cache/rs-clip-eval)",
    )
    p.add_argument("--no-cache", action="store_true", help="always embed afresh and store nothing")


def add_out_flag(p: argparse.ArgumentParser, what: str, uri: bool = False) -> None:
    """--out (and the deprecated positional OUT_DIR); ``uri``: it may name a place in a store."""
    kind = path_or_uri if uri else Path
    where = f"where {what} go (required)"
    p.add_argument("--out", type=kind, default=None, metavar="DIR", help=uri_help(where) if uri else where)
    p.add_argument(
        "legacy_out", nargs="?", type=kind, default=None, metavar="OUT_DIR", help=argparse.SUPPRESS
    )


def output_dir(args: argparse.Namespace) -> Path | str:
    """``--out``, or the deprecated positional OUT_DIR (with a warning); neither or both is a usage error."""
    legacy = getattr(args, "legacy_out", None)
    if legacy is not None and args.out is not None:
        raise ValueError(
            f"the output directory is given twice ({legacy} and --out {args.out}); give only --out"
        )
    if legacy is not None:
        log.warning("the positional OUT_DIR is deprecated and will be removed; use --out %s", legacy)
        return legacy
    if args.out is None:
        raise ValueError("the following argument is required: --out")
    return args.out


def eval_config(args: argparse.Namespace, **extra: Any) -> EvalConfig:
    """The :class:`EvalConfig` the shared flags describe (``extra``: further fields, e.g. ``probe``)."""
    return from_args(args, EvalConfig, progress=not args.no_progress, **extra)


def open_cache(args: argparse.Namespace) -> EmbeddingCache:
    from .embedding_cache import EmbeddingCache  # numpy: not for a --help

    return EmbeddingCache(args.cache_dir, enabled=not args.no_cache)
