"""A ``--model`` (or ``--init``) argument: ``[LABEL=]SOURCE``, where SOURCE is
:mod:`rs_clip_models.sources`' grammar and LABEL names the model in reports.

``LABEL=`` is what precedes the first ``=`` if it holds only letters, digits, spaces and ``_.-()+`` (never
``/`` or ``:``, so no path or schema is taken for a label). A zoo entry's name used as a label on a file
the zoo does not know by its name is refused, since ``ENTRY:FILE`` was meant. Without a label, one is made
from the source (a checkpoint's folder, architecture and step; a file's zoo entry or name). So
``remoteclip-vit-b-32=/w/RemoteCLIP-ViT-B-32.pt`` is a label on a FILE the zoo knows by its name. The
fingerprint identifies the network and its weights, for result tables and caches.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rs_formats.checkpoint import read_checkpoint
from rs_formats.errors import FormatError
from rs_formats.hashing import file_sha256

from . import zoo
from .hub import folder_config
from .sources import resolve

RANDOM_INIT_SEED = 0
_LABEL = re.compile(r"^([A-Za-z0-9_.\- ()+]+)=(.+)$")


@dataclass(frozen=True)
class ModelSpec:
    label: str
    kind: str  # "checkpoint" | "open_clip" | "file" | "random"
    arch: str  # the network's name (an open_clip model name, except for open_clip folders)
    path: Path | None  # the checkpoint or folder, or the weights file
    text: str  # what the user wrote
    build: str = ""  # what open_clip builds: a model name or "local-dir:DIR"
    weights: Path | None = None
    zoo: str | None = None  # the zoo entry's name

    @classmethod
    def parse(cls, text: str) -> ModelSpec:
        label, source = None, text
        m = _LABEL.match(text)
        if m:
            label, source = m.group(1).strip(), m.group(2)
        path = Path(source).expanduser()
        if label and zoo.get(label) and path.is_file() and zoo.entry_for_file(path) is None:
            raise FormatError(
                text,
                f"{label}= is a label (it names the model in reports); to build {path.name} "
                f"as zoo entry {label}, write {label.lower()}:{source}",
            )
        src = resolve(source)
        if src.kind == "checkpoint":
            default = f"{src.path.name} ({src.arch}, step {read_checkpoint(src.path).step})"
        elif src.kind == "file":
            default = f"{src.entry.name if src.entry else src.arch} ({src.path.name})"
        elif src.kind == "random":
            default = f"{src.arch} (random init)"
        else:
            default = source
        return cls(
            label or default,
            src.kind,
            src.arch,
            src.path,
            text,
            src.build or "",
            src.weights,
            src.entry.name if src.entry else None,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "arch": self.arch,
            "build": self.build,
            "zoo": self.zoo,
            "path": str(self.path) if self.path else None,
            "spec": self.text,
        }

    def fingerprint(self) -> str:
        """Identifies the network and its weights: the weights' sha256 with the model name (or, for an
        open_clip folder, its config's digest), or the recipe of a random initialisation."""
        if self.kind == "random":
            import open_clip
            import torch

            return f"random-init:{self.arch}:seed{RANDOM_INIT_SEED}:torch{torch.__version__}:open_clip{open_clip.__version__}"
        network = self.arch
        if self.kind == "open_clip":
            config = json.dumps(folder_config(self.path)["model_cfg"], sort_keys=True)
            network = f"open_clip-config-{hashlib.sha256(config.encode()).hexdigest()[:16]}"
        return f"{network}:{file_sha256(self.weights, cached=True)}"
