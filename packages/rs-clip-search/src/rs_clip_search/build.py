"""Imagery folder to index: tile every scene, embed the tiles, publish the index; add new imagery later.

Decisions the issue leaves open:

* A scene is known by its absolute path, file size and modification time. ``add`` embeds only scenes
  whose path the index does not hold; a known path whose size or mtime changed is reported and left
  as it is (its tiles keep their ids; rebuild the index to re-embed it).
* A file that cannot be read is skipped with a warning naming it and counted in the manifest; an index
  with no tile at all is an error.
* Tiles are embedded in batches across scenes, so a folder of small scenes keeps the model busy.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from rs_formats import FormatError
from rs_formats.outputs import check_output

from .encoder import Encoder
from .store import TILE_SCHEMA, GraphParams, SearchIndex, write_index
from .tiles import Scene, find_scenes, open_scene, read_scene_tiles, tile_bounds, windows

log = logging.getLogger(__name__)
BATCH = 64


def _scenes(folder: Path, known: dict[str, tuple[int, int]], counts: dict[str, int]) -> Iterator[Scene]:
    for path in find_scenes(folder):
        seen = known.get(str(path))
        if seen is not None:
            st = path.stat()
            if seen != (st.st_size, st.st_mtime_ns):
                log.warning("%s: changed since it was indexed; its tiles are kept as they were", path)
                counts["changed"] += 1
            continue
        try:
            yield open_scene(path)
        except (FormatError, OSError) as exc:
            log.warning("%s: skipped (%s)", path, exc)
            counts["skipped"] += 1


def embed_folder(
    folder: str | Path,
    encoder: Encoder,
    tile: int,
    overlap: int,
    known: dict[str, tuple[int, int]] | None = None,
) -> tuple[np.ndarray, list[dict[str, Any]], dict[str, int]]:
    """``(vectors, tile rows, counts)`` of the scenes under ``folder`` not in ``known`` (path -> size, mtime)."""
    if tile < 1 or not 0 <= overlap < tile:
        raise ValueError(f"--tile must be positive and --overlap in [0, tile), got {tile} and {overlap}")
    counts = {"scenes": 0, "skipped": 0, "changed": 0}
    rows: list[dict[str, Any]] = []
    vectors: list[np.ndarray] = []
    pending: list[np.ndarray] = []

    def flush() -> None:
        if pending:
            vectors.append(np.asarray(encoder.images(pending), dtype=np.float32))
            pending.clear()

    for scene in _scenes(Path(folder), known or {}, counts):
        wins = windows(scene, tile, overlap)
        try:
            pixels = list(read_scene_tiles(scene, wins))
        except (FormatError, OSError) as exc:
            log.warning("%s: skipped (%s)", scene.path, exc)
            counts["skipped"] += 1
            continue
        counts["scenes"] += 1
        for win, px in zip(wins, pixels):
            rows.append(_row(scene, win))
            pending.append(px)
            if len(pending) >= BATCH:
                flush()
    flush()
    dim = vectors[0].shape[1] if vectors else 0
    return (np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)), rows, counts


def _row(scene: Scene, win: tuple[int, int, int, int]) -> dict[str, Any]:
    x, y, w, h = win
    return {
        "path": str(scene.path),
        "folder": str(scene.path.parent),
        "file_size": scene.file_size,
        "mtime_ns": scene.mtime_ns,
        "scene_width": scene.width,
        "scene_height": scene.height,
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        **tile_bounds(scene, win),
    }


def _model_meta(encoder: Encoder) -> dict[str, Any]:
    describe = getattr(encoder, "describe", None)
    return describe() if describe is not None else {"fingerprint": encoder.fingerprint}


def build_index(
    folder: str | Path,
    encoder: Encoder,
    out: str | Path,
    *,
    tile: int = 224,
    overlap: int = 0,
    params: GraphParams | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Index every scene under ``folder`` into ``out``; returns the manifest. ``out`` never is, lies inside
    or contains ``folder``, and ``overwrite`` replaces only an index (or an empty folder), checked before
    anything is embedded."""
    check_output(out, [folder], overwrite)
    vectors, rows, counts = embed_folder(folder, encoder, tile, overlap)
    if not rows:
        raise FormatError(folder, f"no tile to index ({counts['skipped']} file(s) skipped)")
    tiles = _table(rows, start=0)
    meta = {
        "model": _model_meta(encoder),
        "tile": tile,
        "overlap": overlap,
        "roots": [str(Path(folder).absolute())],
        "scenes": counts["scenes"],
        "skipped": counts["skipped"],
    }
    return write_index(out, vectors, tiles, meta, params or GraphParams(), overwrite=overwrite)


def add_to_index(
    index_path: str | Path, folder: str | Path, encoder: Encoder
) -> tuple[dict[str, Any], dict[str, int]]:
    """Embed the scenes under ``folder`` that ``index_path`` lacks and publish the grown index in place;
    returns the new manifest and ``{"scenes", "tiles", "skipped", "changed"}`` of this addition."""
    base = SearchIndex(index_path)
    m = base.manifest
    if m["model"]["fingerprint"] != encoder.fingerprint:
        raise FormatError(
            Path(index_path) / "manifest.json",
            f"the index was built with {m['model'].get('label', m['model']['fingerprint'])}; add with that model",
        )
    t = base.tiles
    known = dict(zip(t["path"].to_pylist(), zip(t["file_size"].to_pylist(), t["mtime_ns"].to_pylist())))
    new_vectors, rows, counts = embed_folder(folder, encoder, m["tile"], m["overlap"], known)
    added = {**counts, "tiles": len(rows)}
    if not rows:
        return m, added
    vectors = np.concatenate([np.asarray(base.vectors), new_vectors])
    tiles = pa.concat_tables([base.tiles, _table(rows, start=len(base))])
    root = str(Path(folder).absolute())
    meta = {
        **{key: m[key] for key in ("model", "tile", "overlap")},
        "roots": m["roots"] + ([root] if root not in m["roots"] else []),
        "scenes": m["scenes"] + counts["scenes"],
        "skipped": m["skipped"] + counts["skipped"],
    }
    return write_index(index_path, vectors, tiles, meta, base.params, overwrite=True, base=base), added


def _table(rows: list[dict[str, Any]], start: int) -> pa.Table:
    for i, row in enumerate(rows):
        row["tile_id"] = start + i
    return pa.Table.from_pylist(rows, schema=TILE_SCHEMA)
