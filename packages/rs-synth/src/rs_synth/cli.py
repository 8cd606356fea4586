"""``rs-synth FORMAT --out OUT --n N --seed S --size PX``: write synthetic scenes in a real source format.

Follows rs-clip's command-line convention (:mod:`rs_formats.console`): the output directory is printed on
stdout, what the command says about its work goes to stderr through logging, exit status 2 for usage and
input errors. The positional ``OUT`` of earlier releases is still accepted, with a deprecation warning.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rs_formats import console
from rs_formats.flags import add_flags, from_args
from rs_formats.outputs import OutputOptions, check_output
from rs_formats.settings import setting

from .registry import FORMATS

PROG = "rs-synth"
#: Smallest scene side the scene sampler can place objects in.
MIN_SIZE = 32
#: Largest: the side of the largest image a dataset row may hold (rs_formats.pixel_limits.MAX_ROW_PIXELS); the
#: sampler's float32 layers of a larger scene would take gigabytes.
MAX_SIZE = 8192

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WriteOptions:
    """What ``rs-synth FORMAT`` can be told besides ``--out`` and ``--overwrite``: its flags, generated
    (:mod:`rs_formats.flags`)."""

    n: int = setting(16, "number of images", metavar="N")
    seed: int = setting(0, "random seed; same seed gives identical files", metavar="N")
    size: int | None = setting(
        None, "image side in pixels (default: the format's usual size, e.g. 1024 for dota)", metavar="PX"
    )
    plant: list[str] = setting(
        help="add copies of images of another rs-synth output DIR (from its test split when it has "
        "one), as an evaluation set leaking into training data; repeat for several",
        factory=list,
        metavar="DIR",
        group="leaks",
    )
    plant_n: int = setting(2, "images copied from each --plant DIR", metavar="K", group="leaks")
    duplicates: int = setting(
        0, "add copies of K of the output's own scenes under new names", metavar="K", group="leaks"
    )

    def __post_init__(self) -> None:
        if self.n < 1:
            raise ValueError(f"--n must be >= 1, got {self.n}")
        if self.size is not None and not MIN_SIZE <= self.size <= MAX_SIZE:
            raise ValueError(f"--size must be between {MIN_SIZE} and {MAX_SIZE}, got {self.size}")
        if self.plant_n < 1 or self.duplicates < 0:
            raise ValueError("--plant-n must be >= 1 and --duplicates >= 0")


class _Parser(argparse.ArgumentParser):
    """Parses intermixed: the deprecated positional OUT is optional now, and plain parsing would no longer
    find it after options ("rs-synth dota --n 3 OUT") as it did when it was required."""

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        return self.parse_intermixed_args(args, namespace)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog=PROG,
        description="Write deterministic synthetic aerial scenes in a real remote-sensing label format,\n"
        "plus a ground-truth sidecar <OUT>/_truth.json.",
        epilog="formats:\n" + "\n".join(f"  {f.name:<14} {f.description}" for f in FORMATS.values()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[console.common_flags()],
    )
    console.add_version(p, "rs-synth")
    console.add_completion(p)
    p.add_argument("format", choices=sorted(FORMATS), metavar="FORMAT", help="output format (listed below)")
    # Deprecated spelling of --out, kept for one release; hidden from the help.
    p.add_argument("old_out", nargs="?", metavar="OUT", help=argparse.SUPPRESS)
    p.add_argument("--out", help="output directory (created; must be empty unless --overwrite)")
    leaks = (
        "leaks for de-duplication to find (formats: "
        + ", ".join(f.name for f in FORMATS.values() if f.plants)
        + ")"
    )
    add_flags(p, OutputOptions, only=("overwrite",))
    add_flags(p, WriteOptions, {"leaks": leaks})
    return p


def _leaks(fmt, opts: WriteOptions) -> dict[str, object]:
    if not opts.plant and not opts.duplicates:
        return {}
    if not fmt.plants:
        raise ValueError(
            f"--plant and --duplicates work with {', '.join(f.name for f in FORMATS.values() if f.plants)}"
            f", not {fmt.name}"
        )
    return {"plant": opts.plant, "plant_n": opts.plant_n, "duplicates": opts.duplicates}


def _out_dir(args: argparse.Namespace) -> Path:
    if args.old_out is not None:
        if args.out is not None:
            raise ValueError(
                f"the output directory is given twice ({args.old_out} and --out {args.out}); use --out only"
            )
        log.warning("the positional OUT is deprecated and will be removed; use --out %s", args.old_out)
        return Path(args.old_out)
    if args.out is None:
        raise ValueError("no output directory: give --out OUT")
    return Path(args.out)


def _run(args: argparse.Namespace) -> int:
    opts = from_args(args, WriteOptions)
    overwrite = from_args(args, OutputOptions).overwrite
    out = check_output(_out_dir(args), opts.plant, overwrite)
    fmt = FORMATS[args.format]
    size = opts.size or fmt.default_size
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"--size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    t0 = time.perf_counter()
    try:
        truth = fmt.write(
            out,
            opts.n,
            seed=opts.seed,
            size=size,
            overwrite=overwrite,
            **_leaks(fmt, opts),
        )
    except RuntimeError as exc:  # the writer ran and could not finish (e.g. no video codec)
        log.error("%s", exc)
        return 1
    n_obj = sum(len(im.objects) for im in truth.images)
    log.info(
        "wrote %d %s images (%d objects, %dpx) to %s in %.1fs; truth: %s",
        len(truth.images),
        args.format,
        n_obj,
        size,
        out,
        time.perf_counter() - t0,
        out / "_truth.json",
    )
    copies = [im.meta["planted"] for im in truth.images if "planted" in im.meta]
    if copies:
        sources = Counter(c["from"] for c in copies)
        log.info(
            "%d of them are copies (leaks for de-duplication to find): %s",
            len(copies),
            ", ".join(f"{k} of {'its own scenes' if src == 'self' else src}" for src, k in sources.items()),
        )
    print(out)
    return 0


def main(argv: list[str] | None = None) -> int:
    return console.run(PROG, build_parser(), _run, argv)


if __name__ == "__main__":
    sys.exit(main())
