"""docs/reproduce.md's evaluation command finds every dataset its data commands write: the built-in ``paper``
suite, over exactly the directories the recipe's ``--out /data/rs/eval/...`` commands create (the ``for``
loop expanded), holds the paper's 15 evaluation sets under the paper's names, none missing.

The commands are read from the document itself, so the document cannot drift from what is tested.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from rs_clip_eval.cli import build_parser
from rs_clip_eval.paper import PAPER_DATASETS
from rs_clip_eval.runner import open_entry
from rs_clip_eval.suites import TASKS_BY_KIND, load_suite
from rs_synth.evalsets import write_captions_dataset, write_classification_dataset

RECIPE = Path(__file__).resolve().parents[1] / "docs" / "reproduce.md"
CAPTION_READERS = {"rsicd", "rsitmd", "ucm-captions"}


def _blocks(section: str) -> str:
    text = RECIPE.read_text()
    start = text.index(section)
    end = text.find("\n## ", start + 1)
    return "\n".join(re.findall(r"```bash\n(.*?)```", text[start:end], re.S)).replace("\\\n", " ")


def _expanded(block: str) -> list[list[str]]:
    """The block's commands as words, comments dropped and ``for VAR in ...; do ... done`` loops unrolled."""

    def unroll(m: re.Match) -> str:
        var, values, body = m.group(1), m.group(2).split(), m.group(3)
        return "\n".join(body.replace(f"${var}", v) for v in values)

    block = re.sub(r"for (\w+) in ([^;]+); do\n(.*?)\ndone", unroll, block, flags=re.S)
    return [shlex.split(line.split("#")[0]) for line in block.splitlines() if line.split("#")[0].strip()]


def evaluation_sets() -> dict[str, str]:
    """``/data/rs/eval/<dir>`` -> the rs-annotate reader that writes it, for every convert command of section 1."""
    out = {}
    for words in _expanded(_blocks("## 1. Captions")):
        if words[:2] == ["rs-annotate", "convert"]:
            target = words[words.index("--out") + 1]
            if target.startswith("/data/rs/eval/"):
                out[target.removeprefix("/data/rs/eval/")] = words[2]
    return out


def test_the_paper_suite_finds_every_set_under_the_recipes_names(tmp_path):
    sets = evaluation_sets()
    assert len(sets) == 15 and "$s" not in "".join(sets)
    root = tmp_path / "eval"
    root.mkdir()
    # One tiny dataset of each kind, linked under every name (the names are what is tested).
    captions = write_captions_dataset(tmp_path / "captions", n_images=2, classes=("plane",), size=16)
    scenes = write_classification_dataset(
        tmp_path / "scenes", n_train=2, n_test=2, classes=("plane", "ship"), size=16
    )
    for folder, reader in sets.items():
        (root / folder).symlink_to(captions if reader in CAPTION_READERS else scenes)

    (run,) = [w for w in _expanded(_blocks("## 3. Evaluation")) if w[:2] == ["rs-clip-eval", "run"]]
    args = build_parser().parse_args(run[1:])
    assert args.suite == "paper" and str(args.data_root) == "/data/rs/eval"
    suite = load_suite(args.suite, data_root=root)

    assert suite.missing == []
    assert [d.name for d in suite.datasets] == [p.name for p in PAPER_DATASETS]
    assert sorted(d.path.name for d in suite.datasets) == sorted(sets)  # every directory used, each once
    by_name = {d.name: d.path.name for d in suite.datasets}
    assert (by_name["EuroSAT"], by_name["RS2800"], by_name["SIRI-WHU"]) == (
        "eurosat-rgb",
        "rsscn7",
        "whu-earth",
    )
    for entry in suite.datasets:  # each opens as the kind its tasks need, with the splits they read
        paper = next(p for p in PAPER_DATASETS if p.name == entry.name)
        ds, tasks = open_entry(entry)
        assert ds.kind == paper.kind and tasks == TASKS_BY_KIND[paper.kind]
