"""English wording of counts and class names: the one home for every caption and prompt rs-clip writes.

B2C captions (rs-annotate), synthetic captions (rs-synth), RemoteCount's counting captions (rs-count)
and zero-shot prompts (rs-clip-eval) all word numbers and plurals through this module, so "three
buses" reads the same everywhere.

Plurals come from the ``inflect`` library (pure Python, no torch). A small table overrides it where it is
wrong for remote-sensing class names: nouns that are already plural or invariant in their sources
(VisDrone's "people", "cattle") and words ending in "s" that inflect would pluralise again
("crossroads", "barracks"). Only the last word of a multi-word class name inflects ("storage tank" ->
"storage tanks").
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator, Mapping

#: Plurals inflect gets wrong for class names (everything else is inflect's).
_PLURAL = {
    "people": "people",
    "cattle": "cattle",
    "crossroads": "crossroads",
    "barracks": "barracks",
    "aircraft": "aircraft",
    "series": "series",
    "species": "species",
}
#: Class names that are plural in their source read as one of them when there is one ("one person").
_SINGULAR = {"people": "person", "cattle": "cow"}
#: Counts written in words; larger ones in digits (a caption reads "123 cars", not a long phrase).
MAX_WORDS = 99
NUMBER_STYLES = ("words", "digits")


@functools.lru_cache(maxsize=1)
def _engine():
    # inflect takes a noticeable time to import; only captions and prompts need it, not every CLI start.
    with _without_typeguard():
        import inflect

    return inflect.engine()


@contextlib.contextmanager
def _without_typeguard() -> Iterator[None]:
    """Most of inflect's import time is typeguard's: inflect decorates its engine's methods with
    @typechecked, which re-parses inflect's whole source once per method (seconds in every process that
    words a caption or a prompt: each conversion worker, each evaluation; bench/RESULTS.md, the demo). While inflect is imported the
    decorator is the identity, as under ``python -O``: its checks only guard the arguments of inflect's own
    API, and those come from this module."""
    try:
        import typeguard
    except ImportError:  # an inflect that no longer uses it
        yield
        return
    checked = typeguard.typechecked
    typeguard.typechecked = _unchecked
    try:
        yield
    finally:
        typeguard.typechecked = checked


def _unchecked(target=None, **_):
    return target if target is not None else _unchecked


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-_\s]+")


def class_phrase(raw: str, table: Mapping[str, str] | None = None) -> str:
    """A source's class name as the natural lower-case phrase captions and prompts use.

    ``table`` (a source's own spellings, e.g. DIOR's "storagetank") is looked up first, case-insensitively:
    no generic rule can split words a source glued together. Then camelCase is split ("storageTank" ->
    "storage tank"), hyphens and underscores become spaces, whitespace collapses and the result is
    lower-cased. The words themselves are kept as the source says them. An empty name is a ValueError.
    """
    if table:
        hit = table.get(raw)
        if hit is None:
            hit = {k.strip().lower(): v for k, v in table.items()}.get(raw.strip().lower())
        if hit is not None:
            return hit
    text = _SEPARATORS.sub(" ", _CAMEL.sub(" ", raw.strip())).strip().lower()
    if not text:
        raise ValueError(f"empty class name {raw!r}")
    return text


def _split(noun: str) -> tuple[str, str]:
    head, _, last = noun.strip().rpartition(" ")
    return head, last


@functools.lru_cache(maxsize=4096)
def plural(noun: str) -> str:
    """English plural of a (possibly multi-word) class name: "bus" -> "buses", "storage tank" -> "storage tanks"."""
    head, last = _split(noun)
    if not last:
        raise ValueError("cannot pluralise an empty class name")
    word = _PLURAL.get(last.lower()) or _engine().plural_noun(last)
    return f"{head} {word}" if head else word


def singular(noun: str) -> str:
    """One of a class whose name is plural in its source ("people" -> "person"); other names unchanged."""
    head, last = _split(noun)
    word = _SINGULAR.get(last.lower(), last)
    return f"{head} {word}" if head else word


def noun_for(noun: str, n: int) -> str:
    """The class name as it reads after the count ``n``: "one person", "two people", "three buses"."""
    one = singular(noun)
    return one if n == 1 else plural(one)


def be(n: int) -> str:
    """ "is" for one, "are" otherwise."""
    return "is" if n == 1 else "are"


@functools.lru_cache(maxsize=256)
def number_word(n: int) -> str:
    """0..99 in words ("twenty-three"); larger counts in digits."""
    if n < 0:
        raise ValueError(f"a count cannot be negative: {n}")
    return _engine().number_to_words(n) if n <= MAX_WORDS else str(n)


def number_text(n: int, style: str = "words") -> str:
    """A count as it appears in a caption: ``'three'`` (words) or ``'3'`` (digits)."""
    if style not in NUMBER_STYLES:
        raise ValueError(f"number style must be one of {NUMBER_STYLES}, got {style!r}")
    return number_word(n) if style == "words" else str(n)


def parse_number(text: str) -> int | None:
    """The count a caption's number means ("three", "twenty-three", "3"), or None."""
    token = text.strip().lower()
    if token.isdigit():
        return int(token)
    return _words_to_number().get(token)


@functools.lru_cache(maxsize=1)
def _words_to_number() -> dict[str, int]:
    return {number_word(n): n for n in range(MAX_WORDS + 1)}


def count_phrase(n: int, noun: str, style: str = "words") -> str:
    """ "three buses", "one person", "12 cars" (digits style)."""
    return f"{number_text(n, style)} {noun_for(noun, n)}"
