"""The sections of a run's configuration (model, data, optimiser, engine): one dataclass field per setting,
with its help text, declared once (:mod:`rs_formats.flags` generates the flags). :class:`~rs_clip_train.
config.TrainConfig` holds one of each."""

from __future__ import annotations

from dataclasses import dataclass

from rs_clip_models.sources import SOURCES_HELP
from rs_formats.location import uri_help
from rs_formats.settings import ConfigError, setting

#: The paper presets' length: 108,215 optimizer steps for every backbone (the paper, section IV-A-3: "We
#: train all models for a total step of 108,215").
PAPER_STEPS = 108_215
#: open_clip's precision names (amp = fp16 autocast), plus DeepSpeed's own bf16/fp16 modes and auto.
PRECISIONS = ("auto", "fp32", "amp", "amp_bf16", "bf16", "fp16")
#: What starts the training processes (see rs_clip_train.launch_common).
LAUNCHERS = ("auto", "ray", "none")


@dataclass
class ModelConfig:
    name: str = setting(
        "ViT-B-32-quickgelu",
        "open_clip model name (RN50-quickgelu, ViT-B-32-quickgelu, "
        "ViT-L-14-quickgelu: OpenAI's activation; RS-Tiny, ...) or an rs-clip-checkpoint directory",
        flag="--model",
        metavar="NAME",
    )
    init: str | None = setting(
        None,
        f"initial weights, {SOURCES_HELP}; a network other than the one --model names is warned "
        "(default: random initialisation)",
        metavar="SPEC",
    )
    grad_checkpointing: bool = setting(
        False,
        "recompute activations in the backward pass: saves memory on "
        "large models, costs ~30% speed (on in the vit-l-14 preset)",
    )
    compile: bool = setting(
        False, "wrap the model in torch.compile (GPU; faster for ViT at large batches, slower to start)"
    )


def parse_splits(text: str) -> list[str]:
    """``"train,val,test"`` -> ``["train", "val", "test"]``; an empty or repeated name is a ConfigError."""
    names = [name.strip() for name in str(text).split(",")]
    if not all(names):
        raise ConfigError(f"split list {text!r}: empty split name (write e.g. train,val,test)")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"split list {text!r}: {', '.join(repeated)} given twice")
    return names


@dataclass
class DataSource:
    path: str
    #: Relative sampling weight when several datasets are mixed.
    weight: float = 1.0
    #: This dataset's splits to train on, comma-separated (None: ``data.split``).
    split: str | None = None

    @classmethod
    def parse(cls, text: str) -> DataSource:
        """``DIR[@SPLITS][:WEIGHT]``: ``SPLITS`` comma-separated (``/data/dior@train,val,test:2``). A suffix is
        a weight only if it parses as a number, and splits only if it holds no path separator."""
        rest, weight = text, 1.0
        head, sep, tail = text.rpartition(":")
        if sep:
            try:
                rest, weight = head, float(tail)
            except ValueError:
                pass
        path, at, splits = rest.rpartition("@")
        if at and path and splits and "/" not in splits:
            return cls(path, weight, splits)
        return cls(rest, weight)


@dataclass
class DataConfig:
    sources: list[DataSource] = setting(
        help=uri_help("an rs-dataset of kind 'captions'")
        + " (each worker reads only its own row groups); repeat to mix datasets, each sampled in proportion to WEIGHT "
        "(default 1); @SPLITS trains on those splits of this one (comma-separated, instead of --split)",
        factory=list,
        flag="--data",
        metavar="DIR[@SPLITS][:WEIGHT]",
        parse=DataSource.parse,
        group="run",
    )
    split: str = setting(
        "train",
        "dataset split(s) to train on, comma-separated, e.g. train,val,test: a "
        "dataset's splits are read as one pool",
        metavar="SPLIT[,SPLIT...]",
    )
    crop_scale: tuple[float, float] = setting(
        (0.9, 1.0),
        "random-resized-crop area range; open_clip's default keeps 90-100%, so counts in captions stay true",
        metavar=("MIN", "MAX"),
    )
    hflip: bool = setting(True, "random horizontal flips")
    rotate90: bool = setting(
        True, "random rotations by 0/90/180/270 degrees: aerial images have no canonical 'up'"
    )
    loader_workers: int = setting(
        4,
        "background decode/augment processes per training worker (0 decodes in the training process)",
        metavar="N",
    )
    gpu_decode: bool = setting(
        True,
        "decode JPEG rows on the GPU when training on one (nvjpeg, batched; "
        "crops, flips and turns there too): loader workers then only read, check headers and "
        "tokenise. Other rows, and training on a CPU, decode in the loader workers",
    )
    prefetch_factor: int = setting(4, "micro-batches each loader worker prepares ahead", metavar="N")
    shuffle_window: int = setting(
        4,
        "row groups whose rows are shuffled together; a larger window mixes better and costs memory",
        metavar="N",
    )

    def splits_of(self, source: DataSource) -> list[str]:
        """The splits of ``source`` to train on: its own ``@SPLITS``, else ``split``."""
        return parse_splits(source.split if source.split is not None else self.split)


@dataclass
class OptimConfig:
    lr: float = setting(4e-5, "peak learning rate (after warm-up)")
    batch_size: int = setting(
        256,
        "global batch: image-caption pairs per optimizer step over all workers and accumulation steps",
        metavar="N",
    )
    weight_decay: float = setting(
        0.2, "AdamW weight decay (not applied to gains, biases, norms and the logit scale)"
    )
    betas: tuple[float, float] = setting((0.9, 0.98), "AdamW betas", metavar=("BETA1", "BETA2"))
    eps: float = setting(1e-6, "AdamW epsilon")
    warmup_steps: int = setting(500, "linear warm-up steps before the cosine decay", metavar="N")
    min_lr_ratio: float = setting(0.0, "the cosine decays to lr x this ratio")
    grad_clip: float = setting(1.0, "max global gradient norm (0 disables clipping)")
    grad_accum: int = setting(
        1,
        "micro-batches per optimizer step; contrastive negatives then come from one "
        "micro-batch (over all workers)",
        metavar="K",
    )


@dataclass
class EngineConfig:
    zero_stage: int = setting(0, "DeepSpeed ZeRO stage", choices=(0, 1, 2, 3))
    precision: str = setting(
        "auto",
        "open_clip's names: amp = fp16 autocast, amp_bf16 = bf16 autocast (DeepSpeed torch_autocast); "
        "bf16/fp16 are DeepSpeed's own modes (master weights in the optimizer), much slower for CLIP; "
        "auto = amp_bf16 on CUDA, fp32 on a CPU",
        choices=PRECISIONS,
        renamed_values={"amp_fp16": "amp"},
    )
