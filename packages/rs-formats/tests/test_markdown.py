"""Escaped names render as written: checked by rendering with a CommonMark + GFM-table parser."""

import html

import pytest
from markdown_it import MarkdownIt

from rs_formats import markdown as md

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "a | b",
    "line\nbreak\n# heading",
    "**bold** _it_ ~~gone~~ [link](http://x)",
    "tick ` and ``double``",
    "`edge`",
    "back\\slash & amp",
    "RS-Tiny (random init), step 5",
]
RENDER = MarkdownIt("commonmark").enable("table")


def cells(markdown: str) -> list[str]:
    tokens = RENDER.parse(markdown)
    return [
        "".join(c.content for c in t.children if c.type in ("text", "code_inline")) if t.children else ""
        for t in tokens
        if t.type == "inline"
    ]


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_in_a_table_cell_renders_as_written(name):
    table = f"| model | path |\n|---|---|\n| {md.text(name)} | {md.code(name, in_table=True)} |\n"
    rendered = RENDER.render(table)
    assert "<img" not in rendered and "<strong>" not in rendered and "<a " not in rendered
    shown = cells(table)
    assert shown == ["model", "path"] + [" ".join(name.split())] * 2  # one row, two cells, as written
    assert html.escape(" ".join(name.split()), quote=False) in rendered or "`" in name or "\\" in name


@pytest.mark.parametrize("name", HOSTILE)
def test_a_name_in_a_code_span_and_a_heading_renders_as_written(name):
    line = f"Dataset {md.code(name)}: 3 images."
    assert cells(line) == ["Dataset " + " ".join(name.split()) + ": 3 images."]
    assert cells(f"### {md.text(name)}") == [" ".join(name.split())]
    assert "<img" not in RENDER.render(f"### {md.text(name)}\n\n{line}")


def test_ordinary_names_read_unchanged_in_the_raw_file():
    assert md.text("RS-Tiny (random init), step 5") == "RS-Tiny (random init), step 5"
    assert md.code("/data/rs/rsicd") == "`/data/rs/rsicd`"
