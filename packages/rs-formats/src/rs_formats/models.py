"""Loading CLIP models from local files only: rs-clip checkpoints, open_clip files, RemoteCLIP-style ``.pt``.

Needs the ``torch`` extra (torch, open_clip_torch, safetensors). Nothing here ever reaches a model hub:
a missing file is an error, never a download.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import open_clip
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from .checkpoint import PICKLE_SUFFIXES, check_safetensors, read_checkpoint
from .errors import FormatError
from .inputs import check_regular

#: A CLIP small enough to train for real on a CPU in tests and the demo (about 0.03 s a step).
TINY_MODEL = "RS-Tiny"
_CONFIG_DIR = Path(__file__).with_name("model_configs")
_WRAPPERS = ("state_dict", "model", "module", "model_state_dict")


def register_tiny_configs() -> None:
    """Make rs-clip's own model configs known to open_clip by name (idempotent)."""
    if open_clip.get_model_config(TINY_MODEL) is None:
        open_clip.add_model_config(_CONFIG_DIR)


def register_model_config(name: str, model_cfg: dict[str, Any]) -> None:
    """Teach open_clip an architecture it lacks (e.g. one read from a checkpoint's config)."""
    from open_clip import factory

    factory._MODEL_CONFIGS[name] = model_cfg  # open_clip only offers registration from files


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read weights from a local file or rs-clip checkpoint, never unpickling arbitrary objects.

    Accepts ``.safetensors``, an rs-clip-checkpoint directory, or a torch file (``.pt``, ``.pth``,
    ``.bin``) read with ``weights_only=True``. Wrappers such as ``{"state_dict": ...}`` and DDP's
    ``module.`` prefixes (as in RemoteCLIP's released weights) are removed.
    """
    path = Path(path)
    if path.is_dir():
        path = read_checkpoint(path).weights
    if not path.exists():
        raise FormatError(path, "no such weights file (nothing is downloaded: give a local path)")
    check_regular(path)
    if path.suffix == ".safetensors":
        check_safetensors(path)
        try:
            obj: Any = load_file(str(path))
        except (SafetensorError, OSError) as exc:
            raise FormatError(path, f"unreadable safetensors file: {exc}") from None
    elif path.suffix in PICKLE_SUFFIXES:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            raise FormatError(
                path,
                "holds Python objects beyond tensors; refusing to unpickle it (weights_only=True). "
                f"Re-save it as a plain state_dict or safetensors. ({str(exc).splitlines()[0]})",
            ) from None
        except (RuntimeError, EOFError, OSError) as exc:
            raise FormatError(path, f"not a readable torch file (truncated or corrupt?): {exc}") from None
    else:
        raise FormatError(path, f"unknown weights format {path.suffix!r} (expected .safetensors, .pt, .pth, .bin)")
    return _unwrap(obj, path)


def _unwrap(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    while isinstance(obj, dict):
        inner = next((obj[k] for k in _WRAPPERS if isinstance(obj.get(k), dict)), None)
        if inner is None:
            break
        obj = inner
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise FormatError(path, "does not hold a state_dict (a mapping of names to tensors)")
    prefix = "module."
    if all(k.startswith(prefix) for k in obj):
        obj = {k[len(prefix):]: v for k, v in obj.items()}
    return obj


def _resolve(model: str | Path, weights: str | Path | None) -> tuple[str, Path | None]:
    """Model name and weights path for a name, a checkpoint directory, or a name plus a file."""
    as_path = Path(model)
    if as_path.is_dir():
        info = read_checkpoint(as_path)
        if open_clip.get_model_config(info.model_name) is None:
            cfg = info.model_config or {}
            if "model_cfg" not in cfg:
                raise FormatError(
                    info.path / "open_clip_config.json",
                    f"model {info.model_name!r} is unknown to open_clip and the checkpoint has no config for it",
                )
            register_model_config(info.model_name, cfg["model_cfg"])
        return info.model_name, Path(weights) if weights else info.weights
    return str(model), Path(weights) if weights else None


def create_model(
    model: str | Path,
    weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
) -> tuple[torch.nn.Module, Any, Any]:
    """``(model, preprocess, tokenizer)`` for an open_clip name, an rs-clip checkpoint dir, or name + file.

    ``weights=None`` with a model name gives a random initialisation (what continual pretraining
    compares against). Weights are loaded strictly; a mismatch names the first differing keys.
    """
    register_tiny_configs()
    name, wpath = _resolve(model, weights)
    if open_clip.get_model_config(name) is None:
        known = ", ".join(sorted(open_clip.list_models())[:12])
        raise ValueError(f"unknown model {name!r}: not an rs-clip checkpoint directory nor an open_clip "
                         f"model name (e.g. {known}, …, {TINY_MODEL})")
    with _quiet_random_init_warning():
        net, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=None, precision=precision,
                                                                   device=device)
    if wpath is not None:
        state = load_state_dict(wpath)
        load_weights(net, state, wpath, name)
    tokenizer = open_clip.get_tokenizer(name)
    return net.eval(), preprocess, tokenizer


#: open_clip's names for inference precisions: fp32 weights and maths, or fp32 weights under fp16 (``amp``)
#: or bf16 (``amp_bf16``) autocast. Every evaluating command offers exactly these (``--precision``).
INFERENCE_PRECISIONS = ("fp32", "amp", "amp_bf16")


def resolve_device(device: str | None = "auto") -> str:
    """``auto`` (or None): ``cuda`` when a GPU is visible, else ``cpu``; anything else as given."""
    if device in (None, "", "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return str(device)


def autocast(device: str | torch.device, precision: str) -> contextlib.AbstractContextManager:
    """The context open_clip's ``amp``/``amp_bf16`` precisions expect: fp32 weights, the caller autocasts."""
    if not precision.startswith("amp"):
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "amp_bf16" else torch.float16
    return torch.autocast(torch.device(device).type, dtype=dtype)


@contextmanager
def _quiet_random_init_warning():
    """open_clip warns that a model is randomly initialised even when weights are loaded right after."""

    class _Drop(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return "No pretrained weights loaded" not in record.getMessage()

    root = logging.getLogger()
    drop = _Drop()
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)


def load_weights(net: torch.nn.Module, state: dict[str, torch.Tensor], source: Path, name: str) -> None:
    """Strict load with open_clip's own conventions, and an error a person can act on."""
    own = net.state_dict()
    state = dict(state)
    if "logit_scale" in state and state["logit_scale"].shape != own["logit_scale"].shape:
        # Engines that cannot hold 0-dim parameters (DeepSpeed) store it as shape [1].
        state["logit_scale"] = state["logit_scale"].reshape(own["logit_scale"].shape)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}" for k, v in own.items()
              if k in state and state[k].shape != v.shape]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (first: {', '.join(missing[:5])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (first: {', '.join(unexpected[:5])})")
        if shapes:
            parts.append(f"{len(shapes)} of another shape (first: {'; '.join(shapes[:3])})")
        raise FormatError(source, f"does not match architecture {name}: " + "; ".join(parts))
    net.load_state_dict(state, strict=True)
