"""rs-clip-eval: evaluate any CLIP checkpoint on remote-sensing retrieval, zero-shot, few-shot,
linear-probe and k-NN tasks, with paper-style reports.

Task modules work on embeddings (numpy arrays) and return plain dicts of metrics:
:mod:`~rs_clip_eval.retrieval`, :mod:`~rs_clip_eval.zeroshot`, :mod:`~rs_clip_eval.linear_probe`,
:mod:`~rs_clip_eval.knn`. :mod:`~rs_clip_eval.runner` runs suites through an
:class:`~rs_clip_eval.embedder.Embedder` (:mod:`~rs_clip_eval.embedding_cache`); :mod:`~rs_clip_eval.report` writes
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

from rs_formats.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    "rs-clip-eval",
    {
        "rs_formats.results_table": ("ResultRow", "read_results_table", "write_results_table"),
        ".api": ("compare", "embed", "evaluate_retrieval", "run", "search"),
        ".embedding_cache": ("EmbeddingCache",),
        ".config": ("EvalConfig",),
        ".embedder": ("Embedder",),
        ".plots": ("plot_confusion", "pyplot", "slug"),
        ".ranking": ("topk_correct", "true_ranks"),
    },
)
