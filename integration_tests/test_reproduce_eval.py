"""docs/reproduce.md's evaluation command finds every dataset its data commands write: run as written
(test_docs_commands.py's runner, the session's ``docs`` fixture) on the datasets the recipe's own
``--out /data/rs/eval/...`` commands converted from rs-synth stand-ins, the built-in ``paper`` suite scores
the paper's 15 evaluation sets under the paper's names, none missing, each as the kind its tasks need.
"""

from __future__ import annotations

import json
from pathlib import Path

from doc_commands import doc_commands
from doc_runs import tool_argv

from rs_clip_eval.paper import PAPER_DATASETS
from rs_clip_eval.suites import TASKS_BY_KIND
from rs_formats import open_dataset

RECIPE = "docs/reproduce.md"


def evaluation_sets() -> dict[str, str]:
    """``/data/rs/eval/<dir>`` -> the rs-annotate reader that writes it, for every convert command of section 1
    (the ``for`` loop unrolled)."""
    out = {}
    for cmd in doc_commands(RECIPE):
        tool = tool_argv(cmd.words)
        if cmd.section.startswith("1. ") and tool and tool[0] == "rs-annotate" and tool[1][0] == "convert":
            args = tool[1]
            target = args[args.index("--out") + 1]
            if target.startswith("/data/rs/eval/"):
                out[target.removeprefix("/data/rs/eval/")] = args[1]
    return out


def test_the_paper_suite_finds_every_set_under_the_recipes_names(docs):
    sets = evaluation_sets()
    assert len(sets) == 15 and "$s" not in "".join(sets)
    ran = docs.run(RECIPE)
    (run,) = [c for c, _ in ran if c.text.startswith("rs-clip-eval run ")]
    args = tool_argv(run.words)[1]
    assert (
        args[args.index("--suite") + 1] == "paper" and args[args.index("--data-root") + 1] == "/data/rs/eval"
    )
    world = docs.world(RECIPE)
    results = json.loads((world / args[args.index("--out") + 1].lstrip("/") / "results.json").read_text())

    suite = results["suite"]
    assert suite["missing"] == []
    assert [d["name"] for d in suite["datasets"]] == [p.name for p in PAPER_DATASETS]
    folders = {d["name"]: Path(d["path"]).name for d in suite["datasets"]}
    assert sorted(folders.values()) == sorted(sets)  # every directory the recipe writes, each once
    assert (folders["EuroSAT"], folders["RS2800"], folders["SIRI-WHU"]) == (
        "eurosat-rgb",
        "rsscn7",
        "whu-earth",
    )
    for entry, paper in zip(suite["datasets"], PAPER_DATASETS):  # as the kind its tasks need, and scored
        assert open_dataset(entry["path"]).kind == paper.kind and entry["tasks"] == list(
            TASKS_BY_KIND[paper.kind]
        )
        for model, by_dataset in results["results"].items():
            assert set(by_dataset[paper.name]) == set(entry["tasks"]), (model, paper.name)
