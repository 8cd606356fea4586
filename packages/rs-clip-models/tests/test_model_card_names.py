"""Names a checkpoint's manifest carries (model, datasets, sources, splits, init) reach the model card's
Markdown escaped: rendered as CommonMark, each shows exactly as written and none becomes a link, HTML or
emphasis."""

from __future__ import annotations

from markdown_it import MarkdownIt

from rs_clip_models.model_card import model_card

HOSTILE = "evil`](javascript:alert(1))<script>x</script>*b*"


def test_manifest_names_render_as_written():
    manifest = {
        "format_version": 2,
        "model": HOSTILE,
        "step": 3,
        "config": {"model": {"init": HOSTILE}},
        "dataset": {
            "name": HOSTILE,
            "splits": [HOSTILE],
            "sources": [{"name": HOSTILE, "manifest_sha256": "ab", "splits": [HOSTILE], "rows": 2}],
        },
    }
    card = model_card(manifest, {"embed_dim": 8, "vision_cfg": {"image_size": 32}}, HOSTILE)
    body = card.split("---", 2)[2]  # the Markdown after the YAML front matter
    html = MarkdownIt("commonmark").render(body)
    assert "<script>" not in html and "<a " not in html
    text = MarkdownIt("commonmark").parse(body)
    shown = "".join(t.content for block in text if block.children for t in block.children)
    assert shown.count(HOSTILE) >= 6  # heading, model, weights, init, dataset and its source, as written
