"""Reading CLIP weights from the files people have, without ever unpickling a Python object.

* ``.safetensors``: checked to be safetensors before the library parses it.
* torch files (``.pt``, ``.pth``, ``.bin``, ...) that ``torch.save`` wrote: ``torch.load(weights_only=True)``,
  which rebuilds only tensors and plain containers. Wrappers (``{"state_dict": ...}`` of open_clip and
  SkyCLIP training checkpoints, ``{"model": ...}``, ...) and DDP's ``module.`` prefix are removed.
* TorchScript archives, as OpenAI released CLIP (``RN50.pt``, ``ViT-B-32.pt``, ``ViT-L-14.pt``):
  ``torch.load(weights_only=True)`` refuses them, so they are read the way open_clip's
  ``load_openai_model`` reads them, with ``torch.jit.load``, keeping only the state dict (less
  ``input_resolution``, ``context_length`` and ``vocab_size``, which open_clip drops too).
  *What that runs.* The archive's ``data.pkl`` is read by TorchScript's own unpickler
  (``torch/csrc/jit/serialization/unpickler.cpp``), not Python's: it rebuilds tensors, torch's
  containers and the archive's own TorchScript classes, and refuses any other global, so no Python
  object is unpickled and no Python code is imported or called (a ``data.pkl`` naming ``builtins.open``
  is refused: tested). The archive's TorchScript source (``code/``) is compiled, and of it only the
  ``__setstate__`` methods would run while loading (``import.cpp``: the object loader calls them); an
  archive defining one is refused before ``torch.jit.load`` sees it, so nothing of the archive executes.
  ``forward`` is never called: only the tensors are kept. (torch 2.14 deprecates ``torch.jit.load``; if a
  later torch drops it, these archives need converting once with an older one.)
"""

from __future__ import annotations

import pickle
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from rs_formats.checkpoint import PICKLE_SUFFIXES, check_safetensors
from rs_formats.errors import FormatError
from rs_formats.inputs import check_regular

from .sources import resolve
from .zoo import is_torchscript

_WRAPPERS = ("state_dict", "model", "module", "model_state_dict")
#: Entries of OpenAI's TorchScript state dicts that are not weights (open_clip's load_state_dict drops them too).
_OPENAI_EXTRAS = ("input_resolution", "context_length", "vocab_size")


def load_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The state dict in a weights file, or in a checkpoint / open_clip folder's weights file."""
    path = Path(path)
    if path.is_dir():
        path = resolve(str(path)).weights
    if not path.exists():
        raise FormatError(path, "no such weights file (nothing is downloaded: give a local path)")
    check_regular(path)
    if path.suffix == ".safetensors":
        check_safetensors(path)
        try:
            return _unwrap(load_file(str(path)), path)
        except (SafetensorError, OSError) as exc:
            raise FormatError(path, f"unreadable safetensors file: {exc}") from None
    if path.suffix == ".zip":
        raise FormatError(path, "a zip archive (as SkyCLIP is released): unzip it and give the .pt inside")
    if path.suffix not in PICKLE_SUFFIXES:
        raise FormatError(
            path, f"unknown weights format {path.suffix!r} (expected .safetensors, .pt, .pth, .bin)"
        )
    if is_torchscript(path):
        return _unwrap(_torchscript_state_dict(path), path)
    try:
        obj: Any = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise FormatError(
            path,
            "holds Python objects beyond tensors; refusing to unpickle it (weights_only=True). "
            f"Re-save it as a plain state_dict or safetensors. ({str(exc).splitlines()[0]})",
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        raise FormatError(path, f"not a readable torch file (truncated or corrupt?): {exc}") from None
    return _unwrap(obj, path)


def _torchscript_state_dict(path: Path) -> dict[str, torch.Tensor]:
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if "/code/" in name and name.endswith(".py") and b"__setstate__" in zf.read(name):
                raise FormatError(
                    path,
                    f"a TorchScript archive whose code defines __setstate__ ({name}), which "
                    "loading would run: refused (OpenAI's CLIP archives define none)",
                )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter(
                "ignore", FutureWarning
            )  # torch.jit.load's deprecation: see the module docstring
            module = torch.jit.load(str(path), map_location="cpu")
    except (RuntimeError, ValueError, OSError) as exc:
        raise FormatError(
            path, f"not a loadable TorchScript archive: {str(exc).strip().splitlines()[0]}"
        ) from None
    state = dict(module.state_dict())
    for key in _OPENAI_EXTRAS:
        state.pop(key, None)
    return state


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
        obj = {k[len(prefix) :]: v for k, v in obj.items()}
    return obj
