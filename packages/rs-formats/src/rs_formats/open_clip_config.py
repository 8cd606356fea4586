"""Checking an ``open_clip_config.json`` read from a checkpoint before any model is built from it.

open_clip builds whatever a config says: a zero or negative width fails deep inside torch, a width of
10**9 asks for exabytes, and ``timm_model_pretrained: true`` would download weights. A checkpoint's config
is input like any other, so it is checked here first and refused with the file and the key named.

Rules: the file is ``{"model_cfg": {...}, "preprocess_cfg": {...}}``; ``embed_dim`` and every size in
``vision_cfg`` / ``text_cfg`` is a positive integer (``bool`` is not an integer); a vision transformer's
``width`` divides by its ``head_width`` (default 64) and its ``patch_size`` is at most ``image_size``; a
ResNet tower (``layers`` a list) has no ``patch_size``; a text transformer's ``width`` divides by its
``heads``; towers from timm or Hugging Face are left to their libraries, but never with pretrained
weights; and the model is at most :data:`MAX_PARAMETERS` parameters by a transformer's rough count
(12 x layers x width^2, plus embeddings). ``preprocess_cfg`` may state ``mean`` / ``std`` (three
numbers, std positive) and ``size`` (a positive integer or a pair).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .errors import FormatError

#: Largest model a config may describe (2e10 parameters: 80 GB in fp32, beyond every published CLIP).
MAX_PARAMETERS = 20_000_000_000
_DEFAULT_HEAD_WIDTH = 64


class _Check:
    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, message: str) -> FormatError:
        return FormatError(self.path, f"{key}: {message}")

    def positive(self, cfg: dict[str, Any], key: str, where: str, default: Any = None) -> int:
        value = cfg.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(f"{where}.{key}", f"{value!r} is not a positive integer")
        return value

    def section(self, cfg: dict[str, Any], key: str, where: str, required: bool = True) -> dict[str, Any]:
        value = cfg.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.fail(
                f"{where}.{key}" if where else key, f"expected an object, got {type(value).__name__}"
            )
        return value


def check_open_clip_config(config: Any, path: str | Path) -> dict[str, Any]:
    """``config`` (the parsed file) if it follows the rules above; FormatError naming ``path`` and the key."""
    c = _Check(Path(path))
    if not isinstance(config, dict):
        raise FormatError(path, 'expected an object {"model_cfg": ..., "preprocess_cfg": ...}')
    model = c.section(config, "model_cfg", "")
    c.positive(model, "embed_dim", "model_cfg")
    params = _vision(c, c.section(model, "vision_cfg", "model_cfg")) + _text(
        c, c.section(model, "text_cfg", "model_cfg")
    )
    if params > MAX_PARAMETERS:
        raise c.fail(
            "model_cfg",
            f"describes a model of about {params:.2g} parameters, over the limit of "
            f"{MAX_PARAMETERS:.2g}: the sizes are impossible",
        )
    _preprocess(c, c.section(config, "preprocess_cfg", "", required=False))
    return config


def _vision(c: _Check, cfg: dict[str, Any]) -> float:
    where = "model_cfg.vision_cfg"
    size = cfg.get("image_size")
    sizes = size if isinstance(size, (list, tuple)) else [size]
    if len(sizes) not in (1, 2) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes
    ):
        raise c.fail(f"{where}.image_size", f"{size!r} is not a positive integer (or a pair of them)")
    if cfg.get("timm_model_name") is not None:
        if cfg.get("timm_model_pretrained"):
            raise c.fail(
                f"{where}.timm_model_pretrained", "true would download weights; nothing is downloaded"
            )
        return 0.0
    layers = cfg.get("layers")
    width = c.positive(cfg, "width", where)
    if isinstance(layers, (list, tuple)):  # ModifiedResNet
        if len(layers) != 4 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in layers
        ):
            raise c.fail(f"{where}.layers", f"{layers!r} is not four positive integers (a ResNet's stages)")
        if cfg.get("patch_size") is not None:
            raise c.fail(f"{where}.patch_size", "a ResNet tower (layers is a list) has no patch size")
        return 12.0 * sum(layers) * (width * 32) ** 2
    n_layers = c.positive(cfg, "layers", where)
    patch = c.positive(cfg, "patch_size", where)
    if patch > min(sizes):
        raise c.fail(f"{where}.patch_size", f"{patch} is larger than the image ({size})")
    head_width = c.positive(cfg, "head_width", where, _DEFAULT_HEAD_WIDTH)
    if width % head_width:
        raise c.fail(f"{where}.width", f"{width} is not a multiple of head_width {head_width}")
    _ratio(c, cfg, where)
    return 12.0 * n_layers * width**2 + 3.0 * patch**2 * width + math.prod(sizes) // patch**2 * width


def _text(c: _Check, cfg: dict[str, Any]) -> float:
    where = "model_cfg.text_cfg"
    if cfg.get("hf_model_name") is not None:
        return 0.0
    context = c.positive(cfg, "context_length", where)
    vocab = c.positive(cfg, "vocab_size", where)
    width = c.positive(cfg, "width", where)
    heads = c.positive(cfg, "heads", where)
    layers = c.positive(cfg, "layers", where)
    if width % heads:
        raise c.fail(f"{where}.width", f"{width} is not a multiple of heads {heads}")
    _ratio(c, cfg, where)
    return 12.0 * layers * width**2 + (vocab + context) * width


def _ratio(c: _Check, cfg: dict[str, Any], where: str) -> None:
    ratio = cfg.get("mlp_ratio", 4.0)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 64:
        raise c.fail(f"{where}.mlp_ratio", f"{ratio!r} is not a number in (0, 64]")


def _preprocess(c: _Check, cfg: dict[str, Any]) -> None:
    for key in ("mean", "std"):
        value = cfg.get(key)
        if value is None:
            continue
        ok = (
            isinstance(value, (list, tuple))
            and len(value) == 3
            and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value
            )
        )
        if not ok or (key == "std" and min(value) <= 0):
            raise c.fail(
                f"preprocess_cfg.{key}",
                f"{value!r} is not three finite numbers" + (" above zero" if key == "std" else ""),
            )
    size = cfg.get("size")
    if size is not None:
        sizes = size if isinstance(size, (list, tuple)) else [size]
        if len(sizes) not in (1, 2) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sizes
        ):
            raise c.fail("preprocess_cfg.size", f"{size!r} is not a positive integer (or a pair of them)")
