from pathlib import Path

import pytest
from r6util import SHARED


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED.is_dir(), f"real samples expected at {SHARED}"
    return SHARED
