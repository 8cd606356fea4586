"""Contract 2: the ``rs-clip-checkpoint`` format (version 2; version 1 is still read).

A checkpoint is a directory, laid out as an open_clip model repository on the Hugging Face Hub::

    manifest.json                 format, version, model name, step, dataset, config, metrics, checksums
    open_clip_model.safetensors   an open_clip state_dict, under the name open_clip's ``hf-hub:`` loader
                                  looks for, loadable with
                                  open_clip.create_model_and_transforms(name, pretrained=".../open_clip_model.safetensors")
    open_clip_config.json         {"model_cfg", "preprocess_cfg"}: the exact open_clip config the network was
                                  built from (activation included); open_clip.create_model_and_transforms(
                                  "local-dir:<checkpoint>") and, once uploaded, ("hf-hub:ORG/NAME") build it
    README.md                     the model card: model, initialisation, data, metrics
    train_state/                  (optional) the training engine's own resume state; never read to load a model

Version 1 named the weights ``model.safetensors`` (open_clip's ``hf-hub:`` loader does not look for that
name: uploaded as is, it built a randomly initialised model with only a warning), and its config and card
were optional. Reading never unpickles anything: weights are safetensors, and a pickle where weights belong
is refused. The manifest's ``sha256`` lists the weights and every file under ``train_state/`` (by relative
path), so that a resume state can be verified before a trainer reads it (:func:`verify_resume_state`).
"""

from __future__ import annotations

import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FormatError
from .hashing import file_sha256
from .inputs import check_inside, check_regular, open_regular, parse_json, read_json
from .open_clip_config import check_open_clip_config

CHECKPOINT_FORMAT = "rs-clip-checkpoint"
CHECKPOINT_VERSION = 2
READABLE_CHECKPOINT_VERSIONS = (1, 2)
#: The weights file of the current version: open_clip's HF_SAFE_WEIGHTS_NAME (rs_clip_models.hub.HUB_WEIGHTS).
WEIGHTS = "open_clip_model.safetensors"
#: The weights file of format version 1.
WEIGHTS_V1 = "model.safetensors"
MODEL_CONFIG = "open_clip_config.json"
MODEL_CARD = "README.md"
TRAIN_STATE = "train_state"
MANIFEST = "manifest.json"
PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")


@dataclass(frozen=True)
class CheckpointInfo:
    path: Path
    manifest: dict[str, Any]
    weights: Path
    model_name: str
    model_config: dict[str, Any] | None

    @property
    def step(self) -> int:
        return int(self.manifest.get("step", 0))


def check_safetensors(path: Path) -> None:
    """Refuse anything but a safetensors file before a library gets to parse (or unpickle) it."""
    try:
        with open_regular(path) as f:
            head = f.read(8)
            if len(head) < 8:
                raise FormatError(path, "truncated: too short to be a safetensors file")
            (n,) = struct.unpack("<Q", head)
            if n > 100 << 20:
                raise FormatError(
                    path, "not a safetensors file (implausible header length; a pickle or zip?)"
                )
            header = f.read(n)
    except OSError as exc:
        raise FormatError(path, f"cannot be read: {exc.strerror}") from None
    try:
        parsed = parse_json(header.decode("utf-8"), path)
    except (UnicodeDecodeError, FormatError):
        parsed = None
    if not isinstance(parsed, dict):
        raise FormatError(path, "not a safetensors file (its header is not a JSON object)")


def own_file(folder: Path, path: Path) -> Path:
    """``path``, a regular file, unless a symlink leads it out of ``folder`` (a link to elsewhere would load,
    and checksum, files the folder never held). A Hugging Face cache snapshot's files link to ``blobs/``."""
    check_regular(path)
    snapshot = Path(folder).parent.name == "snapshots"
    return check_inside([folder] + [Path(folder).parent.parent / "blobs"] * snapshot, path, hint=None)


def check_manifest_fields(manifest: dict[str, Any], mpath: Path) -> None:
    """``step`` a non-negative integer, ``config`` and ``metrics`` objects, ``dataset`` an object or null."""
    step = manifest.get("step", 0)
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise FormatError(mpath, f"'step' is {str(step)[:40]!r}, not a non-negative integer")
    for key, types, what in (
        ("config", dict, "an object"),
        ("metrics", dict, "an object"),
        ("dataset", (dict, type(None)), "an object or null"),
    ):
        if not isinstance(manifest.get(key, {} if key != "dataset" else None), types):
            raise FormatError(mpath, f"{key!r} is a {type(manifest[key]).__name__}, not {what}")


def read_checkpoint(path: str | Path) -> CheckpointInfo:
    """Validate a checkpoint directory and describe it; raises FormatError naming the bad file."""
    root = Path(path)
    if not root.is_dir():
        raise FormatError(root, "no such checkpoint directory")
    mpath = root / MANIFEST
    if not mpath.exists():
        raise FormatError(mpath, "missing: this directory is not an rs-clip-checkpoint (no manifest.json)")
    manifest = read_json(own_file(root, mpath))
    if not isinstance(manifest, dict) or manifest.get("format") != CHECKPOINT_FORMAT:
        got = manifest.get("format") if isinstance(manifest, dict) else None
        raise FormatError(mpath, f"format is {got!r}, expected {CHECKPOINT_FORMAT!r}")
    version = manifest.get("format_version")
    if version not in READABLE_CHECKPOINT_VERSIONS:
        raise FormatError(
            mpath,
            f"format_version {version!r} is not supported by this rs-formats "
            f"(reads {', '.join(map(str, READABLE_CHECKPOINT_VERSIONS))}); upgrade rs-formats to read it",
        )
    for child in root.iterdir():
        if child.suffix in PICKLE_SUFFIXES:
            raise FormatError(
                child, "a pickle file inside an rs-clip-checkpoint: weights must be safetensors"
            )
    weights = root / (WEIGHTS_V1 if version == 1 else WEIGHTS)
    if not weights.exists():
        raise FormatError(weights, "missing: the checkpoint has no weights")
    check_safetensors(own_file(root, weights))
    model_name = manifest.get("model")
    if not isinstance(model_name, str) or not model_name:
        raise FormatError(mpath, "'model' (the open_clip model name) is missing")
    check_manifest_fields(manifest, mpath)
    model_config = None
    cpath = root / MODEL_CONFIG
    if cpath.exists():
        model_config = check_open_clip_config(read_json(own_file(root, cpath)), cpath)
    if version != 1 and not (
        isinstance(model_config, dict) and isinstance(model_config.get("model_cfg"), dict)
    ):
        raise FormatError(
            cpath,
            "missing, or without 'model_cfg': from format version 2 every checkpoint records "
            "the open_clip config its network was built from",
        )
    return CheckpointInfo(root, manifest, weights, model_name, model_config)


def verify_checkpoint(path: str | Path) -> CheckpointInfo:
    """:func:`read_checkpoint` plus the checksums of the weights, which the manifest must list, and of the
    resume state, if any (:func:`verify_resume_state`).

    A manifest without the weights' checksum is an error (the weights cannot be verified), not a pass.
    """
    info = read_checkpoint(path)
    mpath = info.path / MANIFEST
    sums = info.manifest.get("sha256")
    if not isinstance(sums, dict):
        raise FormatError(
            mpath, f"'sha256' is {sums!r}, not a map of file names to checksums: cannot verify the weights"
        )
    want = sums.get(info.weights.name)
    if not isinstance(want, str) or len(want) != 64:
        raise FormatError(
            mpath, f"no sha256 of {info.weights.name} in 'sha256' (got {want!r}): cannot verify the weights"
        )
    check_regular(info.weights)
    if file_sha256(info.weights) != want:
        raise FormatError(info.weights, "sha256 mismatch with the manifest: the weights are corrupt")
    verify_resume_state(info)
    return info


def files_under(root: Path, name: str) -> list[str]:
    """Every file of ``root/name`` (a file or a directory tree), as sorted relative POSIX paths.

    Only directories and regular files (:func:`~rs_formats.inputs.check_regular`) are accepted, and no
    symbolic link at all: what a trainer writes there is plain files, and a link could lead outside."""

    def is_file(path: str) -> bool:
        mode = os.lstat(path).st_mode
        if stat.S_ISLNK(mode):
            raise FormatError(path, "a symbolic link inside an rs-clip-checkpoint: refused, never followed")
        if stat.S_ISDIR(mode):
            return False
        check_regular(path)
        return True

    top = root / name
    if is_file(str(top)):
        return [name]
    out = []
    for parent, dirs, files in os.walk(top):  # symbolic links to directories are listed, never followed
        for entry in [*dirs, *files]:
            if is_file(os.path.join(parent, entry)):
                out.append(Path(parent, entry).relative_to(root).as_posix())
    return sorted(out)


def resume_state_files(info: CheckpointInfo) -> list[str]:
    """Every file under ``train_state/``, as sorted paths relative to the checkpoint (none without one);
    symbolic links and special files are refused without being opened."""
    return files_under(info.path, TRAIN_STATE) if has_resume_state(info) else []


def resume_state_sums(info: CheckpointInfo) -> dict[str, str] | None:
    """The manifest's sha256 of each file under ``train_state/``, by relative path; None when it lists none
    (a checkpoint written before they were recorded)."""
    sums = info.manifest.get("sha256", {})
    if not isinstance(sums, dict):
        raise FormatError(info.path / MANIFEST, "'sha256' must map file names to checksums")
    listed = {k: v for k, v in sums.items() if k.startswith(f"{TRAIN_STATE}/")}
    return listed or None


def has_resume_state(info: CheckpointInfo) -> bool:
    """Whether the checkpoint holds a ``train_state/`` (a link there counts, to be refused when read)."""
    state = info.path / TRAIN_STATE
    return state.exists() or os.path.islink(state)


def verify_resume_state(info: CheckpointInfo) -> list[str]:
    """Every file under ``train_state/`` is a regular file the manifest lists, with the same sha256, and
    every file it lists is there; returns the files verified.

    A checkpoint without ``train_state/`` has no resume state, whatever its manifest lists: a model
    repository holds none (the publishing copy leaves it out), and such a checkpoint loads, verifies and
    cannot be resumed from. A ``train_state/`` that is there is checked in full."""
    if not has_resume_state(info):
        return []
    present = resume_state_files(info)
    listed = resume_state_sums(info)
    if not present and listed is None:
        return []
    if listed is None:
        raise FormatError(
            info.path / TRAIN_STATE,
            "the manifest records no checksums for the resume state "
            "(written before they were recorded): it cannot be verified",
        )
    for rel in present:
        verify_resume_file(info.path, listed, info.path / rel)
    for rel in sorted(set(listed) - set(present)):
        raise FormatError(info.path / rel, "missing: the manifest lists it in the resume state")
    return present


def verify_resume_file(checkpoint: Path, sums: dict[str, str], path: Path) -> None:
    """One file of a checkpoint's resume state against ``sums`` (:func:`resume_state_sums`)."""
    rel = Path(path).resolve().relative_to(Path(checkpoint).resolve()).as_posix()
    if rel not in sums:
        raise FormatError(
            path, "not listed in the manifest's sha256: not part of the resume state as it was written"
        )
    if file_sha256(path) != sums[rel]:
        raise FormatError(
            path, "sha256 mismatch with the manifest: the resume state is corrupt or was altered"
        )
