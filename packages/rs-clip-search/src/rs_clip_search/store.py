"""The search index folder (format ``rs-search-index``, docs/contracts.md): vectors, tiles, manifest.

Decisions the issue leaves open:

* Tile ids are row numbers ``0..count-1``; ``vectors.npy`` (float32 ``[count, dim]``, L2-normalised) is
  the source of truth and ``tiles.parquet`` holds one row per tile in the same order. A tile's id never
  changes when imagery is added (adding appends rows).
* Search is by inner product, which on unit vectors is cosine similarity. Below ``exact_below`` tiles the
  index is flat: every query is an exact scan (usearch's brute-force kernel); at or above it, an HNSW graph
  (usearch) is built and saved beside the vectors, and queries go through it. The graph's parameters are
  recorded in the manifest.
* A filtered query over the graph asks for more neighbours until ``k`` pass the filter; when the filter
  leaves few tiles it scans the tiles that pass exactly instead (a filter never loses results to the graph).
* Every write builds the whole folder in a staging directory and publishes it with
  :func:`rs_formats.atomic.atomic_dir`; readers see the old index or the new one.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rs_formats import FormatError
from rs_formats.atomic import atomic_dir
from rs_formats.inputs import read_json

FORMAT = "rs-search-index"
FORMAT_VERSION = 1
MANIFEST, VECTORS, TILES, GRAPH = "manifest.json", "vectors.npy", "tiles.parquet", "graph.usearch"

TILE_SCHEMA = pa.schema(
    [
        ("tile_id", pa.int64()),
        ("path", pa.string()),
        ("folder", pa.string()),
        ("file_size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("scene_width", pa.int32()),
        ("scene_height", pa.int32()),
        ("x", pa.int32()),
        ("y", pa.int32()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("crs", pa.string()),
        *[
            (name, pa.float64())
            for name in ("minx", "miny", "maxx", "maxy", "west", "south", "east", "north")
        ],
    ]
)


@dataclass(frozen=True)
class GraphParams:
    """When to build an HNSW graph and how (usearch's names)."""

    exact_below: int = 100_000
    connectivity: int = 16
    expansion_add: int = 128
    expansion_search: int = 128
    dtype: str = "f32"


class SearchIndex:
    """An opened index folder: ``vectors`` (memory-mapped), ``tiles`` (a pyarrow Table), ``manifest``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.manifest = _read_manifest(self.path)
        self.params = GraphParams(**self.manifest["graph"])
        try:
            self.vectors = np.load(self.path / VECTORS, mmap_mode="r", allow_pickle=False)
            self.tiles = pq.read_table(self.path / TILES)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise FormatError(self.path, f"unreadable index file ({type(exc).__name__}: {exc})") from None
        n, dim = self.manifest["count"], self.manifest["dim"]
        if self.vectors.shape != (n, dim) or self.vectors.dtype != np.float32 or self.tiles.num_rows != n:
            raise FormatError(
                self.path / MANIFEST,
                f"manifest says {n} tiles of {dim} dimensions, but {VECTORS} holds {self.vectors.shape} "
                f"{self.vectors.dtype} and {TILES} {self.tiles.num_rows} rows",
            )
        self.graph = _load_graph(self.path / GRAPH, dim) if self.manifest["kind"] == "hnsw" else None
        if self.graph is not None:  # a search-time setting: the saved graph does not keep it
            self.graph.expansion_search = self.params.expansion_search

    def __len__(self) -> int:
        return self.manifest["count"]

    @property
    def dim(self) -> int:
        return self.manifest["dim"]

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> list[list[tuple[int, float]]]:
        """For each query (``[q, dim]`` unit vectors), up to ``k`` ``(tile id, cosine)`` best first;
        ``allowed`` (bool per tile) restricts the result to the tiles it marks."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        n = len(self)
        k = min(k, n if allowed is None else int(allowed.sum()))
        if k <= 0:
            return [[] for _ in queries]
        if self.graph is None:
            return [exact_search(self.vectors, q, k, allowed) for q in queries]
        return [self._graph_search(q, k, allowed) for q in queries]

    def _graph_search(self, q: np.ndarray, k: int, allowed: np.ndarray | None) -> list[tuple[int, float]]:
        count = k if allowed is None else k * 4
        while True:
            m = self.graph.search(q, min(count, len(self)))
            hits = [(int(key), 1.0 - float(d)) for key, d in zip(m.keys, m.distances)]
            if allowed is not None:
                hits = [h for h in hits if allowed[h[0]]]
            if len(hits) >= k:
                return hits[:k]
            if allowed is None or count >= len(self) or count >= 64 * k:
                return exact_search(self.vectors, q, k, allowed)
            count *= 4


def exact_search(
    vectors: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> list[tuple[int, float]]:
    """The ``k`` best ``(row, cosine)`` by a full scan (usearch's exact kernel), ties to the lower row."""
    from usearch.index import MetricKind, search

    rows = np.flatnonzero(allowed) if allowed is not None else None
    data = vectors if rows is None else np.ascontiguousarray(vectors[rows])
    k = min(k, len(data))
    if k == 0:
        return []
    m = search(np.ascontiguousarray(data), q, k, MetricKind.IP, exact=True)
    keys = np.asarray(m.keys, dtype=np.int64)
    hits = [(int(key if rows is None else rows[key]), 1.0 - float(d)) for key, d in zip(keys, m.distances)]
    return sorted(hits, key=lambda h: (-h[1], h[0]))


def write_index(
    out: str | Path,
    vectors: np.ndarray,
    tiles: pa.Table,
    meta: dict[str, Any],
    params: GraphParams,
    *,
    overwrite: bool = False,
    base: SearchIndex | None = None,
) -> dict[str, Any]:
    """Publish an index of ``vectors`` and ``tiles`` at ``out``; with ``base``, the first rows are
    ``base``'s and its graph is extended rather than rebuilt. Returns the manifest."""
    n, dim = vectors.shape
    kind = "hnsw" if n >= params.exact_below else "flat"
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "generation": (base.manifest["generation"] + 1) if base is not None else 1,
        "count": n,
        "dim": dim,
        "kind": kind,
        "graph": asdict(params),
        **meta,
    }
    with atomic_dir(out, overwrite=overwrite) as tmp:
        np.save(tmp / VECTORS, np.ascontiguousarray(vectors, dtype=np.float32), allow_pickle=False)
        pq.write_table(tiles.cast(TILE_SCHEMA), tmp / TILES)
        if kind == "hnsw":
            grown = base.path / GRAPH if base is not None and base.graph is not None else None
            build_graph(vectors, params, grown).save(str(tmp / GRAPH))
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def build_graph(vectors: np.ndarray, params: GraphParams, base: Path | None = None, threads: int = 0):
    """An HNSW graph over ``vectors`` keyed by row; the graph saved at ``base`` (over the first rows) is
    loaded and extended rather than rebuilt."""
    from usearch.index import Index, MetricKind

    if base is not None:
        graph = Index.restore(str(base))
        start = len(graph)
    else:
        graph = Index(
            ndim=vectors.shape[1],
            metric=MetricKind.IP,
            dtype=params.dtype,
            connectivity=params.connectivity,
            expansion_add=params.expansion_add,
            expansion_search=params.expansion_search,
        )
        start = 0
    if start < len(vectors):
        keys = np.arange(start, len(vectors), dtype=np.uint64)
        graph.add(keys, np.ascontiguousarray(vectors[start:], dtype=np.float32), threads=threads)
    return graph


def _load_graph(path: Path, dim: int):
    from usearch.index import Index

    if not path.is_file():
        raise FormatError(path, "the manifest says the index has an HNSW graph, but the file is missing")
    try:
        graph = Index.restore(str(path), view=True)
    except Exception as exc:  # noqa: BLE001 - usearch raises RuntimeError and ValueError alike
        raise FormatError(path, f"unreadable HNSW graph ({exc})") from None
    if graph is None or graph.ndim != dim:
        raise FormatError(path, f"not an HNSW graph of {dim}-dimensional vectors")
    return graph


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_dir():
        raise FormatError(path, "not a search index (no such folder); build one with rs-clip-search index")
    m = read_json(path / MANIFEST)
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise FormatError(path / MANIFEST, f"not an {FORMAT} manifest")
    if m.get("format_version") != FORMAT_VERSION:
        raise FormatError(
            path / MANIFEST,
            f"{FORMAT} format_version {m.get('format_version')!r}; this rs-clip-search reads version {FORMAT_VERSION}",
        )
    missing = [key for key in ("count", "dim", "kind", "graph", "generation") if key not in m]
    if missing:
        raise FormatError(path / MANIFEST, f"missing {', '.join(missing)}")
    return m
