"""Archive search at scale: rs-clip-search's HNSW graph against exact search, on the same vectors.

N random-but-clustered 512-d unit vectors stand in for tile embeddings: 1,000 cluster centres, each cluster
spread along 16 directions of its own plus a little isotropic noise (CLIP embeddings of similar scenes lie
near low-dimensional patches, not uniformly on the sphere). Queries are fresh draws from the same clusters,
not vectors of the index. Both sides use what rs-clip-search ships (``rs_clip_search.store``): exact search
is usearch's brute-force scan of the float32 vectors, the approximate side the graph that ``index`` builds
at or above ``exact_below`` tiles, with the same parameters (:class:`~rs_clip_search.store.GraphParams`).

Reported, approximate against exact in the same run: p50 (and p90) latency of one query at a time (one
thread; the server answers one query per request), recall@10 (the share of the exact top 10 the graph
returns), build time (also in exact queries' worth), and memory per vector (the graph's own accounting
against the float32 vectors exact search scans). Targets: p50 < 20 ms with recall@10 >= 0.95 at N = 1M on
2 cores. Figures go to bench/results/search.json (or --out).

    python bench/bench_search.py                 # N = 1,000,000 (minutes: the build is most of it)
    python bench/bench_search.py --n 20000       # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from rs_clip_search.store import GraphParams, build_graph, exact_search

DIM, CLUSTERS, SPREAD = 512, 1000, 16


def clustered(n: int, rng: np.random.Generator, centres: np.ndarray, bases: np.ndarray) -> np.ndarray:
    """``n`` unit vectors near random clusters' low-dimensional patches (built in chunks: 1M x 512 floats)."""
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, 50_000):
        m = min(50_000, n - start)
        c = rng.integers(0, len(centres), m)
        z = rng.normal(size=(m, SPREAD)).astype(np.float32) * 0.35
        v = centres[c] + rng.normal(size=(m, DIM)).astype(np.float32) * 0.02
        for s in range(SPREAD):
            v += z[:, s : s + 1] * bases[c, s]
        out[start : start + m] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="vectors in the index (default 1,000,000)")
    ap.add_argument("--queries", type=int, default=200, help="queries timed (default 200)")
    ap.add_argument("--threads", type=int, default=2, help="threads building the graph (default 2)")
    ap.add_argument("--expansion-search", type=int, default=GraphParams.expansion_search)
    ap.add_argument(
        "--sweep",
        default="64,128,256,512",
        help="expansion_search values also measured on the same graph (recall against latency)",
    )
    ap.add_argument("--dtype", default=GraphParams.dtype, help="the graph's vector type: f32, f16, i8")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "search.json"))
    args = ap.parse_args()
    params = replace(GraphParams(), expansion_search=args.expansion_search, dtype=args.dtype)

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(CLUSTERS, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    bases = rng.normal(size=(CLUSTERS, SPREAD, DIM)).astype(np.float32) / np.sqrt(DIM)
    t0 = time.perf_counter()
    vectors = clustered(args.n, rng, centres, bases)
    queries = clustered(args.queries, rng, centres, bases)
    print(f"{args.n:,} vectors of {DIM} dimensions drawn in {time.perf_counter() - t0:.1f} s", flush=True)

    exact_ms, truth = [], []
    for q in queries:
        t = time.perf_counter()
        truth.append([i for i, _ in exact_search(vectors, q, 10)])
        exact_ms.append((time.perf_counter() - t) * 1000)
    print(f"exact: p50 {p(exact_ms, 50):.1f} ms", flush=True)

    t = time.perf_counter()
    graph = build_graph(vectors, params, threads=args.threads)
    build_s = time.perf_counter() - t
    print(f"graph built in {build_s:.1f} s", flush=True)

    def measure(expansion: int) -> tuple[list[float], list[float]]:
        graph.expansion_search = expansion
        ms, hits = [], []
        for q, want in zip(queries, truth):
            t = time.perf_counter()
            m = graph.search(q, 10, threads=1)
            ms.append((time.perf_counter() - t) * 1000)
            hits.append(len(set(m.keys.tolist()) & set(want)) / 10)
        return ms, hits

    sweep = {}
    for expansion in sorted({int(e) for e in args.sweep.split(",") if e} - {params.expansion_search}):
        ms, hits = measure(expansion)
        sweep[expansion] = {"p50_ms": p(ms, 50), "recall_at_10": float(np.mean(hits))}
        print(
            f"expansion_search {expansion}: p50 {p(ms, 50):.2f} ms, recall@10 {np.mean(hits):.3f}", flush=True
        )
    approx_ms, recall = measure(params.expansion_search)

    exact_bytes = vectors.nbytes / args.n
    graph_bytes = graph.memory_usage / args.n
    result = {
        "n": args.n,
        "dim": DIM,
        "queries": args.queries,
        "graph": asdict(params),
        "exact": {"p50_ms": p(exact_ms, 50), "p90_ms": p(exact_ms, 90), "bytes_per_vector": exact_bytes},
        "approximate": {
            "p50_ms": p(approx_ms, 50),
            "p90_ms": p(approx_ms, 90),
            "recall_at_10": float(np.mean(recall)),
            "build_s": build_s,
            "bytes_per_vector": graph_bytes,
        },
        "expansion_search_sweep": sweep,
        "ratios": {
            "p50_latency": p(approx_ms, 50) / p(exact_ms, 50),
            "memory_per_vector": graph_bytes / exact_bytes,
            "build_in_exact_queries": build_s * 1000 / p(exact_ms, 50),
        },
        # the targets are for N = 1,000,000; a smaller run says whether it would meet them at its own N
        "meets_targets": bool(p(approx_ms, 50) < 20 and np.mean(recall) >= 0.95),
        "targets_for_n": 1_000_000,
        "machine": {
            "cpus": os.cpu_count(),
            "threads": args.threads,
            "python": platform.python_version(),
            "load_average_after": os.getloadavg()[0],
        },
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["approximate"] | result["ratios"], indent=2))


if __name__ == "__main__":
    main()
