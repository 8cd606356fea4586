"""Near-duplicate detection on 64-bit perceptual hashes, sub-quadratic (multi-index hashing).

Rules (README "De-duplication"):

* The hash is imagehash's 64-bit pHash of the image as stored (:func:`phash`), kept in the dataset's
  ``phash`` column (uint64).
* Two images are duplicates when their hashes differ in fewer than ``threshold`` bits (default 2: at
  most one bit differs). ``threshold=1`` finds exact hash matches only.
* Search (:func:`near_pairs`): exact hash matches are collapsed first; the remaining distinct hashes
  are split into ``threshold`` bit blocks. Two hashes within ``threshold - 1`` bits agree exactly on at
  least one block (pigeonhole), so sorting by each block and pairing hashes inside equal-block runs finds
  every candidate; a popcount of the XOR verifies them. Work is about ``n log n`` per block plus the
  number of candidates; no per-pair Python.
* Which copy survives (:func:`plan_removals`) is decided greedily in a *keep order* (a rank per image,
  lower is better): an image is removed when it is a near duplicate of an image that is kept and ranked
  before it. Unlike clustering, a chain A~B~C where A and C differ by more than the threshold keeps A
  and C. The rank comes from the policy (:func:`keep_rank`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

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


def _pairs_in_runs(keys: np.ndarray, hashes: np.ndarray, radius: int) -> np.ndarray:
    """(i, j) pairs, i < j, of hashes with equal ``keys`` and Hamming distance <= radius."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    n = sk.size
    if n < 2:
        return np.empty((0, 2), np.int64)
    starts = np.flatnonzero(np.r_[True, sk[1:] != sk[:-1]])
    sizes = np.diff(np.r_[starts, n])
    multi = sizes > 1
    if not multi.any():
        return np.empty((0, 2), np.int64)
    # Only positions inside runs of length > 1 can pair up.
    run_of = np.repeat(np.arange(starts.size), sizes)
    pos_in_run = np.arange(n) - starts[run_of]
    size_at = sizes[run_of]
    cand = np.flatnonzero(multi[run_of])
    out = []
    d = 1
    while cand.size:
        cand = cand[pos_in_run[cand] + d < size_at[cand]]
        if not cand.size:
            break
        a, b = order[cand], order[cand + d]
        ok = popcount(hashes[a] ^ hashes[b]) <= radius
        if ok.any():
            out.append(np.stack([np.minimum(a[ok], b[ok]), np.maximum(a[ok], b[ok])], axis=1))
        d += 1
    return np.concatenate(out) if out else np.empty((0, 2), np.int64)


def near_pairs(hashes: Sequence[int] | np.ndarray, threshold: int = 2) -> np.ndarray:
    """All index pairs (i, j), i < j, whose hashes differ in fewer than ``threshold`` bits.

    Returns an int64 array of shape (k, 2), sorted by (i, j). Exact-match groups are expanded into
    all their pairs, so feed it data where huge identical groups are not expected, or use
    :func:`plan_removals`, which never expands them.
    """
    h = np.asarray(hashes, dtype=np.uint64)
    uniq, inverse = np.unique(h, return_inverse=True)
    upairs = _distinct_near_pairs(uniq, threshold)
    # Expand distinct-hash pairs and exact groups back to original indices.
    order = np.argsort(inverse, kind="stable")
    counts = np.bincount(inverse, minlength=uniq.size)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    out = [np.empty((0, 2), np.int64)]
    # The common cases in bulk: pairs of two single images, and exact pairs.
    single = (counts[upairs[:, 0]] == 1) & (counts[upairs[:, 1]] == 1)
    out.append(np.stack([order[starts[upairs[single, 0]]], order[starts[upairs[single, 1]]]], axis=1))
    twins = np.flatnonzero(counts == 2)
    out.append(np.stack([order[starts[twins]], order[starts[twins] + 1]], axis=1))

    def members(u: int) -> np.ndarray:
        return order[starts[u]:starts[u] + counts[u]]

    for u in np.flatnonzero(counts > 2):
        m = members(u)
        i, j = np.triu_indices(m.size, 1)
        out.append(np.stack([m[i], m[j]], axis=1))
    for a, b in upairs[~single]:
        out.append(np.stack(np.meshgrid(members(a), members(b), indexing="ij"), axis=-1).reshape(-1, 2))
    pairs = np.sort(np.concatenate(out).astype(np.int64), axis=1)
    return pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))]


def _distinct_near_pairs(uniq: np.ndarray, threshold: int) -> np.ndarray:
    """Near pairs among *distinct* hashes (so distance >= 1), via multi-index hashing."""
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1 (hashes differ in fewer than threshold bits), got {threshold}")
    radius = threshold - 1
    if radius == 0 or uniq.size < 2:
        return np.empty((0, 2), np.int64)
    if threshold > 32:
        raise ValueError(f"threshold {threshold} is meaningless for 64-bit hashes (use <= 32)")
    found = []
    for shift, width in _blocks(threshold):
        mask = np.uint64((1 << width) - 1)
        keys = (uniq >> np.uint64(shift)) & mask
        found.append(_pairs_in_runs(keys, uniq, radius))
    pairs = np.concatenate(found)
    if pairs.size == 0:
        return pairs
    # A pair agreeing on several blocks is found several times.
    code = np.unique(pairs[:, 0] * np.int64(uniq.size) + pairs[:, 1])
    return np.stack([code // uniq.size, code % uniq.size], axis=1)


# -- keep policy ------------------------------------------------------------------------------------

KEEP_POLICIES = ("first", "largest")


def keep_rank(order_keys: Sequence[tuple], sizes: Sequence[int] | None = None, policy: str = "first") -> np.ndarray:
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
    hashes: Sequence[int] | np.ndarray,
    rank: np.ndarray,
    threshold: int = 2,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """Which images to remove so that no two kept images are near duplicates (greedy in rank order).

    ``candidates`` (bool per image, default all) restricts which images may be removed *and* which
    may cause a removal; the others are ignored entirely. Returns an int64 array of rows
    (removed index, kept index it duplicates, Hamming distance), sorted by removed index.
    """
    h = np.asarray(hashes, dtype=np.uint64)
    n = h.size
    rank = np.asarray(rank, dtype=np.int64)
    idx = np.arange(n) if candidates is None else np.flatnonzero(candidates)
    if idx.size == 0:
        return np.empty((0, 3), np.int64)
    hs, rs = h[idx], rank[idx]
    uniq, inverse = np.unique(hs, return_inverse=True)
    # Each distinct hash is represented by its best-ranked image; its other images are exact copies.
    by_rank = np.lexsort((rs, inverse))
    first = np.r_[True, inverse[by_rank][1:] != inverse[by_rank][:-1]]
    rep = np.empty(uniq.size, dtype=np.int64)
    rep[inverse[by_rank][first]] = by_rank[first]
    # Greedy over near pairs of distinct hashes, processed by the worse side's rank, so that the
    # better side's fate is final whenever it is consulted.
    removed_by = np.full(uniq.size, -1, dtype=np.int64)
    dist = np.zeros(uniq.size, dtype=np.int64)
    upairs = _distinct_near_pairs(uniq, threshold)
    if upairs.size:
        ra, rb = rs[rep[upairs[:, 0]]], rs[rep[upairs[:, 1]]]
        better = np.where(ra < rb, upairs[:, 0], upairs[:, 1])
        worse = np.where(ra < rb, upairs[:, 1], upairs[:, 0])
        order = np.lexsort((rs[rep[better]], rs[rep[worse]]))
        for b, w in zip(better[order].tolist(), worse[order].tolist()):
            if removed_by[b] < 0 and removed_by[w] < 0:
                removed_by[w] = b
                dist[w] = hamming(uniq[b], uniq[w])
    local = np.arange(idx.size)
    near = removed_by[inverse] >= 0  # the whole hash is near a kept one, its representative included
    copy = ~near & (rep[inverse] != local)
    gone = np.flatnonzero(near | copy)
    kept = np.where(near[gone], rep[np.maximum(removed_by[inverse[gone]], 0)], rep[inverse[gone]])
    return np.stack([idx[gone], idx[kept], np.where(near[gone], dist[inverse[gone]], 0)], axis=1).astype(np.int64)


def cross_matches(
    train: Sequence[int] | np.ndarray, test: Sequence[int] | np.ndarray, threshold: int = 2
) -> np.ndarray:
    """(train index, test index, distance) rows for every train image near any test image."""
    tr = np.asarray(train, dtype=np.uint64)
    te = np.asarray(test, dtype=np.uint64)
    if tr.size == 0 or te.size == 0:
        return np.empty((0, 3), np.int64)
    both = np.concatenate([tr, te])
    uniq, inverse = np.unique(both, return_inverse=True)
    upairs = _distinct_near_pairs(uniq, threshold)
    # Undirected distinct-hash adjacency plus identity (exact matches).
    ua = np.concatenate([np.arange(uniq.size), upairs[:, 0], upairs[:, 1]])
    ub = np.concatenate([np.arange(uniq.size), upairs[:, 1], upairs[:, 0]])
    tr_u, te_u = inverse[: tr.size], inverse[tr.size:]
    # Join: train hash -> neighbour hash -> test images with that hash.
    te_order = np.argsort(te_u, kind="stable")
    te_sorted = te_u[te_order]
    tr_order = np.argsort(tr_u, kind="stable")
    tr_sorted = tr_u[tr_order]
    rows = []
    lo_a, hi_a = np.searchsorted(tr_sorted, ua, "left"), np.searchsorted(tr_sorted, ua, "right")
    lo_b, hi_b = np.searchsorted(te_sorted, ub, "left"), np.searchsorted(te_sorted, ub, "right")
    live = (hi_a > lo_a) & (hi_b > lo_b)
    for a, b, la, ha, lb, hb in zip(ua[live], ub[live], lo_a[live], hi_a[live], lo_b[live], hi_b[live]):
        dist = hamming(uniq[a], uniq[b])
        for i in tr_order[la:ha]:
            for j in te_order[lb:hb]:
                rows.append((int(i), int(j), dist))
    if not rows:
        return np.empty((0, 3), np.int64)
    out = np.asarray(rows, dtype=np.int64)
    return out[np.lexsort((out[:, 1], out[:, 0]))]
