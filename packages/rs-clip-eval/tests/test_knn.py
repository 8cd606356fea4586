from __future__ import annotations

import math

import numpy as np
import pytest

from rs_clip_eval.knn import knn_metrics, knn_scores


def brute_force_predict(train_x, train_y, test_x, n_classes, k, t):
    preds = []
    for q in test_x:
        sims = [(float(q @ x), i) for i, x in enumerate(train_x)]
        sims.sort(key=lambda s: (-s[0], s[1]))
        votes = [0.0] * n_classes
        for sim, i in sims[:k]:
            votes[train_y[i]] += math.exp(sim / t)
        preds.append(max(range(n_classes), key=lambda c: (votes[c], -c)))
    return np.array(preds)


def test_matches_brute_force_loop():
    rng = np.random.default_rng(0)
    centers = rng.normal(size=(5, 8))
    train_y = rng.integers(0, 5, 120)
    test_y = rng.integers(0, 5, 40)

    def feats(y):
        x = centers[y] + 1.3 * rng.normal(size=(len(y), 8))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    train_x, test_x = feats(train_y), feats(test_y)
    want = brute_force_predict(train_x, train_y, test_x, 5, 20, 0.07)
    votes = knn_scores(train_x, train_y, test_x, 5, chunk=7)
    assert (votes.argmax(1) == want).all()
    got = knn_metrics(train_x, train_y, test_x, test_y, 5)
    assert got["top1"] == pytest.approx(100 * (want == test_y).mean())
    assert got["k"] == 20 and got["temperature"] == 0.07


def test_similarity_weighting_beats_majority():
    # Two close neighbours of class 1 outvote three distant ones of class 0 at low temperature.
    q = np.array([[1.0, 0.0]], np.float32)
    train = np.array([[1, 0], [0.99, 0.141], [0, 1], [0, 1], [0.1, 0.995]], np.float32)
    y = np.array([1, 1, 0, 0, 0])
    assert knn_scores(train, y, q, 2, k=5, temperature=0.07).argmax() == 1
    # At a very high temperature votes are nearly equal: the majority wins.
    assert knn_scores(train, y, q, 2, k=5, temperature=1e3).argmax() == 0


def test_k_larger_than_train_and_one_example_class():
    train = np.eye(3, dtype=np.float32)
    got = knn_metrics(train, np.array([0, 1, 2]), train, np.array([0, 1, 2]), 3, k=20)
    assert got["k"] == 3 and got["top1"] == 100.0
