"""models.retry.write_unit: a unit of writing is run again on the database's "try again" answers
only, and once it returns nothing of it outlives the call (the xAPI server's batches did, held
by a reference cycle of tenacity's decorator, until the cyclic collector came: issue #15)."""

from __future__ import annotations

import gc
import sqlite3
import weakref

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from models.retry import write_unit


def _locked() -> OperationalError:
    return OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))


def test_a_busy_database_is_tried_again_until_the_unit_succeeds() -> None:
    calls: list[int] = []

    def unit() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _locked()
        return "stored"

    assert write_unit(unit) == "stored" and len(calls) == 3


def test_other_errors_are_raised_at_once_and_the_last_busy_one_after_the_attempts() -> None:
    calls: list[int] = []

    def duplicate() -> None:
        calls.append(1)
        raise IntegrityError("INSERT …", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))

    with pytest.raises(IntegrityError):
        write_unit(duplicate)
    assert len(calls) == 1

    def always_busy() -> None:
        calls.append(1)
        raise _locked()

    calls.clear()
    with pytest.raises(OperationalError):
        write_unit(always_busy, attempts=2)
    assert len(calls) == 2


class _Batch:
    """Stands for a batch of statements the unit's closure holds."""


def _written() -> weakref.ref[_Batch]:
    """A unit whose closure holds a batch, written; the batch's weak reference (the batch lives in
    this frame's cell, which only what still refers to the unit keeps)."""
    batch = _Batch()

    def unit() -> int:
        return id(batch)

    write_unit(unit)
    return weakref.ref(batch)


def test_what_the_unit_holds_is_freed_when_it_returns_without_the_cyclic_collector() -> None:
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        freed = _written()
        assert freed() is None, "write_unit left a reference cycle holding the unit's closure"
    finally:
        if was:
            gc.enable()
