"""The Python API: the CLI's verbs as functions, for downstream projects.

>>> import rs_annotate
>>> report = rs_annotate.convert("dota", "DOTA/train", "out/dota", workers=8, tile=1024)
>>> rs_annotate.dedup(["out/dota", "out/dior"], "out/det", against=["out/rsicd-test"])
>>> rs_annotate.export_webdataset("out/det", "out/det-wds", shard_size=1000)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from .combine import dedup, merge
from .contact_sheet import show
from .dataset_stats import stats
from .exports import export_csv, export_webdataset
from .options import ConvertOptions
from .pipeline import convert as _convert
from .pipeline import run
from .readers.base import READERS, Reader, load_all
from .report import ConvertReport
from .validation import validate

__all__ = [
    "ConvertOptions",
    "ConvertReport",
    "convert",
    "convert_reader",
    "datasets",
    "dedup",
    "export_csv",
    "export_webdataset",
    "merge",
    "show",
    "stats",
    "validate",
]


def convert(
    format: str, src: str | Path, out: str | Path, options: ConvertOptions | None = None, **overrides: Any
) -> ConvertReport:
    """Convert a source dataset to an rs-dataset.

    Args:
        format: a format name or alias (``rs-annotate datasets`` lists them), e.g. ``"dota"``.
        src: the source dataset's folder, as its release unpacks.
        out: the rs-dataset directory to write.
        options: conversion options; keyword ``overrides`` replace its fields (``workers=8, tile=1024``).

    Returns:
        The run's report, also written to ``<out>.report.json``.
    """
    return _convert(format, src, out, options, **overrides)


def convert_reader(
    reader: Reader, out: str | Path, options: ConvertOptions | None = None, **overrides: Any
) -> ConvertReport:
    """Convert what a caller's own reader lists, exactly as :func:`convert` converts a registered format.

    Args:
        reader: a :class:`~rs_annotate.readers.base.Reader` subclass instance; its ``items`` run here, its
            ``read`` in the workers (so it must pickle, and with the Ray engine name files by absolute paths).
        out: the rs-dataset directory to write.
        options: conversion options; keyword ``overrides`` replace its fields.

    Returns:
        The run's report, also written to ``<out>.report.json``.
    """
    return run(reader, out, replace(options or ConvertOptions(), **overrides))


def datasets() -> list[dict[str, Any]]:
    """Every registered source format, sorted by name.

    Returns:
        One dict per format: ``name``, ``title``, ``kind``, ``layout``, ``license``, ``url``, ``aliases``
        (alias -> the reader options it implies) and ``options`` (each with its ``default``, ``help`` and,
        where restricted, ``choices``: the readers' own ``OPTIONS``).
    """
    load_all()
    return [
        {
            "name": name,
            "title": cls.info.title,
            "kind": cls.info.kind,
            "layout": cls.info.layout,
            "license": cls.info.license,
            "url": cls.info.url,
            "aliases": {a.name: dict(a.defaults) for a in cls.info.aliases},
            "options": [
                {"name": o.name, "default": o.default, "help": o.help, "choices": list(o.choices)}
                for o in cls.accepted_options().values()
            ],
        }
        for name, cls in sorted(READERS.items())
    ]
