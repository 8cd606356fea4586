"""rs-annotate: remote-sensing labels (detection, segmentation, captions, classes) to rs-datasets.

The verbs of the CLI as functions (see :mod:`rs_annotate.api`). Nothing here imports torch. No module of
the package shares a name with a verb, so ``rs_annotate.dedup`` is always the function (the pHash rules
are :mod:`rs_annotate.near_duplicates`).
"""

from rs_formats.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    "rs-annotate",
    {
        ".api": (
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
        ),
        ".types": ("BadInput",),
        ".workers": ("WorkerDied",),
    },
)
