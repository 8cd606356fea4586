"""open_clip's registry of model configs by name, with rs-clip's own added (``model_configs/``).

open_clip builds a network from a config it knows by name; rs-clip adds RS-Tiny (a CLIP small enough to
train for real on a CPU) and, for checkpoints of architectures open_clip lacks, the config they record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import open_clip

#: A CLIP small enough to train for real on a CPU in tests and the demo.
TINY_MODEL = "RS-Tiny"
_CONFIG_DIR = Path(__file__).with_name("model_configs")


def register_tiny_configs() -> None:
    """Make rs-clip's own model configs known to open_clip by name (idempotent)."""
    if open_clip.get_model_config(TINY_MODEL) is None:
        open_clip.add_model_config(_CONFIG_DIR)


def register_model_config(name: str, model_cfg: dict[str, Any]) -> None:
    """Teach open_clip an architecture it lacks (e.g. one read from a checkpoint's config)."""
    from open_clip import factory

    factory._MODEL_CONFIGS[name] = model_cfg  # open_clip only offers registration from files


def network_config(build: str) -> dict[str, Any]:
    """The open_clip model config ``build`` (a model name or ``local-dir:DIR``) builds."""
    register_tiny_configs()
    cfg = open_clip.get_model_config(build)
    if cfg is None:
        raise ValueError(f"unknown model {build!r}: not an open_clip model name")
    return cfg
