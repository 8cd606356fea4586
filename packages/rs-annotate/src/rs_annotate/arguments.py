"""``rs-annotate``'s command line: every command and flag (:func:`build_parser`); :mod:`rs_annotate.cli`
runs the commands."""

from __future__ import annotations

import argparse
import sys

from rs_formats import console
from rs_formats.imagery import check_bands

from .b2c import B2CConfig
from .exports import CAPTION_MODES
from .near_duplicates import KEEP_POLICIES
from .options import ENGINES, IMAGE_FORMATS
from .version import __version__

PROG = "rs-annotate"


class _ImageFormat(argparse.Action):
    """``--image-format`` in lower case; the upper-case spellings of earlier releases still work, warned."""

    def __call__(self, parser, namespace, value, option_string=None):
        lower = value.lower()
        if lower not in IMAGE_FORMATS:
            parser.error(
                f"argument {option_string}: invalid choice: {value!r} (choose from {', '.join(IMAGE_FORMATS)})"
            )
        if value != lower:
            print(
                f"{parser.prog}: warning: {option_string} {value} is deprecated and will be removed; use {lower}",
                file=sys.stderr,
            )
        setattr(namespace, self.dest, lower)


def _bands(text: str) -> tuple[int, ...]:
    try:
        return check_bands(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _out_flag(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--out", metavar="OUT", default=None, help=f"{what} (required)")
    p.set_defaults(parser=p)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Turn remote-sensing labels into image-caption datasets (rs-dataset), RemoteCLIP-style.",
    )
    console.add_version(p, PROG, __version__)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = console.common_flags()

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, description=help_text, parents=[common])

    c = command("convert", "convert a source dataset (FORMAT, see `datasets`) to an rs-dataset")
    c.add_argument(
        "format", metavar="FORMAT", help="source format name, e.g. dota, dior, rsicd (see `datasets`)"
    )
    c.add_argument("src", metavar="SRC", help="the source dataset's root directory")
    c.add_argument("legacy_out", nargs="?", default=None, help=argparse.SUPPRESS)
    _out_flag(
        c,
        "output dataset directory or URI (s3://, gs://, hdfs://, file://), must not exist unless "
        "--overwrite; the run's report goes to OUT.report.json",
    )
    c.add_argument(
        "--workers",
        type=int,
        default=None,
        help="conversion processes (default: all cores; --engine ray: tasks at once, default all the "
        "cluster's CPUs)",
    )
    c.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="where items are converted: worker processes here, or Ray Data on a Ray cluster "
        "(needs rs-annotate[ray]); the dataset is the same row for row (default local)",
    )
    c.add_argument(
        "--address",
        default=None,
        help="--engine ray: the Ray cluster (default: RAY_ADDRESS, else a private local Ray)",
    )
    c.add_argument(
        "--retries",
        type=int,
        default=3,
        help="--engine ray: reruns of a task whose worker or node died before the run fails (default 3)",
    )
    c.add_argument("--seed", type=int, default=0, help="seed of the B2C captions (default 0)")
    c.add_argument(
        "--short-side",
        type=int,
        default=256,
        help="shorter side of stored images in pixels, never enlarged; 0 keeps the size (default 256)",
    )
    console.add_deprecated_alias(c, "--max-side", "--short-side", dest="short_side", type=int)
    c.add_argument(
        "--keep-original",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="store original pixels (the file's bytes, or a lossless PNG) instead of re-encoding to "
        "--short-side; default: original for classification sets and test splits (evaluation "
        "data), re-encoded otherwise",
    )
    c.add_argument(
        "--image-format",
        action=_ImageFormat,
        default="jpeg",
        metavar="{jpeg,png,webp}",
        help="encoding of re-encoded images (default jpeg)",
    )
    c.add_argument(
        "--jpeg-quality", type=int, default=90, help="JPEG quality of re-encoded images (default 90)"
    )
    c.add_argument(
        "--bands",
        type=_bands,
        default=None,
        metavar="B[,G,R]",
        help="images that are not 8-bit RGB: the 1-based bands shown as red, green, blue (e.g. 4,3,2), or "
        "one band as grey (default: 1 band grey; 2 bands the first as grey; 3 as they are; 4+ the first "
        "three). 8-bit RGB images are stored as they are",
    )
    c.add_argument(
        "--range",
        dest="value_range",
        type=float,
        nargs=2,
        default=None,
        metavar=("MIN", "MAX"),
        help="images that are not 8-bit RGB: map MIN..MAX onto 0..255 in every band instead of each "
        "image's own 2-98 percentile stretch (8-bit samples: as they are)",
    )
    c.add_argument(
        "--nodata",
        type=float,
        default=None,
        metavar="VALUE",
        help="pixels with this value in any shown band are masked (black, left out of the stretch); "
        "replaces a file's own nodata tag. NaN is always masked",
    )
    c.add_argument(
        "--tile",
        type=int,
        default=None,
        metavar="SIZE",
        help="cut images larger than SIZE into SIZE x SIZE tiles before resizing (DOTA-style)",
    )
    c.add_argument(
        "--tile-overlap", type=int, default=200, metavar="PX", help="tile overlap in pixels (default 200)"
    )
    c.add_argument(
        "--tile-min-visible",
        type=float,
        default=0.5,
        help="keep a box cut by a tile edge when at least this fraction of it remains (default 0.5)",
    )
    c.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip bad items (counted and listed in OUT.report.json) instead of stopping at the first",
    )
    c.add_argument(
        "--bad-boxes",
        choices=["error", "drop"],
        default="error",
        help="boxes with zero area or wholly outside the image: fail the image, or drop the box "
        "(counted) (default error)",
    )
    c.add_argument(
        "--keep-empty",
        action="store_true",
        help="keep images without objects (with a fixed caption) instead of skipping them",
    )
    c.add_argument("--split", default=None, help="put every row in this split instead of the source's split")
    c.add_argument(
        "--name", default=None, help="dataset name in the manifest (default: OUT's directory name)"
    )
    c.add_argument(
        "--center",
        type=float,
        default=B2CConfig.center,
        help="B2C: fraction of each axis that is 'the middle of the picture' (default 0.5)",
    )
    c.add_argument(
        "--many-prob",
        type=float,
        default=B2CConfig.many_prob,
        help="B2C: probability that a count over ten becomes 'many'/'a lot of' (default 0.9)",
    )
    c.add_argument(
        "--subset",
        choices=["classes", "objects"],
        default=B2CConfig.subset,
        help="B2C: captions 3-5 from random subsets of classes (full counts) or objects (default classes)",
    )
    c.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a reader option (repeatable), e.g. --opt drop_difficult=true --opt label_dir=labelTxt-v1.5",
    )
    c.add_argument(
        "--follow-symlinks",
        action="store_true",
        help="read files that symlinks inside SRC point to elsewhere (by default a symlink leading out "
        "of SRC is refused; names inside label files never may leave SRC)",
    )
    c.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")

    m = command("merge", "concatenate datasets of one kind into one")
    m.add_argument(
        "datasets",
        nargs="+",
        metavar="DS",
        help="input datasets (paths or URIs: s3://, gs://, hdfs://, file://)",
    )
    _out_flag(m, "output dataset directory or URI")
    m.add_argument("--name", default=None, help="dataset name (default: OUT's directory name)")
    m.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")

    d = command("dedup", "merge datasets without near-duplicate images and without test-set images")
    d.add_argument(
        "datasets", nargs="+", metavar="DS", help="input datasets (paths or URIs), most preferred first"
    )
    _out_flag(d, "output dataset directory or URI; the report goes to OUT.report.json")
    d.add_argument(
        "--against",
        nargs="+",
        default=[],
        metavar="TEST_DS",
        help="evaluation datasets: training images matching any of their images are removed and listed",
    )
    d.add_argument(
        "--against-split",
        action="append",
        default=None,
        metavar="SPLIT",
        help="only compare against these splits of the --against sets (default: all splits)",
    )
    d.add_argument(
        "--threshold",
        type=int,
        default=2,
        help="duplicates differ in fewer than this many pHash bits (default 2)",
    )
    d.add_argument(
        "--keep",
        choices=KEEP_POLICIES,
        default="first",
        help="which copy survives: first (input order, then test/val splits, then image_id) or "
        "largest (largest original image) (default first)",
    )
    d.add_argument("--name", default=None, help="dataset name (default: OUT's directory name)")
    d.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")

    s = command("stats", "counts per source, class frequencies, caption lengths (JSON on stdout)")
    s.add_argument("dataset", metavar="DS", help="dataset directory or URI")
    s.add_argument(
        "--plots", default=None, metavar="DIR", help="also write PNG plots and stats.json into DIR"
    )

    w = command("show", "contact sheet of images with their boxes and first caption")
    w.add_argument("dataset", metavar="DS", help="dataset directory or URI")
    w.add_argument("legacy_out", nargs="?", default=None, help=argparse.SUPPRESS)
    _out_flag(w, "output image (PNG)")
    w.add_argument("-n", type=int, default=16, help="number of images (default 16)")
    w.add_argument("--split", default=None, help="split to show (default: the first)")
    w.add_argument("--columns", type=int, default=4, help="images per row (default 4)")
    w.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of the sample: images are drawn at random per source and dealt round-robin over "
        "the sources; the same seed shows the same images (default 0)",
    )

    v = command(
        "validate", "verify checksums and schema, and check every row (problems on stdout; exit 1 if any)"
    )
    v.add_argument("dataset", metavar="DS", help="dataset directory or URI (s3://, gs://, hdfs://, file://)")
    v.add_argument("--no-decode", action="store_true", help="skip decoding the images (faster)")

    command("datasets", "list the supported source formats, their layout, license and URL")

    e = command("export", "write a dataset as open_clip_train and clip_benchmark read it (webdataset, csv)")
    layouts = e.add_subparsers(dest="layout", required=True, metavar="LAYOUT")
    for layout, help_text in (
        ("webdataset", "tar shards of image, .txt, .json (and .cls), per split, with clip_benchmark's files"),
        ("csv", "<split>.csv (filepath, title: one row per caption) and the images beside it"),
    ):
        x = layouts.add_parser(layout, help=help_text, description=help_text, parents=[common])
        x.add_argument("dataset", metavar="DS", help="dataset directory")
        _out_flag(x, "output directory")
        x.add_argument(
            "--split", action="append", default=None, help="a split to export (repeatable; default all)"
        )
        x.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    w = layouts.choices["webdataset"]
    w.add_argument(
        "--shard-size", type=int, default=1000, help="samples per tar shard at most (default 1000)"
    )
    w.add_argument(
        "--captions",
        choices=CAPTION_MODES,
        default="first",
        help=".txt holds the first caption (open_clip_train) or all, one a line (clip_benchmark's "
        "retrieval); .json always holds all (default first)",
    )
    x = layouts.choices["csv"]
    x.add_argument(
        "--separator",
        default="\t",
        type=lambda text: "\t" if text in ("\\t", "tab") else text,
        help="field separator: one character, or tab / \\t (default tab, open_clip_train's)",
    )
    x.add_argument("--relative", action="store_true", help="filepath relative to OUT (default absolute)")
    return p
