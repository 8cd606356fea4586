"""A dataset manifest is input from anyone: each broken rule is one FormatError naming manifest.json (or
the shard), never a traceback, never a file read from outside the dataset, never a hang.

The cases are generated here (no hostile files are checked in); hypothesis adds random bytes and random
mutations of a valid manifest, whose only allowed outcomes are a clean FormatError or a valid dataset.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import make_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rs_formats import DatasetWriter, FormatError, open_dataset, read_manifest, verify_dataset

SHARD = "train-00000-of-00001.parquet"


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("manifest") / "ds"
    with DatasetWriter(out, name="t", kind="classification", class_names=["a", "b"], row_group_rows=2) as w:
        for i in range(4):
            w.write(make_row(i, label=i % 2), split="train" if i < 3 else "test")
    return out


@pytest.fixture
def ds(valid, tmp_path) -> Path:
    return Path(shutil.copytree(valid, tmp_path / "ds"))


def _manifest(root: Path) -> dict[str, Any]:
    return json.loads((root / "manifest.json").read_text())


def _refused(root: Path, pattern: str, path: Path | None = None) -> str:
    """open_dataset fails with one line that names ``path`` (manifest.json by default) and matches."""
    with pytest.raises(FormatError) as err:
        open_dataset(root)
    message = str(err.value)
    assert "\n" not in message and re.match(
        rf"{re.escape(str(path or root / 'manifest.json'))}(:\d+)?: ", message
    )
    assert re.search(pattern, message), message
    return message


def _edit(section: str, value: Any):
    """A mutation setting one field: ``train.shards``, ``train.sha256``, ``train.rows`` or a top-level key."""

    def apply(m: dict) -> None:
        if "." in section:
            split, key = section.split(".")
            m["splits"][split][key] = value
        else:
            m[section] = value

    return apply


CASES = {
    "parent directory": (_edit("train.shards", ["../outside.parquet"]), r"is not a plain file name"),
    "absolute path": (
        _edit("train.shards", ["/etc/passwd"]),
        r"shard '/etc/passwd' is not a plain file name",
    ),
    "nested path": (_edit("train.shards", ["data/x.parquet"]), r"is not a plain file name"),
    "dot dot": (_edit("train.shards", [".."]), r"shard '\.\.' is not a file name"),
    "empty name": (_edit("train.shards", [""]), r"is not a file name"),
    "NUL": (_edit("train.shards", ["a\0.parquet"]), r"holds '/', '\\' or NUL"),
    "lone surrogate": (_edit("train.shards", ["\udc80.parquet"]), r"not valid Unicode"),
    "number": (_edit("train.shards", [7]), r"shard 7 is not a string \(int\)"),
    "null": (_edit("train.shards", [None]), r"shard None is not a string"),
    "list": (_edit("train.shards", [["x"]]), r"shard a JSON array is not a string"),
    "listed twice": (_edit("train.shards", [SHARD, SHARD]), r"listed more than once"),
    "listed in two splits": (
        _edit("train.shards", ["test-00000-of-00001.parquet"]),
        r"listed more than once",
    ),
    "not the v2 name": (_edit("train.shards", ["train-0.parquet"]), r"v2 shards are named"),
    "shards not a list": (_edit("train.shards", SHARD), r"split 'train' has no 'shards' list"),
    "sha256 a list": (_edit("train.sha256", ["ab"]), r"'sha256' must map shard names to hex digests"),
    "sha256 a string": (_edit("train.sha256", "ab" * 32), r"'sha256' must map"),
    "sha256 value a number": (_edit("train.sha256", {SHARD: 5}), r"the sha256 of .* is 5, not 64 hex"),
    "sha256 of another file": (_edit("train.sha256", {"x.parquet": "0" * 64}), r"names 'x.parquet'"),
    "rows a string": (_edit("train.rows", "3"), r"'rows' is '3', expected a non-negative integer"),
    "rows a bool": (_edit("train.rows", True), r"'rows' is True"),
    "rows negative": (_edit("train.rows", -3), r"'rows' is -3"),
    "rows a float": (_edit("train.rows", 3.0), r"'rows' is 3\.0"),
    "version a bool": (_edit("format_version", True), r"format_version True is not supported"),
    "version a string": (_edit("format_version", "2"), r"format_version '2' is not supported"),
    "version an object": (_edit("format_version", {"v": 2}), r"format_version a JSON object is not"),
    "kind a list": (_edit("kind", ["captions"]), r"kind a JSON array is not one of"),
    "name a number": (_edit("name", 5), r"'name' is 5, expected a string"),
    "class names numbers": (_edit("class_names", [1, 2]), r"'class_names' must be a list of strings"),
    "sources a string": (_edit("sources", "x"), r"'sources' must be a list of objects"),
    "source name a number": (_edit("sources", [{"name": 3}]), r"each with a string 'name'"),
    "stats a list": (_edit("stats", []), r"'stats' must be a JSON object"),
    "splits a list": (_edit("splits", []), r"'splits' must map split names"),
    "bad v2 split name": (_edit("splits", {"a b": {"shards": []}}), r"split name 'a b' is not letters"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_broken_rule_is_one_line_naming_the_manifest(ds, case):
    mutate, pattern = CASES[case]
    manifest = _manifest(ds)
    mutate(manifest)
    (ds / "manifest.json").write_text(json.dumps(manifest))
    _refused(ds, pattern)


@pytest.mark.parametrize(
    "text, pattern",
    [
        ("[" * 100_000 + "]" * 100_000, r"nested more than 64 levels deep"),
        ('{"a":' * 70 + "1" + "}" * 70, r"nested more than 64 levels deep"),
        ('{"format": "rs-dataset", "format_version": ' + "9" * 5000 + "}", r"not a usable JSON value"),
        ("", r"not valid JSON"),
        ("\xff\xfe", r"not UTF-8 text|not valid JSON"),
    ],
)
def test_unusable_json_is_one_line(ds, text, pattern):
    (ds / "manifest.json").write_bytes(text.encode("latin-1"))
    _refused(ds, pattern)


def test_a_manifest_that_is_not_a_regular_file_is_never_opened(ds):
    (ds / "manifest.json").unlink()
    os.mkfifo(ds / "manifest.json")  # opening it would block forever
    _refused(ds, r"is a FIFO \(named pipe\), not a regular file")
    (ds / "manifest.json").unlink()
    (ds / "manifest.json").symlink_to("/dev/zero")  # reading it would never end
    _refused(ds, r"is a character device, not a regular file")


def test_a_manifest_leaving_the_dataset_through_a_symlink_is_refused(ds, tmp_path):
    shutil.move(ds / "manifest.json", tmp_path / "elsewhere.json")  # a valid manifest, not this folder's
    (ds / "manifest.json").symlink_to(tmp_path / "elsewhere.json")
    _refused(ds, r".* leads outside .* through a symlink \(to .*elsewhere\.json\); refusing to read it$")


def test_a_shard_leaving_the_dataset_through_a_symlink_is_refused(ds, tmp_path):
    shard = ds / "data" / SHARD
    outside = tmp_path / "elsewhere.parquet"
    shutil.move(shard, outside)
    shard.symlink_to(outside)
    _refused(ds, r"is a symlink to .*elsewhere\.parquet, outside the dataset directory", shard)
    data = ds / "data"
    shutil.move(data, tmp_path / "data-elsewhere")
    data.symlink_to(tmp_path / "data-elsewhere")
    _refused(ds, r"outside the dataset directory", data / "test-00000-of-00001.parquet")  # the first listed


def test_a_symlink_inside_the_dataset_is_followed(ds):
    shard = ds / "data" / SHARD
    shutil.move(shard, ds / "kept.parquet")
    shard.symlink_to("../kept.parquet")
    assert open_dataset(ds).num_rows("train") == 3


@pytest.mark.parametrize("special", ["fifo", "directory", "device"])
def test_a_shard_that_is_not_a_regular_file_is_refused_before_opening(ds, special):
    shard = ds / "data" / SHARD
    shard.unlink()
    {"fifo": os.mkfifo, "directory": os.mkdir, "device": lambda p: p.symlink_to("/dev/zero")}[special](shard)
    expected = {
        "fifo": "is a FIFO",
        "directory": "is a directory",
        "device": "is a symlink to /dev/zero, outside",
    }
    _refused(ds, expected[special], shard)


# -- property-based ---------------------------------------------------------------------------------------

TRICKY = st.sampled_from(
    [
        "..",
        "/etc/passwd",
        "../x",
        SHARD,
        "test-00000-of-00001.parquet",
        "manifest.json",
        "data",
        "rs-dataset",
        "0" * 64,
        "train",
        "a b",
        "\0",
        "\udc80",
        "",
    ]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12) | TRICKY,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8) | TRICKY, children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every node of a JSON tree, as the keys leading to it."""
    found = [path]
    if isinstance(value, dict | list):
        for key in value if isinstance(value, dict) else range(len(value)):
            found += _paths(value[key], (*path, key))
    return found


@st.composite
def mutated(draw, value: Any) -> Any:
    """``value`` with a node replaced or removed, or given a new child: half the time a node of the splits,
    which hold the structure the reader walks, else any node (each equally likely)."""
    value = copy.deepcopy(value)
    paths = _paths(value)
    splits = [p for p in paths if len(p) > 1 and p[0] == "splits"]
    path = draw(st.sampled_from(splits if splits and draw(st.booleans()) else paths))
    if not path:
        return draw(JSON)
    parent = value
    for key in path[:-1]:
        parent = parent[key]
    node, key = parent[path[-1]], path[-1]
    action = draw(st.sampled_from(["replace", "remove", "add"]))
    if action == "replace":
        parent[key] = draw(JSON)
    elif action == "remove":
        del parent[key]
    elif isinstance(node, dict):
        node[draw(st.text(max_size=8) | TRICKY)] = draw(JSON)
    elif isinstance(node, list):
        node.insert(draw(st.integers(0, len(node))), draw(JSON))
    else:
        parent[key] = [node, draw(JSON)]
    return value


def _outcome(root: Path) -> None:
    """Open, read and verify: a valid dataset all the way, or a FormatError naming a file of it."""
    try:
        ds = open_dataset(root)
        assert isinstance(ds.name, str) and ds.kind in ("captions", "classification", "counting")
        assert ds.class_names is None or all(isinstance(n, str) for n in ds.class_names)
        for split in ds.splits:
            assert ds.read_table(split).num_rows == ds.num_rows(split)
        verify_dataset(root)
    except FormatError as exc:
        assert "\n" not in str(exc) and str(exc).startswith(str(root)), str(exc)


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(data=st.binary(max_size=300))
def test_random_bytes_are_a_clean_error(valid, tmp_path_factory, data):
    root = Path(shutil.copytree(valid, tmp_path_factory.mktemp("bytes") / "ds"))
    (root / "manifest.json").write_bytes(data)
    with pytest.raises(FormatError, match=rf"^{re.escape(str(root / 'manifest.json'))}(:\d+)?: "):
        read_manifest(root)


@PROPERTY
@given(data=st.data())
def test_random_mutations_of_a_valid_manifest_are_a_clean_error_or_a_valid_dataset(
    valid, tmp_path_factory, data
):
    root = Path(shutil.copytree(valid, tmp_path_factory.mktemp("mutated") / "ds"))
    manifest = data.draw(mutated(_manifest(valid)))
    text = json.dumps(manifest)
    if data.draw(st.booleans()):  # and now and then damage the text itself
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.text(max_size=4)) + text[at + data.draw(st.integers(0, 4)) :]
    (root / "manifest.json").write_text(text, errors="surrogatepass")
    _outcome(root)
