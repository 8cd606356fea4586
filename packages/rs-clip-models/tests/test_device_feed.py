"""prepared_ahead: order kept, errors raised at their batch, the thread gone once the consumer stops."""

from __future__ import annotations

import threading
import time

import pytest
import torch

from rs_clip_models.device_feed import prepared_ahead


def _alive() -> int:
    return sum(t.name == "prepared-ahead" for t in threading.enumerate())


def test_items_come_prepared_in_order_and_the_thread_ends():
    before = _alive()
    out = list(prepared_ahead(iter(range(50)), lambda i: (i, torch.full((2,), i)), "cpu", depth=3))
    assert [i for i, _ in out] == list(range(50)) and all(int(t[0]) == i for i, t in out)
    time.sleep(0.2)
    assert _alive() == before


def test_an_error_is_raised_at_its_item_after_the_ones_before():
    def prepare(i: int) -> int:
        if i == 4:
            raise ValueError("row 4 is broken")
        return i

    got = []
    with pytest.raises(ValueError, match="row 4 is broken"):
        for i in prepared_ahead(iter(range(10)), prepare, "cpu"):
            got.append(i)
    assert got == [0, 1, 2, 3]


def test_closing_early_stops_an_endless_producer():
    def endless():
        i = 0
        while True:
            yield i
            i += 1

    before = _alive()
    feed = prepared_ahead(endless(), lambda i: i * 2, "cpu", depth=2)
    assert [next(feed) for _ in range(5)] == [0, 2, 4, 6, 8]
    feed.close()
    time.sleep(0.5)
    assert _alive() == before
