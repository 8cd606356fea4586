"""Retrieval metrics against brute force, hand-made ties and CLIP_benchmark on the same embeddings."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from rs_clip_eval.retrieval import hit_probability, retrieval_metrics


def _norm(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute_force(img, txt, owner, ks=(1, 5, 10)):
    """Loops over queries, sorting candidates; no ties assumed."""
    out = {}
    for k in ks:
        hits = []
        for i in range(len(img)):
            scores = [float(img[i] @ t) for t in txt]
            top = sorted(range(len(txt)), key=lambda j: -scores[j])[:k]
            hits.append(any(owner[j] == i for j in top))
        out[f"i2t_R@{k}"] = 100 * np.mean(hits)
    for k in ks:
        hits = []
        for j in range(len(txt)):
            scores = [float(txt[j] @ v) for v in img]
            top = sorted(range(len(img)), key=lambda i: -scores[i])[:k]
            hits.append(owner[j] in top)
        out[f"t2i_R@{k}"] = 100 * np.mean(hits)
    return out


def expected_by_permutations(scores, positive, k):
    """Mean over every order of the candidates (as a random tie-break), of 'a positive is in the top k'."""
    n = len(scores)
    total, count = 0.0, 0
    for perm in itertools.permutations(range(n)):
        order = sorted(range(n), key=lambda j: (-scores[j], perm.index(j)))
        total += any(positive[j] for j in order[:k])
        count += 1
    return total / count


def test_matches_brute_force_on_random_embeddings():
    rng = np.random.default_rng(0)
    img = _norm(rng.normal(size=(30, 16))).astype(np.float32)
    owner = np.repeat(np.arange(30), rng.integers(1, 6, size=30))
    txt = _norm(img[owner] + 0.9 * rng.normal(size=(len(owner), 16))).astype(np.float32)
    got = retrieval_metrics(img, txt, owner, chunk=7)  # chunking must not matter
    want = brute_force(img, txt, owner)
    for key, value in want.items():
        assert got[key] == pytest.approx(value), key
    assert got["mean_recall"] == pytest.approx(np.mean(list(want.values())))
    assert got["n_images"] == 30 and got["n_captions"] == len(owner)


def test_ties_are_expected_hits_over_random_orders():
    # 3 images, 6 captions on a 2-d grid of few distinct directions: many exact score ties.
    dirs = np.array([[1, 0], [0, 1], [0.6, 0.8]], dtype=np.float32)
    img = dirs[[0, 1, 0]]  # images 0 and 2 are identical
    txt = dirs[[0, 0, 1, 2, 1, 0]]
    owner = np.array([0, 2, 1, 1, 2, 0])
    got = retrieval_metrics(img, txt, owner, ks=(1, 2, 3))
    for k in (1, 2, 3):
        scores = img @ txt.T
        i2t = [expected_by_permutations(scores[i], owner == i, k) for i in range(3)]
        t2i = [expected_by_permutations(scores[:, j], np.arange(3) == owner[j], k) for j in range(6)]
        assert got[f"i2t_R@{k}"] == pytest.approx(100 * np.mean(i2t))
        assert got[f"t2i_R@{k}"] == pytest.approx(100 * np.mean(t2i))


def test_caption_shared_by_two_images():
    # Images A and B share the caption "x" (same text, same embedding); each has it as its best match.
    img = np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float32)
    x = _norm(np.array([[1, 1, 0]], dtype=np.float32))[0]
    txt = np.stack([x, [0, 0, 1], x, [0, 0, 1]]).astype(np.float32)  # A: x, z   B: x, z
    owner = np.array([0, 0, 1, 1])
    got = retrieval_metrics(img, txt, owner, ks=(1, 2))
    # i2t: the two "x" entries tie at the top, one is the image's own: R@1 = 1/2 (expected), R@2 = 1.
    assert got["i2t_R@1"] == pytest.approx(50.0)
    assert got["i2t_R@2"] == pytest.approx(100.0)
    # t2i: each "x" entry scores A and B equally; its own image is first half the time. "z" scores 0 for both.
    assert got["t2i_R@1"] == pytest.approx(50.0)
    assert got["t2i_R@2"] == pytest.approx(100.0)


def test_collapsed_model_scores_chance():
    img = np.ones((10, 4), np.float32) / 2
    txt = np.ones((50, 4), np.float32) / 2
    owner = np.repeat(np.arange(10), 5)
    got = retrieval_metrics(img, txt, owner, ks=(1, 5))
    assert got["t2i_R@1"] == pytest.approx(10.0)  # 1 of 10 images
    assert got["t2i_R@5"] == pytest.approx(50.0)
    # i2t R@1: 5 positives among 50 tied captions
    assert got["i2t_R@1"] == pytest.approx(10.0)


def test_hit_probability_edges():
    assert hit_probability(np.array([5]), np.array([0]), np.array([1]), 5)[0] == 0.0
    assert hit_probability(np.array([0]), np.array([0]), np.array([1]), 1)[0] == 1.0
    assert hit_probability(np.array([0]), np.array([3]), np.array([1]), 10)[0] == 1.0
    assert hit_probability(np.array([1]), np.array([3]), np.array([2]), 3)[0] == pytest.approx(
        1 - 3 / 5 * 2 / 4
    )


def test_images_without_captions_and_bad_input():
    img = np.eye(3, dtype=np.float32)
    got = retrieval_metrics(img, img[:2], [0, 1], ks=(1,))
    assert got["images_without_captions"] == 1 and got["n_images"] == 2 and got["i2t_R@1"] == 100.0
    with pytest.raises(ValueError, match="NaN"):
        retrieval_metrics(img * np.nan, img, [0, 1, 2])
    with pytest.raises(ValueError, match="one image index per caption"):
        retrieval_metrics(img, img, [0, 1])


def test_identical_to_clip_benchmark(embedding_model):
    from clip_benchmark.metrics import zeroshot_retrieval

    rng = np.random.default_rng(1)
    n = 40
    img = _norm(rng.normal(size=(n, 32))).astype(np.float32)
    counts = rng.integers(1, 6, size=n)
    owner = np.repeat(np.arange(n), counts)
    txt = _norm(img[owner] + 1.2 * rng.normal(size=(len(owner), 32))).astype(np.float32)
    texts = [f"t{j}" for j in range(len(owner))]
    captions_of = [[texts[j] for j in np.flatnonzero(owner == i)] for i in range(n)]
    batches = [(torch.from_numpy(img[s : s + 16]), captions_of[s : s + 16]) for s in range(0, n, 16)]

    def tokenizer(strings):
        return torch.tensor([int(s[1:]) for s in strings])

    theirs = zeroshot_retrieval.evaluate(
        embedding_model(txt), batches, tokenizer, "cpu", amp=False, recall_k_list=[1, 5, 10]
    )
    ours = retrieval_metrics(img, txt, owner)
    n_txt = len(owner)
    for k in (1, 5, 10):
        # CLIP_benchmark's "image_retrieval" is text->image, "text_retrieval" image->text. It averages in
        # float32, so compare the hit counts behind the figures: they must be the same integers.
        assert ours[f"t2i_R@{k}"] * n_txt / 100 == pytest.approx(
            round(theirs[f"image_retrieval_recall@{k}"] * n_txt)
        )
        assert ours[f"i2t_R@{k}"] * n / 100 == pytest.approx(round(theirs[f"text_retrieval_recall@{k}"] * n))
        assert ours[f"t2i_R@{k}"] == pytest.approx(100 * theirs[f"image_retrieval_recall@{k}"], abs=1e-4)
        assert ours[f"i2t_R@{k}"] == pytest.approx(100 * theirs[f"text_retrieval_recall@{k}"], abs=1e-4)
    assert 0 < ours["t2i_R@1"] < ours["t2i_R@10"] < 100  # a discriminating case, not all hits or misses
