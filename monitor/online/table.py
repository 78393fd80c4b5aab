"""A batch of learning events as columns (numpy arrays), in session order.

A platform day is millions of events; the rules look at each of them, and a Python loop per
event per rule is what made the engine slow (bench/online.py). As columns, the questions the rules
ask of every event (is the rate above 1? how long since the last pop-up?) are a few array
operations over the whole batch; the objects stay in `rows` for the few learners whose findings
have to be written out (see screen.py).
"""

from __future__ import annotations

import gc
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Protocol, Sequence

import numpy as np

from monitor.online.events import TYPE_ORDER, EventFields

# A type's code is its place in the order of events sharing an instant, so sorting by code is
# sorting by that order.
KIND = TYPE_ORDER


# One pause for the whole process, counted: the collector is switched off by the first pause and
# on again by the last one to end, whichever thread each runs in. (A pause that re-enabled the
# collector as soon as it ended switched it on under another thread's batch, and the first
# allocation after that walked every object that batch had built.)
_PAUSE_LOCK = threading.Lock()
_pauses = 0
_was_enabled = True
_quiet_since = 0.0
MAX_PAUSE_S = 10.0  # pauses overlapping longer than this: one young collection, so cycles do not pile up


@contextmanager
def gc_paused() -> Iterator[None]:
    """Bulk work on millions of small objects without the cyclic collector: each of its full
    passes walks every live object, and building them triggers one pass after another (it cost
    the reader half its time). Nothing built here holds a cycle. Pauses nest and overlap across
    threads (a server's concurrent batches): the collector runs again when the last one ends."""
    global _pauses, _was_enabled, _quiet_since
    with _PAUSE_LOCK:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
            _quiet_since = time.monotonic()
        _pauses += 1
    try:
        yield
    finally:
        overdue = False
        with _PAUSE_LOCK:
            _pauses -= 1
            if _pauses == 0:
                if _was_enabled:
                    gc.enable()
            elif time.monotonic() - _quiet_since > MAX_PAUSE_S:
                _quiet_since, overdue = time.monotonic(), _was_enabled
        if overdue:
            gc.collect(1)


class Interner:
    """Strings to small integer codes (None to -1), shared by every batch one engine takes, so
    that codes of different batches compare."""

    def __init__(self) -> None:
        self.codes: dict[str | None, int] = {None: -1}
        self._names: list[str] = []

    def encode(self, values: Sequence[str | None]) -> np.ndarray:
        codes = self.codes
        for value in dict.fromkeys(values):  # the distinct values, few next to the rows
            if value not in codes:
                codes[value] = len(codes) - 1
        return np.array([codes[v] for v in values], dtype=np.int64)

    def name(self, code: int) -> str:
        if len(self._names) != len(self.codes) - 1:
            self._names = [k for k in self.codes if k is not None]  # type: ignore[misc]
        return self._names[code]


@dataclass
class Interners:
    learner: Interner
    platform: Interner
    session: Interner
    course: Interner
    unit: Interner
    popup: Interner

    @classmethod
    def new(cls) -> "Interners":
        return cls(*(Interner() for _ in range(6)))


def _floats(values: list[float | None]) -> np.ndarray:
    return np.array(values, dtype=np.float64)  # None becomes NaN


class Rows(Protocol):
    """Where a table's events come from when one has to be looked at as an object."""

    def __len__(self) -> int: ...
    def events(self, index: Sequence[int]) -> list[EventFields]: ...
    def ids(self) -> list[str]: ...
    def fields(self, names: Sequence[str], index: Sequence[int]) -> dict[str, list]: ...
    def take(self, index: np.ndarray) -> "Rows": ...


class ListRows:
    """Events that arrived as objects (the API, events read one by one)."""

    def __init__(self, rows: list[EventFields]) -> None:
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def events(self, index: Sequence[int]) -> list[EventFields]:
        rows = self.rows
        return [rows[i] for i in index]

    def ids(self) -> list[str]:
        return [r.id for r in self.rows]

    def fields(self, names: Sequence[str], index: Sequence[int]) -> dict[str, list]:
        picked = self.events(index)
        return {name: [getattr(e, name) for e in picked] for name in names}

    def take(self, index: np.ndarray) -> "ListRows":
        return ListRows(self.events(index.tolist()))


def concat_rows(parts: list[Rows]) -> Rows:
    """Rows of one kind that can join their own kind (Arrow's, in columnar.py) stay that kind;
    anything else becomes a list. Asked of the rows themselves, so this module imports no reader."""
    kind = type(parts[0]) if parts else ListRows
    joins = getattr(kind, "concat", None)
    if joins is not None and all(type(p) is kind for p in parts):
        return joins(parts)  # type: ignore[no-any-return]
    return ListRows([e for p in parts for e in p.events(range(len(p)))])


@dataclass
class EventTable:
    rows: Rows
    epoch: np.ndarray  # seconds since the epoch
    kind: np.ndarray  # KIND code
    learner: np.ndarray  # codes of the engine's Interners; -1 for None
    platform: np.ndarray
    session: np.ndarray
    course: np.ndarray
    unit: np.ndarray
    popup: np.ndarray
    position: np.ndarray  # NaN where absent
    rate: np.ndarray
    from_s: np.ndarray
    to_s: np.ndarray

    def __len__(self) -> int:
        return len(self.rows)

    @classmethod
    def build(cls, rows: list[EventFields], names: Interners) -> "EventTable":
        return cls(
            rows=ListRows(rows),
            epoch=np.array([r.at.timestamp() for r in rows], dtype=np.float64),
            kind=np.array([KIND[r.type] for r in rows], dtype=np.int8),
            learner=names.learner.encode([r.learner for r in rows]),
            platform=names.platform.encode([r.platform for r in rows]),
            session=names.session.encode([r.session for r in rows]),
            course=names.course.encode([r.course for r in rows]),
            unit=names.unit.encode([r.unit for r in rows]),
            popup=names.popup.encode([r.popup for r in rows]),
            position=_floats([r.position_s for r in rows]),
            rate=_floats([r.rate for r in rows]),
            from_s=_floats([r.from_s for r in rows]),
            to_s=_floats([r.to_s for r in rows]),
        )

    def take(self, index: np.ndarray) -> "EventTable":
        return EventTable(self.rows.take(index), *(getattr(self, name)[index] for name in COLUMNS))

    @classmethod
    def concat(cls, tables: list["EventTable"]) -> "EventTable":
        if len(tables) == 1:
            return tables[0]
        return cls(concat_rows([t.rows for t in tables]),
                   *(np.concatenate([getattr(t, name) for t in tables]) for name in COLUMNS))

    def session_key(self) -> np.ndarray:
        """One integer per (learner, platform, session), ordered as those codes are."""
        key = self.learner.astype(np.int64)
        for column in (self.platform, self.session):
            width = int(column.max()) + 2 if column.size else 1
            if int(key.max(initial=0)) + 1 > (2**62) // width:  # too many to pack: rank them first
                key = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.int64)
            key = key * width + (column + 1)
        return key

    def session_order(self) -> np.ndarray:
        """Row indices grouped by learner, platform and session, each session in the order every
        rule reads it: time, then the type's place among events of the same instant, then id."""
        session = self.session_key()
        # np.lexsort((kind, epoch, session)), as three stable sorts: a third faster here
        order = np.argsort(self.kind, kind="stable")
        order = order[np.argsort(self.epoch[order], kind="stable")]
        order = order[np.argsort(session[order], kind="stable")]
        keys = (session, self.epoch, self.kind)
        same = np.ones(len(order) - 1 if len(order) else 0, dtype=bool)
        for key in keys:
            k = key[order]
            same &= k[1:] == k[:-1]
        if same.any():  # ties (rare): by id, as LearningEvent.order_key does
            tied = np.flatnonzero(same)
            starts = tied[np.r_[True, tied[1:] != tied[:-1] + 1]]
            for start in starts.tolist():
                end = start + 1
                while end < len(same) and same[end]:
                    end += 1
                block = order[start:end + 1].tolist()
                ids = [e.id for e in self.rows.events(block)]
                order[start:end + 1] = [i for _, i in sorted(zip(ids, block))]
        return order


COLUMNS = ("epoch", "kind", "learner", "platform", "session", "course", "unit", "popup",
           "position", "rate", "from_s", "to_s")
