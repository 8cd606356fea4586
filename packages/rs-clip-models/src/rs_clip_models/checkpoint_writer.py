"""Writing an ``rs-clip-checkpoint`` (:mod:`rs_formats.checkpoint`, the contract) from a network's state dict.

Writing needs what reading does not: the tensors (safetensors), the open_clip config of a model named only
(open_clip's registry, with rs-clip's own configs), and the model card, so it lives with the model runtime.
"""

from __future__ import annotations

import datetime as _dt
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import open_clip

from rs_formats.atomic import atomic_dir
from rs_formats.checkpoint import (
    CHECKPOINT_FORMAT,
    CHECKPOINT_VERSION,
    MANIFEST,
    MODEL_CARD,
    MODEL_CONFIG,
    WEIGHTS,
    files_under,
)
from rs_formats.hashing import file_sha256

from .configs import register_tiny_configs

if TYPE_CHECKING:  # torch is only needed by callers that hold tensors
    import torch


def write_checkpoint(
    out_dir: str | Path,
    state_dict: dict[str, torch.Tensor],
    *,
    model_name: str,
    step: int,
    config: dict[str, Any] | None = None,
    metrics: dict[str, Any] | None = None,
    dataset: dict[str, Any] | None = None,
    model_config: dict[str, Any] | None = None,
    preprocess_config: dict[str, Any] | None = None,
    extra: dict[str, str | Path] | None = None,
    extra_sha256: dict[str, str] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a checkpoint atomically: ``out_dir`` appears complete or not at all.

    ``model_config`` is the open_clip model config the network was built from (looked up by name when
    omitted; a name open_clip does not know needs it) and ``preprocess_config`` its preprocessing (mean,
    std, size, ...). ``extra`` maps names inside the checkpoint (e.g. ``"train_state"``) to files or
    directories that are moved in before the checkpoint is published; the sha256 of every file in them is
    recorded in the manifest with the weights'. ``extra_sha256`` lists files that join the checkpoint
    elsewhere (other ranks' parts of a resume state, uploaded to the same stored folder), by their path
    inside it, so that the manifest covers them too. The model card is written from the manifest
    (:func:`rs_clip_models.model_card.model_card`).
    """
    from safetensors.torch import save_file

    from rs_clip_models.model_card import model_card

    out_dir = Path(out_dir)
    # safetensors refuses tensors that share storage; a contiguous CPU copy of each is always safe.
    tensors = {k: v.detach().to("cpu").contiguous().clone() for k, v in state_dict.items()}
    if model_config is None:
        model_config = _open_clip_config(model_name)
    if model_config is None:
        raise ValueError(
            f"open_clip knows no model {model_name!r}: pass its model_config, which every checkpoint "
            "records so that every reader builds the same network"
        )
    with atomic_dir(out_dir, overwrite=overwrite) as tmp:
        save_file(tensors, str(tmp / WEIGHTS), metadata={"format": "pt", "model": model_name})
        # The Hugging Face layout open_clip reads itself: create_model_and_transforms("local-dir:<ckpt>").
        oc_config = {"model_cfg": model_config, "preprocess_cfg": preprocess_config or {}}
        (tmp / MODEL_CONFIG).write_text(json.dumps(oc_config, indent=2) + "\n")
        sums = {WEIGHTS: file_sha256(tmp / WEIGHTS)}
        for name, src in (extra or {}).items():
            shutil.move(str(src), str(tmp / name))
            sums |= {rel: file_sha256(tmp / rel) for rel in files_under(tmp, name)}
        sums |= extra_sha256 or {}
        manifest = {
            "format": CHECKPOINT_FORMAT,
            "format_version": CHECKPOINT_VERSION,
            "model": model_name,
            "open_clip_version": open_clip.__version__,
            "step": int(step),
            "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
            "dataset": dataset,
            "config": config or {},
            "metrics": metrics or {},
            "sha256": sums,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str) + "\n")
        (tmp / MODEL_CARD).write_text(
            model_card(json.loads(json.dumps(manifest, default=str)), model_config, WEIGHTS)
        )
    return out_dir


def _open_clip_config(model_name: str) -> dict[str, Any] | None:
    register_tiny_configs()
    return open_clip.get_model_config(model_name)
