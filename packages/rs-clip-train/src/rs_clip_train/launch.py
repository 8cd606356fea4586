"""``fit``: train as configured, under the launcher the run chooses
(:func:`~rs_clip_train.launch_common.choose_launcher`): :mod:`rs_clip_train.launch_torchrun` or
:mod:`rs_clip_train.launch_ray`, which share :mod:`rs_clip_train.launch_common`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .config import TrainConfig
from .launch_common import choose_launcher

if TYPE_CHECKING:
    from .train_loop import StepCallback


def fit(
    run: TrainConfig,
    *,
    step_callback: StepCallback | None = None,
    progress: bool = True,
    num_cpus: int | None = None,
) -> Path | str:
    """Train as configured; returns the final rs-clip-checkpoint (with ``--storage``, its URI). Resumes if
    the run directory (or the storage) has one.

    ``progress``: a bar on stderr while training, shown only on a terminal (and not after --no-progress).
    ``num_cpus``: the CPUs of a private local Ray (``--launcher ray`` without a cluster)."""
    if choose_launcher(run) == "none":
        from .launch_torchrun import launch

        return launch(run, step_callback=step_callback, progress=progress)
    from .launch_ray import launch as launch_ray

    return launch_ray(run, step_callback=step_callback, progress=progress, num_cpus=num_cpus)
