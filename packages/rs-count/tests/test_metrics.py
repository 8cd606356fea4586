import numpy as np
import pytest

from rs_count.metrics import confusion_matrix, count_metrics, predictions, topk_accuracy, true_ranks

COUNTS = np.array([1, 3, 3, 5, 10, 7])
CLASSES = ["plane", "ship", "plane", "ship", "harbor", "plane"]


def always(n: int, rows: int) -> np.ndarray:
    s = np.zeros((rows, 10))
    s[:, n - 1] = 1.0
    return s


def test_always_three():
    m = count_metrics(always(3, len(COUNTS)), COUNTS, CLASSES)
    assert m.predicted == [3] * 6
    assert m.topk[0] == pytest.approx(100 * 2 / 6)  # the two images with 3 objects, in percent
    # Other captions tie at 0, broken towards the smaller count: ranks are 1 + (3 ahead?) + smaller counts.
    # true 1 -> 3 and 1 itself: rank 2; true 3 -> 1; 5 -> 3 (ahead: 3, 1, 2, 4) = 5; 10 -> 10; 7 -> 7.
    assert true_ranks(always(3, 6), COUNTS).tolist() == [2, 1, 1, 5, 10, 7]
    assert m.topk == pytest.approx([100 * k / 6 for k in (2, 3, 3, 3, 4, 4, 5, 5, 5, 6)])
    assert m.mae == pytest.approx((2 + 0 + 0 + 2 + 7 + 4) / 6)
    cm = np.array(m.confusion)
    assert cm[:, 2].sum() == 6 and cm.sum() == 6 and cm[2, 2] == 2 and cm[9, 2] == 1
    assert m.per_count == {
        1: {"n": 1, "top1": 0.0},
        3: {"n": 2, "top1": 100.0},
        5: {"n": 1, "top1": 0.0},
        7: {"n": 1, "top1": 0.0},
        10: {"n": 1, "top1": 0.0},
    }
    assert m.per_class["plane"] == {"n": 3, "top1": pytest.approx(100 / 3)}
    assert m.per_class["ship"] == {"n": 2, "top1": 50.0}
    assert m.per_class["harbor"] == {"n": 1, "top1": 0.0}


def test_perfect_oracle():
    scores = -np.abs(np.arange(1, 11)[None, :] - COUNTS[:, None]).astype(float)  # peaks at the truth
    m = count_metrics(scores, COUNTS, CLASSES)
    assert m.topk == [100.0] * 10
    assert m.mae == 0.0
    assert np.array_equal(np.array(m.confusion), np.diag(np.bincount(COUNTS - 1, minlength=10)))
    assert all(v["top1"] == 100.0 for v in m.per_class.values())


def test_ties_are_broken_towards_the_smaller_count():
    flat = np.full((4, 10), 0.25)
    counts = np.array([1, 2, 5, 10])
    assert predictions(flat).tolist() == [1, 1, 1, 1]
    assert true_ranks(flat, counts).tolist() == [1, 2, 5, 10]
    assert topk_accuracy(flat, counts)[:5] == [25.0, 50.0, 50.0, 50.0, 75.0]
    # a partial tie: counts 4 and 6 share the best score; the truth (6) ranks second, prediction is 4
    s = np.zeros((1, 10))
    s[0, [3, 5]] = 0.9
    assert predictions(s).tolist() == [4]
    assert true_ranks(s, np.array([6])).tolist() == [2]


def test_topk_is_monotone_and_ends_at_one():
    rng = np.random.default_rng(0)
    scores, counts = rng.normal(size=(50, 10)), rng.integers(1, 11, 50)
    acc = topk_accuracy(scores, counts)
    assert all(a <= b for a, b in zip(acc, acc[1:])) and acc[-1] == 100.0
    assert confusion_matrix(counts, predictions(scores)).sum() == 50


@pytest.mark.parametrize(
    "scores,counts,msg",
    [
        (np.zeros((2, 9)), np.array([1, 2]), "shape"),
        (np.zeros((2, 10)), np.array([0, 2]), "1..10"),
        (np.zeros((2, 10)), np.array([1, 11]), "1..10"),
        (np.full((1, 10), np.nan), np.array([1]), "NaN"),
    ],
)
def test_bad_inputs(scores, counts, msg):
    with pytest.raises(ValueError, match=msg):
        true_ranks(scores, counts)


def test_topk_in_percent_matches_scikit_learn_without_ties():
    from sklearn.metrics import top_k_accuracy_score

    rng = np.random.default_rng(1)
    scores, counts = rng.normal(size=(200, 10)), rng.integers(1, 11, 200)
    acc = topk_accuracy(scores, counts)
    for k in range(1, 10):
        assert acc[k - 1] == pytest.approx(
            100 * top_k_accuracy_score(counts, scores, k=k, labels=range(1, 11))
        )
