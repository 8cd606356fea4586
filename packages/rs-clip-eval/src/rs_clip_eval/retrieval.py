"""Image-text retrieval: image->text and text->image recall@K and mean recall, CLIP_benchmark's protocol.

Each image has several captions (Karpathy-style test splits, as the released RemoteCLIP ``retrieval.py``
reads them). Every caption is embedded. Image->text: an image scores a hit at K when *any* of its own
captions is among the K best captions. Text->image: a caption scores a hit when its own image is among the
K best images. Scores are dot products of L2-normalised embeddings; figures are percentages.

Ties: exact ties happen whenever two images share a caption string (common in RSICD) or a model has
collapsed. ``torch.topk`` breaks them arbitrarily; here a tie is resolved as the *expected* hit over a
uniformly random order of the tied candidates, so the result depends neither on item order nor on the
sort implementation, and a collapsed model scores chance level, not 0 % or 100 %. Without ties the
figures are exactly CLIP_benchmark's (a test checks this).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_KS = (1, 5, 10)


def hit_probability(
    n_above: np.ndarray, n_tied_neg: np.ndarray, n_tied_pos: np.ndarray, k: int
) -> np.ndarray:
    """P(a positive is among the top ``k``) when ``n_above`` negatives score strictly higher than the best
    positive, and ``n_tied_neg`` negatives and ``n_tied_pos`` (>= 1) positives tie with it, the tied block
    being in uniformly random order.

    The first ``r = k - n_above`` slots of the tied block must hold a positive; the chance that they hold
    negatives only is C(neg, r) / C(neg + pos, r) = prod_{i<r} (neg - i) / (neg + pos - i).
    """
    r = k - np.asarray(n_above, dtype=np.int64)
    neg = np.asarray(n_tied_neg, dtype=np.float64)
    pos = np.asarray(n_tied_pos, dtype=np.float64)
    all_neg = np.ones(np.broadcast(r, neg, pos).shape, dtype=np.float64)
    for i in range(k):
        left = neg - i  # negatives still unplaced; once none are, the block cannot stay all-negative
        step = np.where(left > 0, left / np.maximum(left + pos, 1), 0.0)
        all_neg = np.where(i < r, all_neg * step, all_neg)
    return np.where(r <= 0, 0.0, 1.0 - all_neg)


def _ranks_stats(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row: negatives above the best positive, negatives tied with it, positives tied with it."""
    best = np.where(positive, scores, -np.inf).max(axis=1, keepdims=True)
    above = scores > best
    tied = scores == best
    return (above & ~positive).sum(1), (tied & ~positive).sum(1), (tied & positive).sum(1)


def _check(emb: np.ndarray, what: str) -> np.ndarray:
    emb = np.asarray(emb, dtype=np.float32)
    if emb.ndim != 2 or not len(emb):
        raise ValueError(f"{what} embeddings must be a non-empty [N, D] array, got shape {emb.shape}")
    if not np.isfinite(emb).all():
        raise ValueError(f"{what} embeddings contain NaN or inf (a diverged model?)")
    return emb


def retrieval_metrics(
    image_emb: np.ndarray,
    text_emb: np.ndarray,
    text_image: Sequence[int] | np.ndarray,
    ks: Sequence[int] = DEFAULT_KS,
    chunk: int = 2048,
) -> dict[str, float | int]:
    """Recall@K (in %) both ways and their mean.

    ``text_image[j]`` is the index (row of ``image_emb``) of the image caption ``j`` describes. Images
    without captions take no part in image->text (counted in ``images_without_captions``).
    """
    img = _check(image_emb, "image")
    txt = _check(text_emb, "text")
    owner = np.asarray(text_image, dtype=np.int64)
    if owner.shape != (len(txt),):
        raise ValueError(f"text_image must give one image index per caption ({len(txt)}), got {owner.shape}")
    if len(owner) and (owner.min() < 0 or owner.max() >= len(img)):
        raise ValueError("text_image holds an index outside the image embeddings")
    if img.shape[1] != txt.shape[1]:
        raise ValueError(f"image and text embeddings differ in width: {img.shape[1]} vs {txt.shape[1]}")
    ks = sorted(set(int(k) for k in ks))
    has_caption = np.bincount(owner, minlength=len(img)) > 0

    i2t = {k: [] for k in ks}
    image_ids = np.flatnonzero(has_caption)
    for start in range(0, len(image_ids), chunk):
        rows = image_ids[start : start + chunk]
        scores = img[rows] @ txt.T
        stats = _ranks_stats(scores, owner[None, :] == rows[:, None])
        for k in ks:
            i2t[k].append(hit_probability(*stats, k))

    t2i = {k: [] for k in ks}
    for start in range(0, len(txt), chunk):
        rows = np.arange(start, min(start + chunk, len(txt)))
        scores = txt[rows] @ img.T
        stats = _ranks_stats(scores, np.arange(len(img))[None, :] == owner[rows, None])
        for k in ks:
            t2i[k].append(hit_probability(*stats, k))

    out: dict[str, float | int] = {}
    for k in ks:
        out[f"i2t_R@{k}"] = 100.0 * float(np.concatenate(i2t[k]).mean())
    for k in ks:
        out[f"t2i_R@{k}"] = 100.0 * float(np.concatenate(t2i[k]).mean())
    out["mean_recall"] = float(np.mean([out[f"{d}_R@{k}"] for d in ("i2t", "t2i") for k in ks]))
    out["n_images"] = int(has_caption.sum())
    out["n_captions"] = int(len(txt))
    out["images_without_captions"] = int((~has_caption).sum())
    return out
