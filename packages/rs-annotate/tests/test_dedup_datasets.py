"""``dedup`` over several datasets: the same decisions as a brute-force greedy walk, reading only the
hash column of every row (image ids only for rows with a twin, images only to copy the kept rows)."""

import io
import json

import numpy as np
import pytest
from PIL import Image

import rs_formats
from rs_annotate import dedup
from rs_annotate.near_duplicates import cross_matches, hamming, plan_removals
from rs_formats import DatasetWriter, open_dataset

SPLIT_PRIORITY = {"test": 0, "val": 1}


def tiny_jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(buf, "JPEG")
    return buf.getvalue()


def write(path, rows_by_split, name):
    with DatasetWriter(path, name=name, kind="captions", row_group_rows=16) as w:
        for split, rows in rows_by_split.items():
            for image_id, h, size in rows:
                w.write(
                    {
                        "image_id": image_id,
                        "source": name,
                        "image": tiny_jpeg(len(image_id)),
                        "width": 8,
                        "height": 8,
                        "captions": ["c"] * 5,
                        "phash": h,
                        "meta": json.dumps({"original_size": [size, size]}),
                    },
                    split=split,
                )
        w.add_source(name, n_images=sum(len(rows) for rows in rows_by_split.values()))
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two training datasets and a test set whose hashes share planted near and exact twins."""
    rng = np.random.default_rng(4)
    base = [int(x) for x in rng.integers(0, 2**63, 200, dtype=np.uint64)]
    h = list(base)
    for k in range(0, 60, 3):  # near (one bit) and exact twins, some across datasets
        h[k + 1] = h[k] ^ (1 << int(rng.integers(64)))
        h[k + 2] = h[k] if k % 2 else h[k] ^ (1 << int(rng.integers(64)))
    sizes = rng.integers(50, 500, len(h)).tolist()
    root = tmp_path_factory.mktemp("dedup")
    a = write(
        root / "a",
        {
            "train": [(f"a/{i:03d}", h[i], sizes[i]) for i in range(0, 200, 2)],
            "val": [(f"a/v{i:03d}", h[i], sizes[i]) for i in range(1, 80, 4)],
        },
        "a",
    )
    b = write(root / "b", {"train": [(f"b/{i:03d}", h[i], sizes[i]) for i in range(3, 200, 4)]}, "b")
    test = write(
        root / "t", {"test": [("t/0", h[30] ^ 1, 10), ("t/1", h[91], 10)], "train": [("t/2", h[10], 10)]}, "t"
    )
    return a, b, test


def brute_force(paths, against, keep, threshold=2):
    rows = []
    for d, p in enumerate(paths):
        ds = open_dataset(p)
        for split in ds.splits:
            for r in ds.read_table(split).to_pylist():
                size = json.loads(r["meta"])["original_size"]
                rows.append({**r, "d": d, "split": split, "pixels": size[0] * size[1]})
    tests = [r for p in against for s in ["test"] for r in open_dataset(p).read_table(s).to_pylist()]
    dirty = {r["image_id"] for r in rows if any(hamming(r["phash"], t["phash"]) < threshold for t in tests)}
    order = sorted(
        (r for r in rows if r["image_id"] not in dirty),
        key=lambda r: (r["d"], SPLIT_PRIORITY.get(r["split"], 2), r["image_id"]),
    )
    if keep == "largest":
        order = sorted(order, key=lambda r: -r["pixels"])
    kept = []
    for r in order:
        if not any(hamming(r["phash"], k["phash"]) < threshold for k in kept):
            kept.append(r)
    return {r["image_id"] for r in kept}, dirty


@pytest.mark.parametrize("keep", ["first", "largest"])
def test_dedup_matches_a_brute_force_greedy_walk(corpus, tmp_path, keep):
    a, b, test = corpus
    report = dedup([a, b], tmp_path / "out", against=[test], against_splits=["test"], keep=keep)
    kept_expected, dirty = brute_force([a, b], [test], keep)
    out = open_dataset(tmp_path / "out")
    kept = {r["image_id"] for s in out.splits for r in out.read_table(s).to_pylist()}
    assert kept == kept_expected
    assert {c["image_id"] for c in report["contamination"]} == dirty and dirty
    assert report["rows_out"] == len(kept) and report["removed_duplicates"] > 10
    n_in = sum(open_dataset(p).num_rows(s) for p in (a, b) for s in open_dataset(p).splits)
    assert report["rows_in"] == n_in == report["rows_out"] + report["removed_duplicates"] + len(dirty)
    sources = {s["name"]: s["n_images"] for s in out.manifest["sources"]}
    assert sources == {n: sum(i.startswith(f"{n}/") for i in kept) for n in ("a", "b")}


def test_dedup_reads_hashes_row_group_by_row_group(corpus, tmp_path, monkeypatch):
    """Every row group's hash column is read; image ids only where a row has a twin; images only to copy."""
    reads = []
    original = rs_formats.Dataset.read_row_group

    def spy(self, split, index, columns=None):
        reads.append((self.path.name, split, index, tuple(columns or ())))
        return original(self, split, index, columns)

    monkeypatch.setattr(rs_formats.Dataset, "read_row_group", spy)
    a, b, test = corpus
    dedup([a, b], tmp_path / "out", against=[test])
    assert all(cols for *_, cols in reads) and not any("image" in cols for *_, cols in reads)
    groups = {
        (p.name, s, g)
        for p in (a, b, test)
        for s in open_dataset(p).splits
        for g in range(len(open_dataset(p).row_groups(s)))
    }
    assert {r[:3] for r in reads if r[3] == ("phash", "source")} == groups
    looked_up = [r for r in reads if "image_id" in r[3]]
    assert looked_up and len(looked_up) <= 3 * len(groups)  # at most a few lookups per row group


def test_rows_without_a_hash_are_hashed_from_their_image(tmp_path):
    img = tiny_jpeg(1)
    with DatasetWriter(tmp_path / "old", name="old", kind="captions") as w:
        for i in range(3):
            w.write(
                {
                    "image_id": f"old/{i}",
                    "source": "old",
                    "image": img,
                    "width": 8,
                    "height": 8,
                    "captions": ["c"] * 5,
                    "phash": None,
                }
            )
    report = dedup([tmp_path / "old"], tmp_path / "out")
    assert report["rows_out"] == 1 and report["removed_duplicates"] == 2


def test_a_rank_function_is_asked_only_about_images_with_twins():
    rng = np.random.default_rng(2)
    h = rng.integers(0, 2**63, 5000, dtype=np.uint64)
    h[10], h[20], h[30] = h[1], h[2] ^ np.uint64(8), h[2]
    rank = rng.permutation(h.size)
    asked = []

    def ranks(images):
        asked.append(np.sort(images).tolist())
        return rank[images]

    got = plan_removals(h, ranks)
    assert got.tolist() == plan_removals(h, rank).tolist()
    assert asked == [[1, 2, 10, 20, 30]]
    # one of the exact pair (1, 10) goes; of 2 == 30 ~ 20, the best-ranked stays and the other two go
    assert len(got) == 3 and set(got[:, 0]) | set(got[:, 1]) == {1, 2, 10, 20, 30}


@pytest.mark.parametrize("threshold", [1, 2, 3, 4])
def test_cross_matches_equal_brute_force(threshold):
    rng = np.random.default_rng(threshold)
    train = rng.integers(0, 2**63, 300, dtype=np.uint64)
    test = rng.integers(0, 2**63, 80, dtype=np.uint64)
    for k in range(40):  # near and exact copies of test hashes in train, with repeats on both sides
        bits = rng.choice(64, int(rng.integers(0, threshold + 1)), replace=False)
        train[k] = test[k % 20] ^ np.uint64(sum(1 << int(b) for b in bits))
    test[70:75] = test[0]
    expected = [
        [i, j, hamming(a, b)]
        for i, a in enumerate(train)
        for j, b in enumerate(test)
        if hamming(a, b) < threshold
    ]
    assert cross_matches(train, test, threshold).tolist() == expected
