"""A private Ray (rs_formats.cluster.ray_session) beside another Ray on the same machine."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip(
    "ray", reason="the ray extra of rs-formats (pip install 'rs-formats[ray]') is not installed"
)

BYSTANDER = """
import sys, ray
ray.init(address="local", num_cpus=0, include_dashboard=False, log_to_driver=False)
print("up", flush=True)
sys.stdin.read()
"""


@pytest.fixture()
def another_ray():
    """A second, unrelated Ray instance running on the machine (someone else's)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", BYSTANDER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "RAY_AUTH_MODE": "disabled"},
    )
    try:
        assert proc.stdout.readline().strip() == "up"
        yield
    finally:
        proc.stdin.close()  # it shuts its Ray down and exits
        proc.wait(timeout=60)


def test_a_private_ray_talks_to_its_own_state_api_and_passes_its_environment(another_ray):
    import ray
    from ray.util.state import list_actors

    from rs_formats.cluster import ray_session

    @ray.remote(num_cpus=0)
    class Probe:
        pass

    @ray.remote(num_cpus=0)
    def look() -> tuple[str | None, list[str]]:
        # Ray Train's placement-group cleaner asks the state API like this, with no address: with two
        # Rays on the machine Ray itself cannot tell which one is meant ("Found multiple active Ray
        # instances") unless the private Ray's processes are told.
        return os.environ.get("RS_CLUSTER_TEST"), [a.class_name for a in list_actors()]

    before = os.environ.get("RAY_API_SERVER_ADDRESS")
    with ray_session(None, 1, dashboard=True, env={"RS_CLUSTER_TEST": "yes"}) as local:
        assert local
        probe = Probe.remote()
        ray.get(probe.__ray_ready__.remote())
        value, actors = ray.get(look.remote())
    assert value == "yes"
    # Only this session's actor: the state API of this session's dashboard answered.
    assert [name.rsplit(".", 1)[-1] for name in actors] == ["Probe"]
    assert os.environ.get("RAY_API_SERVER_ADDRESS") == before and "RS_CLUSTER_TEST" not in os.environ
