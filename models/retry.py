"""Retrying a unit of writing when the database says "try again".

SQLite lets one writer at a time; a transaction that read first and then wants to write may be
told at once that the database is busy (its snapshot is stale), whatever the busy timeout.
PostgreSQL may report a serialization failure or deadlock. In each case the whole unit is rolled
back and run again; the unit must therefore be safe to repeat (they all are: upserts, and
inserts guarded by unique keys)."""

from __future__ import annotations

from typing import Callable, TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

T = TypeVar("T")


def _transient(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    if isinstance(exc, OperationalError) and ("database is locked" in text or "database is busy" in text):
        return True
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")  # serialization failure, deadlock detected


def write_unit(work: Callable[[], T], attempts: int = 8) -> T:
    """Run `work` (which opens, writes and commits its own session), again on transient errors.

    tenacity's iterator, not its decorator: a decorated function refers to itself through its
    closure, so each call left a reference cycle holding `work` and all `work` holds (an xAPI
    batch's statements and events, about 13,000 objects) until the cyclic collector came by. On
    the xAPI bench that was 19 % of the server's CPU, and up to 2.6 s in one collection."""
    for attempt in Retrying(retry=retry_if_exception(_transient), stop=stop_after_attempt(attempts),
                            wait=wait_random_exponential(multiplier=0.05, max=2.0), reraise=True):
        with attempt:
            return work()
    raise AssertionError("unreachable: tenacity re-raises the last attempt's error")
