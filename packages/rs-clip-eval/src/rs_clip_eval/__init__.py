"""rs-clip-eval: evaluate any CLIP checkpoint on remote-sensing retrieval, zero-shot, few-shot,
linear-probe and k-NN tasks, with paper-style reports.

Task modules work on embeddings (numpy arrays) and return plain dicts of metrics:
:mod:`~rs_clip_eval.retrieval`, :mod:`~rs_clip_eval.zeroshot`, :mod:`~rs_clip_eval.linear_probe`,
:mod:`~rs_clip_eval.knn`. :mod:`~rs_clip_eval.runner` runs suites through an
:class:`~rs_clip_eval.embedder.Embedder` (:mod:`~rs_clip_eval.cache`); :mod:`~rs_clip_eval.report` writes
JSON, Markdown and the long-format table, with the published figures of :mod:`~rs_clip_eval.paper` beside
ours, :mod:`~rs_clip_eval.plots` the plots; :mod:`~rs_clip_eval.comparison` lines saved runs up;
:mod:`~rs_clip_eval.cli` is the command line.

The commands as functions (:mod:`rs_clip_eval.api`): :func:`run`, :func:`compare`, :func:`embed`,
:func:`search`; no module of the package shares their names, so ``rs_clip_eval.compare`` is always the
function (the comparison itself is :mod:`~rs_clip_eval.comparison`).

Public API for other packages (rs-clip-train, rs-count): the names below (among them the long-format results
table's writer and reader, :mod:`~rs_formats.results_table`), and the modules :mod:`rs_clip_eval.flags`
(the flags every evaluating command shares) and :mod:`rs_clip_eval.ranking`.
"""

from rs_formats.console import package_version
from rs_formats.results_table import ResultRow, read_results_table, write_results_table

from .api import compare, embed, evaluate_retrieval, run, search
from .cache import EmbeddingCache
from .config import EvalConfig
from .embedder import Embedder
from .plots import plot_confusion, pyplot, slug
from .ranking import topk_correct, true_ranks

__version__ = package_version("rs-clip-eval")
__all__ = [
    "Embedder",
    "EmbeddingCache",
    "EvalConfig",
    "ResultRow",
    "__version__",
    "compare",
    "embed",
    "evaluate_retrieval",
    "plot_confusion",
    "pyplot",
    "read_results_table",
    "run",
    "search",
    "slug",
    "topk_correct",
    "true_ranks",
    "write_results_table",
]
