"""Every command block of the documentation runs here, so that a wrong flag, path or output name fails CI.

How each runs, and what differs from a user's machine, is in doc_runs.py (one table for each). ``pip
install`` commands must be one of the README's install commands, which test_isolation.py installs in fresh
venvs, and each must name every rs-clip package it needs (none is on a package index). A command block
that is neither runnable nor listed fails :func:`test_every_command_is_run_or_listed`, so a new document
cannot escape; what the prose says the commands write is checked too (:data:`OUTPUTS`).
"""

from __future__ import annotations

import re
import textwrap
from fnmatch import fnmatch

import pytest
from doc_commands import DOCS, REPO, Command, blocks, doc_commands
from doc_installs import check_install, install_words, missing_packages, readme_installs
from doc_runs import EXAMPLES, GIVEN, NOT_RUN, RUN_DOCS, SUBSTITUTIONS, TOOLS, not_run, tool_argv

pytestmark = pytest.mark.slow

#: What the documents' prose says their commands write (globs, in the document's folder), checked after.
OUTPUTS = {
    "README.md": ["/data/rs/train.report.json", "out/report.md", "out/plots/*.png", "out/count/topk.png"],
    "docs/reproduce.md": [
        "/data/rs/dota.report.json",
        "/data/rs/remoteclip-train.report.json",
        "/runs/plots/*.png",
        *(f"/runs/eval-vitb32/{f}" for f in ("report.md", "results.json", "results.jsonl", "results.csv")),
        "/runs/eval-vitb32/plots/confusion-*.png",
        "/runs/eval-vitb32/plots/fewshot-*.png",
        "/runs/eval-vitb32/plots/tsne-*.png",
        "/runs/remotecount/topk.png",
        "/runs/remotecount/report.md",
        "/runs/remotecount/results.jsonl",
        "/runs/remotecount/results.csv",
        "/runs/compare/compare.md",
    ],
    "packages/rs-annotate/README.md": [
        "out/det.report.json",
        "out/det-plots/*.png",
        "out/det-plots/stats.json",
        "sheet.png",
    ],
    "packages/rs-clip-train/README.md": [
        "runs/tiny/run.yaml",
        "runs/tiny/metrics.jsonl",
        "runs/tiny/checkpoints/latest",
        *(
            f"runs/tiny/checkpoints/step-*/{f}"
            for f in (
                "manifest.json",
                "open_clip_model.safetensors",
                "open_clip_config.json",
                "README.md",
                "train_state",
            )
        ),
        "runs/tiny/final/open_clip_config.json",
    ],
    "packages/rs-clip-eval/README.md": [
        *(
            f"report/{f}"
            for f in ("results.json", "results.jsonl", "results.csv", "report.md", "plots/*.png")
        ),
        "cmp/compare.md",
        "cmp/compare.csv",
    ],
    "packages/rs-count/README.md": [
        *(
            f"report/{f}"
            for f in (
                "results.json",
                "results.jsonl",
                "results.csv",
                "report.md",
                "topk.png",
                "confusion-rs-tiny-random-init-words.png",
            )
        )
    ],
    "packages/rs-clip-search/README.md": [
        f"my-index/{f}" for f in ("manifest.json", "tiles.parquet", "vectors.npy")
    ],
    "examples/caption-and-count/README.md": [
        "audit/summary.json",
        "audit/captions/manifest.json",
        "audit/counting/manifest.json",
    ],
}


# -- the tests
@pytest.mark.parametrize("doc", RUN_DOCS)
def test_the_commands_of(doc, docs):
    ran = docs.run(doc)
    assert ran and all(what for _, what in ran)
    print("\n".join(f"{cmd.where()}: {what}" for cmd, what in ran))
    world = docs.world(doc)
    for pattern in OUTPUTS.get(doc, []):
        found = list(world.glob(pattern.lstrip("/"))) or list((world / "home").glob(pattern))
        assert found, f"{doc} says its commands write {pattern}: nothing there"


def test_every_command_is_run_or_listed():
    """Every fenced block is a known kind; no unlabelled block holds a command (it would escape the runs);
    every command runs one of our tools or is listed; every table entry is still used."""
    programs = {*TOOLS, *EXAMPLES, "pip", "python", "ray", "torchrun", "hatch", "source"}
    for doc in DOCS:
        for block in blocks(doc, None):
            assert block.lang in ("bash", "python", "yaml", "text", ""), (
                f"{doc}:{block.line}: ```{block.lang}"
            )
            if block.lang == "python":  # the API examples not run are at least Python
                compile(textwrap.dedent(block.text), f"{doc}:{block.line}", "exec")
            first = (block.text.split() or [""])[0]
            assert block.lang or first not in programs, f"{doc}:{block.line}: commands in an unlabelled block"
    used = set()
    for doc in RUN_DOCS:
        for cmd in doc_commands(doc):
            why = not_run(cmd)
            used |= {i for i, (d, p, _) in enumerate(NOT_RUN) if fnmatch(doc, d) and re.search(p, cmd.text)}
            if cmd.text.startswith("pip install "):
                assert not missing_packages(install_words(cmd)), cmd.where()
                if why is None:
                    check_install(cmd)
            else:
                assert why or tool_argv(cmd.words), (
                    f"{cmd.where()}: neither runnable nor in NOT_RUN: {cmd.text}"
                )
    for doc in DOCS:  # `pip install ...` in the prose too
        for span in re.findall(r"`(pip install [^`]+)`", (REPO / doc).read_text()):
            cmd = Command(doc, 0, " ".join(span.split()))
            if not not_run(cmd):
                check_install(cmd)
    assert used == set(range(len(NOT_RUN))), [NOT_RUN[i] for i in set(range(len(NOT_RUN))) - used]
    texts = [c.text for d in RUN_DOCS for c in doc_commands(d)]
    for pattern, _, why in SUBSTITUTIONS:
        assert any(re.search(pattern, t) for t in texts), f"substitution no longer needed: {pattern} ({why})"
    assert set(GIVEN) <= set(RUN_DOCS) and set(OUTPUTS) <= set(RUN_DOCS)


def test_install_commands_name_every_package_they_need():
    installs = readme_installs()
    assert installs and all(not missing_packages(install_words(c)) for c in installs)
    # the check can fail: rs-count alone from its folder, or by URL without rs-formats, cannot install
    assert missing_packages(["./packages/rs-count"]) == {
        "rs-formats",
        "rs-clip-models",
        "rs-annotate",
        "rs-clip-eval",
    }
    assert missing_packages(["rs-annotate @ git+https://x/rs-clip#subdirectory=packages/rs-annotate"]) == {
        "rs-formats"
    }


def test_blocks_are_read_as_a_shell_reads_them(tmp_path):
    from doc_commands import Block, commands, expand

    text = """RS=git+https://x/r   # a variable
pip install "a @ $RS#subdirectory=p/a" \\
    './p/b[ray]'                  # continued; the '#' in the URL is no comment
for s in aid rsscn7; do
  tool convert $s /raw/$s --out /eval/${s}   # unrolled
done
a --x 1 && b "q # r"; c
"""
    cmds = commands(Block("d.md", 10, "bash", text, "S"))
    assert [(c.line, c.text) for c in cmds] == [
        (12, """pip install "a @ $RS#subdirectory=p/a" './p/b[ray]'"""),
        (15, "tool convert aid /raw/aid --out /eval/aid"),
        (15, "tool convert rsscn7 /raw/rsscn7 --out /eval/rsscn7"),
        (17, "a --x 1"),
        (17, 'b "q # r"'),
        (17, "c"),
    ]
    assert cmds[0].variables == {"RS": "git+https://x/r"} and cmds[0].section == "S"
    assert expand(cmds[0], cmds[0].text, tmp_path) == [
        "pip",
        "install",
        "a @ git+https://x/r#subdirectory=p/a",
        "./p/b[ray]",
    ]
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "A").mkdir()
    (tmp_path / "e" / "A.report.json").touch()
    assert expand(cmds[3], "t {x,y} e/*", tmp_path) == ["t", "x", "y", "e/A", "e/A.report.json"]
    with pytest.raises(ValueError, match="not a simple command"):
        expand(cmds[3], "t > out", tmp_path)
    console = commands(Block("d.md", 1, "console", "$ tool --version\ntool 1.0\n", ""))
    assert [c.text for c in console] == ["tool --version"]
