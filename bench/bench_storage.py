"""Reading an rs-dataset from an S3 server vs from disk, in the same run.

One dataset of JPEG rows (as the converter stores them) is written to disk and uploaded to a local S3
server (moto's, in its own process, so that it does not share this process's interpreter); then, in
interleaved rounds, every row group of the split is read through ``rs_formats.Dataset`` (the reader every
consumer uses: row groups fetched by byte range, each checked against the manifest's checksum):

* ``disk``: the dataset's directory;
* ``s3``: its ``s3://`` URI;
* ``s3_worker``: one of four workers' share of the URI (``shard_index=0, num_shards=4``): it fetches the
  manifest, every footer and only its own row groups, so beyond opening it takes a quarter of ``s3``'s time.

Reported: rows/s and MB/s of each, best of the rounds, and the ratio ``s3 / disk`` (a local S3 server
measures the S3 path's own cost: HTTP, request signing, the server; a remote store adds its network).
Figures go to bench/results/storage.json (or --out).

    python bench/bench_storage.py                       # 2,048 rows of about 24 KB
    python bench/bench_storage.py --rows 256 --rounds 1 # a smoke run
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.fs
from PIL import Image

from rs_formats import DatasetWriter, open_dataset

BUCKET = "rs-clip-bench"
AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def jpeg(rng: np.random.Generator, size: int) -> bytes:
    """A JPEG of smooth noise (compresses about as aerial scenes do)."""
    small = rng.integers(0, 255, (size // 8, size // 8, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(small).resize((size, size), Image.BILINEAR).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def write(path: Path, rows: int, size: int) -> int:
    rng = np.random.default_rng(0)
    pool = [jpeg(rng, size) for _ in range(64)]
    with DatasetWriter(path, name="bench", row_group_rows=64, max_shard_bytes=16 << 20) as w:
        for i in range(rows):
            image = pool[i % len(pool)]
            w.write(
                {
                    "image_id": f"bench/{i:07d}",
                    "source": "bench",
                    "image": image,
                    "width": size,
                    "height": size,
                    "captions": [f"an aerial image number {i}"],
                }
            )
    return sum(f.stat().st_size for f in (path / "data").iterdir())


def s3_server() -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("moto's server did not start")


def read(where: str, shard_index: int = 0, num_shards: int = 1) -> tuple[float, int]:
    """Seconds to open the dataset and read its rows (this reader's share), and the rows read."""
    t0 = time.perf_counter()
    ds = open_dataset(where)
    rows = sum(b.num_rows for b in ds.iter_batches("train", shard_index=shard_index, num_shards=num_shards))
    return time.perf_counter() - t0, rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2048)
    ap.add_argument("--size", type=int, default=256, help="image side in pixels")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "storage.json")
    args = ap.parse_args()

    os.environ.update(AWS)
    server, url = s3_server()
    os.environ["AWS_ENDPOINT_URL"] = url
    try:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / "ds"
            nbytes = write(local, args.rows, args.size)
            fs = pyarrow.fs.S3FileSystem(endpoint_override=url, scheme="http", allow_bucket_creation=True)
            fs.create_dir(BUCKET)
            uri = f"s3://{BUCKET}/ds"
            pyarrow.fs.copy_files(str(local), uri)
            paths = {"disk": (str(local), 0, 1), "s3": (uri, 0, 1), "s3_worker": (uri, 0, 4)}
            best: dict[str, float] = {}
            rows: dict[str, int] = {}
            for _ in range(args.rounds):  # interleaved, so that a change in load hits every path alike
                for name, (where, index, count) in paths.items():
                    seconds, rows[name] = read(where, index, count)
                    best[name] = min(best.get(name, seconds), seconds)
    finally:
        server.kill()
        server.wait()

    result = {
        "rows": args.rows,
        "image_side": args.size,
        "shard_bytes": nbytes,
        "rounds": args.rounds,
        "paths": {
            name: {
                "rows": rows[name],
                "seconds": round(best[name], 4),
                "rows_per_s": round(rows[name] / best[name], 1),
                "mb_per_s": round(nbytes * rows[name] / args.rows / best[name] / 1e6, 1),
            }
            for name in paths
        },
        "ratio_s3_vs_disk": round(best["disk"] / best["s3"], 3),
        "ratio_worker_share_vs_whole": round(best["s3_worker"] / best["s3"], 3),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
