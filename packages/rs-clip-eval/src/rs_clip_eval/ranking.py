"""The top-k tie rule of every classification-style score in rs-clip: ties go to the lower index.

``scores[i, j]`` is how well item ``i`` matches choice ``j`` (a class for zero-shot, a count for
RemoteCount); ``truth[i]`` is the right choice. The prediction is the first maximum (``argmax``) and the
1-based rank of the truth is ``1 + #(choices scoring higher) + #(lower-index choices scoring the same)``,
so top-1 and the confusion matrix always agree and a model that scores every choice alike answers
choice 0 and never looks better than chance. (Retrieval is different on purpose: many captions may
share a score there, and it counts the expected hit over a random order of the tied items.)

Public API: :func:`true_ranks`, :func:`topk_correct` (``from rs_clip_eval import true_ranks``).
"""

from __future__ import annotations

import numpy as np


def true_ranks(scores: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """1-based rank of each row's true choice, ties broken towards the lower index."""
    scores = np.asarray(scores)
    truth = np.asarray(truth, dtype=np.int64)
    true = scores[np.arange(len(truth)), truth][:, None]
    idx = np.arange(scores.shape[1])[None, :]
    return 1 + (scores > true).sum(1) + ((scores == true) & (idx < truth[:, None])).sum(1)


def topk_correct(scores: np.ndarray, truth: np.ndarray, k: int) -> np.ndarray:
    """Whether each row's true choice is within its top ``k``."""
    return true_ranks(scores, truth) <= k
