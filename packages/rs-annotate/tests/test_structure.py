"""The package's shape: one error family, versions from the package metadata (import cycles: the import-graph
test of all packages, integration_tests/test_import_graph.py)."""

import pickle
from importlib.metadata import version
from pathlib import Path

import pytest

import rs_annotate
from rs_annotate import BadInput
from rs_formats import FormatError

PACKAGE = Path(rs_annotate.__file__).parent


def test_no_module_shares_a_name_with_a_verb():
    for verb in rs_annotate.__all__:
        assert not (PACKAGE / f"{verb}.py").exists(), verb
    assert callable(rs_annotate.dedup) and callable(rs_annotate.show)


def test_bad_input_is_a_format_error_that_survives_pickling(tmp_path):
    err = BadInput(tmp_path / "labels.txt", "expected 10 fields, got 3", 7, kind="missing-image")
    assert isinstance(err, FormatError) and isinstance(err, ValueError)
    assert str(err) == f"{tmp_path / 'labels.txt'}:7: expected 10 fields, got 3"
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is BadInput and str(back) == str(err)
    assert (back.path, back.line, back.message, back.kind) == (err.path, 7, err.message, "missing-image")
    plain = pickle.loads(pickle.dumps(BadInput("x.xml", "no objects")))
    assert str(plain) == "x.xml: no objects" and plain.line is None and plain.kind == "malformed"
    with pytest.raises(FormatError, match=r"x\.xml: no objects"):
        raise plain


def test_version_comes_from_the_package_metadata():
    assert rs_annotate.__version__ == version("rs-annotate")
    from rs_annotate.version import GENERATOR

    assert GENERATOR == f"rs-annotate {version('rs-annotate')}"
