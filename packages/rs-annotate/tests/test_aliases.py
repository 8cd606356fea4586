"""Format aliases: rsicd / rsitmd / ucm-captions / sydney are ret3 with their source name, hrsc2016 is hrsc."""

import json

import pytest

from rs_annotate import convert, datasets
from rs_annotate.cli import main
from rs_annotate.readers import Alias, Reader, ReaderInfo, get_reader, register, resolve_format
from rs_annotate.readers.hrsc import HrscReader
from rs_annotate.readers.ret3 import Ret3Reader
from rs_annotate.report import report_path
from rs_formats import open_dataset
from rs_synth.registry import FORMATS


def sources_and_ids(path):
    ds = open_dataset(path)
    rows = [r for s in ds.splits for r in ds.read_table(s, columns=["image_id", "source"]).to_pylist()]
    return {r["source"] for r in rows}, [r["image_id"] for r in rows]


def test_resolve_names_and_aliases():
    assert resolve_format("ret3") == (Ret3Reader, {})
    assert resolve_format("rsicd") == (Ret3Reader, {"source": "rsicd"})
    assert resolve_format("ucm-captions") == (Ret3Reader, {"source": "ucm"})
    assert get_reader("sydney") is Ret3Reader and get_reader("rsitmd") is Ret3Reader
    assert resolve_format("hrsc2016") == (HrscReader, {})
    with pytest.raises(ValueError, match="unknown format 'rsicdd'.*hrsc2016.*rsicd, rsitmd"):
        resolve_format("rsicdd")


@pytest.mark.parametrize(
    "alias,synth,source", [("rsicd", "rsicd", "rsicd"), ("ucm-captions", "ucm-captions", "ucm")]
)
def test_caption_alias_sets_the_source(tmp_path, capsys, alias, synth, source):
    FORMATS[synth].write(tmp_path / "src", 6, seed=0, size=48)
    assert (
        main(
            [
                "convert",
                alias,
                str(tmp_path / "src"),
                "--out",
                str(tmp_path / "out"),
                "--workers",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    sources, ids = sources_and_ids(tmp_path / "out")
    assert sources == {source} and len(ids) == 6 and all(i.startswith(f"{source}/") for i in ids)
    report = json.loads(report_path(tmp_path / "out").read_text())
    assert report["format"] == alias and report["reader"] == "ret3"
    assert report["options"]["reader_options"]["source"] == source  # with every other option's default
    assert open_dataset(tmp_path / "out").manifest["sources"][0]["name"] == source


def test_user_options_win_over_alias_defaults(tmp_path):
    FORMATS["rsicd"].write(tmp_path / "src", 4, seed=1, size=48)
    convert(
        "rsicd",
        tmp_path / "src",
        tmp_path / "out",
        workers=1,
        progress=False,
        reader_options={"source": "mine"},
    )
    assert sources_and_ids(tmp_path / "out")[0] == {"mine"}


def test_hrsc2016_alias(tmp_path):
    FORMATS["hrsc2016"].write(tmp_path / "src", 4, seed=0, size=96)
    rep = convert("hrsc2016", tmp_path / "src", tmp_path / "out", workers=1, progress=False)
    assert rep.reader == "hrsc" and rep.rows > 0
    assert sources_and_ids(tmp_path / "out")[0] == {"hrsc"}


def test_datasets_lists_aliases(capsys):
    by_name = {d["name"]: d for d in datasets()}
    assert by_name["ret3"]["aliases"] == {
        "rsicd": {"source": "rsicd"},
        "rsitmd": {"source": "rsitmd"},
        "ucm-captions": {"source": "ucm"},
        "sydney": {"source": "sydney"},
    }
    assert by_name["hrsc"]["aliases"] == {"hrsc2016": {}}
    assert "rsicd" not in by_name  # an alias is not a second entry
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "aliases: rsicd (source=rsicd), rsitmd (source=rsitmd), ucm-captions (source=ucm)" in out
    assert "aliases: hrsc2016\n" in out


def test_an_alias_cannot_take_another_readers_name():
    class Clash(Reader):
        info = ReaderInfo(
            name="clash-test", title="t", layout="", license="", url="", aliases=(Alias("dota"),)
        )

    get_reader("dota")  # all readers registered
    with pytest.raises(ValueError, match="'dota' of Clash is already taken by DotaReader"):
        register(Clash)
    assert "clash-test" not in {d["name"] for d in datasets()}
