"""Optional retrieval evaluation at every checkpoint, when rs-clip-eval is installed.

The checkpointed weights (gathered whatever the ZeRO stage) are loaded into a fresh open_clip model on
rank 0 and scored as rs-clip-eval scores retrieval (recall@1/5/10 both ways and their mean), so the
figures in metrics.jsonl are the ones `rs-clip-eval retrieval` would report for that checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .config import ConfigError


def available() -> bool:
    try:
        import rs_clip_eval  # noqa: F401
    except ImportError:
        return False
    return True


def check(path: str, split: str) -> None:
    """Fail before training if evaluation was asked for and cannot run."""
    if not available():
        raise ConfigError("--eval-data needs rs-clip-eval (rs-clip-train's eval extra: README.md, Install)")
    from .data import open_caption_dataset

    open_caption_dataset(path, split)


def retrieval(
    state: dict[str, torch.Tensor], model_name: str, path: str | Path, split: str, device: torch.device
) -> dict[str, Any]:
    from rs_clip_eval import evaluate_retrieval
    from rs_clip_models.models import create_model, load_weights

    model, preprocess, tokenizer = create_model(model_name, device=device)
    load_weights(model, state, Path("<training state>"), model_name)
    precision = "amp_bf16" if device.type == "cuda" else "fp32"
    scores = evaluate_retrieval(
        model.eval(), preprocess, tokenizer, path, split, device=device, precision=precision
    )
    return {f"eval/{k}": v for k, v in scores.items()}
