"""Zero-shot metrics against scikit-learn, hand-made cases and CLIP_benchmark on the same embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import balanced_accuracy_score, confusion_matrix, top_k_accuracy_score

from rs_clip_eval.zeroshot import (
    RESISC45_TEMPLATES,
    class_prompts,
    class_weights,
    classification_metrics,
    resolve_templates,
    zeroshot_metrics,
)


def _norm(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_metrics_match_sklearn_with_a_one_example_class():
    rng = np.random.default_rng(0)
    labels = np.array([0] * 20 + [1] * 15 + [2] * 10 + [3] * 1 + [4] * 6 + [5] * 8)
    logits = rng.normal(size=(len(labels), 6)) + 1.5 * np.eye(6)[labels]
    got = classification_metrics(logits, labels, 6)
    assert got["top1"] == pytest.approx(100 * (logits.argmax(1) == labels).mean())
    assert got["top5"] == pytest.approx(100 * top_k_accuracy_score(labels, logits, k=5, labels=range(6)))
    assert got["mean_per_class_recall"] == pytest.approx(
        100 * balanced_accuracy_score(labels, logits.argmax(1))
    )
    assert got["confusion_matrix"] == confusion_matrix(labels, logits.argmax(1), labels=range(6)).tolist()


def test_class_absent_from_test_and_few_classes():
    labels = np.array([0, 0, 1])
    logits = np.array([[2.0, 1, 0], [0, 1, 0], [0, 3, 0]])  # class 2 never occurs; one image predicted wrong
    got = classification_metrics(logits, labels, 3)
    assert got["top5"] is None  # fewer than 5 classes, as CLIP_benchmark
    assert got["mean_per_class_recall"] == pytest.approx(100 * (0.5 + 1.0) / 2)
    assert got["confusion_matrix"] == [[1, 1, 0], [0, 1, 0], [0, 0, 0]]


def test_prediction_ties_go_to_the_lower_class_everywhere():
    logits = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]])
    got = classification_metrics(logits, np.array([0, 1]), 3)
    assert got["top1"] == 50.0 and got["confusion_matrix"][1] == [1, 0, 0]


def test_templates_and_ensembling():
    assert resolve_templates(None) == ["a satellite photo of {}."]
    assert len(resolve_templates("resisc45")) == 18 and "aerial view of the {}." in RESISC45_TEMPLATES
    assert resolve_templates(["a {c} seen from above"]) == ["a {c} seen from above"]
    with pytest.raises(ValueError, match="no '\\{\\}'"):
        resolve_templates(["no placeholder"])
    prompts = class_prompts(["storage_tank", "dense-residential"], ["a {}.", "b {c}."])
    assert prompts == ["a storage tank.", "b storage tank.", "a dense residential.", "b dense residential."]
    # rs-annotate's class-name rule, the one every package uses: EuroSAT's folder names read as words too.
    assert class_prompts(["AnnualCrop", "SeaLake"], ["a {}."]) == ["a annual crop.", "a sea lake."]
    emb = np.array([[2, 0], [0, 1], [0, 3], [0, 1]], dtype=np.float32)
    w = class_weights(emb, 2)
    assert np.allclose(w, [[np.sqrt(0.5), np.sqrt(0.5)], [0, 1]])


class _Loader(list):
    """A list of batches that also exposes .dataset.classes, as CLIP_benchmark expects."""


def test_identical_to_clip_benchmark(monkeypatch, embedding_model):
    import builtins

    from clip_benchmark.metrics import zeroshot_classification

    # clip-benchmark 1.6.2's accuracy() calls float() on a 1-element array, an error under NumPy 2; give its
    # module a float() that accepts one, and leave the rest of its code as it is.
    monkeypatch.setattr(
        zeroshot_classification, "float", lambda v: builtins.float(np.asarray(v).reshape(())), raising=False
    )

    rng = np.random.default_rng(3)
    classes = ["plane", "ship", "harbor", "bridge", "forest", "river", "farmland"]
    templates = ["a satellite photo of {c}.", "an aerial view of the {c}.", "{c} from above."]
    prompts = class_prompts(classes, templates)
    prompt_emb = _norm(rng.normal(size=(len(prompts), 24))).astype(np.float32)
    weights = class_weights(prompt_emb, len(classes))
    labels = rng.integers(0, len(classes), size=90)
    images = _norm(weights[labels] + 0.35 * rng.normal(size=(90, 24))).astype(np.float32)

    index = {p: i for i, p in enumerate(prompts)}

    def tokenizer(texts):
        return torch.tensor([index[t] for t in texts])

    loader = _Loader(
        (torch.from_numpy(images[s : s + 32]), torch.from_numpy(labels[s : s + 32])) for s in range(0, 90, 32)
    )
    loader.dataset = type("D", (), {"classes": classes})()
    theirs = zeroshot_classification.evaluate(
        embedding_model(prompt_emb), loader, tokenizer, classes, templates, "cpu", amp=False
    )
    ours = zeroshot_metrics(images, labels, weights)
    assert round(ours["top1"] * 90 / 100) == round(theirs["acc1"] * 90)
    assert ours["top1"] == pytest.approx(100 * theirs["acc1"])
    assert ours["top5"] == pytest.approx(100 * theirs["acc5"])
    assert ours["mean_per_class_recall"] == pytest.approx(100 * theirs["mean_per_class_recall"])
    assert 20 < ours["top1"] < 100
