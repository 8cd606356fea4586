import numpy as np
import pytest
from PIL import Image

from rs_annotate.near_duplicates import (
    cross_matches,
    hamming,
    keep_rank,
    near_pairs,
    phash,
    plan_removals,
    popcount,
)


def random_hashes(n, rng):
    return rng.integers(0, 2**63, size=n, dtype=np.uint64) * np.uint64(2) + rng.integers(
        0, 2, size=n, dtype=np.uint64
    )


def flip(h, bits):
    for b in bits:
        h ^= np.uint64(1) << np.uint64(b)
    return h


def planted(n, rng, n_near=60, max_bits=4):
    h = random_hashes(n, rng)
    for _ in range(n_near):
        i, j = rng.choice(n, 2, replace=False)
        k = int(rng.integers(0, max_bits + 1))
        h[j] = flip(h[i], rng.choice(64, k, replace=False))
    return h


def brute_pairs(h, threshold):
    h = [int(x) for x in h]
    return sorted(
        (i, j) for i in range(len(h)) for j in range(i + 1, len(h)) if hamming(h[i], h[j]) < threshold
    )


@pytest.mark.parametrize("threshold", [1, 2, 3, 4, 5])
def test_near_pairs_equal_brute_force(threshold):
    rng = np.random.default_rng(threshold)
    h = planted(400, rng)
    h[5] = h[6] = h[7]  # an exact triple
    got = [tuple(p) for p in near_pairs(h, threshold).tolist()]
    assert got == brute_pairs(h, threshold)
    assert (5, 6) in got and (6, 7) in got


def test_threshold_edges():
    a = np.uint64(0x0F0F_0000_FFFF_1234)
    one, two = flip(a, [3]), flip(a, [40, 63])
    h = np.array([a, one, two], dtype=np.uint64)
    assert near_pairs(h, 1).tolist() == []  # exact only
    assert near_pairs(h, 2).tolist() == [[0, 1]]  # fewer than 2 bits: 1 bit differs, not 2
    assert near_pairs(h, 3).tolist() == [[0, 1], [0, 2]]
    assert near_pairs(h, 4).tolist() == [[0, 1], [0, 2], [1, 2]]
    with pytest.raises(ValueError):
        near_pairs(h, 0)
    assert near_pairs(np.array([], dtype=np.uint64)).tolist() == []


def test_popcount_matches_python():
    rng = np.random.default_rng(1)
    x = random_hashes(1000, rng)
    assert popcount(x).tolist() == [int(v).bit_count() for v in x]


def test_plan_removals_greedy_matches_brute_force():
    rng = np.random.default_rng(7)
    for _ in range(5):
        h = planted(300, rng, n_near=80, max_bits=2)
        h[10] = h[11]
        rank = rng.permutation(h.size)
        got = plan_removals(h, rank, threshold=2)
        # brute force: walk images in rank order, remove those near an already kept image
        kept, expect = [], {}
        for i in np.argsort(rank):
            near = [k for k in kept if hamming(h[i], h[k]) < 2]
            if near:
                k = min(near, key=lambda k: rank[k])
                expect[int(i)] = int(k)
            else:
                kept.append(int(i))
        assert sorted(expect) == got[:, 0].tolist()
        for i, k, d in got.tolist():
            assert rank[k] < rank[i] and k not in expect and d == hamming(h[i], h[k]) < 2
        survivors = np.setdiff1d(np.arange(h.size), got[:, 0])
        assert near_pairs(h[survivors], 2).size == 0


def test_chain_keeps_both_ends():
    a = np.uint64(0)
    b, c = flip(a, [1]), flip(a, [1, 2])  # a~b, b~c, a and c two bits apart
    got = plan_removals(np.array([a, b, c], dtype=np.uint64), np.array([0, 1, 2]), threshold=2)
    assert got.tolist() == [[1, 0, 1]]


def test_exact_copies_of_a_removed_hash_point_to_the_kept_image():
    a = np.uint64(12345)
    b = flip(a, [9])
    h = np.array([b, a, b, b], dtype=np.uint64)
    got = plan_removals(h, np.array([1, 0, 2, 3]), threshold=2)
    assert got.tolist() == [[0, 1, 1], [2, 1, 1], [3, 1, 1]]


def test_candidates_restrict_the_plan():
    h = np.array([7, 7, 7], dtype=np.uint64)
    got = plan_removals(h, np.array([0, 1, 2]), candidates=np.array([False, True, True]))
    assert got.tolist() == [[2, 1, 0]]


def test_keep_policies():
    keys = [(0, "b"), (0, "a"), (1, "a")]
    assert keep_rank(keys).tolist() == [1, 0, 2]
    assert keep_rank(keys, sizes=[10, 10, 99], policy="largest").tolist() == [2, 1, 0]
    with pytest.raises(ValueError):
        keep_rank(keys, policy="random")


def test_cross_matches_list_every_train_test_match():
    rng = np.random.default_rng(3)
    train = random_hashes(200, rng)
    test = random_hashes(50, rng)
    train[3] = test[7]
    train[4] = flip(test[7], [0])
    train[9] = flip(test[1], [5])
    train[10] = flip(test[1], [5, 6])  # two bits: not a match at threshold 2
    got = cross_matches(train, test, 2).tolist()
    assert got == [[3, 7, 0], [4, 7, 1], [9, 1, 1]]


def test_phash_is_64_bit_and_stable_under_resizing():
    rng = np.random.default_rng(0)
    base = (rng.random((16, 16, 3)) * 255).astype(np.uint8)
    img = Image.fromarray(base).resize((256, 256), Image.BICUBIC)
    h1 = phash(img)
    h2 = phash(img.resize((200, 200), Image.BILINEAR))
    other = phash(Image.fromarray((rng.random((256, 256, 3)) * 255).astype(np.uint8)))
    assert 0 <= h1 < 2**64
    assert hamming(h1, h2) <= 4 < hamming(h1, other)
