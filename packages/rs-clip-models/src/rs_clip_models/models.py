"""Building CLIP networks and loading weights into them, from local files only.

Needs the ``torch`` extra (torch, open_clip_torch, safetensors). What a model argument names is
:mod:`rs_clip_models.sources`' grammar; how a weights file is read, :mod:`rs_clip_models.weights`'. Nothing here ever
reaches a model hub: a missing file is an error, never a download. A network is built from the exact
open_clip config it was trained with: a checkpoint's or open_clip folder's recorded ``open_clip_config.json``
(through open_clip's own ``local-dir:`` reader), a zoo entry's ``-quickgelu`` or plain config, or an open_clip
name; then the weights are loaded strictly.
"""

from __future__ import annotations

import contextlib
import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import open_clip
import torch

from rs_formats.errors import FormatError

from .configs import TINY_MODEL, network_config, register_model_config, register_tiny_configs
from .hub import LOCAL_DIR_PREFIX
from .sources import resolve
from .spec import RANDOM_INIT_SEED, ModelSpec
from .weights import load_state_dict

__all__ = [
    "INFERENCE_PRECISIONS",
    "TINY_MODEL",
    "autocast",
    "build_network",
    "create_model",
    "load_network",
    "load_spec",
    "load_state_dict",
    "load_weights",
    "network_config",
    "network_of",
    "register_model_config",
    "register_tiny_configs",
    "resolve_device",
]

log = logging.getLogger(__name__)


def network_of(model: str | Path) -> tuple[str, str, dict[str, Any]]:
    """``(name, build, model_cfg)`` of the network a model argument names (an open_clip name, a checkpoint or
    open_clip folder, ``local-dir:``, ``hf-hub:``): what a checkpoint trained from it records."""
    src = resolve(str(model))
    if src.build is None:
        raise FormatError(str(model), "names no network")
    return src.arch, src.build, network_config(src.build)


def build_network(
    build: str, device: str | torch.device = "cpu", precision: str = "fp32"
) -> tuple[Any, Any, Any]:
    """``(model, preprocess, tokenizer)`` of ``build`` (a model name or ``local-dir:DIR``), randomly
    initialised: no weights are loaded, whatever the folder holds."""
    register_tiny_configs()
    with _quiet_random_init_warning():
        net, _, preprocess = open_clip.create_model_and_transforms(
            build, pretrained=None, load_weights=False, precision=precision, device=device
        )
    return net, preprocess, open_clip.get_tokenizer(build)


def load_network(
    build: str,
    weights: str | Path | None,
    name: str = "",
    device: str | torch.device = "cpu",
    precision: str = "fp32",
) -> tuple[Any, Any, Any]:
    """:func:`build_network`, then the weights file loaded strictly (errors name the file and ``name``)."""
    if (
        build.startswith(LOCAL_DIR_PREFIX)
        and name
        and not set(name) & set(":/\\")
        and open_clip.get_model_config(name) is None
    ):
        # A checkpoint of an architecture open_clip lacks: later builds by its name (as a trainer's) find it.
        register_model_config(name, network_config(build))
    net, preprocess, tokenizer = build_network(build, device, precision)
    if weights is not None:
        load_weights(net, load_state_dict(weights), Path(weights), name or build)
    return net.eval(), preprocess, tokenizer


def create_model(
    model: str | Path,
    weights: str | Path | None = None,
    device: str | torch.device = "cpu",
    precision: str = "fp32",
) -> tuple[torch.nn.Module, Any, Any]:
    """``(model, preprocess, tokenizer)`` for ``model``, a ``--model`` SOURCE (:mod:`rs_clip_models.sources`): an
    open_clip name (random init), a checkpoint or open_clip folder (or a stored checkpoint), ``local-dir:``,
    ``hf-hub:``, ``ENTRY:FILE``, ``NAME:FILE`` or a FILE the zoo knows (a FILE may be a URI).

    ``weights``, if given, replaces the weights ``model`` names: any SOURCE holding weights, or a plain file.
    When it names a network of its own (a zoo entry, a checkpoint) that differs from ``model``'s, a warning
    says how (GELU and QuickGELU builds load the same keys, so nothing else would). Weights are loaded
    strictly; a mismatch names the first differing keys. A random initialisation follows the caller's RNG.
    """
    src = resolve(str(model))
    path = src.weights
    if weights is not None:
        given = resolve(str(weights), weights=True)
        if given.build is not None and given.build != src.build:
            _compare_networks(src.build, src.arch, given.build, given.arch, str(weights))
        path = given.weights
    return load_network(src.build, path, src.arch, device=device, precision=precision)


def _compare_networks(build: str, name: str, their_build: str, their_name: str, weights: str) -> None:
    ours, theirs = network_config(build), network_config(their_build)
    differ = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
    if not differ:
        return
    if differ == ["quick_gelu"]:
        act = {True: "QuickGELU", False: "GELU"}
        log.warning(
            "%s: trained as %s (%s), but loaded into %s (%s): same weights, other activation, other "
            "embeddings",
            weights,
            their_name,
            act[bool(theirs.get("quick_gelu"))],
            name,
            act[bool(ours.get("quick_gelu"))],
        )
    else:
        log.warning(
            "%s: trained as %s, loaded into %s, whose config differs in %s",
            weights,
            their_name,
            name,
            ", ".join(differ),
        )


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
    """Strict load with open_clip's own conventions, and an error a person can act on.

    Stored dtypes must be the network's, except that floating point converts to floating point (fp16 and
    bf16 checkpoints, OpenAI's fp16 archives, load into an fp32 network as open_clip loads them). Anything
    else (int8 quantised weights, a float where the network holds integers) is refused: ``copy_`` would
    cast it silently into a network that then evaluates nonsense.
    """
    own = net.state_dict()
    state = dict(state)
    if "logit_scale" in state and state["logit_scale"].shape != own["logit_scale"].shape:
        # Engines that cannot hold 0-dim parameters (DeepSpeed) store it as shape [1].
        state["logit_scale"] = state["logit_scale"].reshape(own["logit_scale"].shape)
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    shapes = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and state[k].shape != v.shape
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (first: {', '.join(missing[:5])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (first: {', '.join(unexpected[:5])})")
        if shapes:
            parts.append(f"{len(shapes)} of another shape (first: {'; '.join(shapes[:3])})")
        raise FormatError(source, f"does not match architecture {name}: " + "; ".join(parts))
    for k, v in own.items():
        theirs = state[k].dtype
        if theirs != v.dtype and not (theirs.is_floating_point and v.dtype.is_floating_point):
            raise FormatError(
                source,
                f"tensor {k} is stored as {str(theirs).removeprefix('torch.')}, but {name}'s is "
                f"{str(v.dtype).removeprefix('torch.')}: refusing to cast it (quantised or wrong weights?)",
            )
    net.load_state_dict(state, strict=True)


def load_spec(spec: ModelSpec, device: str = "cpu", precision: str = "fp32") -> tuple[Any, Any, Any]:
    """``(model, preprocess, tokenizer)`` of a parsed ``--model`` spec (strict, local-only loading); a random
    initialisation is seeded (:data:`~rs_clip_models.spec.RANDOM_INIT_SEED`), sparing the caller's RNG, so
    that it is the same every run (and so cacheable)."""
    if spec.kind != "random":
        name = f"{spec.zoo} ({spec.arch})" if spec.zoo else spec.arch
        return load_network(spec.build, spec.weights, name, device=device, precision=precision)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        return load_network(spec.build, None, spec.arch, device=device, precision=precision)
