"""The reader base class, and the registry by which the pipeline finds readers by format name.

A reader has two halves so that conversion parallelises: :meth:`Reader.items` lists the work cheaply
in the parent process (sorted, so output order never depends on the file system), and
:meth:`Reader.read` turns one item into a :class:`~rs_annotate.types.Sample` inside a worker process
(parsing labels, M2B on masks). Image decoding, resizing, B2C and hashing happen later in the pipeline, not here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from rs_formats.inputs import check_inside, check_name

from ..classnames import published_classes
from ..report import ConvertReport
from ..types import BadInput, Sample
from .files import as_bad_input


@dataclass(frozen=True)
class Alias:
    """Another format name for a reader, with the reader options it implies.

    ``rs-annotate convert rsicd`` is the ``ret3`` reader with ``source=rsicd``; options the user passes
    win over these defaults.
    """

    name: str
    defaults: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Option:
    """One reader option, defined once: its name, default and meaning (``--opt NAME=VALUE``).

    A reader lists what it accepts in ``OPTIONS``; ``rs-annotate datasets`` prints them from there, and a
    reader refuses any other name (a typo would otherwise be ignored silently). ``choices``, when given,
    are the only values accepted.
    """

    name: str
    default: Any
    help: str
    choices: tuple[Any, ...] = ()

    def defaulting_to(self, default: Any) -> Option:
        """The same option with another reader's default (its meaning stays defined once)."""
        return replace(self, default=default)


def source_option(default: str | None, unset: str = "") -> Option:
    """``source``: the name rows carry in their ``source`` column (and their image ids start with);
    ``unset`` says what a None default stands for."""
    return Option(
        "source",
        default,
        "source name of the rows and prefix of their image ids" + (f" (default: {unset})" if unset else ""),
    )


def split_option(default: str | None, where: str = "") -> Option:
    """``split``: the split of rows whose source states none."""
    return Option("split", default, f"split of the rows{where}")


#: Options several readers of per-image label files share.
DROP_DIFFICULT = Option(
    "drop_difficult", False, "drop objects marked difficult (default: keep them, flagged)"
)
REQUIRE_IMAGES = Option(
    "require_images", True, "false: parse labels whose images are absent (checking labels only)"
)
MIN_AREA = Option("min_area", 0, "pixels a mask region (or instance) needs to become a box")
CONNECTIVITY = Option("connectivity", 8, "pixel connectivity of a mask region", (4, 8))
TOLERANCE = Option(
    "tolerance", 0, "per-channel colour tolerance of RGB-coded labels (absorbs lossy compression)"
)
#: Every reader's: whether symlinks may lead out of the source directory (``--follow-symlinks``).
FOLLOW_SYMLINKS = Option(
    "follow_symlinks",
    False,
    "true: read files that symlinks in the source point to elsewhere (default: refuse them)",
    (False, True),
)
#: Readers of sources with a published class list: more names to accept (a comma-separated list).
EXTRA_CLASSES = Option(
    "extra_classes",
    (),
    "class names accepted beyond the source's published list (comma-separated), for extended label sets",
)


@dataclass(frozen=True)
class ReaderInfo:
    """What `rs-annotate datasets` prints about a format."""

    name: str
    title: str
    layout: str  # the expected directory layout, as a short indented tree
    license: str
    url: str
    kind: str = "captions"  # the rs-dataset kind it converts to (a reader may learn it from its input)
    aliases: tuple[Alias, ...] = ()


class Reader:
    """Base class: subclasses set ``info`` and implement ``items`` and ``read``.

    ``root`` is the dataset directory as users have it on disk; ``options`` are the format's own
    keyword options (e.g. ``ignore_difficult``), documented on the subclass.

    Nothing is read from outside the input: files a reader reads lie below ``root`` (or below a folder
    the user named in an option, :meth:`trust_dir`) once symlinks are resolved, and file names read from
    labels are relative names without ``..`` (:meth:`named_file`); :meth:`sample` checks every Sample's
    image the same way. ``follow_symlinks=True`` (``--follow-symlinks``) lets symlinks lead elsewhere, for
    layouts that link images in; names in labels stay relative and without ``..`` regardless.
    """

    info: ClassVar[ReaderInfo]
    #: The options this reader accepts; an entry of a subclass replaces the base class's of the same name.
    OPTIONS: ClassVar[tuple[Option, ...]] = (FOLLOW_SYMLINKS,)
    #: Set by classification readers: the natural class names, index = Sample.label.
    class_names: list[str] | None = None
    #: The source's published class list (natural names), for sources that have one: other names in its
    #: labels are BadInput (see :mod:`rs_annotate.classnames`); such readers also take ``EXTRA_CLASSES``.
    CLASSES: ClassVar[frozenset[str] | None] = None
    #: The manifest's ``generator``, for a caller's own reader that makes the dataset its tool's
    #: (None: rs-annotate's).
    generator: str | None = None

    def __init__(self, root: str | Path, **options: Any):
        self.root = Path(root)
        if not self.root.is_dir():
            raise BadInput(
                self.root, "is a file, not a directory" if self.root.exists() else "no such directory"
            )
        #: Every accepted option, the given value or its default.
        self.options = self.resolve_options(options)
        self.follow_symlinks = bool(self.options["follow_symlinks"])
        self._input_dirs = [self.root]
        #: Inputs passed over while listing (stray files, videos without frames, ...), each a BadInput
        #: naming the path and why (its message, without a trailing "; skipped"). The convert report counts
        #: them by reason, so nothing vanishes silently. Filled in the parent process (__init__ / items).
        self.skipped: list[BadInput] = []
        #: Items found bad while listing, by a reader told to skip them rather than fail: the report lists
        #: them with the bad items of the workers (``skip_bad``).
        self.bad: list[BadInput] = []

    @property
    def name(self) -> str:
        return self.info.name

    # What the written dataset says of itself: the format's, unless a reader learns it from its input
    # (a set whose files say which kind, or which dataset, it is).
    @property
    def kind(self) -> str:
        return self.info.kind

    @property
    def license(self) -> str:
        return self.info.license

    @property
    def url(self) -> str:
        return self.info.url

    @property
    def classes(self) -> frozenset[str] | None:
        """:attr:`CLASSES` plus the ``extra_classes`` option; None when every class name is accepted."""
        return (
            None if self.CLASSES is None else published_classes(self.CLASSES, self.options["extra_classes"])
        )

    @classmethod
    def accepted_options(cls) -> dict[str, Option]:
        """Every option of this reader (its own and its base classes'), by name, in declaration order."""
        merged: dict[str, Option] = {}
        for klass in reversed(cls.__mro__):
            for option in vars(klass).get("OPTIONS", ()):
                merged[option.name] = option
        return merged

    @classmethod
    def resolve_options(cls, given: Mapping[str, Any]) -> dict[str, Any]:
        """``given`` completed with the defaults; an unknown name or a value outside ``choices`` is an error."""
        accepted = cls.accepted_options()
        unknown = sorted(set(given) - accepted.keys())
        if unknown:
            raise ValueError(
                f"format {cls.info.name!r} has no option {', '.join(unknown)}; it accepts: "
                f"{', '.join(accepted) or 'none'} (see `rs-annotate datasets`)"
            )
        for name, value in given.items():
            choices = accepted[name].choices
            if choices and value not in choices:
                raise ValueError(
                    f"format {cls.info.name!r}: option {name} must be one of "
                    f"{', '.join(map(str, choices))}, not {value!r}"
                )
        return {name: given.get(name, option.default) for name, option in accepted.items()}

    def items(self) -> Sequence[Any]:
        """Picklable work items, in a deterministic order."""
        raise NotImplementedError

    def read(self, item: Any) -> Sample:
        """One item to a Sample; raises :class:`BadInput` for anything malformed.

        Boxes a source's rules drop (VisDrone's ignored regions, SDD's lost rows) are counted per reason
        in ``Sample.meta["dropped"]`` (``{"reason": n}``); the convert report adds them up.
        """
        raise NotImplementedError

    def manifest_stats(self, report: ConvertReport) -> dict[str, Any]:
        """Entries this reader adds to the manifest's ``stats``, given the run's report once every row is
        written (none here; a caller's own reader may record its selection)."""
        return {}

    def sample(self, item: Any) -> Sample:
        """:meth:`read`, with the Sample's image file checked to lie inside the input (what workers call)."""
        sample = self.read(item)
        if sample.image_path is not None:
            self.source_file(sample.image_path)
        return sample

    def trust_dir(self, path: Path) -> Path:
        """A directory the user named in an option (an image folder elsewhere): its files are input too."""
        self._input_dirs.append(Path(path))
        return Path(path)

    def source_file(
        self, path: str | Path, *, cited: str | Path | None = None, line: int | None = None
    ) -> Path:
        """``path`` unless a symlink leads it out of the input (BadInput naming ``cited`` or the path)."""
        with as_bad_input():
            return check_inside(
                self._input_dirs, path, cited=cited, line=line, follow_symlinks=self.follow_symlinks
            )

    def named_file(
        self, folder: str | Path, name: Any, *, cited: str | Path, line: int | None = None
    ) -> Path:
        """``folder / name`` for a file name read from the label file ``cited``: a relative name without
        ``..`` (BadInput naming ``cited`` and ``line`` otherwise) that stays inside the input."""
        with as_bad_input():
            path = Path(folder) / check_name(name, cited=cited, line=line)
        return self.source_file(path, cited=cited, line=line)


READERS: dict[str, type[Reader]] = {}
#: alias name -> (the reader's own name, the alias); filled by :func:`register` from ``info.aliases``.
ALIASES: dict[str, tuple[str, Alias]] = {}


def register(cls: type[Reader]) -> type[Reader]:
    """Class decorator: make a reader available to ``rs-annotate convert <name>`` and its aliases."""
    info = cls.info
    for name in (info.name, *(a.name for a in info.aliases)):
        owner = READERS.get(name) or (READERS.get(ALIASES[name][0]) if name in ALIASES else None)
        if owner is not None and owner.info.name != info.name:
            raise ValueError(f"format name {name!r} of {cls.__name__} is already taken by {owner.__name__}")
    READERS[info.name] = cls
    for alias in info.aliases:
        ALIASES[alias.name] = (info.name, alias)
    return cls


def load_all() -> None:
    """Import every reader module so that all formats are registered."""
    package = __name__.rpartition(".")[0]
    for mod in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if mod.name != "base":
            importlib.import_module(f"{package}.{mod.name}")


def resolve_format(name: str) -> tuple[type[Reader], dict[str, Any]]:
    """The reader of a format name or alias, and the reader options the alias implies."""
    load_all()
    if name in READERS:
        return READERS[name], {}
    if name in ALIASES:
        target, alias = ALIASES[name]
        return READERS[target], dict(alias.defaults)
    known = sorted(READERS.keys() | ALIASES.keys())
    raise ValueError(f"unknown format {name!r}; known formats: {', '.join(known)}")


def get_reader(name: str) -> type[Reader]:
    """The reader class of a format name or alias."""
    return resolve_format(name)[0]


def chosen_splits(root: Path, given: Any, available: Sequence[str]) -> list[str]:
    """The splits a ``splits`` option asks for (None: every ``available`` one, in that order).

    A split the copy at ``root`` lacks is BadInput naming the root, never silently left out.
    """
    if given is None:
        return list(available)
    wanted = [v.strip() for v in given.split(",") if v.strip()] if isinstance(given, str) else list(given)
    missing = [s for s in wanted if s not in available]
    if missing:
        have = ", ".join(available) or "none"
        raise BadInput(root, f"no split {', '.join(map(repr, missing))} here (splits found: {have})")
    return wanted


def parse_float(token: str, path: Path, line: int, what: str = "coordinate") -> float:
    """A number from a label file, or a BadInput naming the line."""
    try:
        value = float(token)
    except ValueError:
        raise BadInput(path, f"{what} {token!r} is not a number", line) from None
    if not np.isfinite(value):
        raise BadInput(path, f"{what} {token!r} is not finite", line)
    return value
