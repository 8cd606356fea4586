"""rs-clip-train: RemoteCLIP-style continual pretraining of open_clip models with DeepSpeed on Ray Train or torchrun.

Public API (importing it does not import torch, DeepSpeed or Ray): the run configuration
(:class:`TrainConfig` and its sections, :class:`DataSource`), the presets (:func:`preset`,
:func:`load_config`), :func:`fit`, and :func:`make_trainer` (the run as a Ray Train ``TorchTrainer``, for
Ray Tune or Ray Train callbacks).
"""

from rs_formats.lazy import lazy_exports

__all__ = lazy_exports(
    __name__,
    "rs-clip-train",
    {
        ".config": (
            "PRECISIONS",
            "ConfigError",
            "DataConfig",
            "DataSource",
            "EngineConfig",
            "ModelConfig",
            "OptimConfig",
            "TrainConfig",
        ),
        ".launch_ray": ("make_trainer",),
        ".launch": ("fit",),
        ".launch_common": ("TrainingFailed",),
        ".presets": ("PRESETS", "load_config", "preset"),
    },
)
