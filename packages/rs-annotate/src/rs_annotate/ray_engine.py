"""``convert --engine ray``: the per-item rule (:func:`~rs_annotate.sample_rows.convert_item`) mapped over a
Ray cluster with Ray Data, results back in item order, for the driver to write exactly as locally.

Decisions:

* The driver lists the reader's items (as the local engine does) and hands them to Ray Data in chunks,
  pickled (the items are the reader's own picklable work items, made in this process): one chunk is one
  block and one task (:func:`task_size`). Each task takes one CPU; at most ``workers`` run at once
  (default: all the cluster's CPUs). Ray Data streams with backpressure and ``preserve_order``, so memory is bounded by
  the blocks in flight and the rows reach the driver in item order: the dataset is the local engine's,
  row for row (shards may be cut elsewhere).
* Each item's result travels back as data, as with the local pool: ("ok", SampleRows) or ("bad",
  BadInput), so ``--skip-bad`` counts the same items and a run without it fails on the same (first) bad
  item with the same message. Any other exception in a worker comes back too and is raised in the driver
  as itself, not wrapped in Ray's exception types.
* A worker process or node that dies: Ray reruns its task, up to ``retries`` times (a chunk's rows are a
  pure function of its items, so a rerun gives the same rows); after that the run fails with
  :class:`~rs_annotate.workers.WorkerDied` and, the writer being atomic, nothing is published. Ray
  Data's default of unlimited retries would loop forever on a scene that always runs out of memory.
* Paths: workers run in other directories and on other nodes, so the reader is built on the absolute
  SRC (see :func:`source_root`); every node must see SRC at that path (a shared file system), and error
  messages name files by their absolute paths.
* The cluster: ``address``, else ``RAY_ADDRESS``, else a private local Ray with ``workers`` CPUs
  (:func:`rs_formats.cluster.ray_session`). Workers' output is not forwarded to this process (stdout is
  for what the command produces), and Ray Data's own log lines show only with ``-vv``.
* No torch: Ray Data is installed without it (the ``rs-annotate[ray]`` extra) and batches are Arrow.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from rs_formats.cluster import ordered_pipeline, ray_data_logs, ray_session

from .options import ConvertOptions
from .readers.base import Reader
from .sample_rows import convert_item
from .workers import WorkerDied

try:
    import pyarrow as pa
    import ray
    import ray.data
    from ray.exceptions import (
        LocalRayletDiedError,
        NodeDiedError,
        ObjectLostError,
        OutOfMemoryError,
        WorkerCrashedError,
    )
    from ray.util.annotations import RayDeprecationWarning
except ImportError as exc:  # the engine was asked for without its extra
    raise ValueError(
        f"--engine ray needs Ray Data: rs-annotate's ray extra (README.md, Install) ({exc})"
    ) from None

log = logging.getLogger(__name__)

#: At most this many blocks (tasks) per conversion: each is an object in Ray's store and a task to schedule.
MAX_BLOCKS = 20_000
#: Aim for this many tasks per CPU, each of at most :data:`TASK_ITEMS` items (unless MAX_BLOCKS needs more).
TASKS_PER_CPU = 8
TASK_ITEMS = 64
_LOST = (WorkerCrashedError, NodeDiedError, ObjectLostError, OutOfMemoryError, LocalRayletDiedError)


def source_root(src: str | Path) -> Path:
    """SRC as the workers must see it: absolute (they run in other directories and on other nodes)."""
    return Path(src).expanduser().resolve()


def results(
    reader: Reader, items: Sequence[Any], opts: ConvertOptions, kind: str
) -> Iterator[tuple[str, Any]]:
    """Per item, in item order: ("ok", SampleRows) or ("bad", BadInput), computed on the Ray cluster.

    Closing the generator stops the work (and a private local Ray).
    """
    verbose = logging.getLogger("rs_annotate").isEnabledFor(logging.DEBUG)
    with (
        ray_session(opts.address, opts.workers or os.cpu_count(), log_to_driver=False),
        ray_data_logs(verbose),
    ):
        data = _dataset(reader, items, opts, kind)
        done = 0
        try:
            for batch in data.iter_batches(batch_size=None, batch_format="pyarrow"):
                for first, blob in zip(batch.column("first").to_pylist(), batch.column("result").to_pylist()):
                    if first != done:  # preserve_order is what makes the output deterministic
                        raise RuntimeError(f"Ray Data returned items from {first} where {done} was due")
                    chunk = pickle.loads(blob)  # made by our own tasks from the items above
                    for status, value in chunk:
                        if status == "error":
                            raise value
                        yield status, value
                    done += len(chunk)
        except _LOST as exc:
            raise WorkerDied(
                f"a Ray worker or node was lost and its task failed {opts.retries + 1} time(s) "
                f"({type(exc).__name__}); nothing was written. Rerun, give it more --retries, "
                f"or tile very large scenes"
            ) from None


def _dataset(reader: Reader, items: Sequence[Any], opts: ConvertOptions, kind: str) -> ray.data.Dataset:
    size = task_size(len(items), opts.workers or int(ray.cluster_resources().get("CPU", 1)), opts.chunksize)
    chunks = [
        {"first": i, "chunk": pickle.dumps(list(items[i : i + size]))} for i in range(0, len(items), size)
    ]
    data = ordered_pipeline(ray.data.from_items(chunks, override_num_blocks=len(chunks)))
    log.debug("%d items in %d Ray tasks of up to %d", len(items), len(chunks), size)
    with warnings.catch_warnings():
        # Ray 2.60 has no named parameter for a task's retries yet; ``max_retries`` works until Ray 2.64.
        warnings.simplefilter("ignore", RayDeprecationWarning)
        return data.map_batches(
            _convert_chunks,
            fn_kwargs={"reader": reader, "opts": opts, "kind": kind},
            batch_size=None,
            batch_format="pyarrow",
            num_cpus=1,
            max_retries=opts.retries,
            compute=ray.data.TaskPoolStrategy(size=min(opts.workers, len(chunks)) if opts.workers else None),
        )


def task_size(n_items: int, cpus: int, chunksize: int) -> int:
    """Items per task: at least ``chunksize``, and more when there are many items per CPU. A task has fixed
    costs the local pool's chunks do not (scheduling by Ray Data's executor loop, blocks through the object
    store: tens of ms), so a task should carry a second or so of work; about
    :data:`TASKS_PER_CPU` tasks per CPU keep the last ones, which run while other workers idle, short."""
    balanced = min(TASK_ITEMS, math.ceil(n_items / (TASKS_PER_CPU * max(cpus, 1))))
    return max(chunksize, 1, balanced, math.ceil(n_items / MAX_BLOCKS))


def _convert_chunks(batch: pa.Table, reader: Reader, opts: ConvertOptions, kind: str) -> pa.Table:
    """The task: each chunk's items through :func:`convert_item`, results pickled for the driver."""
    out = [
        pickle.dumps(_chunk_results(pickle.loads(blob), reader, opts, kind))
        for blob in batch.column("chunk").to_pylist()
    ]
    return pa.table({"first": batch.column("first"), "result": pa.array(out, pa.binary())})


def _chunk_results(
    items: Sequence[Any], reader: Reader, opts: ConvertOptions, kind: str
) -> list[tuple[str, Any]]:
    done: list[tuple[str, Any]] = []
    for item in items:
        try:
            done.append(convert_item(reader, item, opts, kind))
        except Exception as exc:  # noqa: BLE001 - raised in the driver as itself, where the local pool raises it
            done.append(("error", _portable(exc)))
            break
    return done


def _portable(exc: Exception) -> Exception:
    """The exception itself if it survives pickling, else its text in a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001 - any failure to round-trip means: send the text
        return RuntimeError(f"{type(exc).__name__}: {exc}")
