"""The top-k tie rule (ties to the lower index) against a brute-force stable sort."""

import numpy as np

from rs_clip_eval import topk_correct, true_ranks


def brute_rank(row, truth):
    order = sorted(range(len(row)), key=lambda j: (-row[j], j))  # best first, lower index first on a tie
    return order.index(truth) + 1


def test_ranks_match_a_stable_sort_with_many_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(300, 10)).astype(float)  # four distinct values: ties everywhere
    truth = rng.integers(0, 10, size=300)
    expected = [brute_rank(r, t) for r, t in zip(scores.tolist(), truth)]
    assert true_ranks(scores, truth).tolist() == expected
    for k in (1, 3, 10):
        assert topk_correct(scores, truth, k).tolist() == [r <= k for r in expected]


def test_a_constant_scorer_answers_the_first_choice():
    flat = np.zeros((3, 5))
    assert true_ranks(flat, np.array([0, 2, 4])).tolist() == [1, 3, 5]
    assert topk_correct(flat, np.array([0, 1, 2]), 1).tolist() == [True, False, False]
