"""Which model ``--model`` names: an rs-clip checkpoint, an open_clip name plus a local file, or a random init.

``--model`` forms (optionally prefixed by ``LABEL=`` to name the model in reports):

* ``path/to/checkpoint``      an rs-clip-checkpoint directory (architecture from its manifest);
* ``NAME:path/to/weights``    an open_clip architecture plus a local file: ``.safetensors``, open_clip
                              ``.pt``/``.bin``, or a RemoteCLIP release (``RemoteCLIP-ViT-B-32.pt``);
* ``NAME``                    the architecture with random weights (seed 0): the "before pretraining"
                              baseline, labelled ``NAME (random init)``.

Shared by every command that takes ``--model`` (rs-clip-eval, rs-count). Loading is
:func:`rs_formats.models.create_model`'s job; this module only parses, labels and fingerprints, and
imports torch only to load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import read_checkpoint
from .errors import FormatError
from .hashing import file_sha256

RANDOM_INIT_SEED = 0
_LABEL = re.compile(r"^([A-Za-z0-9_.\- ()+]+)=(.+)$")


@dataclass(frozen=True)
class ModelSpec:
    label: str
    kind: str  # "checkpoint" | "file" | "random"
    arch: str  # open_clip model name
    path: Path | None  # checkpoint dir or weights file
    text: str  # what the user wrote

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        label = None
        m = _LABEL.match(text)
        if m and "/" not in m.group(1):
            label, text = m.group(1).strip(), m.group(2)
        as_path = Path(text).expanduser()
        if as_path.is_dir():
            info = read_checkpoint(as_path)
            default = f"{as_path.name} ({info.model_name}, step {info.step})"
            return cls(label or default, "checkpoint", info.model_name, as_path, text)
        if ":" in text and not as_path.exists():
            name, _, file = text.partition(":")
            weights = Path(file).expanduser()
            if not weights.is_file():
                raise FormatError(weights, "no such weights file (nothing is downloaded: give a local path)")
            return cls(label or f"{name} ({weights.name})", "file", name, weights, text)
        if as_path.exists() or "/" in text or as_path.suffix in (".pt", ".pth", ".bin", ".safetensors"):
            if as_path.is_file():
                raise FormatError(as_path, "a weights file needs its architecture: write NAME:PATH, "
                                           "e.g. ViT-B-32:" + text)
            raise FormatError(as_path, "no such checkpoint directory")
        return cls(label or f"{text} (random init)", "random", text, None, text)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "kind": self.kind, "arch": self.arch,
                "path": str(self.path) if self.path else None, "spec": self.text}

    def fingerprint(self) -> str:
        """Identifies the weights: their file's sha256, or the recipe of a random initialisation."""
        if self.kind == "random":
            import open_clip
            import torch

            return f"random-init:{self.arch}:seed{RANDOM_INIT_SEED}:torch{torch.__version__}:open_clip{open_clip.__version__}"
        weights = read_checkpoint(self.path).weights if self.kind == "checkpoint" else self.path
        return f"{self.arch}:{file_sha256(weights, cached=True)}"

    def load(self, device: str = "cpu", precision: str = "fp32") -> tuple[Any, Any, Any]:
        """``(model, preprocess, tokenizer)`` via rs_formats (strict, local-only loading)."""
        import torch

        from .models import create_model

        if self.kind == "checkpoint":
            return create_model(self.path, device=device, precision=precision)
        if self.kind == "file":
            return create_model(self.arch, weights=self.path, device=device, precision=precision)
        # A random init must be the same every run (and so cacheable): seed it, sparing the caller's RNG.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RANDOM_INIT_SEED)
            return create_model(self.arch, device=device, precision=precision)

