"""Reader options: each defined once on its reader (``OPTIONS``), listed by ``datasets``, typos refused."""

import ast
import inspect
from pathlib import Path

import pytest

from rs_annotate import datasets
from rs_annotate.cli import _option_text, main
from rs_annotate.readers import READERS, get_reader, load_all
from rs_annotate.readers.base import chosen_splits
from rs_synth.registry import FORMATS

READERS_DIR = Path(inspect.getfile(get_reader("dota"))).parent


def _used_option_names(tree: ast.AST) -> set[str]:
    """Keys of ``self.options[...]`` / ``self.options.get(...)`` in a module."""
    used = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "self.options"
            and isinstance(node.slice, ast.Constant)
        ):
            used.add(node.slice.value)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "self.options.get":
            used.add(ast.literal_eval(node.args[0]))
    return used


def test_every_option_a_reader_reads_is_declared_and_has_one_default():
    load_all()
    for path in sorted(READERS_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        gets = [
            n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "self.options.get"
        ]
        # A default written at the place of use would be a second definition of it.
        assert not gets, f"{path.name}: self.options.get(...) repeats a default; read self.options[name]"
        used = _used_option_names(tree)
        readers = [cls for cls in READERS.values() if cls.__module__.endswith(f".{path.stem}")]
        for cls in readers:
            missing = used - cls.accepted_options().keys()
            assert not missing, f"{cls.info.name} reads undeclared option(s) {sorted(missing)}"


def test_aliases_imply_only_options_their_reader_accepts():
    load_all()
    for cls in READERS.values():
        for alias in cls.info.aliases:
            assert cls.resolve_options(alias.defaults)  # raises on an unknown name


def test_datasets_prints_every_option_with_its_default(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    blocks = {block.split("  ", 1)[0]: block for block in out.split("\n\n") if block.strip()}
    listed = {d["name"]: d for d in datasets()}
    assert blocks.keys() == listed.keys() == READERS.keys()
    for name, cls in READERS.items():
        accepted = cls.accepted_options()
        assert [o["name"] for o in listed[name]["options"]] == list(accepted)
        for option in accepted.values():
            assert f"    {option.name}={_option_text(option.default)}  {option.help}" in blocks[name], (
                name,
                option,
            )
    potsdam = blocks["potsdam"]
    for line in (
        "variant=null",
        "labels=null",
        "ignore=clutter,impervious surface",
        "min_area=0",
        "tolerance=0",
        "missing_label=error",
        "eroded=false",
    ):
        assert f"    {line}  " in potsdam
    assert "    label_dir=None  " in blocks["levir"].replace("null", "None")
    assert "    class_depth=2  " in blocks["rsi-cb128"] and "    class_depth=1  " in blocks["aid"]
    assert "[error|skip]" in potsdam and "[4|8]" in potsdam


def test_unknown_option_and_bad_choice_are_one_clear_error(tmp_path, capsys):
    FORMATS["dota"].write(tmp_path / "dota", 2, seed=0, size=64)
    code = main(
        [
            "convert",
            "dota",
            str(tmp_path / "dota"),
            "--out",
            str(tmp_path / "out"),
            "--opt",
            "labeldir=labelTxt",
            "--workers",
            "1",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert (
        "format 'dota' has no option labeldir; it accepts: follow_symlinks, image_dir, label_dir," in err[0]
    )
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="option boxes must be one of hbb, obb, not 'rbb'"):
        get_reader("hrsc")(tmp_path, boxes="rbb")


def test_a_split_the_copy_lacks_is_an_error_naming_it(tmp_path):
    assert chosen_splits(tmp_path, None, ["train", "val"]) == ["train", "val"]
    assert chosen_splits(tmp_path, "val", ["train", "val"]) == ["val"]
    with pytest.raises(Exception, match=r"no split 'test' here \(splits found: train, val\)") as e:
        chosen_splits(tmp_path, ("train", "test"), ["train", "val"])
    assert e.value.path == tmp_path
    FORMATS["isaid"].write(tmp_path / "isaid", 3, seed=0, size=64)
    with pytest.raises(Exception, match="no split 'tain' here"):
        get_reader("isaid")(tmp_path / "isaid", splits="tain").items()
