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
from typing import Any

from rs_formats.console import add_deprecated_alias

from .cache import EmbeddingCache
from .config import EvalConfig

log = logging.getLogger(__name__)

MODEL_HELP = (
    "model to evaluate; repeat to compare. SPEC (docs/zoo.md): an rs-clip-checkpoint or open_clip "
    "folder, local-dir:DIR, hf-hub:ORG/NAME (local Hugging Face cache only), ENTRY:FILE (a zoo entry: "
    "`rs-clip-models zoo`, e.g. remoteclip-vit-b-32:/w/RemoteCLIP-ViT-B-32.pt), NAME:FILE (an open_clip "
    "model plus a local file), FILE under a zoo file name (e.g. /w/ViT-B-32.pt, OpenAI's), or NAME "
    "alone (random initialisation, seed 0). Prefix LABEL= to name it in the report, "
    "e.g. trained=runs/ckpt."
)


def add_model_flag(p: argparse.ArgumentParser, extra_help: str = "") -> None:
    p.add_argument(
        "--model", action="append", required=True, metavar="[LABEL=]SPEC", help=MODEL_HELP + extra_help
    )


class _Precisions:
    """rs_clip_models.models.INFERENCE_PRECISIONS, looked up only when argparse needs them: that module imports
    torch, which a command that evaluates nothing (``rs-count build``, ``--version``) should not pay for."""

    def _names(self) -> tuple[str, ...]:
        from rs_clip_models.models import INFERENCE_PRECISIONS

        return INFERENCE_PRECISIONS

    def __iter__(self):
        return iter(self._names())

    def __contains__(self, name: object) -> bool:
        return name in self._names()


def add_embedding_flags(p: argparse.ArgumentParser, legacy_workers: bool = True) -> None:
    """--device, --precision, --batch-size, --loader-workers, --cache-dir, --no-cache (and ``--workers``, the
    old spelling of --loader-workers, on the commands that had it)."""
    defaults = EvalConfig.__dataclass_fields__
    p.add_argument(
        "--device",
        default=defaults["device"].default,
        help="torch device: auto (cuda when available; default), cpu, cuda, cuda:1",
    )
    # default None, not "fp32": argparse checks a string default against the choices on every parse
    # metavar given, choices only in the help text: argparse would otherwise list them when the flag is added
    p.add_argument(
        "--precision",
        default=None,
        choices=_Precisions(),
        metavar="PRECISION",
        help="open_clip's name: %(choices)s (default " + defaults["precision"].default + "); amp "
        "and amp_bf16 are fp32 weights under fp16 / bf16 autocast; part of the cache key",
    )
    batch, workers = defaults["batch_size"].default, defaults["loader_workers"].default
    p.add_argument(
        "--batch-size", type=int, default=batch, help=f"images (and texts) per forward pass (default {batch})"
    )
    p.add_argument(
        "--loader-workers",
        type=int,
        default=workers,
        help=f"DataLoader processes decoding images (0 = in process; default {workers})",
    )
    if legacy_workers:
        add_deprecated_alias(p, "--workers", "--loader-workers", dest="loader_workers", type=int)
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="embedding cache (default $RS_CLIP_EVAL_CACHE or ~/.cache/rs-clip-eval)",
    )
    p.add_argument("--no-cache", action="store_true", help="always embed afresh and store nothing")


def add_out_flag(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help=f"where {what} go (required)")
    p.add_argument(
        "legacy_out", nargs="?", type=Path, default=None, metavar="OUT_DIR", help=argparse.SUPPRESS
    )


def output_dir(args: argparse.Namespace) -> Path:
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
    """The :class:`EvalConfig` the shared flags describe (``extra``: further fields, e.g. ``probe``, ``seed``)."""
    precision = {} if args.precision is None else {"precision": args.precision}
    return EvalConfig(
        device=args.device,
        batch_size=args.batch_size,
        loader_workers=args.loader_workers,
        progress=not args.no_progress,
        **precision,
        **extra,
    )


def open_cache(args: argparse.Namespace) -> EmbeddingCache:
    return EmbeddingCache(args.cache_dir, enabled=not args.no_cache)
