"""k-NN classification on frozen image features: similarity-weighted voting (Wu et al. 2018, DINO).

The paper's setting: k = 20 nearest training images by cosine similarity, each voting for its class with
weight exp(sim / T), T = 0.07. Neighbour ties go to the lower training index, vote ties to the lower class.
"""

from __future__ import annotations

import numpy as np

from .zeroshot import classification_metrics


def knn_scores(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    n_classes: int,
    k: int = 20,
    temperature: float = 0.07,
    chunk: int = 1024,
) -> np.ndarray:
    """``[N_test, C]`` summed votes."""
    train_x = np.asarray(train_x, dtype=np.float32)
    test_x = np.asarray(test_x, dtype=np.float32)
    train_y = np.asarray(train_y, dtype=np.int64)
    if not len(train_x):
        raise ValueError("k-NN needs training examples")
    k = min(k, len(train_x))
    out = np.zeros((len(test_x), n_classes), dtype=np.float64)
    for start in range(0, len(test_x), chunk):
        sims = test_x[start : start + chunk] @ train_x.T
        nn = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        votes = np.exp(np.take_along_axis(sims, nn, 1).astype(np.float64) / temperature)
        rows = np.repeat(np.arange(len(nn)), k)
        np.add.at(out[start : start + chunk], (rows, train_y[nn].ravel()), votes.ravel())
    return out


def knn_metrics(
    train_x: np.ndarray,
    train_y: np.ndarray,
    test_x: np.ndarray,
    test_y: np.ndarray,
    n_classes: int,
    k: int = 20,
    temperature: float = 0.07,
) -> dict:
    votes = knn_scores(train_x, train_y, test_x, n_classes, k, temperature)
    metrics = classification_metrics(votes, test_y, n_classes)
    metrics.pop("top5")
    metrics.update(k=int(min(k, len(train_x))), temperature=float(temperature), n_train=int(len(train_x)))
    return metrics
