"""Reading a checkpoint's resume state (``train_state/``) without trusting it.

DeepSpeed writes its engine state with ``torch.save`` and reads it back with
``torch.load(weights_only=False)``, which runs whatever code a pickle names: resuming from a checkpoint
directory copied from someone else would run that code (and again on every restart). Here every file of
a resume state is read by torch's ``weights_only`` unpickler, which builds tensors and plain Python data
only, plus an allowlist of the few DeepSpeed classes the state holds, and only after the file's sha256
matched the checkpoint's manifest (:func:`rs_formats.checkpoint.verify_resume_state`).

The allowlist comes from listing the globals of every file DeepSpeed 0.19 writes for this trainer, ZeRO
stages 0 to 3 (``tests/test_zero.py`` resumes each): the model states hold tensors, ``OrderedDict`` and
``torch.Size`` (all allowed by torch already); the ZeRO optimizer states add ``LossScaler`` (a plain
object: ``cur_scale``, ``dynamic``), ``ZeroStageEnum`` (an int enum) and, at stages 1 and 2,
``fragment_address`` (a dataclass of two ints). ``DynamicLossScaler`` is what DeepSpeed's own fp16 mode
stores in ``LossScaler``'s place. Building any of them runs no code beyond setting attributes.

Where: the driver checks the whole resume state before any worker starts (:func:`check`; tensors are
memory-mapped, not read), and each worker reads it through :class:`ResumeState`, also for the files
DeepSpeed opens (:func:`reading_through`).
"""

from __future__ import annotations

import logging
import pickle
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from rs_formats import FormatError, read_checkpoint
from rs_formats.checkpoint import (
    TRAIN_STATE,
    resume_state_files,
    resume_state_sums,
    verify_resume_file,
    verify_resume_state,
)

log = logging.getLogger(__name__)


def allowed_globals() -> list[type]:
    """The non-tensor classes a DeepSpeed resume state may hold (see the module docstring)."""
    from .deepspeed_engine import ensure_accelerator_env

    ensure_accelerator_env()
    from deepspeed.runtime.fp16.loss_scaler import DynamicLossScaler, LossScaler
    from deepspeed.runtime.zero.config import ZeroStageEnum
    from deepspeed.utils.tensor_fragment import fragment_address

    return [LossScaler, DynamicLossScaler, ZeroStageEnum, fragment_address]


def safe_load(path: Path, map_location: Any = "cpu", *, mmap: bool = False) -> Any:
    """``torch.load`` with ``weights_only=True`` and the allowlist; anything else is a FormatError naming
    ``path`` (``mmap``: map the tensors instead of reading them, to check a file cheaply)."""
    try:
        with torch.serialization.safe_globals(allowed_globals()):
            return torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        found = re.search(r"Unsupported (?:global|operand)[^.]*?(?:GLOBAL )?([\w.]+)", str(exc))
        what = f"a reference to {found.group(1)}" if found else "Python objects"
        raise FormatError(
            path,
            f"holds {what}, not only tensors and plain data: a resume state is never "
            "unpickled beyond those; refusing it",
        ) from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise FormatError(path, f"not a readable torch file (truncated or corrupt?): {exc}") from None


def check(checkpoint: Path) -> None:
    """Before resuming from ``checkpoint``: its resume state matches the manifest's checksums and every
    file of it reads safely. Raises FormatError naming the first bad file."""
    info = read_checkpoint(checkpoint)
    files = resume_state_files(info)  # regular files only, also without checksums to compare
    if resume_state_sums(info) is None:
        log.warning(
            "%s: the manifest records no checksums for the resume state (written before they were "
            "recorded); resuming without verifying it (its files are still read safely)",
            checkpoint / TRAIN_STATE,
        )
    else:
        verify_resume_state(info)
    for rel in files:
        if rel.endswith(".pt"):  # what a resume reads: torch files only
            safe_load(checkpoint / rel, mmap=True)


class ResumeState:
    """The resume state of one checkpoint as a worker reads it: each file checked, then loaded safely."""

    def __init__(self, checkpoint: Path):
        self.root = checkpoint
        self.sums = resume_state_sums(read_checkpoint(checkpoint))

    def load(self, path: str | Path, map_location: Any = "cpu") -> Any:
        if self.sums is not None:
            verify_resume_file(self.root, self.sums, Path(path))
        return safe_load(Path(path), map_location)


class _SafeReads:
    """DeepSpeed's checkpoint engine with its ``load`` replaced (writing and the rest delegated)."""

    def __init__(self, inner: Any, state: ResumeState):
        self._inner, self._state = inner, state

    def load(self, path: str, map_location: Any = None) -> Any:
        return self._state.load(path, map_location)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@contextmanager
def reading_through(engine: Any, state: ResumeState) -> Iterator[None]:
    """While in the block, every file DeepSpeed's ``engine`` loads goes through ``state``."""
    original = engine.checkpoint_engine
    engine.checkpoint_engine = _SafeReads(original, state)
    try:
        yield
    finally:
        engine.checkpoint_engine = original
