"""``rs-clip-train``: fit a CLIP on rs-dataset caption shards; print resolved configurations and presets;
export a checkpoint for the Hugging Face Hub.

Every setting of :class:`~rs_clip_train.config.TrainConfig` is a flag of ``fit`` and ``config``, generated
from its dataclass field (:mod:`rs_formats.flags`), so a new setting gets its flag, help text and
shown default by being declared. The console flags, ``--version`` and the exit statuses follow
:mod:`rs_formats.console`: 0 done, 1 training failed, 2 usage, configuration or input error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rs_formats import console
from rs_formats.flags import HelpFormatter, add_flags, from_args, given
from rs_formats.outputs import OutputOptions

from .config import PROG, ConfigError, TrainConfig
from .export import ExportOptions
from .presets import PRESETS, preset, resolve

log = logging.getLogger("rs_clip_train")
#: --help sections, in order: a top-level setting names its own, a section's settings go under the section's.
GROUPS = {
    "run": "run",
    "model": "model",
    "data": "data",
    "optim": "optimisation",
    "engine": "engine",
    "cluster": "launcher and cluster",
    "checkpoints": "checkpoints and logs",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="RemoteCLIP-style continual pretraining of open_clip models with DeepSpeed on Ray Train or torchrun.",
    )
    console.add_version(parser, "rs-clip-train")
    console.add_completion(parser)
    sub = parser.add_subparsers(dest="command", required=True)
    common = console.common_flags()
    layering = (
        "Settings come from --preset, then --config, then the flags; defaults shown are vit-b-32's "
        "(`rs-clip-train presets` lists what the other presets change)."
    )
    fit = sub.add_parser(
        "fit",
        parents=[common],
        formatter_class=HelpFormatter,
        help="train (or resume training) and write rs-clip-checkpoints",
        description=f"Train a CLIP and print the final checkpoint's path (with --storage, its URI). "
        f"{layering} Running again with the same --out resumes from its last checkpoint.",
    )
    _add_run_flags(fit)
    show = sub.add_parser(
        "config",
        parents=[common],
        formatter_class=HelpFormatter,
        help="print the resolved run configuration as YAML (for --config)",
        description=f"Print the run configuration the same flags would give `fit`. {layering}",
    )
    _add_run_flags(show)
    sub.add_parser("presets", parents=[common], help="list the presets and their main settings")
    _add_export(
        sub.add_parser(
            "export",
            parents=[common],
            help="write a checkpoint's publishing copy: what its Hugging Face model repository holds",
            description="Copy a checkpoint's weights and open_clip config, with a manifest without the resume "
            "state and a model card for the Hub, into --out atomically, verify the copy and print its path. "
            "Upload it with huggingface_hub.upload_folder.",
        )
    )
    return parser


def _add_export(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source", metavar="RUN_OR_CHECKPOINT", help="a run directory (its final checkpoint) or a checkpoint"
    )
    p.add_argument("--out", metavar="OUT", required=True, help="the folder to write (must not exist)")
    add_flags(p, OutputOptions, only=("overwrite",))
    add_flags(p, ExportOptions)


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    sections = add_flags(p, TrainConfig, GROUPS)
    sections["run"].add_argument(
        "--config",
        metavar="RUN_YAML",
        help="a run.yaml (as written to every run directory), complete or partial",
    )


def resolve_args(args: argparse.Namespace) -> TrainConfig:
    """preset < --config < flags."""
    return resolve(args.config, given(args, TrainConfig))


def _presets_table() -> str:
    from rs_clip_models.models import network_config

    rows = ["preset     model               activation  lr       batch  warmup  steps"]
    for name in PRESETS:
        c = preset(name)
        activation = "QuickGELU" if network_config(c.model.name).get("quick_gelu") else "GELU"
        steps = f"{c.steps:,}" if c.steps is not None else "1 epoch"
        rows.append(
            f"{name:<10} {c.model.name:<19} {activation:<11} {c.optim.lr:<8.0e} {c.optim.batch_size:<6} "
            f"{c.optim.warmup_steps:<7} {steps}"
        )
    return "\n".join(rows)


def _command(args: argparse.Namespace) -> int:
    if args.command == "presets":
        print(_presets_table())
        return 0
    if args.command == "export":
        from .export import export

        opts = from_args(args, ExportOptions)
        print(
            export(
                args.source,
                args.out,
                results=opts.results,
                licence=opts.licence,
                base_model=opts.base_model,
                repo_id=opts.repo_id,
                overwrite=from_args(args, OutputOptions).overwrite,
            )
        )
        return 0
    cfg = resolve_args(args)
    if args.command == "config":
        print(cfg.to_yaml(), end="")
        return 0
    if args.out is None and args.config is None:
        raise ConfigError("--out RUN_DIR is required")
    from .launch import fit
    from .launch_common import TrainingFailed

    try:
        final = fit(cfg)
    except TrainingFailed as exc:
        log.error("training failed: %s", exc)
        return 1
    from .launch_torchrun import process_rank

    if process_rank() == 0:  # under torchrun every process runs this command; one prints its product
        print(final)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    return console.run(PROG, build_parser(), _command, argv)


if __name__ == "__main__":
    sys.exit(main())
