"""Near-duplicate detection on 64-bit perceptual hashes, sub-quadratic (multi-index hashing).

Rules (README "De-duplication"):

* The hash is imagehash's 64-bit pHash of the image as stored (:func:`phash`), kept in the dataset's
  ``phash`` column (uint64).
* Two images are duplicates when their hashes differ in fewer than ``threshold`` bits (default 2: at
  most one bit differs). ``threshold=1`` finds exact hash matches only.
* Search: the distinct hashes are split into ``threshold`` bit blocks. Two hashes within
  ``threshold - 1`` bits agree exactly on at least one block (pigeonhole). Per block, the hashes are
  rotated so that the block is their top bits and sorted (the top block needs no sort: sorted hashes
  are sorted by it), so every hash sharing the block with another sits in one contiguous run;
  neighbours inside runs are compared by a popcount of the XOR. Rotation keeps Hamming distances, so
  no index array is carried through the sorts. Work is one sort per block plus the candidates.
* Scale: only images with a near or exact twin ever get past the search (a few percent of a real
  corpus), so ranking, the keep decisions and the expansion to image indices touch only them. Peak
  memory is about 50 bytes per hash (the input's 8 included: one sorted copy, one rotated copy and a few
  masks); the time to plan ten million hashes is ``bench/bench_scale.py``'s (bench/RESULTS.md).
  ``np.unique`` and ``np.searchsorted`` with unsorted queries are avoided on purpose: with numpy 2.4 they
  are an order of magnitude slower than a sort at this size.
* Which copy survives (:func:`plan_removals`) is decided greedily in a *keep order* (a rank per image,
  lower is better): an image is removed when it is a near duplicate of an image that is kept and ranked
  before it. Unlike clustering, a chain A~B~C where A and C differ by more than the threshold keeps A
  and C. The rank comes from the policy (:func:`keep_rank`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

#: A rank per image (lower is kept first), or a function giving the ranks of the images it is asked about.
Rank = np.ndarray | Sequence[int] | Callable[[np.ndarray], np.ndarray]

# -- hashing ----------------------------------------------------------------------------------------


def phash(image) -> int:
    """imagehash's 64-bit pHash of a PIL image, as an unsigned int (bit order of its hex string)."""
    import imagehash  # imports scipy: only pay for it where hashes are computed

    return int(str(imagehash.phash(image, hash_size=8)), 16)


def popcount(x: np.ndarray) -> np.ndarray:
    """Set bits per element of a uint64 array."""
    x = np.ascontiguousarray(x, dtype=np.uint64)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int64)
    table = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)  # numpy < 2.0
    return table[x.view(np.uint8).reshape(-1, 8)].sum(axis=1)


def hamming(a: int, b: int) -> int:
    return (int(a) ^ int(b)).bit_count()


# -- search -----------------------------------------------------------------------------------------


def _blocks(threshold: int) -> list[tuple[int, int]]:
    """``threshold`` (shift, width) bit blocks covering all 64 bits, as even as possible."""
    n = threshold
    widths = [64 // n + (1 if i < 64 % n else 0) for i in range(n)]
    shifts = np.cumsum([0] + widths[:-1]).tolist()
    return list(zip(shifts, widths))


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    r %= 64
    return x.copy() if r == 0 else (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _check(threshold: int) -> int:
    if threshold < 1:
        raise ValueError(
            f"threshold must be >= 1 (hashes differ in fewer than threshold bits), got {threshold}"
        )
    if threshold > 32:
        raise ValueError(f"threshold {threshold} is meaningless for 64-bit hashes (use <= 32)")
    return threshold - 1


def _locate(sorted_values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Positions of ``queries`` in ``sorted_values``; the queries are sorted first, which makes numpy's
    binary search cache-friendly (unsorted queries are 10-30x slower)."""
    order = np.argsort(queries)
    pos = np.empty(queries.size, dtype=np.int64)
    pos[order] = np.searchsorted(sorted_values, queries[order])
    return pos


def _runs_pairs(rot: np.ndarray, width: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
    """Value pairs (a, b) of sorted ``rot`` with equal top ``width`` bits and distance <= radius."""
    key = rot >> np.uint64(64 - width)
    same = key[1:] == key[:-1]
    cand = np.flatnonzero(same)
    out_a, out_b = [np.empty(0, np.uint64)], [np.empty(0, np.uint64)]
    d = 1
    while cand.size:  # pairs d apart inside a run, for d = 1, 2, ... while runs are that long
        a, b = rot[cand], rot[cand + d]
        ok = popcount(a ^ b) <= radius
        out_a.append(a[ok])
        out_b.append(b[ok])
        cand = cand[cand + d < same.size]
        cand = cand[same[cand + d]]
        d += 1
    return np.concatenate(out_a), np.concatenate(out_b)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions ``starts[k] .. starts[k] + counts[k] - 1`` of every k, concatenated."""
    return np.repeat(starts - np.r_[0, np.cumsum(counts)[:-1]], counts) + np.arange(counts.sum())


def _unique_codes(codes: np.ndarray) -> np.ndarray:
    s = np.sort(codes)
    return s[np.r_[True, s[1:] != s[:-1]]] if s.size else s


def _distinct_near_pairs(uniq: np.ndarray, threshold: int) -> np.ndarray:
    """Near pairs (i, j), i < j, among sorted *distinct* hashes (so distance >= 1), sorted."""
    radius = _check(threshold)
    if radius == 0 or uniq.size < 2:
        return np.empty((0, 2), np.int64)
    found_a, found_b = [], []
    for shift, width in _blocks(threshold):
        r = 64 - shift - width  # rotating left by r puts the block in the top bits
        rot = uniq if r == 0 else np.sort(_rotl(uniq, r))
        a, b = _runs_pairs(rot, width, radius)
        found_a.append(_rotl(a, -r))
        found_b.append(_rotl(b, -r))
    a = _locate(uniq, np.concatenate(found_a))
    b = _locate(uniq, np.concatenate(found_b))
    # A pair agreeing on several blocks is found several times.
    code = _unique_codes(np.minimum(a, b) * np.int64(uniq.size) + np.maximum(a, b))
    return np.stack([code // uniq.size, code % uniq.size], axis=1)


class _Distinct:
    """The distinct hashes of an array (sorted, with their counts), and which images have given ones."""

    def __init__(self, h: np.ndarray):
        self.h = h
        s = np.sort(h)
        first = np.r_[True, s[1:] != s[:-1]] if s.size else np.empty(0, bool)
        self.uniq = s[first]
        self.counts = np.diff(np.r_[np.flatnonzero(first), s.size])

    def members(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Images having any of the distinct hashes ``ids`` (sorted positions in ``uniq``):
        (image, position in ids), grouped by position, images ascending inside a group."""
        values = self.uniq[ids]
        maybe = _maybe_in(values, self.h)
        pos = np.minimum(_locate(values, self.h[maybe]), max(values.size - 1, 0))
        hit = values[pos] == self.h[maybe] if values.size else np.zeros(maybe.size, bool)
        images, group = maybe[hit], pos[hit]
        by = np.argsort(group, kind="stable")  # images stay ascending inside a group
        return images[by], group[by]


def _bucket(x: np.ndarray, bits: int) -> np.ndarray:
    """Multiplicative hashing to ``bits`` bits: pHash bits are far from uniform (the top one is nearly
    always set), so the table below cannot index by the hash's own top bits."""
    return (x * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - bits)


def _maybe_in(values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """Positions of the queries that may equal one of ``values``: a bit table with 16x more buckets than
    values (at most 2^26) lets through about one query in 16 that is not there, so the exact lookup
    (a sort) only sees a small fraction of a large array."""
    bits = int(min(26, max(8, np.ceil(np.log2(max(values.size, 1))) + 4)))
    table = np.zeros(1 << bits, dtype=bool)
    table[_bucket(values, bits)] = True
    return np.flatnonzero(table[_bucket(queries, bits)])


def _involved(d: _Distinct, upairs: np.ndarray) -> np.ndarray:
    """Distinct ids that have an exact copy or a near twin (sorted)."""
    return _unique_codes(np.concatenate([np.flatnonzero(d.counts > 1), upairs.ravel()]))


def near_pairs(hashes: Sequence[int] | np.ndarray, threshold: int = 2) -> np.ndarray:
    """All index pairs (i, j), i < j, whose hashes differ in fewer than ``threshold`` bits.

    Returns an int64 array of shape (k, 2), sorted by (i, j). Exact-match groups are expanded into
    all their pairs, so feed it data where huge identical groups are not expected, or use
    :func:`plan_removals`, which never expands them.
    """
    h = np.asarray(hashes, dtype=np.uint64)
    _check(threshold)
    d = _Distinct(h)
    upairs = _distinct_near_pairs(d.uniq, threshold)
    ids = _involved(d, upairs)
    images, group = d.members(ids)
    starts = np.searchsorted(group, np.arange(ids.size))
    counts = np.diff(np.r_[starts, images.size])
    copies = counts > 1  # exact copies: every pair inside each group
    ea, eb = _every_pair(starts[copies], counts[copies], starts[copies], counts[copies])
    ga, gb = np.searchsorted(ids, upairs[:, 0]), np.searchsorted(ids, upairs[:, 1])
    na, nb = _every_pair(starts[ga], counts[ga], starts[gb], counts[gb])  # near: every image of a with b's
    a = images[np.r_[ea[ea < eb], na]]
    b = images[np.r_[eb[ea < eb], nb]]
    pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1).astype(np.int64)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _every_pair(
    start_a: np.ndarray, count_a: np.ndarray, start_b: np.ndarray, count_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each k, every (i, j) with i in ``start_a[k] + range(count_a[k])`` and j likewise in b's range."""
    n = count_a * count_b
    k = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    per_b = np.repeat(count_b, n)
    return np.repeat(start_a, n) + k // per_b, np.repeat(start_b, n) + k % per_b


# -- keep policy ------------------------------------------------------------------------------------

KEEP_POLICIES = ("first", "largest")


def keep_rank(
    order_keys: Sequence[tuple], sizes: Sequence[int] | None = None, policy: str = "first"
) -> np.ndarray:
    """Rank (0 = kept first) of each image under a keep policy.

    * ``first``: by ``order_keys`` (the pipeline uses (dataset position on the command line, split
      priority, image_id), i.e. earlier sources win).
    * ``largest``: the largest original image (pixels) wins, ties broken as in ``first``: the
      best-resolution copy is the most useful one to train on.
    """
    if policy not in KEEP_POLICIES:
        raise ValueError(f"unknown keep policy {policy!r}; choose one of {KEEP_POLICIES}")
    n = len(order_keys)
    base = sorted(range(n), key=order_keys.__getitem__)
    if policy == "largest":
        if sizes is None:
            raise ValueError("the 'largest' policy needs image sizes")
        base = sorted(base, key=lambda i: -int(sizes[i]))  # stable: ties keep the 'first' order
    rank = np.empty(n, dtype=np.int64)
    rank[np.asarray(base, dtype=np.int64)] = np.arange(n)
    return rank


def plan_removals(
    hashes: Sequence[int] | np.ndarray, rank: Rank, threshold: int = 2, candidates: np.ndarray | None = None
) -> np.ndarray:
    """Which images to remove so that no two kept images are near duplicates (greedy in rank order).

    ``rank`` is a rank per image, or a function from an array of image indices to their ranks (a total
    order among them); the function is asked only about images with a near or exact twin, since ranking
    every image (by image_id, say) is the expensive part at scale. ``candidates`` (bool per image,
    default all) restricts which images may be removed *and* which may cause a removal; the others are
    ignored entirely. Returns an int64 array of rows (removed index, kept index it duplicates, Hamming
    distance), sorted by removed index.
    """
    h = np.asarray(hashes, dtype=np.uint64)
    idx = np.arange(h.size) if candidates is None else np.flatnonzero(candidates)
    d = _Distinct(h if candidates is None else h[idx])
    upairs = _distinct_near_pairs(d.uniq, threshold)
    ids = _involved(d, upairs)
    if ids.size == 0:
        return np.empty((0, 3), np.int64)
    images, group = d.members(ids)  # local indices (into idx)
    ranks = np.asarray(rank(idx[images]) if callable(rank) else np.asarray(rank)[idx[images]], dtype=np.int64)
    # Each involved hash is represented by its best-ranked image; its other images are exact copies.
    rep, rep_rank = np.empty(ids.size, np.int64), np.empty(ids.size, np.int64)  # per position in ids
    alone = d.counts[ids][group] == 1  # most hashes: their one image; the others sorted by rank
    rep[group[alone]], rep_rank[group[alone]] = images[alone], ranks[alone]
    by = np.flatnonzero(~alone)[np.lexsort((images[~alone], ranks[~alone], group[~alone]))]
    first = by[np.r_[True, group[by][1:] != group[by][:-1]]] if by.size else by
    rep[group[first]], rep_rank[group[first]] = images[first], ranks[first]
    removed_by = _greedy(np.searchsorted(ids, upairs[:, 0]), np.searchsorted(ids, upairs[:, 1]), rep_rank)
    near = removed_by[group] >= 0  # the whole hash is near a kept one, its representative included
    copy = ~near & (rep[group] != images)
    gone = near | copy
    kept = np.where(near, rep[np.maximum(removed_by[group], 0)], rep[group])
    dist = np.where(near, popcount(d.uniq[ids[group]] ^ d.uniq[ids[np.maximum(removed_by[group], 0)]]), 0)
    rows = np.stack([idx[images[gone]], idx[kept[gone]], dist[gone]], axis=1).astype(np.int64)
    return rows[np.argsort(rows[:, 0], kind="stable")]


def _greedy(a: np.ndarray, b: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Per node, the node that removes it (or -1): pairs processed by the worse side's rank, so that the
    better side's fate is final whenever it is consulted. A pair whose two nodes are in no other pair
    is decided without the loop (most pairs, in real and planted data)."""
    removed_by = np.full(rank.size, -1, dtype=np.int64)
    better = np.where(rank[a] < rank[b], a, b)
    worse = np.where(rank[a] < rank[b], b, a)
    degree = np.bincount(np.r_[a, b], minlength=rank.size)
    alone = (degree[a] == 1) & (degree[b] == 1)
    removed_by[worse[alone]] = better[alone]
    better, worse = better[~alone], worse[~alone]
    order = np.lexsort((rank[better], rank[worse]))
    for bi, wi in zip(better[order].tolist(), worse[order].tolist()):
        if removed_by[bi] < 0 and removed_by[wi] < 0:
            removed_by[wi] = bi
    return removed_by


def cross_matches(
    train: Sequence[int] | np.ndarray, test: Sequence[int] | np.ndarray, threshold: int = 2
) -> np.ndarray:
    """(train index, test index, distance) rows for every train image near any test image, sorted.

    Only train-test pairs are searched: per block, the test hashes (distinct, rotated, sorted) are the
    index and the train hashes are looked up in it (sorted queries, see :func:`_locate`).
    """
    radius = _check(threshold)
    tr = np.asarray(train, dtype=np.uint64)
    te = np.asarray(test, dtype=np.uint64)
    if tr.size == 0 or te.size == 0:
        return np.empty((0, 3), np.int64)
    d = _Distinct(te)
    found_i, found_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for shift, width in _blocks(radius + 1):
        r, low = 64 - shift - width, np.uint64(64 - width)  # the block as the top bits, shifted down
        keys = _rotl(d.uniq, r) >> low
        index_order = np.argsort(keys)
        index_keys = keys[index_order]
        maybe = _maybe_in(index_keys, _rotl(tr, r) >> low)
        queries = _rotl(tr[maybe], r) >> low
        q_order = np.argsort(queries)
        lo = np.empty(maybe.size, np.int64)
        hi = np.empty(maybe.size, np.int64)
        lo[q_order] = np.searchsorted(index_keys, queries[q_order], "left")
        hi[q_order] = np.searchsorted(index_keys, queries[q_order], "right")
        live = np.flatnonzero(hi > lo)
        i = np.repeat(maybe[live], hi[live] - lo[live])
        j = index_order[_ranges(lo[live], hi[live] - lo[live])]
        ok = popcount(tr[i] ^ d.uniq[j]) <= radius
        found_i.append(i[ok])
        found_j.append(j[ok])
    code = _unique_codes(np.concatenate(found_i) * np.int64(d.uniq.size) + np.concatenate(found_j))
    i, j = code // d.uniq.size, code % d.uniq.size
    # Every test image with a matched hash.
    matched = _unique_codes(j)
    images, group = d.members(matched)
    starts = np.searchsorted(group, np.arange(matched.size))
    n = d.counts[j]
    at = _ranges(starts[np.searchsorted(matched, j)], n)
    rows = np.stack([np.repeat(i, n), images[at], np.repeat(popcount(tr[i] ^ d.uniq[j]), n)], axis=1)
    return rows[np.lexsort((rows[:, 1], rows[:, 0]))]
