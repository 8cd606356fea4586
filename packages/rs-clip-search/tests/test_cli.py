from __future__ import annotations

import json

import numpy as np
from conftest import write_scene

from rs_clip_search import SearchIndex
from rs_clip_search.cli import main


def test_index_add_with_a_zoo_model_and_one_line_errors(tmp_path, archive, capsys):
    out = tmp_path / "idx"
    assert (
        main(
            [
                "index",
                str(archive),
                "--model",
                "RS-Tiny",
                "--out",
                str(out),
                "--tile",
                "96",
                "--overlap",
                "32",
                "--device",
                "cpu",
                "-q",
            ]
        )
        == 0
    )
    m = json.loads((out / "manifest.json").read_text())
    assert m["model"]["source"] == "RS-Tiny" and m["model"]["fingerprint"].startswith("random-init:RS-Tiny")
    assert (m["tile"], m["overlap"], m["count"]) == (96, 32, 3 * 6)  # 224 x 160 scenes: 3 x 2 tiles each
    first = np.array(SearchIndex(out).vectors)
    write_scene(archive / "more" / "grass.png", "grass", seed=5)
    assert main(["add", str(out), str(archive), "--device", "cpu", "-q"]) == 0
    grown = SearchIndex(out)
    assert len(grown) == 24 and np.array_equal(grown.vectors[:18], first)
    # the model embeds the same tile the same way when it is loaded again
    from rs_clip_search import ModelEncoder
    from rs_clip_search.tiles import open_scene, read_tile

    row = grown.tiles.slice(20, 1).to_pylist()[0]
    px = read_tile(open_scene(row["path"]), (row["x"], row["y"], row["width"], row["height"]))
    np.testing.assert_allclose(ModelEncoder("RS-Tiny").images([px])[0], grown.vectors[20], atol=1e-5)
    capsys.readouterr()

    assert (
        main(
            [
                "index",
                str(tmp_path / "nope"),
                "--model",
                "RS-Tiny",
                "--out",
                str(tmp_path / "x"),
                "--device",
                "cpu",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "nope: not a folder of imagery" in err
    assert main(["serve", str(tmp_path / "missing")]) == 2
    assert "not a search index" in capsys.readouterr().err
    assert main(["index", str(archive), "--model", "RS-Tiny", "--out", str(out), "--device", "cpu"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_serve_binds_this_machine_only_unless_told_and_needs_a_loadable_model(
    tmp_path, archive, encoder, capsys
):
    from rs_clip_search import build_index
    from rs_clip_search.cli import build_parser

    assert build_parser().parse_args(["serve", "idx"]).host == "127.0.0.1"
    assert build_parser().parse_args(["serve", "idx", "--host", "0.0.0.0"]).host == "0.0.0.0"
    build_index(archive, encoder, tmp_path / "idx", tile=64)  # a test model: nothing to load again
    assert main(["serve", str(tmp_path / "idx")]) == 2
    assert "records no loadable model" in capsys.readouterr().err
