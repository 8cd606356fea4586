from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = REPO / "packages"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
