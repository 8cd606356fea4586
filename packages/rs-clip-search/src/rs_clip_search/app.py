"""The web page and its JSON endpoints (FastAPI), over one index and the model that built it.

Safety decisions: the client names tiles only by integer id, looked up in the index's table (no path
from a request ever reaches the file system); an uploaded example is read in chunks and refused past
:data:`MAX_UPLOAD_BYTES`, then decoded under rs_formats' row pixel limit; every error is a JSON body
``{"error": message}`` with a 4xx status (500 with a fixed message for a bug, the traceback only in the
server's log). The page is one static file with no external resource (no CDN, no online map tiles).
"""

from __future__ import annotations

import io
import logging
import threading
from importlib.resources import files
from typing import Any

import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response

from rs_formats import FormatError

from . import queries
from .encoder import Encoder
from .store import SearchIndex
from .tiles import open_scene, read_tile

log = logging.getLogger(__name__)
MAX_UPLOAD_BYTES = 16 << 20
THUMB = 256


class _TooLarge(Exception):
    pass


def _bbox(text: str | None) -> list[float] | None:
    if text is None or not text.strip():
        return None
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise ValueError("bbox must be four comma-separated numbers: west,south,east,north") from None


def create_app(index: SearchIndex, encoder: Encoder | None) -> FastAPI:
    """The app serving ``index``; text and image queries need ``encoder`` (the index's own model)."""
    app = FastAPI(title="rs-clip-search", docs_url=None, redoc_url=None, openapi_url=None)
    lock = threading.Lock()  # one model, many request threads
    page = files("rs_clip_search").joinpath("static/index.html").read_text()

    def model() -> Encoder:
        if encoder is None:
            raise LookupError("this server has no model: text and image queries are off")
        return encoder

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": message}, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return error(422, f"{where}: {first.get('msg', 'invalid request')}")

    @app.exception_handler(ValueError)
    async def bad(request: Request, exc: ValueError) -> JSONResponse:
        return error(400, str(exc.reason) if isinstance(exc, FormatError) else str(exc))

    @app.exception_handler(LookupError)
    async def missing(request: Request, exc: LookupError) -> JSONResponse:
        return error(404, str(exc.args[0]) if exc.args else "not found")

    @app.exception_handler(_TooLarge)
    async def too_large(request: Request, exc: _TooLarge) -> JSONResponse:
        return error(413, f"upload over {MAX_UPLOAD_BYTES:,} bytes")

    @app.exception_handler(Exception)
    async def bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return error(500, "internal error (see the server's log)")

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return page

    @app.get("/api/info")
    def info() -> dict[str, Any]:
        m = index.manifest
        return {
            "count": len(index),
            "kind": m["kind"],
            "model": m["model"].get("label", m["model"]["fingerprint"]),
            "tile": m["tile"],
            "roots": m["roots"],
            "georeferenced": int(index.tiles["crs"].null_count < len(index)),
            "queries": encoder is not None,
        }

    @app.get("/api/search")
    def search(
        q: str = Query(..., max_length=1000),
        k: int = Query(24, ge=1, le=queries.MAX_K),
        negative: str | None = Query(None, max_length=1000),
        alpha: float = Query(queries.NEGATIVE_ALPHA, ge=0, le=2),
        folder: str | None = Query(None, max_length=4096),
        bbox: str | None = Query(None, max_length=200),
    ) -> dict[str, Any]:
        with lock:
            qv = queries.text_vector(model(), q, negative, alpha)
        return {"results": queries.search_vector(index, qv, k, folder=folder, bbox=_bbox(bbox))}

    @app.post("/api/search/image")
    async def by_image(
        request: Request,
        k: int = Query(24, ge=1, le=queries.MAX_K),
        folder: str | None = Query(None, max_length=4096),
        bbox: str | None = Query(None, max_length=200),
    ) -> dict[str, Any]:
        data = bytearray()
        async for chunk in request.stream():
            data += chunk
            if len(data) > MAX_UPLOAD_BYTES:
                raise _TooLarge()
        if not data:
            raise ValueError("empty upload: send the image's bytes as the request body")

        def embed() -> np.ndarray:
            with lock:
                return queries.image_vector(model(), bytes(data))

        qv = await run_in_threadpool(embed)  # the model runs off the event loop, as in the sync endpoints
        return {"results": queries.search_vector(index, qv, k, folder=folder, bbox=_bbox(bbox))}

    @app.get("/api/similar/{tile_id}")
    def similar(
        tile_id: int,
        k: int = Query(24, ge=1, le=queries.MAX_K),
        folder: str | None = None,
        bbox: str | None = None,
    ) -> dict[str, Any]:
        return {"results": queries.more_like(index, tile_id, k, folder=folder, bbox=_bbox(bbox))}

    @app.get("/api/tile/{tile_id:int}.png")
    def tile_png(tile_id: int, size: int = Query(THUMB, ge=16, le=1024)) -> Response:
        meta = queries.tile_info(index, tile_id)
        try:
            scene = open_scene(meta["path"])
            pixels = read_tile(scene, tuple(meta["window"]))
        except (FormatError, OSError):
            raise LookupError(f"tile {tile_id}: its source image is gone or unreadable") from None
        from PIL import Image

        img = Image.fromarray(np.ascontiguousarray(pixels))
        img.thumbnail((size, size))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        return Response(buf.getvalue(), media_type="image/png")

    @app.get("/api/tile/{tile_id:int}")
    def tile(tile_id: int) -> dict[str, Any]:
        return queries.tile_info(index, tile_id)

    return app
