"""Names from manifests (models, datasets, the suite, paths) are escaped in report.md: rendered with a
CommonMark + GFM-table parser, they show as written and every table keeps its cells."""

from types import SimpleNamespace

from markdown_it import MarkdownIt

from rs_clip_eval.report_markdown import markdown

MODEL = "ckpt <img src=x onerror=alert(1)> | `step` 5"
DATASET = "caps | **<script>x</script>**"


def test_hostile_names_render_as_written(tmp_path):
    figures = {"R@1": 10.0, "R@5": 20.0, "R@10": 30.0, "mean_recall": 20.0}
    retrieval = {k: 1.0 for k in ("i2t_R@1", "i2t_R@5", "i2t_R@10", "t2i_R@1", "t2i_R@5", "t2i_R@10")}
    results = {
        label: {
            DATASET: {"retrieval": dict(retrieval, **figures)},
            "scenes\nzero": {"zeroshot": {"top1": 50.0, "top5": 90.0, "templates": ["a"]}},
        }
        for label in (MODEL, "random")
    }
    datasets = {
        DATASET: {"kind": "captions", "rows": {"test": 4}, "tasks": ["retrieval"], "path": f"{tmp_path}/a|b"},
        "scenes\nzero": {"kind": "classification", "rows": {"test": 4}, "tasks": ["zeroshot"], "path": "p"},
    }
    run = SimpleNamespace(
        models=[
            SimpleNamespace(label=MODEL, kind="checkpoint", arch="RS-Tiny</td>", path=tmp_path / "x"),
            SimpleNamespace(label="random", kind="random", arch="RS-Tiny", path=None),
        ],
        suite=SimpleNamespace(name="suite `x` <b>", missing=["<i>gone</i>"]),
        config=SimpleNamespace(resolved_device=lambda: "cpu"),
        seconds=1.0,
        datasets=datasets,
        results=results,
        datasets_with=lambda task: [n for n, d in datasets.items() if task in d["tasks"]],
        cache=SimpleNamespace(root=tmp_path / "cache", hits=0, misses=2),
    )
    text = markdown(run, {})
    html = MarkdownIt("commonmark").enable("table").render(text)
    for tag in ("<img", "<script", "<b>", "<i>"):
        assert tag not in html
    assert "RS-Tiny&lt;/td&gt;</td>" in html
    assert "ckpt &lt;img src=x onerror=alert(1)&gt; | <code>step</code> 5" not in html  # the ticks escaped
    assert "ckpt &lt;img src=x onerror=alert(1)&gt; | `step` 5" in html
    assert "caps | **&lt;script&gt;x&lt;/script&gt;**" in html
    tables = [t for t in html.split("<table>")[1:]]
    for table in tables:  # every row of a table has as many cells as its header
        rows = table.split("</table>")[0].split("<tr>")[1:]
        widths = {r.count("<th") + r.count("<td") for r in rows}
        assert len(widths) == 1, table
