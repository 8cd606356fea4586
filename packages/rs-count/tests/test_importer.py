import json

import pytest
from conftest import grid_boxes, write_scene

from rs_annotate import BadInput
from rs_count.captions import CaptionTemplate
from rs_count.importer import import_annotations
from rs_count.rules import BuildRules
from rs_formats import open_dataset


@pytest.fixture
def images(tmp_path):
    for i, n in enumerate((1, 3, 10)):
        write_scene(tmp_path / "rc", f"img{i}", grid_boxes("plane", n), ext=".jpg")
    return tmp_path / "rc" / "images"


def rows(path):
    return {r["image_id"]: r for r in open_dataset(path).iter_rows("test")}


def test_csv_with_columns_and_captions(images, tmp_path):
    f = tmp_path / "remotecount.csv"
    f.write_text(
        "image,class,count,caption\n"
        "img0.jpg,plane,1,There is one plane in the image.\n"
        "img1,Plane,3,\n"
        "img2.jpg,,,There are 10 planes in the image.\n"
    )
    rep = import_annotations(f, images, tmp_path / "ds", progress=False)
    got = rows(tmp_path / "ds")
    assert rep.written == 3 and rep.per_count == {1: 1, 3: 1, 10: 1}
    assert {k: (r["count"], r["count_label"]) for k, r in got.items()} == {
        "remotecount/img0": (1, "plane"),
        "remotecount/img1": (3, "plane"),
        "remotecount/img2": (10, "plane"),
    }
    # the released caption is stored as is; a missing one comes from the template
    assert got["remotecount/img2"]["captions"] == ["There are 10 planes in the image."]
    assert got["remotecount/img1"]["captions"] == ["There are three planes in the image."]


def test_json_layouts(images, tmp_path):
    for name, doc in {
        "list.json": [{"file_name": "img0.jpg", "category": "storage-tank", "number": 1}],
        "wrapped.json": {
            "annotations": [{"filename": "img1.jpg", "caption": "There are three ships in the image."}]
        },
        "mapping.json": {"img2.jpg": "There are ten harbors in the image."},
    }.items():
        (tmp_path / name).write_text(json.dumps(doc))
        import_annotations(tmp_path / name, images, tmp_path / name.replace(".json", ""), progress=False)
    assert [(r["count"], r["count_label"]) for r in rows(tmp_path / "list").values()] == [(1, "storage tank")]
    assert [(r["count"], r["count_label"]) for r in rows(tmp_path / "wrapped").values()] == [(3, "ship")]
    assert [(r["count"], r["count_label"]) for r in rows(tmp_path / "mapping").values()] == [(10, "harbor")]
    (tmp_path / "bad.json").write_text(json.dumps([{"image": "img0.jpg", "class": "plane", "count": 12}]))
    with pytest.raises(BadInput, match=r"bad.json: record #0: count 12 is outside"):
        import_annotations(tmp_path / "bad.json", images, tmp_path / "bad", progress=False)
    (tmp_path / "x.jsonl").write_text('{"image": "img0", "caption": "1 plane"}\n')
    rules = BuildRules(template=CaptionTemplate("{number} {noun}"))
    import_annotations(tmp_path / "x.jsonl", images, tmp_path / "jl", rules, progress=False)
    assert [r["count"] for r in rows(tmp_path / "jl").values()] == [1]


@pytest.mark.parametrize(
    "line,kind,msg",
    [
        ("img0.jpg,plane,11,", "bad-count", "count 11 is outside RemoteCount's 1..10"),
        ("img0.jpg,plane,0,", "bad-count", "count 0 is outside"),
        ("img0.jpg,plane,two,", "bad-count", "count 'two' is not an integer"),
        ("img0.jpg,small-vehicle,2,", "unknown-class", "unknown class 'small-vehicle'"),
        ("nope.jpg,plane,2,", "missing-image", "image 'nope.jpg' not found"),
        ("img0.jpg,plane,2,There are three planes in the image.", "bad-count", "the columns say 2 plane"),
        ("img0.jpg,,,Three aircraft parked", "malformed", "does not match the template"),
    ],
)
def test_bad_records_name_the_line(images, tmp_path, line, kind, msg):
    f = tmp_path / "a.csv"
    f.write_text(f"image,class,count,caption\nimg1.jpg,plane,3,\n{line}\n")
    with pytest.raises(BadInput, match=msg) as exc:
        import_annotations(f, images, tmp_path / "ds", progress=False)
    assert exc.value.kind == kind and str(exc.value).startswith(f"{f}:3: ")
    assert not (tmp_path / "ds").exists()
    rep = import_annotations(f, images, tmp_path / "ds", skip_bad=True, progress=False)
    assert rep.written == 1 and rep.bad == {kind: 1}


def test_duplicates_and_empty(images, tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("image,class,count\nimg1.jpg,plane,3\nimg1.jpg,plane,3\n")
    with pytest.raises(BadInput, match="a.csv:3: image 'img1.jpg' already annotated at line 2"):
        import_annotations(f, images, tmp_path / "ds", progress=False)
    f.write_text("image,class,count\n")
    with pytest.raises(BadInput, match="no usable annotation"):
        import_annotations(f, images, tmp_path / "ds", progress=False)
