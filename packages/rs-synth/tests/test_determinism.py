import hashlib
from pathlib import Path

import pytest

from rs_synth import FORMATS


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "name", ["dota", "counting", "rsicd", "imagefolder", "isaid", "potsdam", "visdrone", "hrsc2016"]
)
def test_same_seed_same_bytes_other_seed_differs(tmp_path, name):
    a = FORMATS[name].write(tmp_path / "a", 4, seed=3, size=96)
    FORMATS[name].write(tmp_path / "b", 4, seed=3, size=96)
    c = FORMATS[name].write(tmp_path / "c", 4, seed=4, size=96)
    da, db, dc = digest(tmp_path / "a"), digest(tmp_path / "b"), digest(tmp_path / "c")
    assert da == db
    assert da[a.images[0].image] != dc[c.images[0].image]


def test_image_depends_only_on_seed_and_index(tmp_path):
    FORMATS["dota"].write(tmp_path / "few", 2, seed=7, size=96)
    FORMATS["dota"].write(tmp_path / "many", 5, seed=7, size=96)
    few, many = digest(tmp_path / "few"), digest(tmp_path / "many")
    for k in ("images/P0000.png", "images/P0001.png", "labelTxt/P0001.txt"):
        assert few[k] == many[k]


def test_output_is_atomic_and_refuses_non_empty_dirs(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="not empty"):
        FORMATS["dota"].write(out, 1, size=64)
    assert (out / "keep.txt").exists()

    import rs_synth.writers.dota as dota

    calls = {"n": 0}
    real = dota.save_image

    def failing(arr, path, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real(arr, path, **kw)

    monkeypatch.setattr(dota, "save_image", failing)
    with pytest.raises(OSError, match="disk full"):
        dota.write(tmp_path / "half", 3, size=64)
    assert not (tmp_path / "half").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".half")]
