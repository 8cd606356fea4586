"""rs-clip-eval's public API for other packages: score an already-loaded model on one dataset.

Other packages (rs-clip-train's evaluation at every checkpoint, rs-count) call these functions and the
pieces exported from :mod:`rs_clip_eval` (:class:`~rs_clip_eval.embedder.Embedder`,
:class:`~rs_clip_eval.config.EvalConfig`, ...) rather than rs-clip-eval's internals, so the figures
they log are the ones ``rs-clip-eval`` itself reports.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rs_formats import Dataset, open_dataset
from rs_formats.columns import captions_of

from .config import EvalConfig
from .embedder import Embedder
from .retrieval import retrieval_metrics


def evaluate_retrieval(
    model: Any,
    preprocess: Any,
    tokenizer: Any,
    dataset: Dataset | str | Path,
    split: str = "test",
    *,
    device: Any = "cpu",
    precision: str = "fp32",
    batch_size: int = 256,
    loader_workers: int = 0,
    progress: bool = False,
) -> dict[str, float]:
    """Image-text retrieval of ``model`` on a captions split: recall@1/5/10 both ways and their mean (%)."""
    ds = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    texts, owner = captions_of(ds, split)
    cfg = EvalConfig(
        device=str(device),
        precision=precision,
        batch_size=batch_size,
        loader_workers=loader_workers,
        progress=progress,
    )
    emb = Embedder.from_model(model, preprocess, tokenizer, cfg)
    return retrieval_metrics(emb.images(ds, split), emb.texts(ds, split, texts, "captions"), owner)
