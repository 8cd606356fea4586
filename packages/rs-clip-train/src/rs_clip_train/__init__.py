"""rs-clip-train: RemoteCLIP-style continual pretraining of open_clip models with DeepSpeed on Ray Train or torchrun.

Public API (importing it does not import torch, DeepSpeed or Ray): the run configuration
(:class:`TrainConfig` and its sections, :class:`DataSource`), the presets (:func:`preset`,
:func:`load_config`), :func:`fit`, and :func:`make_trainer` (the run as a Ray Train ``TorchTrainer``, for
Ray Tune or Ray Train callbacks).
"""

from rs_formats.console import package_version

from .config import PRECISIONS, DataConfig, DataSource, EngineConfig, ModelConfig, OptimConfig, TrainConfig
from .launch import fit
from .launch_ray import make_trainer
from .launcher import TrainingFailed
from .presets import PRESETS, load_config, preset
from .settings import ConfigError

__version__ = package_version("rs-clip-train")

__all__ = [
    "PRECISIONS",
    "PRESETS",
    "ConfigError",
    "DataConfig",
    "DataSource",
    "EngineConfig",
    "ModelConfig",
    "OptimConfig",
    "TrainConfig",
    "TrainingFailed",
    "__version__",
    "fit",
    "load_config",
    "make_trainer",
    "preset",
]
