"""Reading a clean JSON-lines file of native events straight into columns, with Apache Arrow's
JSON reader (C++, multi-threaded): no Python object per event, strings dictionary-encoded once
per distinct value. A platform's daily export is millions of lines; read one by one, each becomes
a Python object and each field a Python string before the rules see a single column.

Only a file about which there is no doubt takes this path: every line one native event (no
xAPI statement, no blank line), every field of the right type and within its bounds, the fields
each type needs present, identifiers as text and times as RFC 3339 (a platform's integer ids and
epoch times are made text and instants by the line-by-line reader). Anything else (one malformed line is enough) is read line by line by
reader.py, whose messages name the line, the event and the field. The checks here mirror the
schema of events.py; tests/monitor/online/test_columnar.py holds the two readers to the same
events on clean files and sends every kind of defect to the line-by-line reader.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Sequence, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from monitor.online.events import (FIRST_YEAR, LAST_YEAR, MAX_POSITION_S, MAX_RATE, TYPE_NEEDS, EventFields,
                                   EventType, LearningEvent)
from monitor.online.table import KIND, EventTable, Interner, Interners

_TEXT = ("id", "learner", "session", "platform", "course", "unit", "popup", "nonce")
_REQUIRED = ("id", "type", "at", "learner", "session", "platform", "course")
SCHEMA = pa.schema(
    [(name, pa.string()) for name in ("id", "type", "at", "learner", "session", "platform", "course", "unit")]
    + [(name, pa.float64()) for name in ("position_s", "rate", "from_s", "to_s")]
    + [("popup", pa.string()), ("image", pa.string()), ("images", pa.list_(pa.string())), ("nonce", pa.string())]
)
# RFC 3339 with an offset, as msgspec reads it (a naive time is refused by both)
_AT = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?(Z|[+-]\d\d:\d\d)$"
_BLANK_LINE = re.compile(rb"\n[ \t\r]*(\n|$)")  # (the first line starts with "{")
_TYPES = pa.array(list(get_args(EventType)))
_FIELDS = EventFields.__struct_fields__
assert set(_FIELDS) == set(SCHEMA.names), "the Arrow schema mirrors the event's fields"


def read_clean(data: bytes) -> tuple[pa.Table, int] | None:
    """A clean file's events as an Arrow table, and how many re-sent events (an id already on
    an earlier line) were dropped; None when the file needs the line-by-line reader."""
    if data[:1] != b"{" or b'"verb"' in data:
        return None
    if b"NaN" in data or b"Infinity" in data:  # Arrow reads these literals (JSON has none), even in
        return None                             # fields it ignores: the line reader names the field

    end = len(data) - 1 if data.endswith(b"\n") else len(data)  # one final newline is no blank line
    if _BLANK_LINE.search(data, 0, end) is not None:  # a blank line anywhere, the last one too
        return None
    try:
        table = pj.read_json(pa.BufferReader(data),
                             read_options=pj.ReadOptions(block_size=16 << 20),
                             parse_options=pj.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="ignore"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    lines = data.count(b"\n", 0, end) + 1
    if table.num_rows != lines or not _all_valid(table):  # two objects on a line, a defect
        return None
    try:
        table.validate(full=True)  # the strings are UTF-8
    except pa.ArrowInvalid:
        return None
    return _first_of_each_id(table)


def _any(mask: pa.ChunkedArray | pa.Array) -> bool:
    return bool(pc.any(mask).as_py())


def _all_valid(table: pa.Table) -> bool:
    """The checks of events.py, column-wise; False as soon as one row fails one."""
    if any(table.column(name).null_count for name in _REQUIRED):
        return False
    if table.column("images").null_count != table.num_rows:  # bursts: few, read one by one
        return False
    for name, most in [*((n, 200) for n in _TEXT), ("image", 500)]:
        length = pc.utf8_length(table.column(name))
        if _any(pc.or_(pc.less(length, 1), pc.greater(length, most))):
            return False
    kind = table.column("type")
    if not pc.all(pc.is_in(kind, value_set=_TYPES)).as_py():
        return False
    if not pc.all(pc.match_substring_regex(table.column("at"), _AT)).as_py():
        return False
    year = pc.cast(pc.utf8_slice_codeunits(table.column("at"), 0, 4), pa.int32())  # as date_out_of_range reads it
    if _any(pc.or_(pc.less(year, FIRST_YEAR), pc.greater(year, LAST_YEAR))):
        return False
    for name, low, high in (("position_s", 0, MAX_POSITION_S), ("from_s", 0, MAX_POSITION_S),
                            ("to_s", 0, MAX_POSITION_S), ("rate", 0, MAX_RATE)):
        column = table.column(name)  # Arrow reads a NaN literal, which JSON has not: refused too
        if _any(pc.or_(pc.or_(pc.less(column, low), pc.greater(column, high)), pc.is_nan(column))):
            return False
    if _any(pc.equal(table.column("rate"), 0)):
        return False
    for name, needs in TYPE_NEEDS.items():
        of_kind = pc.equal(kind, name)
        for field in needs:
            if _any(pc.and_(of_kind, pc.is_null(table.column(field)))):
                return False
    try:
        _epoch(table)  # a date the regular expression lets through but the calendar does not
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _first_of_each_id(table: pa.Table) -> tuple[pa.Table, int]:
    rows = pa.table({"id": table.column("id"), "row": np.arange(table.num_rows)})
    first = rows.group_by("id", use_threads=True).aggregate([("row", "min")])
    if first.num_rows == table.num_rows:
        return table, 0
    keep = np.sort(first.column("row_min").to_numpy())
    return table.take(keep), table.num_rows - keep.size


def _epoch(table: pa.Table) -> np.ndarray:
    micros = pc.cast(table.column("at"), pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return micros.to_numpy() / 1e6  # as datetime.timestamp() computes it: microseconds / 10**6


def _codes(column: pa.ChunkedArray, names: Interner) -> np.ndarray:
    """Dictionary-encode, then give each distinct value the engine's code for it."""
    encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    remap = np.append(names.encode(encoded.dictionary.to_pylist()), -1)
    index = pc.fill_null(encoded.indices, -1).to_numpy()
    return remap[index]


def to_event_table(table: pa.Table, names: Interners) -> EventTable:
    kinds = pc.dictionary_encode(table.column("type").combine_chunks())
    kind_code = np.array([KIND[k] for k in kinds.dictionary.to_pylist()], dtype=np.int8)

    def floats(name: str) -> np.ndarray:
        return table.column(name).to_numpy().astype(np.float64)  # nulls become NaN

    return EventTable(
        rows=ArrowRows(table),
        epoch=_epoch(table),
        kind=kind_code[kinds.indices.to_numpy()],
        learner=_codes(table.column("learner"), names.learner),
        platform=_codes(table.column("platform"), names.platform),
        session=_codes(table.column("session"), names.session),
        course=_codes(table.column("course"), names.course),
        unit=_codes(table.column("unit"), names.unit),
        popup=_codes(table.column("popup"), names.popup),
        position=floats("position_s"), rate=floats("rate"), from_s=floats("from_s"), to_s=floats("to_s"),
    )


class ArrowRows:
    """A table's events kept in Arrow; made into objects only for the rows asked for."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table

    def __len__(self) -> int:
        return self.table.num_rows

    def events(self, index: Sequence[int]) -> list[LearningEvent]:
        """Column by column, then one event per row (the fields were checked on reading)."""
        picked = self.table.take(pa.array(list(index), type=pa.int64()))
        columns = [picked.column(name).to_pylist() for name in _FIELDS]
        columns[2] = [datetime.fromisoformat(at) for at in columns[2]]
        return [LearningEvent(*values) for values in zip(*columns)]

    def ids(self) -> list[str]:
        return self.table.column("id").to_pylist()

    def fields(self, names: Sequence[str], index: Sequence[int]) -> dict[str, list]:
        """Some fields of some rows, as they were read ("at" as its text)."""
        picked = pa.array(list(index), type=pa.int64())
        return {name: self.table.column(name).take(picked).to_pylist() for name in names}

    def take(self, index: np.ndarray) -> "ArrowRows":
        return ArrowRows(self.table.take(index))

    @classmethod
    def concat(cls, parts: list["ArrowRows"]) -> "ArrowRows":
        return cls(pa.concat_tables([p.table for p in parts]))
