"""``rs-clip-train``: fit a CLIP on rs-dataset caption shards; print presets and resolved configs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .config import PRECISIONS, PRESETS, ConfigError, DataSource, TrainConfig, load_config, preset

# Flag -> (section, field): the overrides a user is expected to need, applied after preset and --config.
_OVERRIDES = {
    "model": ("model", "name"),
    "init": ("model", "init"),
    "grad_checkpointing": ("model", "grad_checkpointing"),
    "compile": ("model", "compile"),
    "lr": ("optim", "lr"),
    "batch_size": ("optim", "batch_size"),
    "weight_decay": ("optim", "weight_decay"),
    "warmup_steps": ("optim", "warmup_steps"),
    "grad_clip": ("optim", "grad_clip"),
    "grad_accum": ("optim", "grad_accum"),
    "zero_stage": ("engine", "zero_stage"),
    "precision": ("engine", "precision"),
    "split": ("data", "split"),
    "loader_workers": ("data", "loader_workers"),
    "rotate90": ("data", "rotate90"),
    "hflip": ("data", "hflip"),
    "out": (None, "out"),
    "num_workers": (None, "num_workers"),
    "gpus_per_worker": (None, "gpus_per_worker"),
    "cpus_per_worker": (None, "cpus_per_worker"),
    "address": (None, "address"),
    "seed": (None, "seed"),
    "checkpoint_every": (None, "checkpoint_every"),
    "keep": (None, "keep"),
    "log_every": (None, "log_every"),
    "max_failures": (None, "max_failures"),
    "eval_data": (None, "eval_data"),
    "eval_split": (None, "eval_split"),
}


def _data_source(text: str) -> DataSource:
    """``DIR`` or ``DIR:WEIGHT`` (a suffix is a weight only if it parses as a number)."""
    path, sep, weight = text.rpartition(":")
    if sep:
        try:
            return DataSource(path, float(weight))
        except ValueError:
            pass
    return DataSource(text, 1.0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rs-clip-train",
        description="RemoteCLIP-style continual pretraining of open_clip models with DeepSpeed on Ray Train.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    fit = sub.add_parser("fit", help="train (or resume training) and write rs-clip-checkpoints",
                         description="Train a CLIP. Settings come from --preset, then --config, then the flags. "
                                     "Re-running with the same --out resumes from its last checkpoint.")
    _add_run_flags(fit)

    show = sub.add_parser("config", help="print the resolved run configuration as YAML (for --config)")
    _add_run_flags(show)

    sub.add_parser("presets", help="list the presets and their main settings")
    return parser


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("run")
    g.add_argument("--preset", choices=sorted(PRESETS), default=None,
                   help="starting settings: the paper's rn50 / vit-b-32 / vit-l-14, or tiny for CPU tests "
                        "(default vit-b-32, or the preset named in --config)")
    g.add_argument("--config", metavar="RUN_YAML", help="a run.yaml (as written to every run directory)")
    g.add_argument("--data", metavar="DIR[:WEIGHT]", action="append", type=_data_source,
                   help="an rs-dataset of kind 'captions'; repeat to mix datasets, sampled in proportion to "
                        "WEIGHT (default 1)")
    g.add_argument("--out", metavar="RUN_DIR", help="run directory (shared by all nodes): checkpoints, metrics")
    g.add_argument("--init", metavar="PATH", help="initial weights: an open_clip file, a RemoteCLIP-style .pt, "
                   "or an rs-clip-checkpoint directory (default: random initialisation)")
    g.add_argument("--model", metavar="NAME", help="open_clip model name overriding the preset's")
    length = g.add_mutually_exclusive_group()
    length.add_argument("--steps", type=int, help="optimizer steps to train for")
    length.add_argument("--epochs", type=float,
                        help="epochs to train for (1 epoch = rows of all datasets / batch size steps; default 1)")
    g.add_argument("--seed", type=int, help="seed of initialisation, data order and augmentation")

    c = p.add_argument_group("cluster")
    c.add_argument("--num-workers", type=int, help="training workers (processes; one GPU each on a GPU cluster)")
    c.add_argument("--gpus-per-worker", type=float,
                   help="GPUs per worker (default: 1 if the cluster has GPUs, else 0 = CPU training)")
    c.add_argument("--cpus-per-worker", type=float, help="CPUs Ray reserves per worker (default 1)")
    c.add_argument("--address", help="Ray cluster address (default: RAY_ADDRESS, else a local Ray for this run)")
    c.add_argument("--max-failures", type=int,
                   help="restarts from the last checkpoint after a worker dies (-1 = unlimited; default 3)")

    o = p.add_argument_group("optimisation")
    o.add_argument("--lr", type=float, help="peak learning rate (after warm-up)")
    o.add_argument("--batch-size", type=int, help="global batch: pairs per optimizer step over all workers")
    o.add_argument("--weight-decay", type=float, help="AdamW weight decay (not applied to gains, biases, scale)")
    o.add_argument("--warmup-steps", type=int, help="linear warm-up steps before the cosine decay")
    o.add_argument("--grad-clip", type=float, help="max gradient norm (0 disables clipping)")
    o.add_argument("--grad-accum", type=int,
                   help="micro-batches per step (negatives then come from one micro-batch)")

    e = p.add_argument_group("engine")
    e.add_argument("--zero-stage", type=int, choices=(0, 1, 2, 3), help="DeepSpeed ZeRO stage (default 0)")
    e.add_argument("--precision", choices=PRECISIONS,
                   help="auto = bf16 autocast on GPU, fp32 on CPU; bf16/fp16 are DeepSpeed's own (slower) modes")
    e.add_argument("--grad-checkpointing", action=argparse.BooleanOptionalAction, default=None,
                   help="recompute activations in backward to save memory (on by default for vit-l-14)")
    e.add_argument("--compile", action=argparse.BooleanOptionalAction, default=None,
                   help="torch.compile the model (GPU)")

    d = p.add_argument_group("data")
    d.add_argument("--split", help="dataset split to train on (default train)")
    d.add_argument("--loader-workers", type=int, help="decode/augment processes per worker (0 = in-process)")
    d.add_argument("--rotate90", action=argparse.BooleanOptionalAction, default=None,
                   help="random 0/90/180/270-degree rotations (default on)")
    d.add_argument("--hflip", action=argparse.BooleanOptionalAction, default=None,
                   help="random horizontal flips (default on)")

    k = p.add_argument_group("checkpoints and logs")
    k.add_argument("--checkpoint-every", type=int, help="steps between checkpoints (one is always written at the end)")
    k.add_argument("--keep", type=int, help="most recent checkpoints to keep")
    k.add_argument("--log-every", type=int, help="steps between metrics lines")
    k.add_argument("--eval-data", metavar="DIR", help="a captions dataset scored for image-text retrieval at every "
                   "checkpoint (needs rs-clip-eval); results go to metrics.jsonl and the checkpoint manifest")
    k.add_argument("--eval-split", help="split of --eval-data to score (default test)")


def resolve(args: argparse.Namespace) -> TrainConfig:
    """preset < --config < flags."""
    cfg = load_config(args.config, args.preset) if args.config else preset(args.preset or "vit-b-32")
    for flag, (section, name) in _OVERRIDES.items():
        value = getattr(args, flag, None)
        if value is not None:
            setattr(getattr(cfg, section) if section else cfg, name, value)
    if args.data:
        cfg.data.sources = list(args.data)
    if args.steps is not None:
        cfg.steps, cfg.epochs = args.steps, None
    if args.epochs is not None:
        cfg.steps, cfg.epochs = None, args.epochs
    return cfg


def _presets_table() -> str:
    rows = ["preset     model      lr       batch  warmup"]
    for name in PRESETS:
        c = preset(name)
        rows.append(f"{name:<10} {c.model.name:<10} {c.optim.lr:<8.0e} {c.optim.batch_size:<6} {c.optim.warmup_steps}")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "presets":
        print(_presets_table())
        return 0
    from rs_formats import FormatError

    try:
        cfg = resolve(args)
        if args.command == "config":
            print(cfg.to_yaml(), end="")
            return 0
        if not (args.out or args.config):
            raise ConfigError("--out RUN_DIR is required")
        from .launcher import TrainingFailed, fit

        try:
            final = fit(cfg)
        except TrainingFailed as exc:
            print(f"rs-clip-train: training failed: {exc}", file=sys.stderr)
            return 1
    except (ConfigError, FormatError) as exc:
        print(f"rs-clip-train: error: {exc}", file=sys.stderr)
        return 2
    print(f"final checkpoint: {final}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
