"""Counting captions: one template, two number styles, English wording from :mod:`rs_formats.wording`.

Default template (``DEFAULT_TEMPLATE``)::

    There {be} {number} {noun} in the image.

which gives "There is one plane in the image." and "There are three tennis courts in the image." (number
words) or "There are 3 tennis courts in the image." (digits). This is the sentence form the RemoteCLIP
paper shows for RemoteCount (Sec. IV-B-2 and Fig. 7: "There are three tennis courts in the image.");
we could not check the released annotation file offline, so if yours words it differently pass its
form as ``--template``. The paper evaluates both number words and digits; so does rs-count.

Template fields: ``{number}`` (word or digit), ``{noun}`` (class name, singular for 1, plural otherwise),
``{be}`` ("is" for 1, "are" otherwise; optional). A template that starts with a field is capitalised.
Numbers, plurals and "is"/"are" come from rs_formats.wording, the one wording module of rs-clip, so any
class reads right ("three buses", "one person", "two people"), not only the 13 regular ones.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass

from rs_formats import wording

COUNTS: tuple[int, ...] = tuple(range(1, 11))
VARIANTS: tuple[str, ...] = wording.NUMBER_STYLES  # ("words", "digits")
DEFAULT_TEMPLATE = "There {be} {number} {noun} in the image."
_FIELDS = frozenset({"be", "number", "noun"})


def number_text(n: int, variant: str = "words") -> str:
    """``3 -> 'three'`` (words) or ``'3'`` (digits), for RemoteCount's counts 1..10."""
    if not 1 <= n <= 10:
        raise ValueError(f"RemoteCount counts run from 1 to 10, got {n}")
    return wording.number_text(n, variant)


@dataclass(frozen=True)
class CaptionTemplate:
    text: str = DEFAULT_TEMPLATE

    def __post_init__(self) -> None:
        try:
            names = {f for _, f, _, _ in string.Formatter().parse(self.text) if f is not None}
        except ValueError as exc:
            raise ValueError(f"caption template {self.text!r} is malformed: {exc}") from None
        unknown = names - _FIELDS
        if unknown:
            raise ValueError(
                f"caption template {self.text!r} has unknown field(s) {sorted(unknown)}; "
                f"use {{number}}, {{noun}} and optionally {{be}}"
            )
        for needed in ("number", "noun"):
            if needed not in names:
                raise ValueError(f"caption template {self.text!r} needs a {{{needed}}} field")

    def caption(self, cls: str, n: int, variant: str = "words") -> str:
        text = self.text.format(
            be=wording.be(n), number=number_text(n, variant), noun=wording.noun_for(cls, n)
        )
        return text[:1].upper() + text[1:] if self.text.startswith("{") else text

    def candidates(self, cls: str, variant: str = "words") -> list[str]:
        """The ten captions for counts 1..10 that a model chooses between for an image of ``cls``."""
        return [self.caption(cls, n, variant) for n in COUNTS]

    def parse(self, caption: str, classes: Iterable[str]) -> tuple[str, int] | None:
        """``(class, count)`` from a caption in this template's form (either number style), else None."""
        pattern = ""
        numbers = "|".join(wording.number_word(n) for n in COUNTS)
        # A missing final full stop does not make a caption unreadable.
        for literal, name, _, _ in string.Formatter().parse(self.text.rstrip(" .")):
            pattern += r"\s*".join(re.escape(part) for part in literal.split())
            pattern += r"\s*" if literal[-1:].isspace() else ""
            if name == "be":
                pattern += r"(?:is|are)"
            elif name == "number":
                pattern += r"(?P<number>" + numbers + r"|\d+)"
            elif name == "noun":
                pattern += r"(?P<noun>[a-z][a-z \-]*?)"
        m = re.fullmatch(pattern, caption.strip().rstrip(" ."), flags=re.IGNORECASE)
        if m is None:
            return None
        n = wording.parse_number(m.group("number"))
        noun = " ".join(m.group("noun").lower().split())
        for cls in classes:
            if noun in (cls, wording.noun_for(cls, 1), wording.noun_for(cls, 2)):
                return cls, n
        return None


DEFAULT = CaptionTemplate()
