"""Source-format readers. Each module registers its reader(s) with :func:`base.register`."""

from __future__ import annotations

import importlib
import pkgutil

from .base import (
    ALIASES,
    READERS,
    Alias,
    BadInput,
    Box,
    Reader,
    ReaderInfo,
    Sample,
    get_reader,
    register,
    resolve_format,
)

__all__ = [
    "ALIASES", "READERS", "Alias", "BadInput", "Box", "Reader", "ReaderInfo", "Sample", "get_reader", "load_all",
    "register", "resolve_format",
]


def load_all() -> None:
    """Import every reader module so that all formats are registered."""
    for mod in pkgutil.iter_modules(__path__):
        if mod.name != "base":
            importlib.import_module(f"{__name__}.{mod.name}")
