"""One command-line convention for the six rs-clip tools (rs-formats, rs-synth, rs-annotate,
rs-clip-train, rs-clip-eval, rs-count).

* ``--version`` on every tool; ``-v``/``--verbose`` (``-vv``: debug), ``-q``/``--quiet`` (warnings and
  errors only) and ``--no-progress`` on every command, after the command name.
* What a command produces (a table, JSON, a path) goes to stdout; what it says about its work goes
  through :mod:`logging` to stderr as ``PROG: message`` (``PROG: warning: ...``). Libraries only log.
* Progress bars (:func:`progress`) show only when stderr is a terminal and ``--no-progress`` is absent.
* Exit status: 0 done; 1 the job ran but failed (training failed, ``validate`` found problems);
  2 usage or input error, printed as one line ``PROG: error: FILE[:LINE]: message``; 130 interrupted
  (Ctrl-C); 143 terminated (SIGTERM, which unwinds like Ctrl-C: worker processes stopped, staging removed).
* One name for one thing across tools (:data:`SHARED_FLAGS`). A renamed flag keeps its old spelling as a
  hidden, warned alias for one release (:func:`add_deprecated_alias`).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .errors import FormatError

#: The flag each tool uses for the same thing.
SHARED_FLAGS = {
    "--out": "where the command writes (a dataset, checkpoint or report directory)",
    "--short-side": "shorter side of stored images in pixels (never enlarged)",
    "--image-format": "encoding of stored images: jpeg, png or webp",
    "--precision": "open_clip's precision names: fp32, amp (fp16 autocast), amp_bf16, ...",
    "--workers": "processes that do the job (conversion processes, training workers)",
    "--loader-workers": "processes that decode images for a model (DataLoader workers)",
    "--seed": "every random choice of the command",
    "--device": "torch device: auto (cuda when available), cpu, cuda, cuda:1",
}
#: Loggers of our packages; third-party loggers stay at WARNING whatever -v says.
PACKAGE_LOGGERS = (
    "rs_formats",
    "rs_synth",
    "rs_annotate",
    "rs_clip_train",
    "rs_clip_eval",
    "rs_count",
    "rs_clip_search",
)
#: Errors that are the user's to fix: one line naming the file, exit status 2.
INPUT_ERRORS: tuple[type[BaseException], ...] = (FormatError, ValueError, OSError)

_state = {"progress": True}


def package_version(distribution: str) -> str:
    """The installed version of one of our distributions (one source of truth: its pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:  # imported from a source tree that was never installed
        return "0+unknown"


def common_flags() -> argparse.ArgumentParser:
    """A parent parser with ``-v``, ``-q`` and ``--no-progress``, for ``parents=[...]`` of every command."""
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("console")
    g.add_argument("-v", "--verbose", action="count", default=0, help="more detail on stderr (-vv: debug)")
    g.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors on stderr")
    g.add_argument(
        "--no-progress",
        action="store_true",
        help="no progress bars (they show only when stderr is a terminal anyway)",
    )
    return p


def add_version(parser: argparse.ArgumentParser, prog: str, version: str) -> None:
    parser.add_argument("--version", action="version", version=f"{prog} {version}")


def add_deprecated_alias(parser: argparse.ArgumentParser | Any, old: str, new: str, **kwargs: Any) -> None:
    """Accept ``old`` as a hidden spelling of ``new`` (same ``dest``), warning on stderr when used.

    ``kwargs`` are those of ``new``'s ``add_argument`` (``dest``, ``type``, ``action``, ``choices``, ...).
    """
    action = kwargs.pop("action", "store")
    # argparse resolves action names through its registry; the lookup is private but has been stable since 2.7.
    base = parser._registry_get("action", action, action)

    class _Deprecated(base):  # type: ignore[misc, valid-type]
        def __call__(self, p, namespace, values, option_string=None):
            print(
                f"{p.prog}: warning: {option_string} is deprecated and will be removed; use {new}",
                file=sys.stderr,
            )
            super().__call__(p, namespace, values, option_string)

    parser.add_argument(old, action=_Deprecated, help=argparse.SUPPRESS, **kwargs)


class _Formatter(logging.Formatter):
    def __init__(self, prog: str):
        super().__init__()
        self.prog = prog

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info and record.levelno <= logging.DEBUG:
            message += "\n" + self.formatException(record.exc_info)
        if record.levelno >= logging.ERROR:
            return f"{self.prog}: error: {message}"
        if record.levelno >= logging.WARNING:
            return f"{self.prog}: warning: {message}"
        return f"{self.prog}: {message}"


def setup(
    prog: str,
    args: argparse.Namespace | None = None,
    *,
    verbose: int = 0,
    quiet: bool = False,
    progress: bool = True,
) -> None:
    """Configure logging and progress bars from the console flags (or the keyword defaults)."""
    if args is not None:
        verbose = getattr(args, "verbose", verbose) or 0
        quiet = getattr(args, "quiet", quiet)
        progress = not getattr(args, "no_progress", not progress)
    level = logging.WARNING if quiet else logging.DEBUG if verbose >= 2 else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(prog))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_rs_clip", False)]:
        root.removeHandler(old)
    handler._rs_clip = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    for name in PACKAGE_LOGGERS:
        logging.getLogger(name).setLevel(level)
    _state["progress"] = progress


def progress_enabled(requested: bool = True) -> bool:
    """Whether a bar would show: asked for, not switched off by ``--no-progress``, and stderr a terminal."""
    return requested and _state["progress"] and sys.stderr.isatty()


def progress(
    iterable: Iterable | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    unit: str = "it",
    enabled: bool = True,
    **kwargs: Any,
):
    """A tqdm bar labelled ``desc`` that shows only on a terminal (see :func:`progress_enabled`)."""
    from tqdm.auto import tqdm

    return tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not progress_enabled(enabled),
        dynamic_ncols=True,
        **kwargs,
    )


def error_line(exc: BaseException) -> str:
    """One line for an input error: OSErrors name their file, our errors already do."""
    if isinstance(exc, OSError) and not isinstance(exc, FormatError) and exc.filename is not None:
        text = f"{exc.filename}: {exc.strerror or exc}"
    else:
        text = str(exc).strip() or type(exc).__name__
    return " ".join(line.strip() for line in text.splitlines() if line.strip())  # one line, always


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds like Ctrl-C (every ``finally`` runs)."""


def _terminate(signum: int, frame: Any) -> None:
    raise Terminated()


def run(
    prog: str,
    parser: argparse.ArgumentParser,
    command: Callable[[argparse.Namespace], int | None],
    argv: Sequence[str] | None = None,
    *,
    input_errors: tuple[type[BaseException], ...] = (),
) -> int:
    """Parse, set up the console, run ``command`` and map failures to the exit statuses above."""
    args = parser.parse_args(argv)
    setup(prog, args)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if main_thread else None
    try:
        return int(command(args) or 0)
    except (*INPUT_ERRORS, *input_errors) as exc:
        print(f"{prog}: error: {error_line(exc)}", file=sys.stderr)
        logging.getLogger(PACKAGE_LOGGERS[0]).debug("traceback", exc_info=exc)
        return 2
    except Terminated:
        print(f"{prog}: terminated; nothing was published", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print(f"{prog}: interrupted; nothing was published", file=sys.stderr)
        return 130
    finally:
        if main_thread and previous is not None:
            signal.signal(signal.SIGTERM, previous)
