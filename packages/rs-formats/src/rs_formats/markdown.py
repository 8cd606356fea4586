"""Names from manifests and users' files written into Markdown reports, escaped to show as written.

A dataset's or model's name is user data: ``<img src=x onerror=...>`` in it would run where the report is
rendered as HTML, a ``|`` would split a table cell, a line break would end the row or start a heading, a
backtick would close a code span. Two forms, by CommonMark's rules:

* :func:`text`, for running text, headings and table cells: whitespace runs (line breaks included) become
  one space; the characters Markdown acts on inside a line (``\\ ` * _ [ ] | ~``) get a backslash; ``<``,
  ``>`` and ``&`` become HTML entities. Other punctuation only acts at the start of a line, where a name is
  never written, and stays as it is, so that ordinary names read unchanged in the raw file.
* :func:`code`, for an inline code span: whitespace runs become one space, the fence is one backtick more
  than the longest run of backticks inside, padded with a space where the text starts or ends with one;
  in a table cell (``in_table``) a pipe is escaped too, as GFM tables split cells before code spans.
"""

from __future__ import annotations

import html
import re
from typing import Any

_ACTIVE = re.compile(r"([\\`*_\[\]|~])")
_TICKS = re.compile(r"`+")


def _one_line(value: Any) -> str:
    return " ".join(str(value).split())


def text(value: Any) -> str:
    """``value`` as Markdown text that renders exactly as written (see the module's rules)."""
    return html.escape(_ACTIVE.sub(r"\\\1", _one_line(value)), quote=False)


def code(value: Any, *, in_table: bool = False) -> str:
    """``value`` as an inline code span (fence included) that renders exactly as written."""
    s = _one_line(value)
    fence = "`" * (max((len(m) for m in _TICKS.findall(s)), default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    if in_table:
        s = s.replace("|", "\\|")
    return f"{fence}{pad}{s}{pad}{fence}"
