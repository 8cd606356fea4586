"""Scoring a CLIP model on a counting dataset, through rs-clip-eval's embedding machinery.

For every image the model compares the image embedding with the ten captions of its class (counts
1..10); the best-scoring caption is its answer. Captions depend only on (class, count), so each
distinct class's ten captions are encoded once, not once per image: 13 classes x 10 counts = 130 text
embeddings per caption variant, however many images there are.

Embedding is :class:`rs_clip_eval.Embedder`'s: device, ``precision`` (open_clip's names, autocast),
batching and loader processes come from one :class:`rs_clip_eval.EvalConfig`, and with an
:class:`rs_clip_eval.EmbeddingCache` a model given as a ``--model`` spec is embedded once per dataset
(images and caption sets alike) and loaded only on a cache miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rs_clip_eval import Embedder, EmbeddingCache, EvalConfig
from rs_clip_models.spec import ModelSpec
from rs_formats import Dataset, FormatError, open_dataset

from .captions import COUNTS, DEFAULT, VARIANTS, CaptionTemplate
from .classes import REMOTECOUNT_CLASSES
from .metrics import CountMetrics, count_metrics


@dataclass
class CountResult:
    model: str
    variant: str
    dataset: str
    metrics: CountMetrics
    template: str
    image_ids: list[str] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    # What was scored, for the long-format results table: the --model spec and weights' fingerprint (empty
    # for a model handed over in memory), the split and the dataset's manifest sha256.
    model_spec: str = ""
    fingerprint: str = ""
    split: str = ""
    dataset_sha256: str = ""

    @property
    def top1(self) -> float:
        return self.metrics.top1

    def to_dict(self, per_image: bool = True) -> dict[str, Any]:
        m = asdict(self.metrics)
        predicted = m.pop("predicted")
        d: dict[str, Any] = {
            "model": self.model,
            "variant": self.variant,
            "dataset": self.dataset,
            "split": self.split,
            "dataset_sha256": self.dataset_sha256,
            "model_spec": self.model_spec,
            "fingerprint": self.fingerprint,
            "template": self.template,
            **m,
        }
        d["topk"] = {f"top{k}": v for k, v in enumerate(self.metrics.topk, start=1)}
        d["per_count"] = {str(k): v for k, v in self.metrics.per_count.items()}
        if per_image:
            d["images"] = [
                {"image_id": i, "class": c, "count": n, "predicted": p}
                for i, c, n, p in zip(self.image_ids, self.classes, self.counts, predicted)
            ]
        return d


@dataclass(frozen=True)
class CountData:
    """The labels of a counting split, validated, in row order."""

    dataset: Dataset
    split: str
    image_ids: list[str]
    counts: np.ndarray
    classes: list[str]


def load_counting(dataset: Dataset | str | Path, split: str | None = None) -> CountData:
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    manifest = ds.path / "manifest.json"
    if ds.kind != "counting":
        raise FormatError(
            manifest, f"is a {ds.kind!r} dataset; rs-count needs kind 'counting' (rs-count build)"
        )
    if split is None:
        split = "test" if "test" in ds.splits else (ds.splits[0] if len(ds.splits) == 1 else None)
        if split is None:
            raise FormatError(manifest, f"has several splits {ds.splits}; choose one (--split)")
    table = ds.read_table(split, columns=["image_id", "count", "count_label"])
    ids = table.column("image_id").to_pylist()
    counts = table.column("count").to_pylist()
    classes = table.column("count_label").to_pylist()
    for iid, n, c in zip(ids, counts, classes):
        if n is None or not 1 <= n <= 10:
            raise FormatError(manifest, f"image {iid!r} has count {n!r}, outside RemoteCount's 1..10")
        if not c:
            raise FormatError(manifest, f"image {iid!r} has no count_label (the class being counted)")
        if c not in REMOTECOUNT_CLASSES:  # what build and import write; captions exist for no other
            raise FormatError(
                manifest,
                f"image {iid!r} counts {c!r}, not one of RemoteCount's classes ({', '.join(REMOTECOUNT_CLASSES)})",
            )
    if not ids:
        raise FormatError(manifest, f"split {split!r} is empty")
    return CountData(ds, split, ids, np.asarray(counts, dtype=np.int64), classes)


def score_matrix(image_emb: np.ndarray, text_emb: np.ndarray, class_index: Sequence[int]) -> np.ndarray:
    """``[N, 10]``: image i against the ten captions of its class (``text_emb`` is ``[C, 10, D]``)."""
    return np.einsum("nd,nkd->nk", image_emb, text_emb[np.asarray(class_index)])


def _check_variants(variants: Sequence[str]) -> None:
    for v in variants:
        if v not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {v!r}")


def evaluate_embedder(
    embedder: Embedder,
    dataset: Dataset | str | Path,
    *,
    variants: Sequence[str] = VARIANTS,
    template: CaptionTemplate = DEFAULT,
    split: str | None = None,
) -> list[CountResult]:
    """RemoteCount through an embedder of rs-clip-eval (its cache and device included).

    Args:
        embedder: what embeds the images and the candidate captions.
        dataset: a counting rs-dataset (or its path).
        variants: caption number styles, ``"words"`` and/or ``"digits"``.
        template: the caption template.
        split: the split to evaluate (default: ``test``, or the dataset's only split).

    Returns:
        One :class:`CountResult` per variant; the images are embedded once for all of them.
    """
    _check_variants(variants)
    data = load_counting(dataset, split)
    with embedder.for_task("RemoteCount"):
        return _evaluate(embedder, data, variants, template)


def _evaluate(
    embedder: Embedder, data: CountData, variants: Sequence[str], template: CaptionTemplate
) -> list[CountResult]:
    img = embedder.images(data.dataset, data.split)
    distinct = sorted(set(data.classes))
    class_index = [distinct.index(c) for c in data.classes]
    results = []
    scored = {
        "model_spec": embedder.spec.text if embedder.spec is not None else "",
        "fingerprint": embedder.fingerprint or "",
        "split": data.split,
        "dataset_sha256": data.dataset.manifest_sha256(),
    }
    for variant in variants:
        texts = [t for cls in distinct for t in template.candidates(cls, variant)]
        text = embedder.texts(data.dataset, data.split, texts, f"count-captions-{variant}")
        scores = score_matrix(img, text.reshape(len(distinct), len(COUNTS), -1), class_index)
        results.append(
            CountResult(
                embedder.label,
                variant,
                data.dataset.name,
                count_metrics(scores, data.counts, data.classes),
                template.text,
                data.image_ids,
                data.counts.tolist(),
                data.classes,
                **scored,
            )
        )
    return results


def evaluate_variants(
    model: Any,
    preprocess: Any,
    tokenizer: Any,
    dataset: Dataset | str | Path,
    *,
    variants: Sequence[str] = VARIANTS,
    template: CaptionTemplate = DEFAULT,
    config: EvalConfig | None = None,
    split: str | None = None,
    model_name: str = "model",
) -> list[CountResult]:
    """RemoteCount for a model already in memory, every variant; nothing is cached.

    Args:
        model: an open_clip CLIP model.
        preprocess: its image preprocessing (a PIL image to a tensor).
        tokenizer: its tokenizer.
        dataset: a counting rs-dataset (or its path).
        variants: caption number styles, ``"words"`` and/or ``"digits"``.
        template: the caption template.
        config: device, precision and batch size (None: the device the model's parameters are on).
        split: the split to evaluate (default: ``test``, or the dataset's only split).
        model_name: the model's name in the results.

    Returns:
        One :class:`CountResult` per variant.
    """
    emb = Embedder.from_model(model, preprocess, tokenizer, config, label=model_name)
    return evaluate_embedder(emb, dataset, variants=variants, template=template, split=split)


def evaluate(
    model: Any,
    preprocess: Any,
    tokenizer: Any,
    dataset: Dataset | str | Path,
    *,
    variant: str = "words",
    template: CaptionTemplate = DEFAULT,
    config: EvalConfig | None = None,
    split: str | None = None,
    model_name: str = "model",
) -> CountResult:
    """RemoteCount for one model and one caption variant: :func:`evaluate_variants` with ``variant``
    (``"words"`` or ``"digits"``) alone; the other arguments are its.

    Returns:
        The variant's :class:`CountResult`.
    """
    return evaluate_variants(
        model,
        preprocess,
        tokenizer,
        dataset,
        variants=(variant,),
        template=template,
        config=config,
        split=split,
        model_name=model_name,
    )[0]


def evaluate_model(
    spec: str | ModelSpec,
    dataset: Dataset | str | Path,
    *,
    variants: Sequence[str] = ("words",),
    template: CaptionTemplate = DEFAULT,
    config: EvalConfig | None = None,
    cache: EmbeddingCache | None = None,
    split: str | None = None,
) -> list[CountResult]:
    """RemoteCount for a ``--model`` spec (:class:`rs_clip_models.spec.ModelSpec`), every variant.

    With a ``cache`` the embeddings are stored under the weights' fingerprint and the model is loaded only
    when something is missing; a bad dataset fails before any model is loaded.

    Args:
        spec: the model, as ``--model`` names it (a checkpoint, an open_clip folder, ``NAME:WEIGHTS``, ...).
        dataset: a counting rs-dataset (or its path).
        variants: caption number styles, ``"words"`` and/or ``"digits"``.
        template: the caption template.
        config: device, precision and batch size.
        cache: the embedding cache (None: nothing cached).
        split: the split to evaluate (default: ``test``, or the dataset's only split).

    Returns:
        One :class:`CountResult` per variant.
    """
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    data = load_counting(dataset, split)
    emb = Embedder(spec, cache, config)
    try:
        return evaluate_embedder(emb, data.dataset, variants=variants, template=template, split=data.split)
    finally:
        emb.release()
