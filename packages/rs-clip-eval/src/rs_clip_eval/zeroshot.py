"""Zero-shot classification: class prompts from templates, ensembled as in CLIP / CLIP_benchmark.

Each class embedding is the mean of its L2-normalised prompt embeddings, normalised again. Images are
classified by the largest dot product (logits = 100 * cos, as CLIP_benchmark). A prediction tie goes to
the lower class index (:mod:`.ranking`, the rule RemoteCount uses too), both for top-1 and top-K, so the
confusion matrix and the accuracies always agree.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rs_formats.wording import class_phrase

from .ranking import topk_correct

DEFAULT_TEMPLATE = "a satellite photo of {}."

# CLIP's own RESISC45 prompt set (Radford et al. 2021, prompt engineering notebook): the usual ensemble for
# aerial scenes.
RESISC45_TEMPLATES = [
    f"{kind} {what} of {art}{{}}."
    for art in ("", "a ", "the ")
    for what in ("imagery", "photo", "view")
    for kind in ("satellite", "aerial")
]

TEMPLATE_SETS: dict[str, list[str]] = {
    "default": [DEFAULT_TEMPLATE],
    "resisc45": RESISC45_TEMPLATES,
    "remote-sensing": [
        DEFAULT_TEMPLATE,
        "an aerial photo of {}.",
        "a remote sensing image of {}.",
        "satellite imagery of {}.",
        "a top-down view of {}.",
    ],
}


def resolve_templates(spec: str | Sequence[str] | None) -> list[str]:
    """A template-set name, one template, or a list of templates (``{}`` or ``{c}`` marks the class)."""
    if spec is None:
        return [DEFAULT_TEMPLATE]
    if isinstance(spec, str):
        if spec in TEMPLATE_SETS:
            return list(TEMPLATE_SETS[spec])
        spec = [spec]
    templates = [str(t) for t in spec]
    if not templates:
        raise ValueError("the template list is empty")
    for t in templates:
        if "{}" not in t and "{c}" not in t:
            raise ValueError(
                f"template {t!r} has no '{{}}' for the class name (or use a set: {', '.join(TEMPLATE_SETS)})"
            )
    return templates


def class_prompts(class_names: Sequence[str], templates: Sequence[str]) -> list[str]:
    """All prompts, class-major: ``prompts[c * len(templates) + t]``. Class names read as natural phrases
    (``storage_tank``, ``AnnualCrop`` -> "storage tank", "annual crop": rs-annotate's one rule)."""
    return [t.replace("{c}", "{}").format(class_phrase(c)) for c in class_names for t in templates]


def class_weights(prompt_emb: np.ndarray, n_classes: int) -> np.ndarray:
    """``[C, D]`` classifier from class-major prompt embeddings (template ensembling)."""
    emb = np.asarray(prompt_emb, dtype=np.float32)
    if len(emb) % n_classes:
        raise ValueError(f"{len(emb)} prompt embeddings do not split evenly into {n_classes} classes")
    emb = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    mean = emb.reshape(n_classes, len(emb) // n_classes, -1).mean(1)
    return mean / np.linalg.norm(mean, axis=1, keepdims=True)


def classification_metrics(logits: np.ndarray, labels: np.ndarray, n_classes: int) -> dict:
    """top-1, top-5 (None with fewer than 5 classes, as CLIP_benchmark), mean per-class recall, confusion."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if len(labels) == 0:
        raise ValueError("no labelled examples to classify")
    if labels.min() < 0 or labels.max() >= n_classes:
        raise ValueError(f"labels must lie in [0, {n_classes}), found {labels.min()}..{labels.max()}")
    pred = logits.argmax(1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    support = confusion.sum(1)
    present = support > 0
    recall = np.diag(confusion)[present] / support[present]
    return {
        "top1": 100.0 * float(topk_correct(logits, labels, 1).mean()),
        "top5": 100.0 * float(topk_correct(logits, labels, 5).mean()) if n_classes >= 5 else None,
        "mean_per_class_recall": 100.0 * float(recall.mean()),
        "n_images": int(len(labels)),
        "n_classes": int(n_classes),
        "confusion_matrix": confusion.tolist(),
    }


def zeroshot_metrics(image_emb: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> dict:
    """Classify normalised image embeddings with a ``[C, D]`` zero-shot classifier."""
    logits = 100.0 * np.asarray(image_emb, dtype=np.float32) @ np.asarray(weights, dtype=np.float32).T
    return classification_metrics(logits, labels, len(weights))
