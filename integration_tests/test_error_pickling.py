"""Every error class of every package survives pickling intact: raised in a worker process or a Ray task, it
reaches the user as the same error with the same message and attributes (not as a TypeError from an
``__init__`` that pickle could not call). The classes are found by importing every module of the packages,
so a new error class is covered the day it is written.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from pathlib import Path

import pytest
from conftest import PACKAGES

#: Arguments by parameter name, for building an instance of any error class.
SAMPLE_ARGS = {
    "path": Path("/data/DOTA/labelTxt/P0001.txt"),
    "message": "coordinate 'x' is not a number",
    "reason": "not valid JSON",
    "line": 3,
    "kind": "unknown-class",
    "msg": "it failed",
}


def error_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for src in sorted(PACKAGES.glob("*/src")):
        for top in sorted(p for p in src.iterdir() if (p / "__init__.py").is_file()):
            names = [top.name] + [m.name for m in pkgutil.walk_packages([str(top)], prefix=f"{top.name}.")]
            for name in names:
                module = importlib.import_module(name)
                for obj in vars(module).values():
                    if (
                        inspect.isclass(obj)
                        and issubclass(obj, BaseException)
                        and obj.__module__.split(".")[0] == top.name
                    ):
                        found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def instance(cls: type[BaseException]) -> BaseException:
    try:
        params = [
            p
            for p in inspect.signature(cls).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except ValueError:  # the built-in exception's own __init__: one message
        return cls("something went wrong")
    args = [
        SAMPLE_ARGS.get(p.name, "something went wrong")
        for p in params
        if p.default is p.empty or p.name in SAMPLE_ARGS
    ]
    return cls(*args)


CLASSES = error_classes()


def test_the_search_finds_the_known_errors():
    names = {c.__name__ for c in CLASSES}
    assert {"FormatError", "BadInput", "WorkerDied", "SuiteError", "ConfigError", "TrainingFailed"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: f"{c.__module__}.{c.__qualname__}")
def test_every_error_class_pickles_intact(cls):
    exc = instance(cls)
    exc.extra_note = "set after raising"  # attributes added later travel too
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is cls
    assert str(back) == str(exc) and back.args == exc.args
    assert vars(back) == vars(exc)
