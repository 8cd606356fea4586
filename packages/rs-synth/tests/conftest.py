import pytest

from rs_synth import FORMATS

SIZE = 128


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """Write each format once per session: generated(name, n=6) -> (out_dir, truth)."""
    cache = {}

    def make(name: str, n: int = 6, size: int = SIZE, seed: int = 0):
        key = (name, n, size, seed)
        if key not in cache:
            out = tmp_path_factory.mktemp(name.replace("-", "_")) / "out"
            cache[key] = (out, FORMATS[name].write(out, n, seed=seed, size=size))
        return cache[key]

    return make
