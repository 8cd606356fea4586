"""rs-annotate: remote-sensing labels (detection, segmentation, captions, classes) to rs-dataset v1.

The verbs of the CLI as functions (see :mod:`rs_annotate.api`). Nothing here imports torch.
"""

__version__ = "0.1.0"

# Bound after the submodules of the same names (dedup, merge, stats, show, validate) are imported, so
# that ``rs_annotate.dedup`` is the function; import the rule modules as ``from rs_annotate.dedup import``.
from .api import (  # noqa: E402
    ConvertOptions,
    ConvertReport,
    convert,
    datasets,
    dedup,
    merge,
    show,
    stats,
    validate,
)
from .pipeline import WorkerDied  # noqa: E402
from .readers.base import BadInput  # noqa: E402

__all__ = ["BadInput", "ConvertOptions", "ConvertReport", "WorkerDied", "__version__", "convert", "datasets", "dedup", "merge", "show",
           "stats", "validate"]
