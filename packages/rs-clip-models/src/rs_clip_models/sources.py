"""What a SOURCE names, the part of a ``--model`` (or ``--init``) argument after any ``LABEL=``
(:mod:`rs_clip_models.spec`): the network to build and the weights to load.

One grammar for every command (``--model`` of rs-clip-eval, rs-count and rs-clip-search, ``--init`` of
rs-clip-train)::

    SOURCE            network built                                      weights
    DIR               the config recorded in the folder                  the folder's
    URI               the same, for an rs-clip-checkpoint in a store     the folder's
                      (s3://bucket/run/checkpoints/final; downloaded
                      once into a local cache, verified); for a
                      weights file there, as FILE below                  the file
    local-dir:DIR     the same, as open_clip spells it                   the folder's
    hf-hub:ORG/NAME   the same, for ORG/NAME in the local Hugging Face   the folder's
                      cache (never downloaded)
    ENTRY:FILE        the zoo entry's (rs_clip_models.zoo), e.g.         FILE
                      remoteclip-vit-b-32:/w/RemoteCLIP-ViT-B-32.pt
                      (FILE a path or a stored file's URI, here and below)
    NAME:FILE         open_clip's model NAME, e.g. ViT-B-32-quickgelu    FILE
    FILE              the zoo entry whose usual file name FILE has,      FILE
                      e.g. /w/RemoteCLIP-ViT-B-32.pt
    NAME              open_clip's model NAME                             none: random init, seed 0

DIR is an rs-clip-checkpoint (``manifest.json``) or an open_clip folder (``open_clip_config.json`` beside a
weights file, as open_clip's Hub repositories hold). FILE is ``.safetensors``, a ``torch.save`` file or a
TorchScript archive (:mod:`rs_clip_models.weights`).

The forms stay apart: a URI (anything with ``scheme://``, :mod:`rs_clip_models.stored_checkpoint`) is
stored, and ``ViT-B-32:s3://b/w.pt`` is NAME:URI (a name without ``/`` or ``:``, then a scheme);
``local-dir:`` and ``hf-hub:`` are open_clip's schemas; an existing directory is a DIR; otherwise the text
before the first ``:`` is an ENTRY or a NAME, and zoo entries (lowercase, publisher first) are never
open_clip model names.

Checks: an unknown ENTRY or NAME, a missing file, folder or cache entry is one FormatError naming the spec;
so is a FILE of unknown name with nothing saying its network. ENTRY:FILE or NAME:FILE building another
network than the zoo entry FILE's usual name belongs to (``ViT-B-32:RemoteCLIP-ViT-L-14.pt``, or GELU
``ViT-B-32`` with ``RemoteCLIP-ViT-B-32.pt``) is a warning, and so is an entry whose activation its
publisher never documented. Resolving imports open_clip only to check a NAME; loading is
:mod:`rs_clip_models.models`' job (:func:`~rs_clip_models.models.load_spec`).
"""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from rs_formats.checkpoint import MANIFEST, PICKLE_SUFFIXES, read_checkpoint
from rs_formats.errors import FormatError
from rs_formats.location import is_uri
from rs_formats.location import resolve as locate

from . import zoo
from .hub import (
    HUB_PREFIX,
    LOCAL_DIR_PREFIX,
    folder_config,
    folder_weights,
    hub_snapshot,
    is_open_clip_folder,
)

log = logging.getLogger(__name__)
#: The grammar's weights-carrying sources in one sentence, for the --help of every option that takes a model
#: (--model, --init); a NAME alone (random initialisation) is added where a command accepts one.
SOURCES_HELP = (
    "SPEC (docs/zoo.md): an rs-clip-checkpoint or open_clip folder, an rs-clip-checkpoint's URI "
    "(s3://BUCKET/RUN/final: downloaded once to a local cache, verified), local-dir:DIR, hf-hub:ORG/NAME "
    "(the local Hugging Face cache only), ENTRY:FILE (a zoo entry: `rs-clip-models zoo`, e.g. "
    "remoteclip-vit-b-32:/w/RemoteCLIP-ViT-B-32.pt), NAME:FILE (an open_clip model plus a file), FILE "
    "under a zoo file name (e.g. /w/ViT-B-32.pt, OpenAI's); FILE may be a store's URI "
    "(s3://BUCKET/w/ViT-B-32.pt, downloaded once to the cache); nothing else is downloaded"
)
_WEIGHT_SUFFIXES = (".safetensors", ".zip", *PICKLE_SUFFIXES)
#: ENTRY:URI or NAME:URI: a name without '/' or ':', then a URI's scheme (a URI's own query may hold '://').
_NAMED_URI = re.compile(r"^([^/:]+):([A-Za-z][A-Za-z0-9+.-]*://.*)$")


@dataclass(frozen=True)
class Source:
    """What a SOURCE names (see the module docstring)."""

    kind: str  # "checkpoint" | "open_clip" (folder) | "file" | "random"
    arch: str  # the network's name in messages and reports
    build: str | None  # what open_clip builds: a model name or "local-dir:DIR"; None: a bare file
    weights: Path | None
    path: Path | None  # the directory or file named
    entry: zoo.ZooEntry | None = None


def resolve(text: str, *, weights: bool = False) -> Source:
    """The SOURCE ``text`` names. ``weights``: ``text`` names weights for a network given elsewhere (``--init``
    for ``--model``): a FILE the zoo does not know is accepted, and a NAME alone (no weights) is refused."""
    if text.startswith(HUB_PREFIX):
        return _folder(hub_snapshot(text[len(HUB_PREFIX) :]), text)
    if is_uri(text):
        return _stored(text, weights)
    if text.startswith(LOCAL_DIR_PREFIX):
        folder = Path(text[len(LOCAL_DIR_PREFIX) :]).expanduser()
        if not folder.is_dir():
            raise FormatError(folder, "no such directory (local-dir:)")
        return _folder(folder, text)
    as_path = Path(text).expanduser()
    if as_path.is_dir():
        return _folder(as_path, str(as_path))
    if ":" in text and not as_path.exists():
        name, _, file = text.partition(":")
        network = _network(name, text)
        path = Path(file).expanduser()
        if not path.is_file():
            raise FormatError(
                path, "no such weights file (nothing is downloaded: give a local path or a URI)"
            )
        return _named_file(network, path, text)
    if as_path.exists() or "/" in text or as_path.suffix in _WEIGHT_SUFFIXES:
        if not as_path.is_file():
            what = "weights file" if as_path.suffix in _WEIGHT_SUFFIXES else "checkpoint directory"
            raise FormatError(as_path, f"no such {what} (nothing is downloaded: give a local path or a URI)")
        return _bare_file(as_path, text, weights, as_path)
    entry = zoo.get(text)
    if entry is not None:
        raise FormatError(
            text,
            f"zoo entry {entry.name} needs its weights file: write {entry.name}:PATH "
            f"(usually {entry.files[0]})",
        )
    name = _open_clip_name(text, text)
    if weights:
        raise FormatError(
            text,
            "names no weights (an open_clip model name alone is a random initialisation): "
            "give a file, NAME:FILE, a folder or hf-hub:ORG/NAME",
        )
    return Source("random", name, name, None, None)


def absolute(text: str) -> str:
    """``text``, a source of weights (:func:`resolve` with ``weights=True``), with its path made absolute for
    processes that run elsewhere; ``hf-hub:`` names and URIs are returned as they are."""
    if text.startswith(HUB_PREFIX) or is_uri(text) or not text:
        return text
    src = resolve(text, weights=True)
    if src.path is None:
        return text
    path = str(src.path.resolve())
    if text.startswith(LOCAL_DIR_PREFIX):
        return LOCAL_DIR_PREFIX + path
    if src.kind == "file" and ":" in text and not Path(text).expanduser().exists():
        return f"{text.partition(':')[0]}:{path}"
    return path


def _stored(text: str, weights: bool) -> Source:
    """A URI's source: a stored rs-clip-checkpoint or weights file, or ENTRY:URI / NAME:URI."""
    from .stored_checkpoint import fetch

    named = _NAMED_URI.match(text)
    if named:
        name, uri = named.groups()
        network = _network(name, text)  # before any download
        if locate(uri).kind() == "directory":
            raise FormatError(
                uri, f"{name}:URI names a weights file, and this is a folder: write the URI alone"
            )
        # Only an ENTRY claims the publisher's file; NAME:URI may be anyone's weights under a zoo file name.
        return _named_file(network, fetch(uri, published=network[0] is not None), text)
    local = fetch(text)
    return _bare_file(local, text, weights, text) if local.is_file() else _folder(local, text)


def _network(name: str, text: str) -> tuple[zoo.ZooEntry | None, str]:
    """The zoo entry ``name`` is (or None) and the model it builds: the ENTRY or NAME of ENTRY:FILE."""
    entry = zoo.get(name)
    return entry, entry.model if entry else _open_clip_name(name, text)


def _named_file(network: tuple[zoo.ZooEntry | None, str], path: Path, text: str) -> Source:
    """ENTRY:FILE or NAME:FILE: the :func:`_network`'s network, ``path``'s weights."""
    entry, build = network
    _warn_if_contradicted(text, build, path)
    return Source("file", build, build, path, path, _noted(entry))


def _bare_file(path: Path, text: str, weights: bool, shown: str | Path) -> Source:
    """A FILE alone: the zoo entry its name is usual for, else (``weights``) weights for a network given
    elsewhere. ``shown``: the file as messages name it (the expanded path, or the URI)."""
    entry = zoo.entry_for_file(path)
    if entry is not None:
        log.info("%s: zoo entry %s, by its file name", shown, entry.describe())
        _warn_if_other_format(path, entry)
        return Source("file", entry.model, entry.model, path, path, _noted(entry))
    if weights:
        return Source("file", path.name, None, path, path)
    raise FormatError(
        shown,
        "a weights file needs its network: write ENTRY:PATH (a zoo entry, `rs-clip-models "
        f"zoo`) or NAME:PATH (an open_clip model), e.g. ViT-B-32-quickgelu:{text}",
    )


def _folder(folder: Path, text: str) -> Source:
    if (folder / MANIFEST).exists():
        info = read_checkpoint(folder)
        has_config = isinstance(info.model_config, dict) and "model_cfg" in info.model_config
        build = f"{LOCAL_DIR_PREFIX}{folder.resolve()}" if has_config else info.model_name
        return Source("checkpoint", info.model_name, build, info.weights, folder)
    if not is_open_clip_folder(folder):
        raise FormatError(
            folder,
            "neither an rs-clip-checkpoint (no manifest.json) nor an open_clip folder "
            "(no open_clip_config.json)",
        )
    folder_config(folder)
    return Source("open_clip", text, f"{LOCAL_DIR_PREFIX}{folder.resolve()}", folder_weights(folder), folder)


def _open_clip_name(name: str, text: str) -> str:
    import open_clip

    from .configs import register_tiny_configs

    register_tiny_configs()
    if open_clip.get_model_config(name) is not None:
        return name
    known = [*zoo.ZOO, *open_clip.list_models()]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    raise FormatError(
        text,
        f"unknown model {name!r}: neither a zoo entry (`rs-clip-models zoo` lists them) nor an "
        f"open_clip model name{hint}",
    )


def _noted(entry: zoo.ZooEntry | None) -> zoo.ZooEntry | None:
    if entry is not None and entry.evidence == "unknown":
        log.warning(
            "%s: its publisher does not document the activation; building %s (%s)",
            entry.name,
            entry.describe(),
            entry.note,
        )
    return entry


def _warn_if_contradicted(text: str, build: str, weights: Path) -> None:
    known = zoo.entry_for_file(weights)
    if known is None or known.model.lower() == build.lower():
        return
    same_arch = build.lower().removesuffix("-quickgelu") == known.architecture.lower()
    log.warning(
        "%s: %s is the usual file of zoo entry %s, but this spec builds %s (%s); write %s:%s to build "
        "it as its publisher did",
        text,
        weights.name,
        known.describe(),
        build,
        "another activation" if same_arch else "another architecture",
        known.name,
        weights,
    )


def _warn_if_other_format(path: Path, entry: zoo.ZooEntry) -> None:
    """A file under a publisher's name but in another format is likely someone else's weights (OpenAI's
    TorchScript ``RN50.pt`` renamed, or LAION's weights saved as ``ViT-B-32.pt``): the name decided the network."""
    if path.suffix != ".zip" and zoo.is_torchscript(path) != (entry.file_format == zoo.TORCHSCRIPT):
        log.warning(
            "%s: named like zoo entry %s's file, a %s, but it is %s; built as %s: if it holds other "
            "weights, write NAME:PATH with their network",
            path,
            entry.name,
            entry.file_format,
            "a TorchScript archive" if zoo.is_torchscript(path) else "not a TorchScript archive",
            entry.describe(),
        )
