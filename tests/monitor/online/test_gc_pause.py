"""The cyclic collector's pause is one for the whole process: pauses nest and overlap across
threads, and the collector runs again only when the last one ends (a server's concurrent batches:
one batch's pause ending must not switch it on under another's thousands of objects)."""

from __future__ import annotations

import gc
import threading

from monitor.online import table
from monitor.online.table import gc_paused


def test_overlapping_pauses_in_two_threads_end_with_the_last() -> None:
    assert gc.isenabled()
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, bool] = {}

    def first() -> None:
        with gc_paused():
            first_in.set()
            second_in.wait(5)
        first_out.set()

    def second() -> None:
        first_in.wait(5)
        with gc_paused():
            second_in.set()
            first_out.wait(5)
            seen["after the first ended"] = gc.isenabled()
            with gc_paused():  # nested in the same thread
                pass
            seen["after a nested one ended"] = gc.isenabled()
        seen["after the last ended"] = gc.isenabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == {"after the first ended": False, "after a nested one ended": False, "after the last ended": True}
    assert gc.isenabled()


def test_a_pause_leaves_a_disabled_collector_disabled_and_survives_an_exception() -> None:
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    try:
        with gc_paused():
            raise ValueError("a batch refused")
    except ValueError:
        pass
    assert gc.isenabled() and table._pauses == 0


def test_pauses_overlapping_for_long_still_collect_now_and_then(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(table, "MAX_PAUSE_S", 0.0)
    collected: list[int] = []
    monkeypatch.setattr(table.gc, "collect", lambda generation=2: collected.append(generation))
    with gc_paused():
        with gc_paused():
            pass  # ends while the outer one goes on, past MAX_PAUSE_S
        assert not gc.isenabled()
    assert collected == [1] and gc.isenabled()
