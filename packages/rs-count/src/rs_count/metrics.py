"""RemoteCount metrics as pure functions of a score matrix, in percent like every rs-clip metric.

``scores[i, k]`` is how well image ``i`` matches the caption with count ``k + 1`` (k = 0..9), and
``counts[i]`` is the image's true count (1..10).

Ties are broken towards the smaller count: rs-clip-eval's tie rule (:mod:`rs_clip_eval.ranking`, the one
zero-shot classification uses), with the counts as the choices in order. The prediction is the first
maximum and the rank of the true count is ``1 + #(counts scoring higher) + #(smaller counts scoring the
same)``. A scorer that gives every caption the same score therefore always answers "1", and its top-k
accuracy is the share of images whose count is <= k: a constant or collapsed model can never look
better than chance. Accuracies are percentages (0-100); the mean absolute error is in counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rs_clip_eval import true_ranks as _ranks

NUM_COUNTS = 10
TIE_RULE = "Ties between captions are broken towards the smaller count."


def _check(scores: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    if scores.ndim != 2 or scores.shape[1] != NUM_COUNTS:
        raise ValueError(f"scores must have shape [N, {NUM_COUNTS}], got {scores.shape}")
    if counts.shape != (scores.shape[0],):
        raise ValueError(f"counts must have shape [{scores.shape[0]}], got {counts.shape}")
    if counts.size and (counts.min() < 1 or counts.max() > NUM_COUNTS):
        raise ValueError(f"counts must lie in 1..{NUM_COUNTS}, got {counts.min()}..{counts.max()}")
    if not np.isfinite(scores).all():
        raise ValueError("scores contain NaN or infinity")
    return scores, counts


def predictions(scores: np.ndarray) -> np.ndarray:
    """Predicted count (1..10) per image: the best-scoring caption, the smaller count on a tie."""
    return np.argmax(np.asarray(scores), axis=1) + 1


def true_ranks(scores: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """1-based rank of the true caption among the ten, ties broken towards the smaller count."""
    scores, counts = _check(scores, counts)
    return _ranks(scores, counts - 1)


def topk_accuracy(scores: np.ndarray, counts: np.ndarray) -> list[float]:
    """``[top-1, ..., top-10]`` accuracy in percent (top-10 is always 100)."""
    ranks = true_ranks(scores, counts)
    if ranks.size == 0:
        return [float("nan")] * NUM_COUNTS
    return [100.0 * float(np.mean(ranks <= k)) for k in range(1, NUM_COUNTS + 1)]


def confusion_matrix(counts: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """``[10, 10]`` integer matrix: row = true count - 1, column = predicted count - 1."""
    cm = np.zeros((NUM_COUNTS, NUM_COUNTS), dtype=np.int64)
    np.add.at(cm, (np.asarray(counts) - 1, np.asarray(predicted) - 1), 1)
    return cm


def grouped_accuracy(keys: Sequence, correct: np.ndarray) -> dict:
    """``{key: {"n": images, "top1": accuracy in percent}}`` for each distinct key, in first-seen order."""
    out: dict = {}
    for key, ok in zip(keys, np.asarray(correct, dtype=bool)):
        entry = out.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += int(ok)
    return {k: {"n": n, "top1": 100.0 * hits / n} for k, (n, hits) in out.items()}


@dataclass(frozen=True)
class CountMetrics:
    n: int
    topk: list[float]  # top-1 .. top-10 accuracy, percent
    confusion: list[list[int]]  # [true - 1][predicted - 1]
    per_class: dict[str, dict]  # class -> {"n", "top1" (percent)}
    per_count: dict[int, dict]  # count -> {"n", "top1" (percent)}
    mae: float  # mean absolute difference between predicted and true count
    predicted: list[int]

    @property
    def top1(self) -> float:
        return self.topk[0]


def count_metrics(scores: np.ndarray, counts: np.ndarray, classes: Sequence[str]) -> CountMetrics:
    """Every RemoteCount metric for one model and one caption variant.

    Args:
        scores: ``[N, 10]`` similarities of each image to its class's captions for counts 1..10.
        counts: ``[N]`` true counts, 1..10.
        classes: each image's counted class.

    Returns:
        Top-k accuracies, per count and per class, the confusion matrix and the count errors.
    """
    scores, counts = _check(scores, counts)
    if len(classes) != len(counts):
        raise ValueError(f"{len(classes)} class labels for {len(counts)} images")
    pred = predictions(scores)
    correct = pred == counts
    per_count = grouped_accuracy(counts.tolist(), correct)
    return CountMetrics(
        n=int(len(counts)),
        topk=topk_accuracy(scores, counts),
        confusion=confusion_matrix(counts, pred).tolist(),
        per_class=grouped_accuracy(list(classes), correct),
        per_count={k: per_count[k] for k in sorted(per_count)},
        mae=float(np.mean(np.abs(pred - counts))) if len(counts) else float("nan"),
        predicted=pred.tolist(),
    )
