"""Typed settings -> command-line flags, and back: the argparse side of :mod:`rs_formats.settings`.

:func:`add_flags` adds one flag per setting of a dataclass (name, type, choices, help and shown default
from its field); :func:`from_args` turns the parsed namespace into the dataclass, defaults filled in,
with no hand mapping; :func:`given` returns only what the command line said (for layered settings, as
rs-clip-train's preset < file < flags). Every flag defaults to None in the namespace (not given).

How a tool declares its options (one place per option)::

    @dataclass(frozen=True)
    class ConvertOptions:
        tile: int | None = setting(None, "cut images larger than SIZE into tiles", metavar="SIZE")

    add_flags(subparser, ConvertOptions)             # --tile SIZE, its help line with the default
    opts = from_args(args, ConvertOptions)           # ConvertOptions(tile=...), checked

A new option is a new field; a new command adds its own dataclass (or a subset of one: ``only=``).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import typing
from typing import Any

from .console import add_deprecated_alias
from .settings import build, choices_of, leaves, put, unwrap_optional


def is_flag(f: dataclasses.Field) -> bool:
    """Whether a setting is a flag: a field declared without help text is a keyword of the Python API only."""
    return "help" in f.metadata


class HelpFormatter(argparse.HelpFormatter):
    """Shows a tuple flag as its items (``--crop-scale MIN MAX``) instead of argparse's ``MIN [MAX ...]``."""

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if isinstance(action, _TupleAction):
            return " ".join(action.metavar)
        return super()._format_args(action, default_metavar)


class _TupleAction(argparse.Action):
    """A fixed-length tuple given as separate words (``0.9 1.0``) or one comma-separated word (``0.9,1.0``)."""

    def __init__(self, *args: Any, items: tuple[type, ...], **kwargs: Any):
        self.items = items
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        words = [w for v in values for w in re.split(r"[,\s]+", v.strip()) if w]
        if len(words) != len(self.items):
            raise argparse.ArgumentError(self, f"expected {len(self.items)} values, got {' '.join(values)!r}")
        try:
            setattr(namespace, self.dest, tuple(t(w) for t, w in zip(self.items, words)))
        except ValueError:
            names = " ".join(t.__name__ for t in self.items)
            raise argparse.ArgumentError(self, f"expected {names}, got {' '.join(values)!r}") from None


class _RenamedValue(argparse.Action):
    """Stores a value, an old name (``renamed_values``) replaced by its new one with a warning on stderr."""

    def __init__(self, *args: Any, renamed: dict[str, str], **kwargs: Any):
        self.renamed = renamed
        super().__init__(*args, **kwargs)

    def __call__(self, parser, namespace, value, option_string=None):
        if value in self.renamed:
            new = self.renamed[value]
            print(
                f"{parser.prog}: warning: {option_string} {value} is deprecated and will be removed; use {new}",
                file=sys.stderr,
            )
            value = new
        setattr(namespace, self.dest, value)


def _one_of(lookup: typing.Callable[[], typing.Iterable[Any]], parse: typing.Callable[[str], Any]):
    """A flag's value checked against choices looked up only then: argparse's own ``choices`` are listed
    whenever any ``--help`` is formatted, which would import what the lookup imports."""

    def read(text: str) -> Any:
        value, choices = parse(text), tuple(lookup())
        if value not in choices:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {text!r} (choose from {', '.join(map(str, choices))})"
            )
        return value

    return read


def _usage_errors(parse: typing.Callable[[str], Any]) -> typing.Callable[[str], Any]:
    """``parse`` with its ValueError as argparse's usage error (``argument --x: MESSAGE``, exit 2): argparse
    shows only "invalid VALUE" for a ValueError from anything but its own types."""

    def read(text: str) -> Any:
        try:
            return parse(text)
        except argparse.ArgumentTypeError:
            raise
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    read.__name__ = getattr(parse, "__name__", "value")
    return read


def _shown(value: Any, tp: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):  # as typed: one comma-separated word for tuple[T, ...], else words
        variadic = typing.get_args(unwrap_optional(tp)[0])[-1:] == (Ellipsis,)
        return ("," if variadic else " ").join(map(str, value))
    return str(value)


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def flag_of(name: str, f: dataclasses.Field) -> str:
    return f.metadata.get("flag") or "--" + name.rsplit(".", 1)[-1].replace("_", "-")


def add_flags(
    parser: argparse.ArgumentParser,
    cls: type,
    groups: dict[str, str] | None = None,
    *,
    only: tuple[str, ...] | None = None,
    defaults: dict[str, Any] | None = None,
    aliases: bool = True,
) -> dict[str, Any]:
    """One flag per setting of ``cls`` (or of the dotted names in ``only``), in ``--help`` sections titled
    ``groups[key]`` (in that order; a top-level setting without a ``group`` goes with the parser's other
    options); returns the sections by key.

    Every flag defaults to None (not given), so only what a command line says overrides lower layers, except
    those in ``defaults``: a command's own default for a setting (shown in its help, and given to
    :func:`from_args` as if typed). ``aliases=False`` leaves the ``renamed_from`` spellings out (where the
    command uses the old name for something else)."""
    defaults = defaults or {}
    sections: dict[str | None, Any] = {
        key: parser.add_argument_group(title) for key, title in (groups or {}).items()
    }
    sections.setdefault(None, parser)
    exclusive: dict[tuple[str, str], Any] = {}
    for name, f, tp in leaves(cls):
        if not is_flag(f) or (only is not None and name not in only):
            continue
        meta = f.metadata
        key = meta.get("group") or (name.split(".")[0] if "." in name else None)
        if key not in sections:
            raise KeyError(f"setting {name}: no --help section {key!r} for it")
        target = sections[key]
        if "exclusive" in meta:
            if (key, meta["exclusive"]) not in exclusive:
                exclusive[key, meta["exclusive"]] = target.add_mutually_exclusive_group()
            target = exclusive[key, meta["exclusive"]]
        flag, kwargs = flag_of(name, f), _flag_kwargs(f, tp)
        kwargs["help"] = _help(f, tp, defaults.get(name, _default(f)))
        target.add_argument(flag, dest=name, default=defaults.get(name), **kwargs)
        if meta.get("renamed_from") and aliases:
            old = "--" + meta["renamed_from"].replace("_", "-")
            add_deprecated_alias(
                target, old, flag, dest=name, default=None, **{k: v for k, v in kwargs.items() if k != "help"}
            )
    return sections


def _flag_kwargs(f: dataclasses.Field, tp: Any) -> dict[str, Any]:
    tp, _ = unwrap_optional(tp)
    meta, origin, args = f.metadata, typing.get_origin(tp), typing.get_args(tp)
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    if origin is typing.Literal:
        return {"choices": args, "metavar": meta.get("metavar") or "{" + ",".join(map(str, args)) + "}"}
    if origin is tuple and args[-1:] == (Ellipsis,):
        return {
            "type": _usage_errors(meta.get("parse", args[0])),
            "metavar": meta.get("metavar") or "A,B,...",
        }
    if origin is tuple:
        names = meta.get("metavar") or tuple(t.__name__.upper() for t in args)
        return {"action": _TupleAction, "nargs": "+", "items": args, "metavar": names}
    if origin is list:
        return {"action": "append", "type": meta.get("parse", args[0]), "metavar": meta.get("metavar")}
    kwargs: dict[str, Any] = {
        "type": _usage_errors(meta["parse"]) if "parse" in meta else tp,
        "metavar": meta.get("metavar") or tp.__name__.upper(),
    }
    if callable(meta.get("choices")) and meta.get("metavar"):
        kwargs["type"] = _one_of(meta["choices"], kwargs["type"])
        return kwargs
    choices = choices_of(f)
    if choices is not None:
        # Old names stay accepted (check_choices maps them, with a warning); only current names are shown.
        kwargs["choices"] = choices + tuple(meta.get("renamed_values", {}))
        kwargs["metavar"] = meta.get("metavar") or "{" + ",".join(map(str, choices)) + "}"
    if meta.get("renamed_values"):
        kwargs.update(action=_RenamedValue, renamed=meta["renamed_values"])
    return kwargs


def _help(f: dataclasses.Field, tp: Any, default: Any) -> str:
    text = f.metadata["help"]
    if default not in (None, [], ()) and "(default" not in text and "(required" not in text:
        text += f" (default: {_shown(default, tp)})"
    return text.replace("%", "%%")  # argparse formats help strings with %


def given(args: argparse.Namespace, cls: type, only: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The settings a command line gave (of those named in ``only``, as :func:`add_flags` took them), as
    nested plain data for :func:`build` (mutually exclusive partners of a given flag set to None, so they
    also clear what a lower layer set)."""
    out: dict[str, Any] = {}
    chosen = set()
    for name, f, _ in leaves(cls):
        value = getattr(args, name, None) if is_flag(f) and (only is None or name in only) else None
        if value is not None:
            put(out, name, value)
            chosen.add(f.metadata.get("exclusive"))
    for name, f, _ in leaves(cls):
        if f.metadata.get("exclusive") in chosen - {None} and getattr(args, name, None) is None:
            put(out, name, None)
    return out


def from_args(
    args: argparse.Namespace,
    cls: type,
    source: str = "command line",
    *,
    only: tuple[str, ...] | None = None,
    **extra: Any,
) -> Any:
    """The ``cls`` that a command line describes: its defaults, overridden by the flags given (of those in
    ``only``: a command that took a subset of ``cls``' flags, where its other fields share names with
    another dataclass' flags) and by ``extra`` (fields the command fills from other arguments)."""
    return build(cls, {**given(args, cls, only), **extra}, source)
