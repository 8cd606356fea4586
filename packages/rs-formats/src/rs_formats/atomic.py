"""Atomic directory writes: build in a hidden sibling, rename into place only when complete.

A reader never sees a half-written dataset or checkpoint: until the final ``os.replace`` the target
path either does not exist or still holds the previous complete version.

A run that is killed (SIGKILL, power loss) cannot remove its staging directory
``.<name>.tmp-<host>-<pid>-<token>``; the next run writing the same target removes it when its process
is gone from this host, and reports (without touching) those of other hosts or of live processes, which
may still be writing. Published files and directories get the permissions the user's umask gives
(0644 / 0755 under the usual 022), never 0600 / 0700, whatever the libraries that wrote them chose. An OSError raised while writing a target without
naming a file (pyarrow's and safetensors' "No space left on device") is re-raised naming the target.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import shutil
import signal
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

#: This machine in staging names: a run only ever removes the leftovers of its own host's processes.
_HOST = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def staging_dir(target: Path) -> Path:
    """A fresh hidden directory on the same filesystem as ``target`` (so the rename is atomic).

    Made with ``mkdir`` rather than ``tempfile.mkdtemp``: the published directory keeps the permissions
    the user's umask gives (mkdtemp's are 0700, which would hide a dataset from the rest of a cluster).
    Leftovers of killed runs on the same target are cleared first (:func:`clear_stale`).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    clear_stale(target)
    tmp = target.parent / f".{target.name}.tmp-{_HOST}-{os.getpid()}-{secrets.token_hex(6)}"
    tmp.mkdir()
    return tmp


def clear_stale(target: Path) -> list[Path]:
    """Remove the staging directories of ``target`` left by processes of this host that are gone.

    Returns what was removed; others (another host, or a process still running) are logged, not touched.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(tmp|old)-(?P<host>.+)-(?P<pid>\d+)(-[0-9a-f]+)?")
    removed = []
    for entry in sorted(target.parent.glob(f".{target.name}.*-*")) if target.parent.is_dir() else []:
        m = pattern.fullmatch(entry.name)
        if m is None or not entry.is_dir():
            continue
        host, pid = m["host"], int(m["pid"])
        if host != _HOST or _alive(pid):
            where = "this host" if host == _HOST else f"host {host}"
            log.warning(
                "%s: staging directory of a run of process %d on %s, which may still be writing; "
                "remove it yourself if that run is over",
                entry,
                pid,
                where,
            )
            continue
        if m.group(1) == "old" and not target.exists():
            log.warning(
                "%s: the previous version of %s, set aside by a run that was killed before publishing "
                "the new one; not removed (rename it back to restore it)",
                entry,
                target,
            )
            continue
        shutil.rmtree(entry, ignore_errors=True)
        log.warning("%s: removed the staging directory of an interrupted run (process %d)", entry, pid)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


@contextmanager
def naming(target: str | Path) -> Iterator[None]:
    """Re-raise an OSError without a file name (a full disk inside pyarrow) as one naming ``target``."""
    try:
        yield
    except OSError as exc:
        code = exc.errno or (errno.ENOSPC if "No space left" in str(exc) else None)
        if exc.filename is not None or code is None:
            raise
        raise OSError(code, f"{os.strerror(code)}; nothing was published", str(target)) from exc


def commit_dir(tmp: Path, target: Path, overwrite: bool) -> None:
    """Move a completed staging directory into place, with the permissions the umask gives."""
    _umask_modes(tmp)
    if target.exists():
        if not overwrite:
            shutil.rmtree(tmp, ignore_errors=True)
            raise FileExistsError(f"{target}: already exists (pass overwrite=True to replace it)")
        # Rename the old version aside first so that there is never a moment with a mixed directory.
        old = target.parent / f".{target.name}.old-{_HOST}-{os.getpid()}"
        with _signals_held():  # Ctrl-C or SIGTERM between the two renames would leave no target
            os.replace(target, old)
            try:
                os.replace(tmp, target)
            except BaseException:  # the previous version goes back where it was: no .NAME.old-* is left
                os.replace(old, target)
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        shutil.rmtree(old, ignore_errors=True)
        if old.exists():
            log.warning(
                "%s: could not remove all of the previous version of %s; remove it yourself", old, target
            )
    else:
        os.replace(tmp, target)
    _fsync_dir(target.parent)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM delivered only after the block (where the platform can hold them)."""
    mask = getattr(signal, "pthread_sigmask", None)
    held = {signal.SIGINT, signal.SIGTERM}
    if mask is None:
        yield
        return
    previous = mask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        mask(signal.SIG_SETMASK, previous)


def _umask_modes(tmp: Path) -> None:
    """Give everything in ``tmp`` the mode the umask gives new files and directories.

    Libraries write some files 0600 (safetensors writes a private temporary file and renames it), which
    would hide a checkpoint's weights from the rest of a cluster. ``tmp`` itself was made by ``mkdir``,
    so its mode is the umask's mode for directories.
    """
    dir_mode = tmp.stat().st_mode & 0o777
    for top, dirs, files in os.walk(tmp):
        for name in dirs:
            os.chmod(os.path.join(top, name), dir_mode)
        for name in files:
            path = os.path.join(top, name)
            if not os.path.islink(path):
                os.chmod(path, dir_mode & 0o666)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_dir(target: str | Path, overwrite: bool = False) -> Iterator[Path]:
    """``with atomic_dir(out) as tmp: write into tmp`` — ``out`` appears only if the block succeeds."""
    target = Path(target)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target}: already exists (pass overwrite=True to replace it)")
    tmp = staging_dir(target)
    try:
        with naming(target):
            yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    with naming(target):
        commit_dir(tmp, target, overwrite)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write a small file so that readers see the old or the new content, never a torn one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with naming(path):
            tmp.write_text(text)
            os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
