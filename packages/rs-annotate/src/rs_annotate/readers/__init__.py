"""Source-format readers. Each module registers its reader(s) with :func:`base.register`."""

from __future__ import annotations

from ..types import BadInput, Box, Sample
from .base import (
    ALIASES,
    READERS,
    Alias,
    Reader,
    ReaderInfo,
    get_reader,
    load_all,
    register,
    resolve_format,
)

__all__ = [
    "ALIASES",
    "READERS",
    "Alias",
    "BadInput",
    "Box",
    "Reader",
    "ReaderInfo",
    "Sample",
    "get_reader",
    "load_all",
    "register",
    "resolve_format",
]
