"""convert_reader: a caller's own reader through the conversion (what rs-count's RemoteCount build uses)."""

import io
import json

import numpy as np
from PIL import Image

from rs_annotate import BadInput, ConvertReport, convert_reader
from rs_annotate.readers import Box, Reader, ReaderInfo, Sample
from rs_formats import open_dataset


class Windows(Reader):
    """Each item: (stem, window); a missing image is refused while listing."""

    info = ReaderInfo(name="windows", title="t", layout="", license="ours", url="", kind="counting")
    generator = "windows-test 1"

    def items(self):
        found = []
        for stem, window in (("a", (10, 20, 60, 60)), ("missing", (0, 0, 5, 5)), ("b", None)):
            if (self.root / f"{stem}.png").exists():
                found.append((stem, window))
            else:
                self.bad.append(BadInput(self.root / f"{stem}.png", "no such image", kind="missing-image"))
        return found

    def read(self, item):
        stem, window = item
        return Sample(
            image_id=f"w/{stem}",
            source="w",
            image_path=self.root / f"{stem}.png",
            boxes=[Box("car", 20, 30, 40, 50)],
            captions=[f"caption of {stem}"],
            split="test",
            size=(100, 80),
            window=window,
            meta={"count": 1, "count_label": "car"},
        )

    def manifest_stats(self, report: ConvertReport):
        return {"windows": {"rows": report.rows}}


def test_a_window_is_cut_resized_and_its_boxes_follow(tmp_path):
    (tmp_path / "src").mkdir()
    rng = np.random.default_rng(0)
    for stem in ("a", "b"):
        Image.fromarray(rng.integers(0, 255, (80, 100, 3), dtype=np.uint8)).save(
            tmp_path / "src" / f"{stem}.png"
        )
    report = convert_reader(
        Windows(tmp_path / "src"),
        tmp_path / "out",
        workers=1,
        short_side=30,
        keep_original=False,
        image_format="png",
        skip_bad=True,
        progress=False,
    )
    ds = open_dataset(tmp_path / "out")
    got = {r["image_id"]: r for r in ds.iter_rows("test")}
    a = got["w/a"]
    # oracle: PIL's own crop then resize of the window (PNG: no draft decoding, lossless storage)
    want = (
        Image.open(tmp_path / "src" / "a.png")
        .crop((10, 20, 70, 80))
        .resize((30, 30), Image.BICUBIC, reducing_gap=3.0)
    )
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(a["image"]))), np.asarray(want))
    (box,) = a["objects"]
    assert (box["x0"], box["y0"], box["x1"], box["y1"]) == (5.0, 5.0, 15.0, 15.0)  # (20-10, 30-20) / 2
    assert (a["count"], a["count_label"], a["captions"]) == (1, "car", ["caption of a"])
    assert got["w/b"]["width"] == 38 and got["w/b"]["height"] == 30  # the whole image, shorter side 30
    assert json.loads(a["meta"])["original_size"] == [100, 80] and "tile" not in json.loads(a["meta"])
    assert ds.manifest["generator"] == "windows-test 1" and ds.manifest["stats"]["windows"] == {"rows": 2}
    assert report.rows == 2 and report.counts == {"car": {1: 2}}
    assert [(b["kind"], "missing.png" in b["file"]) for b in report.bad] == [("missing-image", True)]
