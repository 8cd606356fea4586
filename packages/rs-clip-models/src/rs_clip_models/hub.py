"""open_clip's Hugging Face layout: a folder holding ``open_clip_config.json`` beside its weights, as
``local-dir:DIR`` and ``hf-hub:ORG/NAME`` name it, and the local Hugging Face cache such folders live in.

``hf-hub:ORG/NAME`` is resolved from the local cache only (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else
``~/.cache/huggingface/hub``; the ``models--ORG--NAME/snapshots/<revision>/`` layout, ``refs/main`` naming
the revision) through ``huggingface_hub.snapshot_download(local_files_only=True)``: nothing is downloaded,
and a repository missing from the cache is one error naming it. The weights file is the first of
:data:`WEIGHT_FILES` present, open_clip's own order of preference (``open_clip.factory._find_checkpoint_in_dir``
in 3.3.0); rs-clip checkpoints (format v2) are written under the first name, the one open_clip's ``hf-hub:``
loader looks for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rs_formats.checkpoint import own_file
from rs_formats.errors import FormatError
from rs_formats.inputs import read_json
from rs_formats.open_clip_config import check_open_clip_config

HUB_PREFIX = "hf-hub:"
LOCAL_DIR_PREFIX = "local-dir:"
#: The file open_clip's ``local-dir:`` and ``hf-hub:`` loaders read the model and preprocessing configs from.
CONFIG = "open_clip_config.json"
#: Weights file names in open_clip's order of preference (the first is ``HF_SAFE_WEIGHTS_NAME``).
WEIGHT_FILES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)
HUB_WEIGHTS = WEIGHT_FILES[0]


def is_open_clip_folder(path: str | Path) -> bool:
    return (Path(path) / CONFIG).is_file()


def folder_weights(path: str | Path) -> Path:
    """The weights file open_clip would load from folder ``path``; FormatError when it holds none."""
    path = Path(path)  # a folder's own files stay inside it: a symlink to elsewhere is refused
    found = next((own_file(path, path / name) for name in WEIGHT_FILES if (path / name).is_file()), None)
    if found is None:
        raise FormatError(
            path,
            f"no weights beside {CONFIG} (open_clip looks for {', '.join(WEIGHT_FILES[:3])}, "
            "...): the model would be randomly initialised",
        )
    return found


def folder_config(path: str | Path) -> dict[str, Any]:
    """``open_clip_config.json`` of folder ``path`` (``{"model_cfg": ..., "preprocess_cfg": ...}``), checked by
    :func:`rs_formats.open_clip_config.check_open_clip_config` before anything is built from it."""
    cpath = own_file(Path(path), Path(path) / CONFIG)
    return check_open_clip_config(read_json(cpath), cpath)


def hub_snapshot(repo_id: str) -> Path:
    """The folder of ``repo_id`` (``ORG/NAME``) in the local Hugging Face cache; never downloads."""
    from huggingface_hub import constants, snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - huggingface_hub raises several types; all mean "not usable here"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FormatError(
            f"{HUB_PREFIX}{repo_id}",
            f"not in the local Hugging Face cache ({constants.HF_HUB_CACHE}); "
            "nothing is downloaded: fetch it once where there is network access (e.g. "
            f"`hf download {repo_id}`) and point HF_HUB_CACHE or HF_HOME at that cache ({reason})",
        ) from None
