"""The model card (``README.md``) every rs-clip-checkpoint carries, written from its manifest.

A checkpoint, or its publishing copy (``rs-clip-train export``), is an open_clip model repository on the
Hugging Face Hub. The card is built with ``huggingface_hub.ModelCard`` / ``ModelCardData``, so its front
matter is what the Hub parses: ``library_name: open_clip``, ``pipeline_tag: zero-shot-image-classification``,
``license`` (with ``license_name`` / ``license_link`` when it is ``other``), ``base_model`` (the
initialisation, when it is a Hub repository), ``datasets`` (the training sources), ``tags`` and, when scores
are given, the evaluation results as ``model-index``. The body says what a user needs before trusting the
weights: the network (activation included), the initialisation, the training data with its manifest hash,
the steps, the scores, how to load it and a licence note.

Decisions left open elsewhere:

* rs-clip sets no licence: it follows from the initial weights' and the training datasets' terms. Unless
  one is given, the card says ``license: other`` with ``license_name: unspecified`` and links its own
  Licence section, which says so.
* Only evaluation scores become ``model-index`` metrics. What the trainer logged at the last step (loss,
  learning rate, temperature, time) is training telemetry and the validation retrieval of ``--eval-data``
  is a check on a held-out split during training: both are described in the body, never as metrics.
* The loading snippet names the model by ``hf-hub:`` (or ``local-dir:``), which reads the architecture from
  ``open_clip_config.json``: a model name plus ``pretrained=`` works only for open_clip's built-in names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rs_formats import markdown as md

_ACTIVATION = {True: "QuickGELU", False: "GELU"}
PIPELINE_TAG = "zero-shot-image-classification"
TAGS = ["clip", "remote-sensing", "open_clip", "rs-clip"]
PLACEHOLDER_REPO = "ORG/NAME"
#: The Hub's task type of each rs-clip evaluation task (``model-index`` ``task.type``) and its name.
TASKS = {
    "zeroshot": ("zero-shot-image-classification", "Zero-shot classification"),
    "fewshot": ("image-classification", "Few-shot linear probe"),
    "linear_probe": ("image-classification", "Linear probe"),
    "knn": ("image-classification", "k-NN classification"),
    "retrieval": ("image-text-retrieval", "Image-text retrieval"),
    "remotecount-words": ("zero-shot-object-counting", "Zero-shot counting (count words)"),
    "remotecount-digits": ("zero-shot-object-counting", "Zero-shot counting (count digits)"),
}


@dataclass(frozen=True)
class Licence:
    """The card's licence: an SPDX-style Hub id, or ``other`` with a name and a link to its text."""

    id: str = "other"
    name: str | None = "unspecified"
    link: str | None = "README.md"


@dataclass(frozen=True)
class Score:
    """One evaluation figure of these weights (a few-shot figure: the mean over ``seeds`` seeds)."""

    task: str
    dataset: str
    split: str
    metric: str
    value: float
    unit: str = "%"
    shots: int | None = None
    seeds: int | None = None

    @property
    def metric_name(self) -> str:
        shots = f", {self.shots}-shot" if self.shots is not None else ""
        seeds = f", mean of {self.seeds} seeds" if self.seeds and self.seeds > 1 else ""
        unit = f" ({self.unit})" if self.unit else ""
        return f"{self.metric}{shots}{seeds}{unit}"


def model_card(
    manifest: dict[str, Any],
    model_config: dict[str, Any],
    weights: str,
    *,
    scores: Sequence[Score] = (),
    licence: Licence = Licence(),
    base_model: str | None = None,
    repo_id: str | None = None,
) -> str:
    """The card's Markdown for a checkpoint with ``manifest``, open_clip ``model_config`` and ``weights`` file.

    ``base_model`` defaults to the initialisation when it is ``hf-hub:ORG/NAME``; ``repo_id`` is where the
    card will live (the loading snippet names it; ``ORG/NAME`` until known)."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    name = manifest.get("model", "?")
    init = ((manifest.get("config") or {}).get("model") or {}).get("init")
    if base_model is None and isinstance(init, str) and init.startswith("hf-hub:"):
        base_model = init.removeprefix("hf-hub:")
    data = ModelCardData(
        license=licence.id,
        license_name=licence.name if licence.id == "other" else None,
        license_link=licence.link if licence.id == "other" else None,
        library_name="open_clip",
        pipeline_tag=PIPELINE_TAG,
        base_model=base_model,
        datasets=_sources(manifest.get("dataset")) or None,
        tags=TAGS,
        model_name=repo_id or name,
        eval_results=[_eval_result(s, EvalResult) for s in scores] or None,
    )
    body = _body(manifest, model_config, weights, init, scores, repo_id or PLACEHOLDER_REPO)
    return str(ModelCard(f"---\n{data.to_yaml()}\n---\n\n{body}"))


def _eval_result(score: Score, eval_result: Any) -> Any:
    task_type, task_name = TASKS.get(score.task, (score.task, score.task))
    return eval_result(
        task_type=task_type,
        task_name=task_name,
        dataset_type=score.dataset,
        dataset_name=score.dataset,
        dataset_split=score.split,
        metric_type=score.metric,
        metric_name=score.metric_name,
        metric_value=score.value,
    )


def _sources(dataset: dict[str, Any] | None) -> list[str]:
    if not dataset:
        return []
    sources = [str(s.get("name")) for s in dataset.get("sources") or [] if s.get("name")]
    return sources or ([str(dataset["name"])] if dataset.get("name") else [])


def _body(
    manifest: dict[str, Any],
    model_config: dict[str, Any],
    weights: str,
    init: Any,
    scores: Sequence[Score],
    repo: str,
) -> str:
    name = manifest.get("model", "?")
    config = manifest.get("config") or {}
    optim = config.get("optim") or {}
    vision = model_config.get("vision_cfg", {})
    activation = _ACTIVATION[bool(model_config.get("quick_gelu"))]
    if isinstance(vision.get("layers"), (list, tuple)):
        activation += " (text tower; the ResNet image tower uses ReLU)"
    metrics = manifest.get("metrics") or {}
    lines = [
        f"# {md.text(name)}, step {manifest.get('step', '?')}",
        "",
        f"An rs-clip-checkpoint (format version {manifest.get('format_version')}) written by rs-clip "
        f"(open_clip {manifest.get('open_clip_version') or '?'}) on {manifest.get('created', '?')}.",
        "",
        "## Model",
        "",
        f"- open_clip model {md.code(name)}, activation {activation}, embedding size {model_config.get('embed_dim', '?')}, "
        f"image size {vision.get('image_size', '?')}; the exact config is `open_clip_config.json`, the "
        f"weights {md.code(weights)}.",
        f"- Initialisation: {md.code(init or 'random initialisation')}.",
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
        *_telemetry_lines(metrics),
        "",
        "## Evaluation",
        "",
        *_score_lines(scores, metrics),
        "",
        "## Use",
        "",
        "```python",
        "import open_clip",
        "",
        f'spec = "hf-hub:{repo}"  # or "local-dir:/path/to/a/copy/of/this/folder"',
        "model, _, preprocess = open_clip.create_model_and_transforms(spec)",
        "tokenizer = open_clip.get_tokenizer(spec)",
        "```",
        "",
        "The architecture comes from `open_clip_config.json`, so nothing needs registering. rs-clip's tools "
        f"take the same names: `rs-clip-eval run --model hf-hub:{repo} ...` (or the folder's path).",
        "",
        "## Licence",
        "",
        "rs-clip sets no licence on these weights. They derive from the initial weights and the training data "
        "above, whose terms apply (OpenAI's CLIP weights: MIT; many remote-sensing datasets: research use only); "
        "state the licence in the front matter before publishing (`rs-clip-train export --license`).",
        "",
    ]
    return "\n".join(lines)


def _data_lines(dataset: dict[str, Any] | None) -> list[str]:
    if not dataset:
        return ["- Training data: not recorded."]
    lines = [
        f"- Training data: {md.code(dataset.get('name', '?'))}"
        + (f", manifest sha256 `{dataset['manifest_sha256']}`" if dataset.get("manifest_sha256") else "")
        + (f", splits {md.text(', '.join(dataset['splits']))}" if dataset.get("splits") else "")
        + "."
    ]
    for source in dataset.get("sources") or []:
        lines.append(
            f"  - {md.code(source.get('name', '?'))}: manifest sha256 {md.code(source.get('manifest_sha256', '?'))}, "
            f"splits {md.text(', '.join(source.get('splits') or []))}, {source.get('rows', '?')} rows, "
            f"weight {source.get('weight', 1)}"
        )
    return lines


def _telemetry_lines(metrics: dict[str, Any]) -> list[str]:
    """The trainer's log at the last step, as a description of the run (never as scores)."""
    logged = {k: v for k, v in metrics.items() if not k.startswith("eval/") and k not in ("step", "time")}
    if not logged:
        return []
    shown = ", ".join(f"{k} {_number(v)}" for k, v in logged.items())
    return [f"- Logged at the last step (training telemetry, not an evaluation): {shown}."]


def _score_lines(scores: Sequence[Score], metrics: dict[str, Any]) -> list[str]:
    held_out = {k.removeprefix("eval/"): v for k, v in metrics.items() if k.startswith("eval/")}
    lines = []
    if scores:
        lines += [
            "Scored by rs-clip-eval on these exact weights (the same figures are the card's `model-index`):",
            "",
            "| task | dataset | split | metric | value |",
            "|---|---|---|---|---|",
            *(
                f"| {TASKS.get(s.task, (s.task, s.task))[1]} | {s.dataset} | {s.split} | {s.metric_name} "
                f"| {_number(s.value)} |"
                for s in scores
            ),
        ]
    if held_out:
        shown = ", ".join(f"{k} {_number(v)}" for k, v in held_out.items())
        lines += [
            *([""] if lines else []),
            f"Retrieval on the held-out split checked during training (`--eval-data`): {shown}.",
        ]
    return lines or ["None recorded: `rs-clip-train export --results` adds an rs-clip-eval results table."]


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
