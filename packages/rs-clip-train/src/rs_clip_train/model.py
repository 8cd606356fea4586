"""The CLIP being trained: created and initialised through rs_formats, adapted to DeepSpeed and back.

DeepSpeed cannot partition or flatten a 0-dim parameter, and open_clip's ``logit_scale`` is one; it is
reshaped to [1] while training and back to 0-dim on export, so checkpoints stay plain open_clip.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .config import ModelConfig
from .loss import MAX_LOGIT_SCALE


@dataclass
class ModelBundle:
    model: nn.Module
    name: str
    #: open_clip's model config (what goes into open_clip_config.json of every checkpoint).
    model_cfg: dict[str, Any]
    #: image size, mean, std, interpolation (the model's own inference preprocessing).
    preprocess_cfg: dict[str, Any]
    tokenizer: Any


def build_model(cfg: ModelConfig) -> ModelBundle:
    """Create the model named by ``cfg`` (or stored in a checkpoint) and load ``cfg.init`` if given.

    ``model_cfg`` is the exact open_clip config the network was built from (a checkpoint's recorded one,
    activation included), which every checkpoint of the run records in turn."""
    from rs_clip_models.models import create_model, network_of

    model, _, tokenizer = create_model(cfg.name, weights=cfg.init)
    name, _, model_cfg = network_of(cfg.name)
    preprocess_cfg = dict(getattr(model.visual, "preprocess_cfg", {}) or {})
    model.train()
    if cfg.grad_checkpointing:
        model.set_grad_checkpointing(True)
    return ModelBundle(model, name, model_cfg, preprocess_cfg, tokenizer)


def open_clip_name(name_or_checkpoint: str) -> str:
    """The open_clip model name, also when the model is given as an rs-clip-checkpoint directory."""
    from pathlib import Path

    if Path(name_or_checkpoint).is_dir():
        from rs_formats import read_checkpoint

        return read_checkpoint(name_or_checkpoint).model_name
    return name_or_checkpoint


def to_engine_layout(model: nn.Module) -> set[str]:
    """Give 0-dim parameters shape [1] (DeepSpeed's flattening and ZeRO partitioning need >= 1 dim).

    Returns their names, for :func:`export_state_dict` to restore.
    """
    scalars = set()
    for mname, module in model.named_modules():
        for pname, param in list(module.named_parameters(recurse=False)):
            if param.dim() == 0:
                setattr(
                    module, pname, nn.Parameter(param.detach().reshape(1), requires_grad=param.requires_grad)
                )
                scalars.add(f"{mname}.{pname}" if mname else pname)
    return scalars


def export_state_dict(model: nn.Module, scalars: set[str]) -> dict[str, torch.Tensor]:
    """open_clip's own state_dict (0-dim scalars, logit_scale clamped as used) as CPU tensors."""
    state = {k: v.detach().to("cpu") for k, v in model.state_dict().items()}
    for name in scalars:
        state[name] = state[name].reshape(())
    if "logit_scale" in state:
        # The loss clamps the scale in the forward pass; store the value the model actually used.
        state["logit_scale"] = state["logit_scale"].clamp(max=MAX_LOGIT_SCALE)
    return state


def param_groups(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """open_clip's rule: no weight decay on gains, biases, norms, embeddings' scale and logit_scale."""
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        exclude = param.ndim < 2 or "bn" in name or "ln" in name or "bias" in name or "logit_scale" in name
        (no_decay if exclude else decay).append(param)
    return [
        {"params": no_decay, "weight_decay": 0.0},
        {"params": decay, "weight_decay": weight_decay},
    ]
