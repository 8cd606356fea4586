"""The probe trainer against scikit-learn's LogisticRegression (the oracle: raw, and in a StandardScaler
pipeline), on weak features (nearly identical embeddings) and strong ones, and the few-shot protocol."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from rs_clip_eval.linear_probe import (
    ProbeConfig,
    few_shot,
    fit_probe,
    linear_probe,
    predict_logits,
    sample_shots,
    stratified_split,
    train_probe,
    train_softmax_regression,
)


def _blobs(n_per, centers, spread, seed):
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(centers)), n_per)
    x = np.asarray(centers)[y] + spread * rng.normal(size=(len(y), len(centers[0])))
    return x.astype(np.float32), y


CENTERS = [[2, 0, 0, 0], [0, 2, 0, 0], [0, 0, 2, 0]]


def test_separable_problem_same_predictions_as_sklearn():
    x, y = _blobs(30, CENTERS, 0.3, 0)
    tx, ty = _blobs(20, CENTERS, 0.3, 1)
    cfg = ProbeConfig(epochs=300, search_trials=1)
    ours = linear_probe(x, y, tx, ty, 3, cfg)
    sk = LogisticRegression(max_iter=1000).fit(x, y)
    assert ours["top1"] == 100.0 and sk.score(tx, ty) == 1.0
    w, b, _ = fit_probe(x, y, 3, cfg)
    assert (predict_logits(w, b, tx)[0].argmax(1) == sk.predict(tx)).all()


def test_converges_to_sklearn_optimum():
    # mean CE + wd/2 |W|^2 (bias unpenalised) is sklearn's objective with C = 1 / (n * wd).
    x, y = _blobs(40, CENTERS, 1.5, 2)
    wd = 0.05
    w, b = train_softmax_regression(x, y, 3, [1.0], [wd], epochs=3000, batch_size=10_000)
    sk = LogisticRegression(C=1 / (len(y) * wd), tol=1e-10, max_iter=10_000).fit(x, y)
    logits = predict_logits(w, b, x)[0]
    ours = np.exp(logits - logits.max(1, keepdims=True))
    ours /= ours.sum(1, keepdims=True)
    assert np.abs(ours - sk.predict_proba(x)).max() < 2e-3


def test_standardised_probe_converges_to_the_pipeline_optimum():
    # Standardised (centred, scaled to unit root mean squared norm), the objective is that of a scikit-learn
    # pipeline centring, scaling and fitting LogisticRegression; the layer folded back onto raw features
    # gives that pipeline's probabilities.
    x, y = _blobs(40, CENTERS, 1.5, 2)
    x = 0.01 * x * np.array([1.0, 2.0, 0.5, 1.0], np.float32) + 3.0  # the raw trainer would barely move
    wd = 0.05
    w, b = train_probe(x, y, 3, [1.0], [wd], ProbeConfig(epochs=3000))
    scale = np.sqrt(np.mean(np.sum((x - x.mean(0)) ** 2, axis=1)))
    sk = make_pipeline(
        StandardScaler(with_std=False),
        FunctionTransformer(lambda z: z / scale),
        LogisticRegression(C=1 / (len(y) * wd), tol=1e-10, max_iter=10_000),
    )
    logits = predict_logits(w, b, x)[0]
    ours = np.exp(logits - logits.max(1, keepdims=True))
    ours /= ours.sum(1, keepdims=True)
    assert np.abs(ours - sk.fit(x, y).predict_proba(x)).max() < 2e-3


def _unit(a):
    return (a / np.linalg.norm(a, axis=1, keepdims=True)).astype(np.float32)


def _nearly_identical(counts, seed):
    """A random model's embeddings, exaggerated: one common unit vector plus class offsets of 1e-3 and
    noise of 5e-4 (every pair's cosine above 0.99999); class 0 has one training image more."""
    common = np.random.default_rng(0).normal(size=32)
    offsets = np.random.default_rng(1).normal(size=(6, 32)) * 1e-3
    y = np.repeat(np.arange(6), counts)
    return _unit(common + offsets[y] + 5e-4 * np.random.default_rng(seed).normal(size=(len(y), 32))), y


def test_probe_on_nearly_identical_features_beats_the_majority_class():
    x, y = _nearly_identical([21, 20, 20, 20, 20, 20], 2)
    tx, ty = _nearly_identical([10] * 6, 3)
    majority = 100.0 * np.mean(ty == np.bincount(y).argmax())
    cfg = ProbeConfig(epochs=100)
    ours = linear_probe(x, y, tx, ty, 6, cfg)["top1"]
    oracle = 100.0 * make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(x, y).score(
        tx, ty
    )
    assert majority == pytest.approx(100 / 6) and ours >= 90 and ours >= oracle - 5
    # The cause of the collapse it fixes: on raw features the common direction dominates, and plain SGD
    # learns only the class frequencies (the class with one image more wins everywhere).
    raw = linear_probe(x, y, tx, ty, 6, ProbeConfig(epochs=100, standardise=False))
    assert raw["top1"] < majority + 5 and raw["confusion_matrix"][1][0] == 10
    few = few_shot(x, y, tx, ty, 6, shots=(1, 8), seeds=(0,), cfg=cfg)["shots"]
    assert few["1"]["mean"] > 2 * majority and few["8"]["mean"] >= 90


def test_standardising_does_not_hurt_strong_features():
    digits = load_digits()  # real data shipped with scikit-learn: 8x8 digits, 10 classes
    x, y = _unit(digits.data + 1e-3), digits.target
    order = np.random.default_rng(0).permutation(len(y))
    tr, te = order[:1400], order[1400:]
    cfg, raw_cfg = (
        ProbeConfig(epochs=1000, search_trials=1),
        ProbeConfig(epochs=1000, search_trials=1, standardise=False),
    )
    ours = linear_probe(x[tr], y[tr], x[te], y[te], 10, cfg)["top1"]
    raw = linear_probe(x[tr], y[tr], x[te], y[te], 10, raw_cfg)["top1"]
    sk_raw = 100.0 * LogisticRegression(max_iter=5000).fit(x[tr], y[tr]).score(x[te], y[te])
    assert ours >= max(raw, sk_raw) - 1 and ours > 90
    # Few-shot: statistics from a support set of one image per class leave strong features as they were
    # (scikit-learn's per-feature scaling would blow up the nearly constant pixels: 36% at 1 shot).
    shots = dict(shots=(1, 4), seeds=(0, 1, 2))
    few = few_shot(x[tr], y[tr], x[te], y[te], 10, cfg=ProbeConfig(epochs=200), **shots)["shots"]
    few_raw = few_shot(
        x[tr], y[tr], x[te], y[te], 10, cfg=ProbeConfig(epochs=200, standardise=False), **shots
    )
    assert (
        all(few[k]["mean"] >= few_raw["shots"][k]["mean"] - 3 for k in ("1", "4")) and few["1"]["mean"] > 55
    )
    # CLIP-like: well-separated classes on the unit sphere in 512 dimensions.
    rng = np.random.default_rng(4)
    centres = _unit(rng.normal(size=(20, 512)))
    y2 = np.arange(600) % 20
    x2 = _unit(centres[y2] + 0.06 * rng.normal(size=(600, 512)))
    assert linear_probe(x2[:400], y2[:400], x2[400:], y2[400:], 20, ProbeConfig(epochs=100))["top1"] == 100.0


def test_batched_trials_equal_separate_runs_and_minibatches_work():
    x, y = _blobs(25, CENTERS, 1.0, 3)
    lrs, wds = [0.8, 0.1, 2.0], [4e-5, 1e-3, 0.0]
    w, b = train_softmax_regression(x, y, 3, lrs, wds, epochs=40, batch_size=16, seed=5)
    for t in range(3):
        w1, b1 = train_softmax_regression(x, y, 3, [lrs[t]], [wds[t]], epochs=40, batch_size=16, seed=5)
        assert np.allclose(w[t].numpy(), w1[0].numpy(), atol=1e-5)
        assert np.allclose(b[t].numpy(), b1[0].numpy(), atol=1e-5)
    assert (predict_logits(w, b, x)[0].argmax(1) == y).mean() > 0.8


def test_search_keeps_the_best_validation_trial():
    x, y = _blobs(30, CENTERS, 2.0, 4)
    cfg = ProbeConfig(lr=0.8, epochs=20, search_trials=5, seed=1)
    _, _, chosen = fit_probe(x, y, 3, cfg)
    search = chosen["search"]
    assert len(search) == 5 and (search[0]["lr"], search[0]["weight_decay"]) == (0.8, 4e-5)
    assert all(0.08 <= s["lr"] <= 8 for s in search) and len({s["lr"] for s in search}) == 5
    best = max(range(5), key=lambda i: (search[i]["val_top1"], -i))
    assert (chosen["lr"], chosen["weight_decay"]) == (search[best]["lr"], search[best]["weight_decay"])
    assert len({s["val_top1"] for s in search}) > 1  # the trials really differ


def test_splits_and_shots_with_a_one_example_class():
    y = np.array([0] * 10 + [1] * 5 + [2])
    tr, va = stratified_split(y, 0.2, np.random.default_rng(0))
    assert 15 in tr and 15 not in va and len(set(tr) | set(va)) == 16 and not set(tr) & set(va)
    assert (y[va] == 0).sum() == 2 and (y[va] == 1).sum() == 1
    s = sample_shots(y, 4, np.random.default_rng(0))
    assert [(y[s] == c).sum() for c in range(3)] == [4, 4, 1]
    s2 = sample_shots(y, 4, np.random.default_rng(0), exclude=s)
    assert not set(s) & set(s2) and (y[s2] == 2).sum() == 0


def test_few_shot_protocol():
    x, y = _blobs(20, CENTERS, 1.2, 5)
    tx, ty = _blobs(20, CENTERS, 1.2, 6)
    res = few_shot(x, y, tx, ty, 3, shots=(1, 8), seeds=(0, 1, 2), cfg=ProbeConfig(epochs=50))
    assert list(res["shots"]) == ["1", "8"]
    one, eight = res["shots"]["1"], res["shots"]["8"]
    assert [r["n_support"] for r in one["runs"]] == [3, 3, 3] and eight["runs"][0]["n_support"] == 24
    assert one["std"] == pytest.approx(np.std([r["top1"] for r in one["runs"]]))
    assert eight["mean"] > 60
    # Different seeds draw different support sets.
    assert len({round(r["top1"], 6) for r in one["runs"]}) > 1 or one["std"] == 0
