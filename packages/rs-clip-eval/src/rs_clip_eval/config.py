"""How an evaluation runs: device, precision, batching, loader processes, progress, probe overrides, seed.

One typed config shared by ``rs-clip-eval`` and every package that embeds through rs-clip-eval
(rs-count): each setting is defined here once; the command lines fill it from the shared flags
(:mod:`rs_clip_eval.flags`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class EvalConfig:
    device: str = "auto"  # auto: cuda when a GPU is visible, else cpu
    precision: str = "fp32"  # open_clip's inference precisions (rs_clip_models.models.INFERENCE_PRECISIONS)
    batch_size: int = 256  # images (and texts) per forward pass
    loader_workers: int = 2  # DataLoader processes decoding images
    progress: bool = True  # progress bars (shown only on a terminal anyway)
    seed: int = 0  # the probes' validation split and search, the t-SNE subsample
    probe: dict[str, Any] = field(default_factory=dict)  # ProbeConfig overrides (command line beats suite)

    def __post_init__(self) -> None:
        from rs_clip_models.models import INFERENCE_PRECISIONS

        if self.precision not in INFERENCE_PRECISIONS:
            raise ValueError(
                f"precision must be one of {', '.join(INFERENCE_PRECISIONS)}, got {self.precision!r}"
            )
        if self.batch_size < 1 or self.loader_workers < 0:
            raise ValueError(
                f"batch size must be >= 1 and loader workers >= 0, got {self.batch_size} and "
                f"{self.loader_workers}"
            )

    def resolved_device(self) -> str:
        from rs_clip_models.models import resolve_device

        return resolve_device(self.device)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
