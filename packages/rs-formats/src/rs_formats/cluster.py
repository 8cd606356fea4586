"""A Ray session for the tools that run on a Ray cluster: rs-clip-train, ``rs-annotate convert --engine ray``
and rs-clip-eval's archive embedding.

Decisions:

* With an address (the tool's ``--address``, else ``RAY_ADDRESS``, which ``ray job submit`` sets) the tool
  connects to that cluster. Without one it starts a private single-machine Ray for the run and stops it
  at the end, so that nothing has to be set up on a laptop; its token authentication is off
  (``RAY_AUTH_MODE=disabled``) since nothing outside the machine can reach it.
* A private Ray is quiet and keeps to itself: Ray's start-up lines stay in its own logs (the driver's
  ``ray`` logger at WARNING), and its processes are told where its dashboard is
  (``RAY_API_SERVER_ADDRESS``). Without that, Ray's state API, which Ray Train's placement-group cleaner
  polls, looks for "the" cluster of the machine: with another Ray running (another user's, a
  ``ray start``), it fails with "Found multiple active Ray instances" or talks to the wrong cluster.
  ``env`` adds variables for the private Ray's processes (set while it runs; they inherit them).
* When the calling program (or a test) already initialised Ray, that session is used and left running.
* Ray is imported only here, when a session opens: rs-formats does not depend on it (the ``ray`` extra,
  and each tool's own ``ray`` extra, install it).
* The tools' Ray Data pipelines are one map over work items whose results the driver writes in order;
  :func:`ordered_pipeline` and :func:`ray_data_logs` set them up alike.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

#: Where a tool's per-item work runs (``--engine``): processes on this machine, or Ray on a cluster.
ENGINES = ("local", "ray")


@contextmanager
def ray_session(
    address: str | None = None,
    num_cpus: int | None = None,
    *,
    dashboard: bool = False,
    log_to_driver: bool = True,
    env: Mapping[str, str] | None = None,
) -> Iterator[bool]:
    """Connect to a cluster, or start a private local Ray with ``num_cpus`` CPUs (and stop it afterwards).

    ``dashboard`` starts the dashboard of a private Ray on 127.0.0.1 (Ray Train's controller polls its
    state API). ``log_to_driver`` forwards the workers' output to this process (on stdout and stderr).
    ``env``: environment variables for a private Ray's processes. Yields whether the session is a
    private local one, whose resources are all there will be.
    """
    import ray

    if ray.is_initialized():
        yield False
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=log_to_driver)
        try:
            yield False
        finally:
            ray.shutdown()
        return
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    variables = dict(env or {})
    if dashboard:
        port = free_port(8265)
        extra: dict[str, Any] = {
            "include_dashboard": True,
            "dashboard_host": "127.0.0.1",
            "dashboard_port": port,
        }
        variables["RAY_API_SERVER_ADDRESS"] = f"http://127.0.0.1:{port}"
    else:
        extra = {"include_dashboard": False}
    with _environment(variables):
        ray.init(
            address="local",
            num_cpus=num_cpus,
            log_to_driver=log_to_driver,
            logging_level=logging.WARNING,
            **extra,
        )
        try:
            yield True
        finally:
            ray.shutdown()


@contextmanager
def _environment(variables: Mapping[str, str]) -> Iterator[None]:
    """``variables`` set in this process (and so in every process Ray starts from it) while the block runs."""
    saved = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def local_cluster(
    nodes: int = 2, cpus_per_node: int = 1, *, dashboard: bool = False, connect: bool = True
) -> Iterator[Any]:
    """A Ray cluster of ``nodes`` nodes on this machine (``ray.cluster_utils.Cluster``: separate raylets and
    object stores sharing its cores), to try a tool's cluster path on one machine, as the tests and
    benchmarks do. ``connect`` initialises Ray in this process against it (shut down on exit; a tool's
    :func:`ray_session` then uses it); ``dashboard`` serves the head's dashboard on 127.0.0.1 (the job
    API). Yields the ``Cluster``."""
    import ray
    from ray.cluster_utils import Cluster

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    head = {"num_cpus": cpus_per_node, "include_dashboard": dashboard}
    if dashboard:
        head |= {"dashboard_host": "127.0.0.1", "dashboard_port": free_port(8265)}
    cluster = Cluster(initialize_head=True, head_node_args=head)
    try:
        for _ in range(nodes - 1):
            cluster.add_node(num_cpus=cpus_per_node)
        cluster.wait_for_nodes()
        if connect:
            ray.init(address=cluster.address, log_to_driver=False)
        yield cluster
    finally:
        if connect:
            ray.shutdown()
        cluster.shutdown()


def ordered_pipeline(data: Any) -> Any:
    """A Ray Dataset set up for the tools' one-map pipelines: results in input order (what makes their
    output deterministic), no Ray progress bars (each tool shows its own), and no per-operator resource
    reservation, which is for pipelines of several operators: with one map it holds back half the
    cluster's CPUs until the first task ends (Ray 2.60)."""
    data.context.execution_options.preserve_order = True
    data.context.enable_progress_bars = False
    data.context.op_resource_reservation_enabled = False
    return data


@contextmanager
def ray_data_logs(verbose: bool = False) -> Iterator[None]:
    """Ray Data's own log lines (execution plans, a traceback when a task fails) only when ``verbose``:
    the tools report their progress and failures themselves."""
    logger = logging.getLogger("ray.data")
    level = logger.level
    if not verbose:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def free_port(preferred: int) -> int:
    """``preferred`` if nothing listens there (another Ray on this machine may), else any free port."""
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise OSError("no free port")
