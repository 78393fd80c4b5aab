"""Fuzz targets for the readers of outside input (issue #7): the event parser and the class
manifest reader. Each target states what must hold for any input; tests/monitor/test_fuzz.py runs
them briefly in every test run, bench/fuzz.py for minutes.

- events: whatever the bytes, reading answers events, listed rejects and counts, never an
  exception; and a file the columnar reader takes gives it the very events the line-by-line
  reader accepts (two readers of one format, held to each other).
- manifests: whatever the JSON, reading answers a class or one MonitorError, never another
  exception.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import strategies as st

from monitor.errors import MonitorError
from monitor.online.columnar import read_clean
from monitor.online.reader import parse_text
from tests.monitor.online.builders import clean_session

_SEED_EVENTS = clean_session(length_s=400).events
_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                    st.text(max_size=30), st.sampled_from(["play", "seek", "2026-11-20T09:00:00+08:00",
                                                           "2026-11-20T09:00:00", "2026-02-30T09:00:00Z", "", "x" * 201]),
                    st.lists(st.text(max_size=5), max_size=3), st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@st.composite
def event_files(draw: st.DrawFn) -> bytes:
    """Lines made from real events, then broken: fields dropped, replaced by any JSON value,
    unknown ones added, lines cut, duplicated, swapped for noise or blank."""
    lines: list[bytes] = []
    for _ in range(draw(st.integers(0, 12))):
        record = dict(draw(st.sampled_from(_SEED_EVENTS)))
        record["id"] = draw(st.sampled_from([record["id"], f"{record['id']}-{len(lines)}"]))
        for _ in range(draw(st.integers(0, 3))):
            action = draw(st.sampled_from(["drop", "replace", "add"]))
            key = draw(st.sampled_from(sorted(record) + ["position_s", "rate", "nonce", "images", "verb"]))
            if action == "drop":
                record.pop(key, None)
            else:
                record[key] = draw(_VALUES)
        line = json.dumps(record).encode()
        form = draw(st.sampled_from(["plain"] * 6 + ["cut", "noise", "blank", "twice"]))
        if form == "cut":
            line = line[: draw(st.integers(0, len(line)))]
        elif form == "noise":
            line = draw(st.binary(max_size=40))
        elif form == "blank":
            line = b"   "
        elif form == "twice":
            line = line + b" " + line
        lines.append(line)
    return b"\n".join(lines) + draw(st.sampled_from([b"", b"\n"]))


def check_event_file(data: bytes, folder: Path) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        assert read_clean(data) is None  # the columnar reader refuses it too
        return
    read = parse_text(text)  # must not raise
    for bad in read.bad:
        assert bad.line >= 1 and bad.field and bad.message
    clean = read_clean(data)
    if clean is not None:
        table, duplicates = clean
        columnar = [tuple(msgspec.structs.astuple(e)) for e in _events_of(table)]
        lines = [tuple(msgspec.structs.astuple(e)) for e in read.events]
        assert not read.bad and duplicates == read.duplicates
        assert columnar == lines


def _events_of(table: Any) -> list[Any]:
    from monitor.online.columnar import ArrowRows

    return ArrowRows(table).events(range(table.num_rows))


@st.composite
def manifests(draw: st.DrawFn) -> Any:
    """Class manifests near the real shape, with any part replaced by any JSON value."""
    base: dict[str, Any] = {
        "class_id": "C-1", "kind": draw(st.sampled_from(["practical", "theory", "mixed", 7])),
        "recordings": [{"path": draw(st.sampled_from(["a.mp4", "../a.mp4", "/etc/passwd", "", "a\x00.mp4"])),
                        "start": draw(st.sampled_from(["2026-11-20T09:00:00+08:00", "2026-11-20T09:00:00", "soon"]))}],
        "hours": [{"index": draw(st.integers(-1, 3)), "kind": "practical", "start": "2026-11-20T09:00:00+08:00",
                   "end": draw(st.sampled_from(["2026-11-20T09:45:00+08:00", "2026-11-20T08:00:00+08:00"]))}],
        "roster": [{"id": "T-1", "name": "x"}],
    }
    for _ in range(draw(st.integers(0, 4))):
        key = draw(st.sampled_from(sorted(base) + ["teachers", "policy", "extra"]))
        base[key] = draw(st.one_of(_VALUES, st.just([]), st.just({})))
    return draw(st.one_of(st.just(base), _VALUES))


def check_manifest(data: Any, folder: Path) -> None:
    from monitor.manifest import load_class

    path = folder / "class.json"
    path.write_text(json.dumps(data) if not isinstance(data, bytes) else data.decode("latin-1"), encoding="utf-8")
    try:
        load_class(path)
    except MonitorError as exc:
        assert str(exc)  # one clear line
