"""The model card (``README.md``) every rs-clip-checkpoint carries, written from its manifest.

A checkpoint uploaded to the Hugging Face Hub as is becomes a model repository: the card's YAML front
matter (``library_name: open_clip``) lets the Hub show it as an open_clip model, and the body says what a
user needs before trusting the weights: the network (activation included), the initialisation, the
training data with its manifest hash, the steps, the metrics, how to load it and a licence note.
rs-clip sets no licence: it follows from the initial weights' and the training datasets' terms.
"""

from __future__ import annotations

from typing import Any

_ACTIVATION = {True: "QuickGELU", False: "GELU"}


def model_card(manifest: dict[str, Any], model_config: dict[str, Any], weights: str) -> str:
    """The card's Markdown for a checkpoint with ``manifest``, open_clip ``model_config`` and ``weights`` file."""
    name = manifest.get("model", "?")
    config = manifest.get("config") or {}
    model_section = config.get("model") or {}
    optim = config.get("optim") or {}
    vision = model_config.get("vision_cfg", {})
    resnet = isinstance(vision.get("layers"), (list, tuple))
    activation = _ACTIVATION[bool(model_config.get("quick_gelu"))]
    if resnet:
        activation += " (text tower; the ResNet image tower uses ReLU)"
    init = model_section.get("init") or "random initialisation"
    lines = [
        "---",
        "library_name: open_clip",
        "tags: [clip, remote-sensing, rs-clip]",
        "license: other  # set it before publishing: see 'Licence' below",
        "---",
        "",
        f"# {name}, step {manifest.get('step', '?')}",
        "",
        f"An rs-clip-checkpoint (format version {manifest.get('format_version')}) written by rs-clip "
        f"(open_clip {manifest.get('open_clip_version') or '?'}) on {manifest.get('created', '?')}.",
        "",
        "## Model",
        "",
        f"- open_clip model `{name}`, activation {activation}, embedding size {model_config.get('embed_dim', '?')}, "
        f"image size {vision.get('image_size', '?')}; the exact config is `open_clip_config.json`.",
        f"- Initialisation: `{init}`.",
        "",
        "## Training",
        "",
        *_data_lines(manifest.get("dataset")),
        f"- Steps: {manifest.get('step', '?')}"
        + (
            f" at a global batch of {optim['batch_size']}, peak learning rate {optim.get('lr')}"
            if "batch_size" in optim
            else ""
        )
        + ".",
        "",
        "## Metrics",
        "",
        *_metric_lines(manifest.get("metrics") or {}),
        "",
        "## Use",
        "",
        "```python",
        "import open_clip",
        'model, _, preprocess = open_clip.create_model_and_transforms("hf-hub:ORG/NAME")   # once on the Hub',
        'model, _, preprocess = open_clip.create_model_and_transforms("local-dir:PATH")    # this folder',
        f'model, _, preprocess = open_clip.create_model_and_transforms("{name}", pretrained="PATH/{weights}")',
        "```",
        "",
        "rs-clip's tools take the same: `rs-clip-eval ... --model hf-hub:ORG/NAME` (or the folder's path).",
        "",
        "## Licence",
        "",
        "rs-clip sets no licence on these weights. They derive from the initial weights and the training data "
        "above, whose terms apply (OpenAI's CLIP weights: MIT; many remote-sensing datasets: research use only); "
        "state the licence in the front matter before publishing.",
        "",
    ]
    return "\n".join(lines)


def _data_lines(dataset: dict[str, Any] | None) -> list[str]:
    if not dataset:
        return ["- Training data: not recorded."]
    lines = [
        f"- Training data: `{dataset.get('name', '?')}`"
        + (f", manifest sha256 `{dataset['manifest_sha256']}`" if dataset.get("manifest_sha256") else "")
        + (f", splits {', '.join(dataset['splits'])}" if dataset.get("splits") else "")
        + "."
    ]
    for source in dataset.get("sources") or []:
        lines.append(
            f"  - `{source.get('name', '?')}`: manifest sha256 `{source.get('manifest_sha256', '?')}`, "
            f"splits {', '.join(source.get('splits') or [])}, {source.get('rows', '?')} rows, "
            f"weight {source.get('weight', 1)}"
        )
    return lines


def _metric_lines(metrics: dict[str, Any]) -> list[str]:
    if not metrics:
        return ["None recorded."]
    rows = ["| metric | value |", "|---|---|"]
    for key, value in metrics.items():
        shown = f"{value:.4g}" if isinstance(value, float) else str(value)
        rows.append(f"| {key} | {shown} |")
    return rows
