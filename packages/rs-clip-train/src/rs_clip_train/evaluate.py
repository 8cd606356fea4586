"""Optional retrieval evaluation at every checkpoint, when rs-clip-eval is installed.

The checkpointed weights (gathered whatever the ZeRO stage) are loaded into a fresh open_clip model on
rank 0 and scored as rs-clip-eval scores retrieval (recall@1/5/10 both ways and their mean), so the
figures in metrics.jsonl are the ones `rs-clip-eval retrieval` would report for that checkpoint.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import torch

from .config import ConfigError


def available() -> bool:
    try:
        import rs_clip_eval.retrieval  # noqa: F401
    except ImportError:
        return False
    return True


def check(path: str, split: str) -> None:
    """Fail before training if evaluation was asked for and cannot run."""
    if not available():
        raise ConfigError("--eval-data needs rs-clip-eval (pip install rs-clip-eval)")
    from .data import open_caption_dataset

    open_caption_dataset(path, split)


def retrieval(state: dict[str, torch.Tensor], model_name: str, path: str | Path, split: str,
              device: torch.device) -> dict[str, Any]:
    from rs_clip_eval.retrieval import retrieval_metrics
    from rs_clip_eval.runner import captions_of
    from rs_formats import open_dataset
    from rs_formats.embed import encode_images, encode_texts
    from rs_formats.models import create_model, load_weights

    model, preprocess, tokenizer = create_model(model_name, device=device)
    load_weights(model, state, Path("<training state>"), model_name)
    model.eval()
    ds = open_dataset(path)
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda"
                else contextlib.nullcontext())
    with autocast:
        images = encode_images(model, preprocess, ds, split, num_workers=0, device=device, progress=False)
        texts, owner = captions_of(ds, split)
        captions = encode_texts(model, tokenizer, texts, device=device)
    return {f"eval/{k}": v for k, v in retrieval_metrics(images, captions, owner).items()}
