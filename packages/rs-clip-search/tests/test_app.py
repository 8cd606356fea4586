from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from rs_clip_search import SearchIndex, build_index
from rs_clip_search.app import MAX_UPLOAD_BYTES, create_app


@pytest.fixture
def client(tmp_path, archive, encoder):
    build_index(archive, encoder, tmp_path / "idx", tile=64)
    app = create_app(SearchIndex(tmp_path / "idx"), encoder)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _png_header(width, height):
    """A 1x1 PNG whose header is rewritten to declare width x height (a decompression bomb when large)."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, format="PNG")
    data = buf.getvalue()
    chunk = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return data[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + data[12 + 4 + 13 + 4 :]


def test_page_and_info(client):
    r = client.get("/")
    assert r.status_code == 200 and '<svg id="map"' in r.text
    assert "http" not in r.text.replace("http://www.w3.org/2000/svg", "")  # nothing loaded from elsewhere
    info = client.get("/api/info").json()
    assert info["count"] == 36 and info["kind"] == "flat" and info["georeferenced"] == 0


def test_search_similar_and_tiles(client, archive):
    r = client.get("/api/search", params={"q": "desert", "k": 3})
    hits = r.json()["results"]
    assert r.status_code == 200 and [Path(h["path"]).name for h in hits] == ["desert.jpg"] * 3
    r = client.get(
        "/api/search", params={"q": "desert", "negative": "water", "folder": str(archive / "inland")}
    )
    assert {Path(h["path"]).name for h in r.json()["results"]} == {"forest.png"}
    sim = client.get(f"/api/similar/{hits[0]['id']}", params={"k": 4}).json()["results"]
    assert len(sim) == 4 and hits[0]["id"] not in [h["id"] for h in sim]
    meta = client.get(f"/api/tile/{hits[0]['id']}").json()
    assert meta["window"] == hits[0]["window"] and meta["path"] == hits[0]["path"]
    png = client.get(f"/api/tile/{hits[0]['id']}.png")
    assert png.headers["content-type"] == "image/png"
    img = Image.open(io.BytesIO(png.content))
    x, y, w, h = meta["window"]
    expected = Image.open(meta["path"]).convert("RGB").crop((x, y, x + w, y + h))
    assert img.size == (64, 64) and list(img.getdata()) == list(expected.getdata())
    data = (archive / "inland" / "forest.png").read_bytes()
    r = client.post("/api/search/image", params={"k": 2}, content=data)
    assert [Path(h["path"]).name for h in r.json()["results"]] == ["forest.png"] * 2


@pytest.mark.parametrize(
    "url,status,message",
    [
        ("/api/search?k=5", 422, "q: Field required"),
        ("/api/search?q=water&k=0", 422, "k:"),
        ("/api/search?q=water&k=abc", 422, "k:"),
        ("/api/search?q=water&bbox=1,2,3", 400, "four finite numbers"),
        ("/api/search?q=water&bbox=a,b,c,d", 400, "comma-separated"),
        ("/api/search?q=water&negative=water&alpha=1", 400, "no direction"),
        ("/api/search?q=%20", 400, "empty query"),
        ("/api/tile/9999", 404, "no tile 9999"),
        ("/api/tile/-1", 404, "Not Found"),
        ("/api/tile/..%2F..%2Fetc%2Fpasswd", 404, "Not Found"),
        ("/api/tile/0.png?size=5000", 422, "size:"),
        ("/api/similar/abc", 422, "tile_id:"),
        ("/api/similar/36", 404, "no tile 36"),
    ],
)
def test_malformed_requests_are_4xx_json(client, url, status, message):
    r = client.get(url)
    assert r.status_code == status
    body = r.json()
    assert message in (body.get("error") or body.get("detail")), body
    assert "Traceback" not in r.text


def test_uploads_are_bounded(client):
    r = client.post("/api/search/image", content=b"\0" * (MAX_UPLOAD_BYTES + 1))
    assert r.status_code == 413 and "upload over" in r.json()["error"]
    r = client.post("/api/search/image", content=_png_header(20000, 20000))
    assert r.status_code == 400 and "over the limit" in r.json()["error"]
    r = client.post("/api/search/image", content=b"plain text")
    assert r.status_code == 400 and "cannot decode" in r.json()["error"]
    assert client.post("/api/search/image").status_code == 400


def test_a_bug_is_a_500_without_traceback(tmp_path, archive, encoder):
    build_index(archive, encoder, tmp_path / "idx", tile=64)

    class Broken:
        fingerprint = encoder.fingerprint

        def texts(self, texts):
            raise RuntimeError("secret internals")

    with TestClient(create_app(SearchIndex(tmp_path / "idx"), Broken()), raise_server_exceptions=False) as c:
        r = c.get("/api/search", params={"q": "water"})
    assert r.status_code == 500 and "secret" not in r.text and r.json()["error"].startswith("internal error")


def test_a_moved_source_is_404(client, archive):
    (archive / "coast" / "water.png").unlink()
    hits = client.get("/api/search", params={"q": "water", "k": 1}).json()["results"]
    r = client.get(f"/api/tile/{hits[0]['id']}.png")
    assert r.status_code == 404 and "gone or unreadable" in r.json()["error"]
