"""rs-clip-eval's Python API: every command as a function, for notebooks and other packages.

>>> import rs_clip_eval
>>> table = rs_clip_eval.run(["RS-Tiny", "mine=runs/final"], "data/scenes", out="report")
>>> rs_clip_eval.compare(["report", "last-month"]).to_pandas()
>>> rs_clip_eval.embed("runs/final", "archive", "archive-emb", split="train")
>>> rs_clip_eval.search("archive-emb", "runs/final", ["many planes at an airport"], k=20)

The commands of ``rs-clip-eval`` are thin wrappers over :func:`run`, :func:`compare`, :func:`embed` and
:func:`search`. Results come back as pyarrow tables (``.to_pandas()``, ``polars.from_arrow``): :func:`run`'s
has the columns of the long-format results table (:mod:`rs_formats.results_table`), one row per model x
dataset x task x metric. :func:`evaluate_retrieval` scores a model already in memory (what rs-clip-train
calls at every checkpoint), so that the figures other packages log are the ones ``rs-clip-eval`` reports.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from rs_clip_models.spec import ModelSpec
from rs_formats import Dataset, open_dataset
from rs_formats.columns import captions_of
from rs_formats.outputs import check_output
from rs_formats.results_table import COLUMNS, ResultRow, now, read_results_table, write_results_table

from .config import EvalConfig
from .embedder import Embedder
from .embedding_cache import EmbeddingCache
from .retrieval import retrieval_metrics

if TYPE_CHECKING:
    from .suites import Suite  # imported when used: the suites need the probes, which need torch

log = logging.getLogger(__name__)

#: The Arrow schema of :func:`run`'s table: the results table's columns, ``value`` a float.
_TYPES = {"value": pa.float64(), "shots": pa.int64(), "seed": pa.int64(), "format_version": pa.int64()}
RESULTS_SCHEMA = pa.schema([(c, _TYPES.get(c, pa.string())) for c in COLUMNS])


def _specs(models: str | ModelSpec | Sequence[str | ModelSpec]) -> list[ModelSpec]:
    given = [models] if isinstance(models, (str, ModelSpec)) else list(models)
    if not given:
        raise ValueError("give at least one model")
    return [m if isinstance(m, ModelSpec) else ModelSpec.parse(str(m)) for m in given]


def _spec(model: str | ModelSpec) -> ModelSpec:
    (spec,) = _specs(model)
    return spec


def as_suite(
    suite_or_datasets: str | Path | Suite | Sequence[str | Path],
    *,
    tasks: Sequence[str] | None = None,
    split: str = "test",
    train_split: str = "train",
    templates: str | Sequence[str] | None = None,
    data_root: str | Path | None = None,
) -> Suite:
    """The suite :func:`run` evaluates: a :class:`Suite` as it is, ``"paper"`` (the paper's datasets under
    ``data_root``), a suite file (YAML/JSON), or rs-dataset directories (one or a list), each scored on
    ``tasks`` (default: by its kind) with the given splits and zero-shot templates."""
    from .suites import DatasetEntry, Suite, load_suite, normalise_task

    if isinstance(suite_or_datasets, Suite):
        paths, named = [], True
    else:
        paths = [suite_or_datasets] if isinstance(suite_or_datasets, (str, Path)) else list(suite_or_datasets)
        named = len(paths) == 1 and not Path(paths[0]).is_dir()  # "paper" or a suite file
    if named and (tasks or templates):
        raise ValueError("tasks and templates apply to datasets; a suite names its own")
    if named:
        return (
            suite_or_datasets
            if isinstance(suite_or_datasets, Suite)
            else load_suite(str(paths[0]), data_root=data_root)
        )
    chosen = tuple(normalise_task(t, "tasks") for t in tasks) if tasks else None
    entries = [
        DatasetEntry(Path(p), tasks=chosen, split=split, train_split=train_split, templates=templates)
        for p in paths
    ]
    return Suite("datasets", entries, {}, "Python API")


def run(
    models: str | ModelSpec | Sequence[str | ModelSpec],
    suite_or_datasets: str | Path | Suite | Sequence[str | Path],
    *,
    out: str | Path | None = None,
    config: EvalConfig | None = None,
    cache: EmbeddingCache | None = None,
    tasks: Sequence[str] | None = None,
    split: str = "test",
    train_split: str = "train",
    templates: str | Sequence[str] | None = None,
    data_root: str | Path | None = None,
    plots: bool = True,
    tsne_points: int = 1000,
) -> pa.Table:
    """Score models on a suite of datasets and tasks (``rs-clip-eval run`` and the single-task commands).

    Args:
        models: ``--model`` specs (``[LABEL=]SPEC``: a checkpoint folder, ``ENTRY:FILE``, ``NAME``...) or
            :class:`~rs_clip_models.spec.ModelSpec` s; one or a list. The first is the one deltas are for.
        suite_or_datasets: ``"paper"``, a suite file, a :class:`~rs_clip_eval.suites.Suite`, or rs-dataset
            directories (then ``tasks``, ``split``, ``train_split`` and ``templates`` apply to each).
        out: where ``results.json``, ``report.md``, ``results.jsonl``/``.csv`` and the plots go; None:
            nothing is written.
        config: device, precision, batch size, loader processes, seed, probe overrides (default
            :class:`EvalConfig`'s).
        cache: the embedding cache (default: ``$RS_CLIP_EVAL_CACHE`` or ``~/.cache/rs-clip-eval``;
            ``EmbeddingCache(enabled=False)`` for none).
        tasks: retrieval, zeroshot, linear_probe, fewshot, knn (default: every task of a dataset's kind).
        split, train_split: the split scored, and the one probes and k-NN learn from.
        templates: zero-shot prompts: a set name (default, resisc45, remote-sensing) or templates with ``{}``.
        data_root: where the ``paper`` suite's datasets are.
        plots, tsne_points: with ``out``, the PNG plots and the points per t-SNE map.

    Returns:
        The long-format results table (:data:`RESULTS_SCHEMA`): one row per model x dataset x task x metric,
        the rows ``results.jsonl`` holds. With ``out``, the schema's metadata ``files`` (JSON) names the
        files written (``markdown``, ``json``, ``jsonl``, ``csv``).
    """
    from .report import table_rows, write_report
    from .runner import run_suite

    suite = as_suite(
        suite_or_datasets,
        tasks=tasks,
        split=split,
        train_split=train_split,
        templates=templates,
        data_root=data_root,
    )
    specs = _specs(models)
    if out is not None:
        suite_file = suite_or_datasets if isinstance(suite_or_datasets, (str, Path)) else None
        inputs = [suite_file if suite_file != "paper" else None, *(d.path for d in suite.datasets)]
        check_output(out, [*inputs, *(m.path for m in specs)])
    cache = cache if cache is not None else EmbeddingCache()
    result = run_suite(suite, specs, cache, config or EvalConfig())
    if out is not None:
        files = write_report(result, Path(out), plots=plots, tsne_max_points=tsne_points)
        table = results_arrow(read_results_table(out))
        table = table.replace_schema_metadata({"files": json.dumps({k: str(v) for k, v in files.items()})})
    else:  # the rows results.jsonl would hold (figures that are not finite left out): through its writer
        with tempfile.TemporaryDirectory() as tmp:
            write_results_table(table_rows(result, now()), tmp)
            table = results_arrow(read_results_table(tmp))
    log.info(
        "%.1f s%s",
        result.seconds,
        f"; embedding cache {cache.root}: {cache.hits} hits, {cache.misses} misses" if cache.enabled else "",
    )
    return table


def results_arrow(rows: Sequence[ResultRow]) -> pa.Table:
    """Results-table rows as a pyarrow table (:data:`RESULTS_SCHEMA`)."""
    return pa.Table.from_pylist([asdict(r) for r in rows], schema=RESULTS_SCHEMA)


def compare(
    results: str | Path | Sequence[str | Path], metrics: Sequence[str] = (), *, out: str | Path | None = None
) -> pa.Table:
    """Saved runs side by side, with deltas, from their results tables (``rs-clip-eval compare``).

    Args:
        results: ``results.jsonl`` files, or the run directories rs-clip-eval and rs-count wrote them to.
        metrics: only these metrics (default: every one).
        out: also write ``compare.md`` and ``compare.csv`` there.

    Returns:
        One row per (dataset, task, metric, unit), one column per model of every input (null where an input
        lacks the figure), then the delta columns (the first model minus each other one). The schema's
        metadata holds ``markdown`` (the table as the command prints it), ``sources`` and ``notes``
        (JSON).
    """
    from .comparison import compare as line_up
    from .comparison import to_markdown, write_comparison

    given = [results] if isinstance(results, (str, Path)) else list(results)
    if out is not None:
        check_output(out, given)
    comparison = line_up(given, metrics)
    if out is not None:
        paths = write_comparison(comparison, out)
        log.info("wrote %s and %s", paths["markdown"], paths["csv"])
    columns: dict[str, list[Any]] = {
        name: [row[i] for row in comparison.rows]
        for i, name in enumerate(("dataset", "task", "metric", "unit"))
    }
    cells = [comparison.cells(row) for row in comparison.rows]
    for i, name in enumerate(comparison.columns):
        columns[name] = [values[i] for values, _ in cells]
    for i, name in enumerate(comparison.deltas()):
        columns[name] = [deltas[i] for _, deltas in cells]
    table = pa.table(
        {
            k: pa.array(v, pa.string() if k in ("dataset", "task", "metric", "unit") else pa.float64())
            for k, v in columns.items()
        }
    )
    return table.replace_schema_metadata(
        {
            "markdown": to_markdown(comparison),
            "sources": json.dumps(comparison.sources),
            "notes": json.dumps(comparison.notes),
        }
    )


def embed(
    model: str | ModelSpec,
    data: str | Path,
    out: str | Path,
    *,
    split: str = "train",
    config: EvalConfig | None = None,
    cache: EmbeddingCache | None = None,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: int = 1,
    gpus_per_worker: float | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """A dataset split's image embeddings, once, as Parquet keyed by image id (``rs-clip-eval embed``).

    Args:
        model: one ``--model`` spec or :class:`~rs_clip_models.spec.ModelSpec`.
        data: an rs-dataset directory or URI.
        out: the embeddings directory written (atomically), or a URI (published with its manifest last).
        split: the split embedded.
        config, cache: as for :func:`run`; the cache adopts what is written, so evaluations of the same
            model, data and precision load these vectors.
        engine: ``local`` (this machine, the evaluation path) or ``ray`` (Ray Data actors; ``address``,
            ``workers``, ``cpus_per_worker``, ``gpus_per_worker`` size them).
        overwrite: replace ``out`` if it exists.

    Returns:
        The written ``embeddings.json``: rows, dimension, model, fingerprint, dataset and its sha256, split,
        precision.
    """
    from .archive import embed_dataset

    return embed_dataset(
        _spec(model),
        data,
        split,
        out,
        config or EvalConfig(),
        cache if cache is not None else EmbeddingCache(),
        engine=engine,
        address=address,
        workers=workers,
        cpus_per_worker=cpus_per_worker,
        gpus_per_worker=gpus_per_worker,
        overwrite=overwrite,
    )


def search(
    embeddings: str | Path,
    model: str | ModelSpec,
    queries: str | Sequence[str],
    *,
    k: int = 10,
    device: str = "auto",
) -> pa.Table:
    """The images of embedded data that best match text queries (``rs-clip-eval search``).

    Args:
        embeddings: a directory or URI written by :func:`embed`.
        model: the model that embedded them (its fingerprint is checked).
        queries: one text or several.
        k: images per query.
        device: torch device for the queries (auto: cuda when available).

    Returns:
        ``query``, ``rank`` (1 = best), ``image_id``, ``row`` (in the embedded split) and ``score`` (cosine
        similarity), query by query, best first; equal scores go to the earlier row.
    """
    from .archive import search as best

    texts = [queries] if isinstance(queries, str) else list(queries)
    rows = [
        {"query": query, **hit}
        for query, hits in zip(texts, best(embeddings, _spec(model), texts, k=k, device=device))
        for hit in hits
    ]
    schema = pa.schema(
        [
            ("query", pa.string()),
            ("rank", pa.int32()),
            ("image_id", pa.string()),
            ("row", pa.int64()),
            ("score", pa.float64()),
        ]
    )
    return pa.Table.from_pylist(rows, schema=schema)


def evaluate_retrieval(
    model: Any,
    preprocess: Any,
    tokenizer: Any,
    dataset: Dataset | str | Path,
    split: str = "test",
    *,
    device: Any = "cpu",
    precision: str = "fp32",
    batch_size: int = 256,
    loader_workers: int = 0,
    progress: bool = False,
) -> dict[str, float]:
    """Image-text retrieval of ``model`` on a captions split: recall@1/5/10 both ways and their mean (%)."""
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    texts, owner = captions_of(ds, split)
    cfg = EvalConfig(
        device=str(device),
        precision=precision,
        batch_size=batch_size,
        loader_workers=loader_workers,
        progress=progress,
    )
    emb = Embedder.from_model(model, preprocess, tokenizer, cfg)
    return retrieval_metrics(emb.images(ds, split), emb.texts(ds, split, texts, "captions"), owner)
