"""The paper's presets, and the layering of a run's settings: preset < ``--config`` file < flags.

The paper presets (rn50, vit-b-32, vit-l-14) continue OpenAI's CLIP weights, which OpenAI trained with
QuickGELU, so they build open_clip's ``-quickgelu`` configs (``--init`` with OpenAI's or RemoteCLIP's files
then continues the network those weights belong to; docs/zoo.md). Each trains
:data:`~rs_clip_train.config.PAPER_STEPS` = 108,215 steps, the same count for every backbone, with the
paper's learning rates and batch sizes (section IV-A-3: "The learning rate is set to 7e-5, 4e-5, and 1e-4
respectively for ResNet-50, ViT-Base-32, and ViT-Large-14 model, and the corresponding batch size is set to
256, 256, and 28. We train all models for a total step of 108,215"); ``--steps`` or ``--epochs`` sets
another length. The paper names "the Adam optimizer", "linear warm-up and cosine learning rate scheduler"
and AMP; it gives no optimiser values, so the presets take ours (docs/fidelity.md): AdamW with weight decay
0.2 (not on gains, biases, norms and the logit scale), betas (0.9, 0.98), eps 1e-6, gradient clipping at
norm 1.0 and 500 warm-up steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rs_formats.inputs import read_text

from .config import PAPER_STEPS, ConfigError, ModelConfig, OptimConfig, TrainConfig, read_yaml
from .settings import build, clear_exclusive, upgrade_keys

DEFAULT_PRESET = "vit-b-32"


def _preset(
    model: str, lr: float, batch: int, *, warmup: int, steps: int | None = PAPER_STEPS, **extra: Any
) -> TrainConfig:
    cfg = TrainConfig(
        preset="",
        model=ModelConfig(name=model),
        optim=OptimConfig(lr=lr, batch_size=batch, warmup_steps=warmup),
        steps=steps,
    )
    for key, value in extra.items():
        section, _, name = key.partition("__")
        setattr(getattr(cfg, section), name, value)
    return cfg


def _tiny() -> TrainConfig:
    from rs_clip_models.models import TINY_MODEL

    # Tuned so the demo's tiny CLIP visibly learns the synthetic scenes in 1-2 CPU minutes.
    cfg = _preset(
        TINY_MODEL,
        1e-3,
        64,
        warmup=10,
        steps=None,  # one epoch
        optim__weight_decay=0.1,
        data__loader_workers=1,
        data__prefetch_factor=2,
    )
    cfg.checkpoint_every = 100
    cfg.log_every = 5
    return cfg


#: The RemoteCLIP paper's settings (Liu, Chen et al., section IV-A-3): Adam, warm-up then cosine, AMP,
#: 108,215 steps, its learning rates and batch sizes (see the module docstring), OpenAI's QuickGELU networks.
PRESETS = {
    "rn50": lambda: _preset("RN50-quickgelu", 7e-5, 256, warmup=500),
    "vit-b-32": lambda: _preset("ViT-B-32-quickgelu", 4e-5, 256, warmup=500),
    "vit-l-14": lambda: _preset("ViT-L-14-quickgelu", 1e-4, 28, warmup=500, model__grad_checkpointing=True),
    "tiny": _tiny,
}


def preset(name: str) -> TrainConfig:
    key = name.lower()
    if key not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    cfg = PRESETS[key]()
    cfg.preset = key
    return cfg


def resolve(config: str | Path | None = None, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """A run's settings: a preset, under the settings of a ``config`` file (run.yaml, complete or
    partial), under ``overrides`` (plain data, as :func:`rs_clip_train.settings.given` returns for flags).

    The preset is the one ``overrides`` name, else the file's own ``preset`` key, else vit-b-32. Each
    layer is checked on its own, so an error or warning names the file or the command line."""
    overrides = overrides or {}
    data: dict[str, Any] = {}
    if config is not None:
        p = Path(config)
        if not p.exists():
            raise ConfigError(f"{p}: no such config file")
        data = upgrade_keys(TrainConfig, read_yaml(read_text(p), str(p)), str(p))
    name = (overrides.get("preset") or data.get("preset") or DEFAULT_PRESET).lower()
    cfg = preset(name)
    if data:
        cfg = build(
            TrainConfig, _merge(cfg.to_dict(), {**clear_exclusive(TrainConfig, data), "preset": name}), str(p)
        )
    if overrides:
        cfg = build(TrainConfig, _merge(cfg.to_dict(), {**overrides, "preset": name}), "command line")
    return cfg


def load_config(path: str | Path, preset_name: str | None = None) -> TrainConfig:
    """A run.yaml on its preset (``preset_name``, else the file's ``preset`` key, else vit-b-32)."""
    return resolve(path, {"preset": preset_name} if preset_name else None)


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out
