"""An archive's image embeddings, computed once and reused: ``rs-clip-eval embed`` and ``rs-clip-eval search``.

Decisions:

* ``embed`` writes a model's image embeddings of one dataset split as Parquet keyed by image id
  (:mod:`rs_formats.embeddings`; a folder, or a URI where they are published manifest last), in the split's
  row order. Engine ``local`` is the evaluation path itself
  (:meth:`Embedder.images`, so the evaluation cache holds the same array); engine ``ray`` computes them on a
  Ray cluster (:mod:`.ray_encoding`). Both give the same embeddings within float rounding.
* The evaluation cache adopts what ``embed`` wrote (the key :meth:`Embedder.images` uses: model
  fingerprint, dataset manifest sha256, split, precision), so that retrieval, zero-shot, probes and
  rs-count over that dataset, model and precision load the vectors instead of running the model.
* ``search`` answers text queries over embeddings of any size: the queries are embedded by the same model
  (its fingerprint must be the embeddings'; at their precision), images are scored by dot product
  (the embeddings are L2-normalised) and the best ``k`` are kept per row group and merged, so memory is
  one row group plus ``k`` per query. Equal scores go to the earlier row, as in rs-clip-eval's ranking.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rs_clip_models.spec import ModelSpec
from rs_formats import Dataset, FormatError, open_dataset
from rs_formats.cluster import ENGINES
from rs_formats.embeddings import FILE_ROWS, MANIFEST, open_embeddings, write_embeddings
from rs_formats.outputs import check_output

from .config import EvalConfig
from .embedder import Embedder
from .embedding_cache import EmbeddingCache

log = logging.getLogger(__name__)


def embed_dataset(
    spec: ModelSpec,
    data: str | Path,
    split: str,
    out: str | Path,
    cfg: EvalConfig | None = None,
    cache: EmbeddingCache | None = None,
    *,
    engine: str = "local",
    address: str | None = None,
    workers: int | None = None,
    cpus_per_worker: int = 1,
    gpus_per_worker: float | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Embed ``split`` of the dataset at ``data`` into ``out``; returns the written manifest."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    check_output(out, [data, spec.path], overwrite)
    cfg = cfg or EvalConfig()
    ds = open_dataset(data)
    ds.row_groups(split)  # a split the dataset lacks: one error naming its manifest
    embedder = Embedder(spec, cache, cfg)
    key = embedder.cache_key(ds, split)
    meta = {
        "model": spec.to_dict(),
        "fingerprint": embedder.fingerprint,
        "dataset": str(ds.path.resolve() if isinstance(ds.path, Path) else ds.path),
        "dataset_name": ds.name,
        "dataset_sha256": ds.manifest_sha256(),
        "split": split,
        "precision": cfg.precision,
        "cache_key": key,
    }
    if engine == "ray":
        from .ray_encoding import image_embeddings

        batches = image_embeddings(
            spec,
            ds.path,
            split,
            cfg,
            address=address,
            workers=workers,
            cpus_per_worker=cpus_per_worker,
            gpus_per_worker=gpus_per_worker,
        )
    else:
        batches = _local(embedder, ds, split)
    manifest = write_embeddings(out, batches, meta, overwrite=overwrite)
    if manifest["rows"] != ds.num_rows(split):
        raise FormatError(
            ds.path, f"{manifest['rows']} embeddings written for {ds.num_rows(split)} rows of {split!r}"
        )
    if cache is not None and not cache.path(key).is_file():
        cache.adopt(key, out, embedder.cache_meta(ds, split))
    log.info(
        "%s: %d embeddings of %s/%s (%d-d, %s)",
        out,
        manifest["rows"],
        ds.name,
        split,
        manifest["dim"],
        cfg.precision,
    )
    return manifest


def _local(embedder: Embedder, ds: Dataset, split: str) -> Iterator[tuple[list[str], np.ndarray]]:
    vectors = embedder.images(ds, split)
    ids = ds.read_table(split, ["image_id"]).column("image_id").to_pylist()
    for start in range(0, len(ids), FILE_ROWS):
        yield ids[start : start + FILE_ROWS], vectors[start : start + FILE_ROWS]


def search(
    embeddings: str | Path, spec: ModelSpec, queries: Sequence[str], k: int = 10, device: str = "auto"
) -> list[list[dict[str, Any]]]:
    """Per query, the ``k`` best images: ``{"rank", "image_id", "row", "score"}``, best first."""
    from rs_clip_models.encoding import encode_texts
    from rs_clip_models.models import autocast, load_spec, resolve_device

    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    emb = open_embeddings(embeddings)
    if spec.fingerprint() != emb.meta["fingerprint"]:
        raise FormatError(
            emb.path / MANIFEST,
            f"was embedded by {emb.meta['model']['label']}, not "
            f"{spec.label}: search with the model that embedded it",
        )
    device = resolve_device(device)
    model, _, tokenizer = load_spec(spec, device, emb.meta["precision"])
    with autocast(device, emb.meta["precision"]):
        q = encode_texts(model, tokenizer, list(queries), device=device)
    best_scores = np.empty((len(q), 0), np.float32)
    best_rows = np.empty((len(q), 0), np.int64)
    ids: dict[int, str] = {}
    start = 0
    for batch_ids, vectors in emb.iter_batches():
        rows = np.arange(start, start + len(batch_ids))
        scores = np.concatenate([best_scores, q @ vectors.T], axis=1)
        cand = np.concatenate([best_rows, np.broadcast_to(rows, (len(q), rows.size))], axis=1)
        keep = np.stack([np.lexsort((c, -s))[:k] for s, c in zip(scores, cand)])
        best_scores, best_rows = np.take_along_axis(scores, keep, 1), np.take_along_axis(cand, keep, 1)
        ids.update((int(r), batch_ids[int(r) - start]) for r in np.unique(best_rows) if r >= start)
        start += len(batch_ids)
    return [
        [
            {"rank": i + 1, "image_id": ids[int(r)], "row": int(r), "score": float(s)}
            for i, (r, s) in enumerate(zip(rows, scores))
        ]
        for rows, scores in zip(best_rows, best_scores)
    ]
