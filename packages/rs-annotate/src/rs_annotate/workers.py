"""The worker processes of ``convert``: per-process state, and results in item order with bounded look-ahead.

Items go to the workers in chunks; at most ``4 x workers`` chunks are in flight, so memory stays bounded
however large the source. Workers are started by forkserver where available: they fork from a clean
server process (no inherited threads or locks), and the modules preloaded there (imagehash pulls in scipy)
are imported once instead of once per worker.

Process hygiene: nothing outlives the run. Ctrl-C and SIGTERM reach the parent, which stops the pool
(workers ignore SIGINT, so an interrupt prints no traceback per worker). A parent killed outright
(SIGKILL, the out-of-memory killer) cannot stop anything, so each worker waits on the pipe that
multiprocessing keeps open from the parent (``parent_process().sentinel``) and exits when it closes. The
workers hold the forkserver's and the resource tracker's pipes open, so once they are gone those two see
end-of-file and end as well.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .options import ConvertOptions
from .readers.base import Reader
from .sample_rows import convert_item

#: What each worker process (or this process, with one worker) converts with.
_STATE: dict[str, Any] = {}


class WorkerDied(RuntimeError):
    """A worker process ended abnormally (e.g. killed by the out-of-memory killer)."""


def _init_worker(reader: Reader, opts: ConvertOptions, kind: str, pool_worker: bool = False) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if pool_worker:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles interrupts and stops the pool
        _exit_with_parent()
    _STATE.update(reader=reader, opts=opts, kind=kind)


def _exit_with_parent() -> None:
    """End this worker as soon as the process that started the pool is gone (not the forkserver, which
    is its parent by fork but lives as long as any worker does)."""
    parent = mp.parent_process()
    if parent is None:
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the pipe closes: it exited or was killed
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _work(item: Any) -> tuple[str, Any]:
    return convert_item(_STATE["reader"], item, _STATE["opts"], _STATE["kind"])


def _work_chunk(items: Sequence[Any]) -> list[tuple[str, Any]]:
    return [_work(item) for item in items]


def results(
    reader: Reader, items: Sequence[Any], opts: ConvertOptions, kind: str, workers: int
) -> Iterator[tuple[str, Any]]:
    """Per item, in item order: ("ok", SampleRows) or ("bad", BadInput), computed by ``workers`` processes.

    Closing the generator stops the pool at once (also when the caller fails).
    """
    if workers <= 1:
        _init_worker(reader, opts, kind)
        try:
            for item in items:
                yield _work(item)
        finally:
            _STATE.clear()
        return
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload([__name__, "imagehash", "scipy.fftpack"])
    else:
        ctx = mp.get_context("spawn")
    cs = max(1, opts.chunksize)
    chunks = [items[i : i + cs] for i in range(0, len(items), cs)]
    pool = ProcessPoolExecutor(
        workers, mp_context=ctx, initializer=_init_worker, initargs=(reader, opts, kind, True)
    )
    try:
        pending: deque = deque()
        for chunk in chunks:
            pending.append(pool.submit(_work_chunk, chunk))
            if len(pending) >= 4 * workers:
                yield from _get(pending.popleft())
        while pending:
            yield from _get(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _get(future) -> list[tuple[str, Any]]:
    try:
        return future.result()
    except BrokenProcessPool:
        raise WorkerDied(
            "a worker process died (killed, or out of memory?); nothing was written. "
            "Try fewer --workers or tiling very large scenes"
        ) from None
