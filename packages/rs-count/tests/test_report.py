import dataclasses
import json

import numpy as np
import pytest
from PIL import Image

from rs_count.evaluate import CountResult
from rs_count.metrics import count_metrics
from rs_count.report import load_reference, to_markdown, write_report
from rs_formats import FormatError


def result(model: str, always: int | None) -> CountResult:
    counts = np.array([1, 2, 3, 3, 10])
    scores = -np.abs(np.arange(1, 11)[None, :] - counts[:, None]).astype(float)
    if always is not None:
        scores = np.zeros((5, 10))
        scores[:, always - 1] = 1
    classes = ["plane", "ship", "plane", "bridge", "ship"]
    return CountResult(
        model,
        "words",
        "toy",
        count_metrics(scores, counts, classes),
        "t",
        [f"i{i}" for i in range(5)],
        counts.tolist(),
        classes,
    )


def test_report_files_and_side_by_side_tables(tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(
        json.dumps(
            [
                {
                    "model": "RemoteCLIP ViT-B-32",
                    "variant": "words",
                    "topk": [50, 70.0],
                    "source": "someone's table",
                }
            ]
        )
    )
    refs = load_reference(ref)
    files = write_report([result("oracle", None), result("threes", 3)], tmp_path / "r", reference=refs)
    md = files["markdown"].read_text()
    assert "| oracle | words | 100.0 | 100.0 |" in md
    assert (
        "| threes | words | 40.0 |" in md
        and "| RemoteCLIP ViT-B-32 (quoted) | words | 50.0 | 70.0 | – |" in md
    )
    assert "| plane | 2 | 100.0 | 50.0 |" in md  # per class, both models side by side
    assert "| 10 | 1 | 100.0 | 0.0 |" in md  # per count
    doc = json.loads(files["json"].read_text())
    assert doc["reference_quoted"] == refs and doc["results"][1]["mae"] == pytest.approx(
        (2 + 1 + 0 + 0 + 7) / 5
    )
    assert doc["results"][1]["images"][0] == {"image_id": "i0", "class": "plane", "count": 1, "predicted": 3}
    assert (
        doc["results"][0]["topk"]["top1"] == 100.0 and doc["results"][1]["per_class"]["plane"]["top1"] == 50.0
    )
    for name in ("topk.png", "confusion-oracle-words.png", "confusion-threes-words.png"):
        assert Image.open(tmp_path / "r" / name).format == "PNG"


def test_same_model_names_do_not_overwrite_plots(tmp_path):
    write_report([result("m", None), result("m", 3)], tmp_path)
    assert {p.name for p in tmp_path.glob("confusion-*.png")} == {
        "confusion-m-words.png",
        "confusion-m-words-2.png",
    }


def test_bad_reference(tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps([{"model": "x", "topk": [50, 170]}]))
    with pytest.raises(FormatError, match="record #0 needs .* in percent"):
        load_reference(ref)
    # Fractions (what earlier releases took) are refused, not shown as accuracies under 1%.
    ref.write_text(json.dumps([{"model": "x", "topk": [0.5, 0.7]}]))
    with pytest.raises(FormatError, match="looks like fractions"):
        load_reference(ref)
    with pytest.raises(ValueError):
        to_markdown([])


def test_names_from_manifests_are_escaped_in_the_markdown():
    hostile = "ckpt <img src=x onerror=alert(1)> | step `5`\n# owned"
    r = dataclasses.replace(result(hostile, None), dataset="ds <b>x</b>")
    md = to_markdown([r])
    assert "<img" not in md and "\n# owned" not in md
    assert "Dataset `ds <b>x</b>`:" in md  # a code span: shown as written, never run as HTML
    row = next(line for line in md.splitlines() if line.startswith("| ckpt"))
    assert row.count(" | ") == 12  # model, variant, ten top-k figures, MAE: 13 cells, the name's pipe escaped
    assert "ckpt &lt;img src=x onerror=alert(1)&gt; \\| step \\`5\\` # owned" in row
