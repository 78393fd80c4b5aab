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
import zlib
from datetime import datetime
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import BinaryIO, Iterable, Iterator, Sequence, get_args

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
    table = _clean_lines(data)
    return None if table is None else _first_of_each_id(table)


def _clean_lines(data: bytes | bytearray, block_size: int = 16 << 20) -> pa.Table | None:
    """Whole lines of a clean file as a table (re-sent events still in: they are told apart
    across the whole file), or None. Every check is of a line alone, so a file read a block of
    lines at a time passes or fails as it would whole (a block starting with a blank or an
    indented line fails here, where the whole file might not: the line reader then reads it,
    into the same events)."""
    if data[:1] != b"{" or b'"verb"' in data:
        return None
    # Arrow reads the literals NaN and Infinity (JSON has none), even in fields it ignores: the line
    # reader names the field. (A capital letter is looked for first: one memchr, where most files
    # hold neither N nor I.)
    if (b"N" in data and b"NaN" in data) or (b"I" in data and b"Infinity" in data):
        return None

    end = len(data) - 1 if data.endswith(b"\n") else len(data)  # one final newline is no blank line
    if _BLANK_LINE.search(data, 0, end) is not None:  # a blank line anywhere, the last one too
        return None
    try:
        table = pj.read_json(pa.BufferReader(data),
                             read_options=pj.ReadOptions(block_size=block_size),
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
    return table


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
    keep = _first_rows(table.column("id"))
    if keep.size == table.num_rows:
        return table, 0
    return table.take(keep), table.num_rows - keep.size


def _first_rows(ids: pa.ChunkedArray) -> np.ndarray:
    """The row of each id's first line, in file order."""
    rows = pa.table({"id": ids, "row": np.arange(len(ids))})
    first = rows.group_by("id", use_threads=True).aggregate([("row", "min")])
    return np.sort(first.column("row_min").to_numpy())


PART_BYTES = 16 << 20  # about this much of a file's JSON to a partition of its learners
_MOST_PARTS = 256  # (a writer open for each while the file is read: a few GB make bigger ones)
CHUNK_BYTES = 16 << 20  # read, checked and bucketed this much at a time
_CHUNK_BLOCK = 4 << 20  # Arrow parses a chunk in blocks of this size, one thread a block


class Partitions:
    """A clean file's events bucketed by learner into Arrow files in a temporary folder, so that
    the engine judges one partition at a time (engine.judge_partitions) and never holds the
    day's parsed table and state at once: 1.15 million events held whole peaked at 1.5 GB
    (bench/online.py). Every event of a learner (on any platform) lands in the same partition, as
    every rule looks at one learner at most; the one thing that looks across learners, the
    units seen in each course (the fallback unit order of B5), is gathered here over the whole
    file. Re-sent events (an id already on an earlier line, whichever learner it names) are told
    apart over the whole file too, and left out as each partition is read back. Use as a context
    manager, or close(): the folder is removed."""

    def __init__(self, folder: TemporaryDirectory, paths: list[Path], sizes: list[int], keep: np.ndarray | None,
                 units: dict[str, set[str]]) -> None:
        self._folder = folder
        self.paths = paths
        self.sizes = sizes  # rows written to each partition (re-sent events included)
        self.rows = sum(sizes)
        self._keep = keep  # per line of the file: the first of its id; None when every id is once
        self.duplicates = 0 if keep is None else self.rows - int(keep.sum())
        self.units = units if keep is None else _units_of(self.tables())

    def tables(self) -> Iterator[pa.Table]:
        """Each partition's events in turn (re-sent events out), read back from its file; what
        Arrow's allocator keeps of the one before is given back to the system first (mimalloc
        holds freed pages for reuse, which would add up to the day's worth)."""
        for path in self.paths:
            pa.default_memory_pool().release_unused()
            table = _read_part(path).combine_chunks()  # (copied out of the map)
            if self._keep is not None:
                table = table.filter(self._keep[table.column("row").to_numpy()])
            yield table.drop_columns(["row"])

    def close(self) -> None:
        self._folder.cleanup()

    def __enter__(self) -> "Partitions":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _read_part(path: Path, columns: list[str] | None = None) -> pa.Table:
    with pa.memory_map(str(path)) as source:
        reader = pa.ipc.open_file(source)
        table = reader.read_all()
    return table if columns is None else table.select(columns)


def partition_clean(path: Path, part_bytes: int = PART_BYTES, chunk_bytes: int = CHUNK_BYTES) -> Partitions | None:
    """A clean JSON-lines file read a chunk of lines at a time (each checked as read_clean checks
    a whole file) into partitions of about `part_bytes` of it each; None when some line needs the
    line-by-line reader, or the file cannot be read (that reader then says why)."""
    try:
        size = path.stat().st_size
        count = min(_MOST_PARTS, max(1, -(-size // part_bytes)))
        source = path.open("rb")
    except OSError:
        return None
    folder = TemporaryDirectory(prefix="monitor-online-")
    made: Partitions | None = None
    try:
        with source:
            made = _Bucketing(Path(folder.name), count).run(source, max(1, min(chunk_bytes, size)), folder)
    except OSError:
        made = None
    finally:
        pa.default_memory_pool().release_unused()
        if made is None:
            folder.cleanup()
    return made


class _Bucketing:
    """A file's chunks into partition files, with what is learnt of the whole file on the way:
    the units seen in each course and a 64-bit hash of every id (8 bytes an event, where a hash
    table of the ids themselves cost Arrow 250 MB for the bench's day)."""

    def __init__(self, folder: Path, count: int) -> None:
        self.folder = folder
        self.count = count
        self.writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self.sizes = np.zeros(count, dtype=np.int64)
        self.hashes: list[np.ndarray] = []
        self.units: dict[str, set[str]] = {}
        self.rows = 0

    def run(self, source: BinaryIO, chunk_bytes: int, owner: TemporaryDirectory) -> Partitions | None:
        try:
            for data in _whole_lines(source, chunk_bytes):
                if not self._spill(data):
                    return None
        finally:
            for writer in self.writers.values():
                writer.close()
        if self.rows == 0:
            return None  # an empty file: the line reader's
        written = sorted(self.writers)
        paths = [self.folder / f"{p}.arrow" for p in written]
        keep = _first_of_ids(np.concatenate(self.hashes), paths)
        return Partitions(owner, paths, self.sizes[written].tolist(), keep, self.units)

    def _spill(self, data: bytearray) -> bool:
        table = _clean_lines(data, _CHUNK_BLOCK)
        if table is None:
            return False
        n = table.num_rows
        self.hashes.extend(_hash_ids(ids) for ids in table.column("id").chunks)
        _note_units(table, self.units)
        part = _partition_of(table.column("learner"), self.count)
        in_part = np.bincount(part, minlength=self.count)
        rows = pa.array(np.arange(self.rows, self.rows + n))
        table = table.append_column("row", rows).take(np.argsort(part, kind="stable"))
        start = 0
        for p in np.flatnonzero(in_part).tolist():
            if p not in self.writers:
                self.writers[p] = pa.ipc.new_file(str(self.folder / f"{p}.arrow"), table.schema)
            self.writers[p].write_table(table.slice(start, int(in_part[p])))
            start += int(in_part[p])
        self.sizes += in_part
        self.rows += n
        return True


def _whole_lines(source: BinaryIO, size: int) -> Iterator[bytearray]:
    """A file a chunk of whole lines at a time (the last line of a chunk read to its end)."""
    while True:
        data = bytearray(size)
        data[source.readinto(data):] = b""
        if not data:
            return
        if not data.endswith(b"\n"):
            data += source.readline()
        yield data


def _partition_of(learners: pa.ChunkedArray, count: int) -> np.ndarray:
    """Each row's partition: a hash of its learner (the same in every chunk and every run)."""
    encoded = pc.dictionary_encode(learners.combine_chunks())
    bucket = np.array([zlib.crc32(name.encode()) % count for name in encoded.dictionary.to_pylist()],
                      dtype=np.int64)
    return bucket[encoded.indices.to_numpy()]


_BASE, _MIX1, _MIX2 = np.uint64(0x100000001B3), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _hash_ids(ids: pa.Array) -> np.ndarray:
    """A 64-bit hash of each id's UTF-8 bytes (equal ids, equal hashes), a character position
    at a time over all ids at once (the ids sorted by length, so those still going are a prefix)."""
    if len(ids) == 0:
        return np.zeros(0, dtype=np.uint64)
    offsets = np.frombuffer(ids.buffers()[1], dtype=np.int32)[ids.offset:ids.offset + len(ids) + 1]
    data = np.frombuffer(ids.buffers()[2], dtype=np.uint8)
    lengths = np.diff(offsets)
    longest = np.argsort(-lengths, kind="stable")
    starts = offsets[:-1][longest].astype(np.int64)
    going = len(ids) - np.searchsorted(lengths[longest][::-1], np.arange(int(lengths.max())), side="right")
    h = lengths[longest].astype(np.uint64)
    for k, live in enumerate(going.tolist()):
        h[:live] = h[:live] * _BASE + data[starts[:live] + k]
    h ^= h >> np.uint64(30)  # splitmix64's finaliser
    h *= _MIX1
    h ^= h >> np.uint64(27)
    h *= _MIX2
    h ^= h >> np.uint64(31)
    out = np.empty_like(h)
    out[longest] = h
    return out


def _first_of_ids(hashes: np.ndarray, paths: list[Path]) -> np.ndarray | None:
    """Per row of the file, whether it is the first of its id; None when every id is once. Rows
    sharing a hash are the re-sent events (or, once in billions, two ids that collide): their ids
    are read back from the partitions and compared as text."""
    ordered = np.sort(hashes)
    if not (ordered[1:] == ordered[:-1]).any():
        return None
    order = np.argsort(hashes, kind="stable")
    same = hashes[order][1:] == hashes[order][:-1]
    shared = np.zeros(order.size, dtype=bool)
    shared[1:] |= same
    shared[:-1] |= same
    suspects = np.sort(order[shared])
    found: list[tuple[int, str]] = []
    for path in paths:
        part = _read_part(path, ["row", "id"])
        hit = part.filter(np.isin(part.column("row").to_numpy(), suspects))
        found.extend(zip(hit.column("row").to_pylist(), hit.column("id").to_pylist()))
    first: dict[str, int] = {}
    for row, event_id in sorted(found):
        first.setdefault(event_id, row)
    again = sorted({row for row, _ in found} - set(first.values()))
    if not again:
        return None
    keep = np.ones(hashes.size, dtype=bool)
    keep[again] = False
    return keep


def _note_units(table: pa.Table, units: dict[str, set[str]]) -> None:
    """Every course seen, with the units seen in it (a course with none too, as the engine keeps it)."""
    pairs = table.select(["course", "unit"]).group_by(["course", "unit"]).aggregate([])
    for course, unit in zip(pairs.column("course").to_pylist(), pairs.column("unit").to_pylist()):
        known = units.setdefault(course, set())
        if unit is not None:
            known.add(unit)


def _units_of(tables: Iterable[pa.Table]) -> dict[str, set[str]]:
    units: dict[str, set[str]] = {}
    for table in tables:
        _note_units(table, units)
    return units


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
