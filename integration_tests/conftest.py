from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = REPO / "packages"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def docs(tmp_path_factory):
    """The documentation's commands, each document run once per session on demand (doc_runs.Docs)."""
    from doc_runs import Docs
    from doc_stand_ins import StandIns

    root = tmp_path_factory.mktemp("docs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RS_CLIP_EVAL_CACHE", str(root / "eval-cache"))
        mp.setenv("MPLBACKEND", "Agg")
        mp.syspath_prepend(str(REPO / "integration_tests"))  # sys.path as it was, after: examples' src added
        yield Docs(root, StandIns(root / "stand-ins"))
