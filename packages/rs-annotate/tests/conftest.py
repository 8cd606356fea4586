from pathlib import Path

import pytest

from rs_synth.registry import FORMATS


@pytest.fixture(scope="session")
def dota_src(tmp_path_factory) -> Path:
    """Eight synthetic 320x320 DOTA v1.0 scenes (labelTxt with headers, CRLF, PNG images)."""
    root = tmp_path_factory.mktemp("synth") / "dota"
    FORMATS["dota"].write(root, 8, seed=11, size=320)
    return root
