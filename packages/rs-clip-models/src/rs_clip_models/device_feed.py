"""Batches prepared on the device one or two steps ahead of their use, in a background thread.

Why: preparing a batch for the device (the copy from pinned memory, and with
:mod:`rs_clip_models.device_decode` the JPEG decoding, whose Huffman stage nvjpeg runs on the host, and the
resizes) would otherwise run between two steps of the consumer: the device would idle while the host
prepares, and any synchronisation inside the preparation (a decoder waiting for its own stream) would
stall the consumer's queue of work. Here a thread prepares batch ``k + 1`` on a side CUDA stream while
the consumer's stream runs batch ``k``; the consumer's stream waits for the batch with an event, so the
host never blocks on the device.

Decisions: the order of batches is kept (one producer thread, a FIFO queue); an exception raised while
preparing reaches the consumer at the batch where it happened; tensors handed over are marked as used
by the consumer's stream (``record_stream``), so the caching allocator never gives their memory to the
side stream while they are in use. On a CPU the same thread and queue run, without streams.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

import torch

T = TypeVar("T")
R = TypeVar("R")
_DONE = object()


def _tensors(obj: Any) -> Iterator[torch.Tensor]:
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for x in obj:
            yield from _tensors(x)


def prepared_ahead(
    items: Iterable[T], prepare: Callable[[T], R], device: str | torch.device, depth: int = 2
) -> Iterator[R]:
    """``prepare(item)`` for every item, in order, computed in a background thread up to ``depth`` items
    ahead (on a side stream of ``device`` when it is a GPU). Closing the iterator stops the thread."""
    device = torch.device(device)
    cuda = device.type == "cuda"
    side = torch.cuda.Stream(device) if cuda else None
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(entry: tuple) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            with torch.cuda.stream(side) if cuda else contextlib.nullcontext():
                for item in items:
                    out = prepare(item)
                    event = None
                    if cuda:
                        event = torch.cuda.Event()
                        event.record(side)
                    if not put((out, event, None)):
                        return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put((None, None, exc))
            return
        put((_DONE, None, None))

    thread = threading.Thread(target=work, name="prepared-ahead", daemon=True)
    thread.start()
    try:
        while True:
            out, event, exc = handoff.get()
            if exc is not None:
                raise exc
            if out is _DONE:
                return
            if event is not None:
                stream = torch.cuda.current_stream(device)
                stream.wait_event(event)
                for t in _tensors(out):
                    if t.device.type == "cuda":
                        t.record_stream(stream)
            yield out
    finally:
        stop.set()
        while True:  # unblock a producer waiting to hand over
            try:
                handoff.get_nowait()
            except queue.Empty:
                break
        thread.join(timeout=60)
