"""rs-annotate: remote-sensing labels (detection, segmentation, captions, classes) to rs-datasets.

The verbs of the CLI as functions (see :mod:`rs_annotate.api`). Nothing here imports torch. No module of
the package shares a name with a verb, so ``rs_annotate.dedup`` is always the function (the pHash rules
are :mod:`rs_annotate.near_duplicates`).
"""

from .api import (
    ConvertOptions,
    ConvertReport,
    convert,
    convert_reader,
    datasets,
    dedup,
    export_csv,
    export_webdataset,
    merge,
    show,
    stats,
    validate,
)
from .types import BadInput
from .version import __version__
from .workers import WorkerDied

__all__ = [
    "BadInput",
    "ConvertOptions",
    "ConvertReport",
    "WorkerDied",
    "__version__",
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
