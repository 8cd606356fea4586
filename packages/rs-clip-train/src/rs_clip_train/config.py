"""Typed run configuration: dataclasses, the paper's presets, and a YAML round trip.

A run is fully described by one :class:`TrainConfig`; ``run.yaml`` in the run directory is that object
written out, and ``rs-clip-train fit --config run.yaml`` reproduces the run.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PRECISIONS = ("auto", "fp32", "amp_bf16", "amp_fp16", "bf16", "fp16")


class ConfigError(ValueError):
    """A configuration value a user can fix (unknown preset, bad flag, bad YAML key)."""


@dataclass
class ModelConfig:
    #: open_clip model name (RN50, ViT-B-32, ViT-L-14, RS-Tiny, ...) or an rs-clip-checkpoint directory.
    name: str = "ViT-B-32"
    #: Initial weights: an open_clip file, a RemoteCLIP-style .pt state dict, an rs-clip-checkpoint
    #: directory, or None for a random initialisation. Always a local path: nothing is downloaded.
    init: str | None = None
    #: Recompute activations in the backward pass (saves memory on large models, costs ~30% speed).
    grad_checkpointing: bool = False
    #: Wrap the model in torch.compile (GPU; measured 1.45x on ViT-B-32 b1024 on an H100).
    compile: bool = False


@dataclass
class DataSource:
    path: str
    #: Relative sampling weight when several datasets are mixed.
    weight: float = 1.0


@dataclass
class DataConfig:
    sources: list[DataSource] = field(default_factory=list)
    split: str = "train"
    #: Random-resized-crop area range (open_clip's default keeps 90-100%, so counting captions stay true).
    crop_scale: tuple[float, float] = (0.9, 1.0)
    hflip: bool = True
    #: Rotate by a random multiple of 90 degrees: aerial images have no canonical "up".
    rotate90: bool = True
    #: Background decode/augment processes per training worker (0 decodes in the training process).
    loader_workers: int = 4
    prefetch_factor: int = 4
    #: Row groups whose rows are shuffled together; a larger window mixes better and costs memory.
    shuffle_window: int = 4


@dataclass
class OptimConfig:
    lr: float = 4e-5
    #: Global batch: image-caption pairs per optimizer step over all workers and accumulation steps.
    batch_size: int = 256
    weight_decay: float = 0.2
    betas: tuple[float, float] = (0.9, 0.98)
    eps: float = 1e-6
    warmup_steps: int = 500
    #: The cosine decays to lr * min_lr_ratio.
    min_lr_ratio: float = 0.0
    #: Max global gradient norm; 0 disables clipping.
    grad_clip: float = 1.0
    #: Micro-batches per optimizer step. Contrastive negatives come from one micro-batch (over all workers).
    grad_accum: int = 1


@dataclass
class EngineConfig:
    #: DeepSpeed ZeRO stage 0-3.
    zero_stage: int = 0
    #: auto = amp_bf16 (DeepSpeed torch_autocast) on CUDA, fp32 on CPU. bf16/fp16 are DeepSpeed's own
    #: low-precision modes (master weights in the optimizer), measured much slower for CLIP (see README).
    precision: str = "auto"


@dataclass
class TrainConfig:
    preset: str = "vit-b-32"
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    engine: EngineConfig = field(default_factory=EngineConfig)
    #: The run directory: run.yaml, metrics.jsonl, checkpoints/ (must be shared by all nodes).
    out: str = "runs/run"
    #: Length of the run: optimizer steps, or epochs (an epoch is sum-of-rows / batch steps); 1 epoch if
    #: neither is given.
    steps: int | None = None
    epochs: float | None = None
    seed: int = 0
    checkpoint_every: int = 1000
    #: Number of most recent checkpoints kept (the final one is always kept).
    keep: int = 3
    log_every: int = 10
    num_workers: int = 1
    #: GPUs per training worker; None = 1 when this machine has CUDA, else 0 (CPU training).
    gpus_per_worker: float | None = None
    cpus_per_worker: float = 1.0
    #: Ray cluster address; None = RAY_ADDRESS if set, else a local Ray started for this run.
    address: str | None = None
    #: Restarts after a worker failure, each from the last checkpoint (-1 = unlimited).
    max_failures: int = 3
    #: A captions dataset scored for retrieval at every checkpoint (needs rs-clip-eval); None = no eval.
    eval_data: str | None = None
    eval_split: str = "test"

    # -- derived -----------------------------------------------------------------------------------
    def micro_batch(self) -> int:
        """Pairs per worker per micro step."""
        return self.optim.batch_size // (self.num_workers * self.optim.grad_accum)

    def validate(self) -> TrainConfig:
        o, e, d = self.optim, self.engine, self.data
        if not self.data.sources:
            raise ConfigError("no training data: give at least one --data DATASET_DIR")
        if self.steps is not None and self.epochs is not None:
            raise ConfigError("give either steps or epochs, not both")
        if self.steps is not None and self.steps < 1:
            raise ConfigError(f"steps must be >= 1, got {self.steps}")
        if self.epochs is not None and self.epochs <= 0:
            raise ConfigError(f"epochs must be > 0, got {self.epochs}")
        if self.num_workers < 1:
            raise ConfigError(f"num_workers must be >= 1, got {self.num_workers}")
        if o.grad_accum < 1:
            raise ConfigError(f"grad_accum must be >= 1, got {o.grad_accum}")
        if o.batch_size % (self.num_workers * o.grad_accum):
            raise ConfigError(
                f"batch size {o.batch_size} is not divisible by num_workers x grad_accum = "
                f"{self.num_workers} x {o.grad_accum}: every worker must get the same micro-batch"
            )
        if e.zero_stage not in (0, 1, 2, 3):
            raise ConfigError(f"zero_stage must be 0, 1, 2 or 3, got {e.zero_stage}")
        if e.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {PRECISIONS}, got {e.precision!r}")
        if o.lr <= 0 or o.warmup_steps < 0 or not 0 <= o.min_lr_ratio <= 1:
            raise ConfigError("lr must be > 0, warmup_steps >= 0 and min_lr_ratio in [0, 1]")
        lo, hi = d.crop_scale
        if not 0 < lo <= hi <= 1:
            raise ConfigError(f"crop_scale must satisfy 0 < min <= max <= 1, got {d.crop_scale}")
        for s in d.sources:
            if s.weight <= 0:
                raise ConfigError(f"dataset weight must be > 0, got {s.weight} for {s.path}")
        if self.checkpoint_every < 1 or self.keep < 1 or self.log_every < 1:
            raise ConfigError("checkpoint_every, keep and log_every must be >= 1")
        return self

    # -- YAML --------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return _to_plain(dataclasses.asdict(self))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        return _build(cls, data, "config")

    @classmethod
    def from_yaml(cls, text: str, source: str = "config") -> TrainConfig:
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{source}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: must hold a mapping of settings")
        return _build(cls, data, source)


def _to_plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_to_plain(v) for v in obj]
    return obj


def _build(cls: type, data: dict[str, Any], where: str) -> Any:
    """Construct dataclass ``cls`` from plain data, checking every key and type on the way."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"{where}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    return cls(**kwargs)


def _coerce(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(inner[0], value, where)
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return _build(tp, value, where)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        return [_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where}: expected {len(args)} values, got {value!r}")
        return tuple(_coerce(a, v, where) for a, v in zip(args, value))
    if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if tp in (int, str, bool) and not (isinstance(value, tp) and not (tp is int and isinstance(value, bool))):
        raise ConfigError(f"{where}: expected {tp.__name__}, got {value!r}")
    return value


# ---------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------


def _preset(model: str, lr: float, batch: int, *, warmup: int, **extra: Any) -> TrainConfig:
    cfg = TrainConfig(preset="", model=ModelConfig(name=model), optim=OptimConfig(lr=lr, batch_size=batch,
                                                                               warmup_steps=warmup))
    for key, value in extra.items():
        section, _, name = key.partition("__")
        setattr(getattr(cfg, section), name, value)
    return cfg


def _tiny() -> TrainConfig:
    from rs_formats.models import TINY_MODEL

    # Tuned so the demo's tiny CLIP visibly learns the synthetic scenes in 1-2 CPU minutes.
    cfg = _preset(TINY_MODEL, 1e-3, 64, warmup=10, optim__weight_decay=0.1,
                  data__loader_workers=1, data__prefetch_factor=2)
    cfg.checkpoint_every = 100
    cfg.log_every = 5
    return cfg


#: The RemoteCLIP paper's settings (Liu, Chen et al. 2023): Adam, warm-up then cosine, AMP.
PRESETS = {
    "rn50": lambda: _preset("RN50", 7e-5, 256, warmup=500),
    "vit-b-32": lambda: _preset("ViT-B-32", 4e-5, 256, warmup=500),
    "vit-l-14": lambda: _preset("ViT-L-14", 1e-4, 28, warmup=500, model__grad_checkpointing=True),
    "tiny": _tiny,
}


def load_config(path: str | Path, preset_name: str | None = None) -> TrainConfig:
    """A run.yaml, complete or partial: its settings on top of a preset (``preset_name``, else the
    file's own ``preset`` key, else vit-b-32)."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: no such config file")
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: must hold a mapping of settings")
    name = preset_name or data.get("preset") or "vit-b-32"
    merged = _merge(preset(name).to_dict(), data)
    merged["preset"] = name.lower()
    return _build(TrainConfig, merged, str(p))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def preset(name: str) -> TrainConfig:
    key = name.lower()
    if key not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    cfg = PRESETS[key]()
    cfg.preset = key
    return cfg
