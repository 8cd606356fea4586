"""Scoring a CLIP model on a counting dataset.

For every image the model compares the image embedding with the ten captions of its class (counts
1..10); the best-scoring caption is its answer. Captions depend only on (class, count), so each
distinct class's ten captions are encoded once, not once per image: 13 classes x 10 counts = 130 text
embeddings per caption variant, however many images there are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rs_formats import Dataset, FormatError, open_dataset
from rs_formats.spec import ModelSpec

from .captions import DEFAULT, VARIANTS, CaptionTemplate
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

    @property
    def top1(self) -> float:
        return self.metrics.top1

    def to_dict(self, per_image: bool = True) -> dict[str, Any]:
        m = asdict(self.metrics)
        predicted = m.pop("predicted")
        d: dict[str, Any] = {"model": self.model, "variant": self.variant, "dataset": self.dataset,
                             "template": self.template, **m}
        d["topk"] = {f"top{k}": v for k, v in enumerate(self.metrics.topk, start=1)}
        d["per_count"] = {str(k): v for k, v in self.metrics.per_count.items()}
        if per_image:
            d["images"] = [{"image_id": i, "class": c, "count": n, "predicted": p}
                           for i, c, n, p in zip(self.image_ids, self.classes, self.counts, predicted)]
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
        raise FormatError(manifest, f"is a {ds.kind!r} dataset; rs-count needs kind 'counting' (rs-count build)")
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
    if not ids:
        raise FormatError(manifest, f"split {split!r} is empty")
    return CountData(ds, split, ids, np.asarray(counts, dtype=np.int64), classes)


def score_matrix(image_emb: np.ndarray, text_emb: np.ndarray, class_index: Sequence[int]) -> np.ndarray:
    """``[N, 10]``: image i against the ten captions of its class (``text_emb`` is ``[C, 10, D]``)."""
    return np.einsum("nd,nkd->nk", image_emb, text_emb[np.asarray(class_index)])


def _text_embeddings(model, tokenizer, classes: list[str], template: CaptionTemplate, variant: str, device,
                     batch_size: int) -> np.ndarray:
    from rs_formats.embed import encode_texts

    texts = [t for cls in classes for t in template.candidates(cls, variant)]
    emb = encode_texts(model, tokenizer, texts, batch_size=batch_size, device=device)
    return emb.reshape(len(classes), 10, -1)


def evaluate_variants(model, preprocess, tokenizer, dataset: Dataset | str | Path, *,
                      variants: Sequence[str] = VARIANTS, template: CaptionTemplate = DEFAULT,
                      device: str = "cpu", batch_size: int = 256, num_workers: int = 2, split: str | None = None,
                      model_name: str = "model", progress: bool = True) -> list[CountResult]:
    """One :class:`CountResult` per caption variant; the images are embedded only once for all of them."""
    from rs_formats.embed import encode_images

    for v in variants:
        if v not in VARIANTS:
            raise ValueError(f"variant must be one of {VARIANTS}, got {v!r}")
    data = load_counting(dataset, split)
    img = encode_images(model, preprocess, data.dataset, data.split, batch_size=batch_size,
                        num_workers=num_workers, device=device, progress=progress)
    distinct = sorted(set(data.classes))
    class_index = [distinct.index(c) for c in data.classes]
    results = []
    for variant in variants:
        text = _text_embeddings(model, tokenizer, distinct, template, variant, device, batch_size)
        scores = score_matrix(img, text, class_index)
        results.append(CountResult(model_name, variant, data.dataset.name,
                                   count_metrics(scores, data.counts, data.classes), template.text,
                                   data.image_ids, data.counts.tolist(), data.classes))
    return results


def evaluate(model, preprocess, tokenizer, dataset: Dataset | str | Path, *, variant: str = "words",
             template: CaptionTemplate = DEFAULT, device: str = "cpu", batch_size: int = 256, num_workers: int = 2,
             split: str | None = None, model_name: str = "model", progress: bool = True) -> CountResult:
    """RemoteCount for one model and one caption variant ("words" or "digits")."""
    return evaluate_variants(model, preprocess, tokenizer, dataset, variants=(variant,), template=template,
                             device=device, batch_size=batch_size, num_workers=num_workers, split=split,
                             model_name=model_name, progress=progress)[0]


def evaluate_model(spec: str | ModelSpec, dataset: Dataset | str | Path, *, variants: Sequence[str] = ("words",),
                   template: CaptionTemplate = DEFAULT, device: str = "cpu", batch_size: int = 256,
                   num_workers: int = 2, split: str | None = None, progress: bool = True) -> list[CountResult]:
    """Load a model from a ``--model`` spec (:class:`rs_formats.spec.ModelSpec`) and evaluate every variant."""
    spec = spec if isinstance(spec, ModelSpec) else ModelSpec.parse(spec)
    data = load_counting(dataset, split)  # fail on a bad dataset before loading a model
    model, preprocess, tokenizer = spec.load(device)
    return evaluate_variants(model, preprocess, tokenizer, data.dataset, variants=variants, template=template,
                             device=device, batch_size=batch_size, num_workers=num_workers, split=data.split,
                             model_name=spec.label, progress=progress)
