"""How an evaluation runs: device, precision, batching, loader processes, progress, probe overrides, seed.

One typed config shared by ``rs-clip-eval`` and every package that embeds through rs-clip-eval
(rs-count): each setting is defined here once, and is the shared flag of every evaluating command
(:mod:`rs_clip_eval.flags`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rs_formats.settings import setting


def _inference_precisions() -> tuple[str, ...]:
    from rs_formats.models import INFERENCE_PRECISIONS  # torch: looked up when --precision is parsed

    return INFERENCE_PRECISIONS


@dataclass
class EvalConfig:
    """Each field with a help text is a flag of every evaluating command (:mod:`rs_clip_eval.flags`)."""

    device: str = setting(
        "auto", "torch device: auto (cuda when available), cpu, cuda, cuda:1", metavar="DEVICE"
    )
    precision: str = setting(
        "fp32",
        "open_clip's inference precision: fp32, or amp and amp_bf16 (fp32 weights under fp16 / bf16 "
        "autocast); part of the cache key",
        choices=_inference_precisions,
        metavar="PRECISION",
    )
    batch_size: int = setting(256, "images (and texts) per forward pass", metavar="N")
    loader_workers: int = setting(
        2, "DataLoader processes decoding images (0 = in process)", metavar="N", renamed_from="workers"
    )
    #: Progress bars (shown only on a terminal anyway); the console's --no-progress.
    progress: bool = True
    seed: int = setting(
        0, "seed of the probes' validation split and search and of the t-SNE sample", metavar="N"
    )
    #: ProbeConfig overrides (command line beats suite).
    probe: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.precision not in _inference_precisions():
            raise ValueError(
                f"precision must be one of {', '.join(_inference_precisions())}, got {self.precision!r}"
            )
        if self.batch_size < 1 or self.loader_workers < 0:
            raise ValueError(
                f"batch size must be >= 1 and loader workers >= 0, got {self.batch_size} and "
                f"{self.loader_workers}"
            )

    def resolved_device(self) -> str:
        from rs_formats.models import resolve_device

        return resolve_device(self.device)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
