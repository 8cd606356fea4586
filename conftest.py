"""Repository-wide pytest set-up, loaded by every suite (each runs in its own process under this rootdir).

The real annotation samples. A few tests read real files from public datasets (DOTA, DIOR, HRSC, HRRSD,
AU-AIR, SDD, iSAID, RSICD/RSITMD/UCM, Sydney-Captions) that are not part of the repository: CI provides them
in ``../shared/data`` beside the clone, and docs/test-data.md says what they are and where each comes from.
Such tests take the ``shared_data`` fixture. Without the folder they skip with one line saying so, which
keeps a plain clone's test run green; with ``RS_CLIP_REQUIRE_SHARED_DATA=1`` (set by ``.ci/run``) a missing
folder fails them instead, so CI can never skip them silently. ``RS_CLIP_SHARED_DATA`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def shared_data_dir() -> Path:
    return Path(os.environ.get("RS_CLIP_SHARED_DATA") or REPO.parent / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real samples (docs/test-data.md); skips, or fails where they are required, without it."""
    root = shared_data_dir()
    if (root / "MANIFEST.sha256").is_file():
        return root
    why = f"real sample files not found at {root} (see docs/test-data.md)"
    if os.environ.get("RS_CLIP_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(f"{why}; RS_CLIP_REQUIRE_SHARED_DATA=1 requires them", pytrace=False)
    pytest.skip(why)
