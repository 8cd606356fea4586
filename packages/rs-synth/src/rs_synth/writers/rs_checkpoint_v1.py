"""An rs-clip-checkpoint laid out as format version 1, written without rs-formats' writer.

Version 1 is what rs-formats wrote before the Hub-safe layout: ``model.safetensors`` (not open_clip's Hub
name), ``manifest.json`` with ``format_version`` 1 and the weights' sha256, and optionally
``open_clip_config.json``; no model card. Readers must keep reading it (docs/contracts.md), so tests write
it here, from the contract's text, independently of the code that writes the current version.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def write_v1_checkpoint(
    out_dir: str | Path,
    state_dict: dict[str, Any],
    *,
    model_name: str,
    step: int,
    model_config: dict[str, Any] | None = None,
) -> Path:
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True)
    weights = out / "model.safetensors"
    save_file(
        {k: v.detach().cpu().contiguous().clone() for k, v in state_dict.items()},
        str(weights),
        metadata={"format": "pt"},
    )
    if model_config is not None:
        (out / "open_clip_config.json").write_text(
            json.dumps({"model_cfg": model_config, "preprocess_cfg": {}})
        )
    manifest = {
        "format": "rs-clip-checkpoint",
        "format_version": 1,
        "model": model_name,
        "step": step,
        "created": "2025-01-01T00:00:00+00:00",
        "dataset": None,
        "config": {},
        "metrics": {},
        "sha256": {weights.name: hashlib.sha256(weights.read_bytes()).hexdigest()},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out
