"""Checking an ``open_clip_config.json`` read from a checkpoint before any model is built from it.

open_clip builds whatever a config says: a zero or negative width fails deep inside torch, a width of
10**9 asks for exabytes, and ``timm_model_pretrained: true`` would download weights. A checkpoint's config
is input like any other, so it is checked here first and refused with the file and the key named.

Rules: the file is ``{"model_cfg": {...}, "preprocess_cfg": {...}}``; ``embed_dim`` and every size in
``vision_cfg`` / ``text_cfg`` is a positive integer (``bool`` is not an integer); a vision transformer's
``width`` divides by its ``head_width`` (default 64) and its ``patch_size`` is at most ``image_size``; a
ResNet tower (``layers`` a list) has no ``patch_size``; a text transformer's ``width`` divides by its
``heads``; image sizes are at most :data:`MAX_IMAGE_SIDE`; towers from timm or Hugging Face are left to
their libraries, but never with pretrained timm weights, never a timm ``hf-hub:`` name or a name timm does
not know, and never a Hugging Face ``hf_model_name`` / ``hf_tokenizer_name`` that is not a local folder or
already in the local Hugging Face cache (building would download it); and the model is at most
:data:`MAX_PARAMETERS` by a rough count of what building it allocates: a transformer's 12 x layers x
width^2, the embeddings, the ``embed_dim`` projections of both towers, and the text tower's
context_length^2 causal mask. ``preprocess_cfg`` may state ``mean`` / ``std`` (three numbers, mean in
[0, 1], std in (0, 1]), ``size`` (a positive integer or a pair, at most :data:`MAX_IMAGE_SIDE`),
``mode`` (RGB), ``interpolation`` / ``resize_mode`` (open_clip's choices) and ``fill_color`` (0..255).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .errors import FormatError

#: Largest model a config may describe (2e10 parameters: 80 GB in fp32, beyond every published CLIP).
MAX_PARAMETERS = 20_000_000_000
_DEFAULT_HEAD_WIDTH = 64
#: Largest image side a config may state (the side of :data:`rs_formats.pixel_limits.MAX_ROW_PIXELS`).
MAX_IMAGE_SIDE = 8192
#: Width assumed for a timm or Hugging Face tower in the size count (their own sizes are their libraries').
_LIBRARY_TOWER_WIDTH = 256
#: open_clip's ``image_transform`` choices (open_clip/transform.py).
INTERPOLATIONS = ("bicubic", "bilinear", "random")
RESIZE_MODES = ("shortest", "longest", "squash")


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
    embed_dim = c.positive(model, "embed_dim", "model_cfg")
    vision, vision_width = _vision(c, c.section(model, "vision_cfg", "model_cfg"))
    text, text_width = _text(c, c.section(model, "text_cfg", "model_cfg"))
    params = vision + text + float(embed_dim) * (vision_width + text_width)
    if params > MAX_PARAMETERS:
        raise c.fail(
            "model_cfg",
            f"describes a model of about {params:.2g} parameters, over the limit of "
            f"{MAX_PARAMETERS:.2g}: the sizes are impossible",
        )
    _preprocess(c, c.section(config, "preprocess_cfg", "", required=False))
    return config


def _sizes(c: _Check, size: Any, key: str) -> list[int]:
    sizes = size if isinstance(size, (list, tuple)) else [size]
    if len(sizes) not in (1, 2) or not all(
        isinstance(s, int) and not isinstance(s, bool) and 0 < s <= MAX_IMAGE_SIDE for s in sizes
    ):
        raise c.fail(key, f"{size!r} is not a positive integer up to {MAX_IMAGE_SIDE} (or a pair of them)")
    return list(sizes)


def _vision(c: _Check, cfg: dict[str, Any]) -> tuple[float, int]:
    """The vision tower's rough size and its output width."""
    where = "model_cfg.vision_cfg"
    size = cfg.get("image_size")
    sizes = _sizes(c, size, f"{where}.image_size")
    timm_name = cfg.get("timm_model_name")
    if timm_name is not None:
        if cfg.get("timm_model_pretrained"):
            raise c.fail(
                f"{where}.timm_model_pretrained", "true would download weights; nothing is downloaded"
            )
        _timm_name(c, timm_name, f"{where}.timm_model_name")
        return 0.0, _LIBRARY_TOWER_WIDTH
    layers = cfg.get("layers")
    width = c.positive(cfg, "width", where)
    if isinstance(layers, (list, tuple)):  # ModifiedResNet
        if len(layers) != 4 or not all(
            isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in layers
        ):
            raise c.fail(f"{where}.layers", f"{layers!r} is not four positive integers (a ResNet's stages)")
        if cfg.get("patch_size") is not None:
            raise c.fail(f"{where}.patch_size", "a ResNet tower (layers is a list) has no patch size")
        return 12.0 * sum(layers) * (width * 32) ** 2, width * 32
    n_layers = c.positive(cfg, "layers", where)
    patch = c.positive(cfg, "patch_size", where)
    if patch > min(sizes):
        raise c.fail(f"{where}.patch_size", f"{patch} is larger than the image ({size})")
    head_width = c.positive(cfg, "head_width", where, _DEFAULT_HEAD_WIDTH)
    if width % head_width:
        raise c.fail(f"{where}.width", f"{width} is not a multiple of head_width {head_width}")
    _ratio(c, cfg, where)
    return 12.0 * n_layers * width**2 + 3.0 * patch**2 * width + math.prod(sizes) // patch**2 * width, width


def _timm_name(c: _Check, name: Any, key: str) -> None:
    if not isinstance(name, str) or not name:
        raise c.fail(key, f"{name!r} is not a model name")
    if name.startswith(("hf-hub:", "hf_hub:")):
        raise c.fail(key, f"{name!r} would be fetched from the Hugging Face Hub; nothing is downloaded")
    try:
        import timm
    except ImportError:
        return  # open_clip cannot build a timm tower without timm: its own error says so
    if not timm.is_model(name):
        raise c.fail(key, f"timm knows no model {name!r}")


def _hf_name(c: _Check, name: Any, key: str, files: tuple[str, ...]) -> None:
    """A Hugging Face name open_clip would hand to ``from_pretrained``: a local folder, or a repository
    whose ``files`` are all in the local cache; anything else would be downloaded."""
    if not isinstance(name, str) or not name:
        raise c.fail(key, f"{name!r} is not a model name")
    if Path(name).expanduser().is_dir():
        return
    try:
        from huggingface_hub import try_to_load_from_cache

        cached = all(isinstance(try_to_load_from_cache(name, f), str) for f in files)
    except Exception:  # noqa: BLE001 - an invalid repository name, or no huggingface_hub: not usable
        cached = False
    if not cached:
        raise c.fail(
            key,
            f"{name!r} is neither a local folder nor in the local Hugging Face cache: building the model "
            "would download it; nothing is downloaded",
        )


def _text(c: _Check, cfg: dict[str, Any]) -> tuple[float, int]:
    """The text tower's rough size (its causal mask included) and its output width."""
    where = "model_cfg.text_cfg"
    hf_name = cfg.get("hf_model_name")
    if hf_name is not None:
        pretrained = cfg.get("hf_model_pretrained", True)
        files = ("config.json",) + (("model.safetensors",) if pretrained else ())
        _hf_name(c, hf_name, f"{where}.hf_model_name", files)
        if cfg.get("hf_tokenizer_name") is not None:
            _hf_name(c, cfg["hf_tokenizer_name"], f"{where}.hf_tokenizer_name", ("tokenizer_config.json",))
        return 0.0, _LIBRARY_TOWER_WIDTH
    context = c.positive(cfg, "context_length", where)
    vocab = c.positive(cfg, "vocab_size", where)
    width = c.positive(cfg, "width", where)
    heads = c.positive(cfg, "heads", where)
    layers = c.positive(cfg, "layers", where)
    if width % heads:
        raise c.fail(f"{where}.width", f"{width} is not a multiple of heads {heads}")
    _ratio(c, cfg, where)
    return 12.0 * layers * width**2 + (vocab + context) * width + float(context) ** 2, width


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
        low, high = (0.0, 1.0)
        if not ok or not all(low <= v <= high for v in value) or (key == "std" and min(value) <= 0):
            raise c.fail(
                f"preprocess_cfg.{key}",
                f"{_short(value)} is not three numbers in " + ("(0, 1]" if key == "std" else "[0, 1]"),
            )
    if cfg.get("size") is not None:
        _sizes(c, cfg["size"], "preprocess_cfg.size")
    for key, allowed in (
        ("mode", ("RGB",)),
        ("interpolation", INTERPOLATIONS),
        ("resize_mode", RESIZE_MODES),
    ):
        if cfg.get(key) is not None and cfg[key] not in allowed:
            raise c.fail(f"preprocess_cfg.{key}", f"{_short(cfg[key])} is not one of {', '.join(allowed)}")
    fill = cfg.get("fill_color")
    if fill is not None and (isinstance(fill, bool) or not isinstance(fill, int) or not 0 <= fill <= 255):
        raise c.fail("preprocess_cfg.fill_color", f"{_short(fill)} is not an integer in 0..255")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
