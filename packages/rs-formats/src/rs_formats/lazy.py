"""Package ``__init__``s whose public names are imported when first used (PEP 562), so that starting a tool
for ``--help`` or ``--version`` does not import pyarrow, numpy or torch.

Ours rather than lazy_loader's ``attach``: that one reaches only a package's own submodules (rs_count
re-exports rs_clip_eval's ``EvalConfig``), and keeps a public function such as ``rs_count.build`` only until
its module ``rs_count/build.py`` is imported, which then takes the name (the import system binds a
submodule to its package's attribute). :class:`_LazyPackage` keeps the public name.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any


class _LazyPackage(types.ModuleType):
    _exports: dict[str, str]
    _distribution: str

    def __getattr__(self, name: str) -> Any:
        if name == "__version__":
            from .console import package_version

            value = package_version(self._distribution)
        elif name in self._exports:
            value = getattr(importlib.import_module(self._exports[name], self.__name__), name)
        else:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        super().__setattr__(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        submodule = isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}"
        if submodule and name in self._exports:
            return  # the public name (a function of the same name) wins over its module
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._exports, "__version__"})


def lazy_exports(package: str, distribution: str, modules: dict[str, tuple[str, ...]]) -> list[str]:
    """Make ``package`` (call from its ``__init__`` with ``__name__``) import each public name from its
    module on first use; ``modules`` maps a module (``.sub`` relative to the package, or absolute) to the
    names it gives. ``__version__`` is ``distribution``'s installed version. Returns the names, sorted
    (for ``__all__``)."""
    module = sys.modules[package]
    module.__class__ = _LazyPackage
    exports = {name: source for source, names in modules.items() for name in names}
    types.ModuleType.__setattr__(module, "_exports", exports)
    types.ModuleType.__setattr__(module, "_distribution", distribution)
    return sorted([*exports, "__version__"])
