"""Every option that takes a place in a store says so in its ``--help``, in the one wording of
:func:`rs_formats.location.uri_help` (docs/contracts.md lists the contracts that may live at a URI)."""

from __future__ import annotations

import importlib
import re

import pytest

from rs_formats.location import URI_SCHEMES

#: (tool's package, command, the options and positionals that take a URI, as --help names them)
TAKES_URIS = [
    ("rs_annotate", "convert", ["--out OUT"]),
    ("rs_annotate", "merge", ["DS", "--out OUT"]),
    ("rs_annotate", "dedup", ["DS", "--out OUT"]),
    ("rs_annotate", "stats", ["DS"]),
    ("rs_annotate", "show", ["DS"]),
    ("rs_annotate", "validate", ["DS"]),
    ("rs_annotate", "export webdataset", ["DS"]),
    ("rs_annotate", "export csv", ["DS"]),
    ("rs_clip_eval", "run", ["--suite SUITE", "--data-root DATA_ROOT"]),
    *[
        ("rs_clip_eval", verb, ["--data DATA"])
        for verb in ("retrieval", "zeroshot", "linear-probe", "fewshot", "knn")
    ],
    ("rs_clip_eval", "embed", ["--data DATA", "--out DIR"]),
    ("rs_clip_eval", "search", ["--embeddings EMBEDDINGS"]),
    ("rs_count", "build", ["--out OUT"]),
    ("rs_count", "import", ["--out OUT"]),
    ("rs_count", "eval", ["--data DATA"]),
    ("rs_clip_train", "fit", ["--data DIR[@SPLITS][:WEIGHT]", "--eval-data DIR", "--storage URI"]),
    ("rs_formats", "verify", ["path"]),
    ("rs_formats", "info", ["path"]),
]


@pytest.mark.parametrize(("package", "command", "options"), TAKES_URIS, ids=lambda v: str(v))
def test_the_help_says_which_uris_an_option_takes(package, command, options, capsys):
    main = importlib.import_module(f"{package}.cli").main
    with pytest.raises(SystemExit) as done:
        main([*command.split(), "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    for option in options:
        # the option's entry: from its name to the next entry (a line starting with two spaces and a word)
        entry = re.search(rf"^  {re.escape(option)}(?!\S)(.*?)(?=^  \S|\Z)", text, re.M | re.S)
        assert entry is not None, f"{command}: no {option} in\n{text}"
        assert URI_SCHEMES in " ".join(entry[1].split()), f"{command} {option}: {entry[0]}"
