"""rs-clip-eval: evaluate any CLIP checkpoint on remote-sensing retrieval, zero-shot, few-shot,
linear-probe and k-NN tasks, with paper-style reports.

Task modules work on embeddings (numpy arrays) and return plain dicts of metrics:
:mod:`~rs_clip_eval.retrieval`, :mod:`~rs_clip_eval.zeroshot`, :mod:`~rs_clip_eval.linear_probe`,
:mod:`~rs_clip_eval.knn`. :mod:`~rs_clip_eval.runner` embeds datasets through :mod:`~rs_clip_eval.cache`;
:mod:`~rs_clip_eval.report` writes JSON, Markdown and plots; :mod:`~rs_clip_eval.cli` is the command line.
"""

from rs_formats.console import package_version

from .api import evaluate_retrieval

__version__ = package_version("rs-clip-eval")
__all__ = ["__version__", "evaluate_retrieval"]
