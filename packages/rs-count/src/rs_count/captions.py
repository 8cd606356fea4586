"""Counting captions: one template, two number styles, correct singular and plural.

Default template (``DEFAULT_TEMPLATE``)::

    There {be} {number} {noun} in the image.

which gives "There is one plane in the image." and "There are three tennis courts in the image." (number
words) or "There are 3 tennis courts in the image." (digits). This is the sentence form the RemoteCLIP
paper shows for RemoteCount (Sec. IV-B-2 and Fig. 7: "There are three tennis courts in the image.");
we could not check the released annotation file offline, so if yours words it differently pass its
form as ``--template``. The paper evaluates both number words and digits; so does rs-count.

Template fields: ``{number}`` (word or digit), ``{noun}`` (class name, singular for 1, plural otherwise),
``{be}`` ("is" for 1, "are" otherwise; optional). A template that starts with a field is capitalised.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

COUNTS: tuple[int, ...] = tuple(range(1, 11))
NUMBER_WORDS: tuple[str, ...] = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
VARIANTS: tuple[str, ...] = ("words", "digits")
DEFAULT_TEMPLATE = "There {be} {number} {noun} in the image."
_FIELDS = frozenset({"be", "number", "noun"})


def number_text(n: int, variant: str = "words") -> str:
    """``3 -> 'three'`` (words) or ``'3'`` (digits), for counts 1..10."""
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, got {variant!r}")
    if not 1 <= n <= 10:
        raise ValueError(f"RemoteCount counts run from 1 to 10, got {n}")
    return NUMBER_WORDS[n - 1] if variant == "words" else str(n)


@dataclass(frozen=True)
class CaptionTemplate:
    """A caption template plus irregular plurals (every other class name takes a plain "s")."""

    text: str = DEFAULT_TEMPLATE
    plurals: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(self.text) if f is not None}
        except ValueError as exc:
            raise ValueError(f"caption template {self.text!r} is malformed: {exc}") from None
        unknown = names - _FIELDS
        if unknown:
            raise ValueError(f"caption template {self.text!r} has unknown field(s) {sorted(unknown)}; "
                             f"use {{number}}, {{noun}} and optionally {{be}}")
        for needed in ("number", "noun"):
            if needed not in names:
                raise ValueError(f"caption template {self.text!r} needs a {{{needed}}} field")

    def noun(self, cls: str, n: int) -> str:
        return cls if n == 1 else self.plurals.get(cls, cls + "s")

    def caption(self, cls: str, n: int, variant: str = "words") -> str:
        text = self.text.format(be="is" if n == 1 else "are", number=number_text(n, variant), noun=self.noun(cls, n))
        return text[:1].upper() + text[1:] if self.text.startswith("{") else text

    def candidates(self, cls: str, variant: str = "words") -> list[str]:
        """The ten captions for counts 1..10 that a model chooses between for an image of ``cls``."""
        return [self.caption(cls, n, variant) for n in COUNTS]

    def parse(self, caption: str, classes: Iterable[str]) -> tuple[str, int] | None:
        """``(class, count)`` from a caption in this template's form (either number style), else None."""
        pattern = ""
        # A missing final full stop does not make a caption unreadable.
        for literal, name, _, _ in string.Formatter().parse(self.text.rstrip(" .")):
            pattern += r"\s*".join(re.escape(part) for part in literal.split())
            pattern += r"\s*" if literal[-1:].isspace() else ""
            if name == "be":
                pattern += r"(?:is|are)"
            elif name == "number":
                pattern += r"(?P<number>" + "|".join(NUMBER_WORDS) + r"|\d+)"
            elif name == "noun":
                pattern += r"(?P<noun>[a-z][a-z \-]*?)"
        m = re.fullmatch(pattern, caption.strip().rstrip(" ."), flags=re.IGNORECASE)
        if m is None:
            return None
        word = m.group("number").lower()
        n = NUMBER_WORDS.index(word) + 1 if word in NUMBER_WORDS else int(word)
        noun = " ".join(m.group("noun").lower().split())
        for cls in classes:
            if noun in (cls, self.noun(cls, 2)):
                return cls, n
        return None


DEFAULT = CaptionTemplate()
