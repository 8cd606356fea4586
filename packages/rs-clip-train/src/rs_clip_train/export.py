"""``rs-clip-train export``: the publishing copy of a checkpoint, exactly what a model repository holds.

A training checkpoint also holds the engine's resume state (``train_state/``), which the manifest lists by
checksum; uploaded without it, the manifest still listed it. The export holds the weights, the open_clip
config, a manifest whose checksums cover only those weights, and a model card for the Hub
(:func:`rs_clip_models.model_card.model_card`) that can carry an rs-clip-eval results table as ``model-index``.
It is written atomically and verified (``rs_formats.verify_checkpoint``) before the command returns, so a
folder that exists is one ``huggingface_hub.upload_folder`` away from the Hub.

Decisions left open elsewhere:

* It lives in rs-clip-train because a run directory (``RUN_DIR/final``) is rs-clip-train's; any
  rs-clip-checkpoint is taken as well.
* The results table may hold other models: only rows whose ``model_fingerprint`` names these weights'
  sha256 are kept, and a table with none of them is an error rather than an empty model-index. A few-shot
  figure scored over several seeds becomes one score, their mean.
* The weights' bytes are copied, never re-serialised, so the copy's sha256 is the manifest's.
"""

from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

from rs_clip_models.model_card import Licence, Score, model_card
from rs_formats import FormatError
from rs_formats.checkpoint import (
    MANIFEST,
    MODEL_CARD,
    MODEL_CONFIG,
    TRAIN_STATE,
    read_checkpoint,
    verify_checkpoint,
)

from .config import ConfigError
from .run_dir import FINAL, RUN_YAML, latest_checkpoint


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory as it is, or a run directory's ``final`` (else its newest) checkpoint."""
    path = Path(path)
    if (path / MANIFEST).is_file():
        return path
    if (path / RUN_YAML).is_file():
        final = path / FINAL
        found = final if final.is_dir() else latest_checkpoint(path)
        if found is None:
            raise FormatError(path, "a run directory without a checkpoint yet")
        return found
    raise FormatError(
        path, "neither an rs-clip-checkpoint (no manifest.json) nor a run directory (no run.yaml)"
    )


def scores_for(rows: list[Any], weights_sha256: str, table: Path) -> list[Score]:
    """The results rows (``rs_clip_eval.ResultRow``) of the weights with ``weights_sha256``, as card scores;
    rows of one figure scored with several seeds become their mean."""
    mine = [r for r in rows if r.model_fingerprint.rpartition(":")[2] == weights_sha256]
    if not mine:
        models = sorted({r.model for r in rows})
        raise FormatError(
            table,
            f"no results of these weights (sha256 {weights_sha256[:12]}...); it holds "
            f"{', '.join(models)}: score the checkpoint itself with rs-clip-eval",
        )
    groups: dict[tuple, list[float]] = defaultdict(list)
    for r in mine:
        groups[(r.task, r.dataset, r.split, r.metric, r.unit, r.shots)].append(float(r.value))
    return [
        Score(task, dataset, split, metric, sum(values) / len(values), unit, shots, len(values))
        for (task, dataset, split, metric, unit, shots), values in groups.items()
    ]


def read_scores(results: str | Path, weights_sha256: str) -> list[Score]:
    try:
        from rs_clip_eval import read_results_table
        from rs_formats.results_table import results_file
    except ImportError:
        raise ConfigError(
            "--results needs rs-clip-eval (rs-clip-train's eval extra: README.md, Install)"
        ) from None
    return scores_for(read_results_table(results), weights_sha256, results_file(results))


def export(
    source: str | Path,
    out: str | Path,
    *,
    results: str | Path | None = None,
    licence: Licence = Licence(),
    base_model: str | None = None,
    repo_id: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the publishing copy of ``source`` (a checkpoint or a run directory) to ``out`` and verify it."""
    from rs_formats.atomic import atomic_dir

    info = read_checkpoint(resolve_checkpoint(source))
    if info.manifest.get("format_version") == 1:
        raise FormatError(
            info.path / MANIFEST,
            "format version 1 names its weights model.safetensors, which open_clip's hf-hub: loader "
            "does not read: load it and write it again with rs-formats before exporting",
        )
    manifest = dict(info.manifest)
    sums = manifest.get("sha256") if isinstance(manifest.get("sha256"), dict) else {}
    want = sums.get(info.weights.name)
    if not isinstance(want, str):
        raise FormatError(
            info.path / MANIFEST, f"no sha256 of {info.weights.name}: cannot verify the weights"
        )
    manifest["sha256"] = {k: v for k, v in sums.items() if not k.startswith(f"{TRAIN_STATE}/")}
    scores = read_scores(results, want) if results is not None else []
    card = model_card(
        manifest,
        info.model_config["model_cfg"],
        info.weights.name,
        scores=scores,
        licence=licence,
        base_model=base_model,
        repo_id=repo_id,
    )
    with atomic_dir(out, overwrite=overwrite) as tmp:
        shutil.copyfile(info.weights, tmp / info.weights.name)
        shutil.copyfile(info.path / MODEL_CONFIG, tmp / MODEL_CONFIG)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        (tmp / MODEL_CARD).write_text(card)
        verify_checkpoint(tmp)  # a copy that does not verify is never published
    return Path(out)
