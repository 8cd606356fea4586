"""`convert` accepts these readers by name and writes what rs-clip-eval / rs-clip-train read."""

from rs_annotate import convert
from rs_formats import open_dataset


def test_convert_imagefolder_to_classification_dataset(tmp_path):
    from rs_synth.registry import FORMATS

    FORMATS["imagefolder"].write(
        tmp_path / "src", 18, seed=0, size=32, classes=["denseresidential", "golf_course", "Airport"]
    )
    convert("imagefolder", tmp_path / "src", tmp_path / "out", workers=1, progress=False)
    ds = open_dataset(tmp_path / "out")
    assert ds.kind == "classification"
    assert ds.class_names == ["airport", "dense residential", "golf course"]
    table = ds.read_table("train", columns=["image_id", "label"])
    assert table.num_rows == 12  # 6 per class, floor(0.8 * 6) = 4 train
    assert ds.num_rows("test") == 6


def test_convert_sdd_frames_same_for_one_and_two_workers(tmp_path):
    from rs_synth.registry import FORMATS

    FORMATS["sdd"].write(tmp_path / "sdd", 1, seed=0, size=160, frames=40)
    tables = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}"
        convert(
            "sdd",
            tmp_path / "sdd",
            out,
            workers=workers,
            progress=False,
            keep_empty=True,
            chunksize=1,
            reader_options={"stride": 5},
        )
        tables.append(open_dataset(out).read_table("train"))
    assert tables[0].num_rows >= 7
    assert tables[0].column("image").to_pylist() == tables[1].column("image").to_pylist()
    assert tables[0].column("captions").to_pylist() == tables[1].column("captions").to_pylist()
