"""Native events as platforms send them: integer ids, epoch times, and poison refused per record
with its line and field while the rest of the batch counts (issue 15, part 1)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.online.columnar import read_clean
from monitor.online.events import IDENT_FIELDS, LearningEvent
from monitor.online.reader import parse_lines, parse_text
from tests.monitor.online.builders import clean_session


def _events() -> list[dict]:
    return clean_session(length_s=300).events


def _both(records: list[str]) -> list:
    """The same records read as JSON lines and as a JSON array."""
    return [parse_lines(records), parse_text("[" + ",".join(records) + "]")]


def test_integer_identifiers_are_their_decimal_text():
    events = _events()
    as_ints = []
    for n, e in enumerate(events):
        e = {**e, "id": 1000 + n, "learner": 42, "session": 7, "platform": 3, "course": 900, "unit": 12}
        if "popup" in e:
            e["popup"] = 55 + n // 2
        as_ints.append(json.dumps(e))
    for read in _both(as_ints):
        assert read.bad == [] and len(read.events) == len(events)
        first = read.events[0]
        assert (first.id, first.learner, first.session, first.platform, first.course, first.unit) == (
            "1000", "42", "7", "3", "900", "12")
        assert {e.popup for e in read.events if e.popup} == {str(55 + n // 2) for n, e in enumerate(events) if "popup" in e}


@pytest.mark.parametrize("field", IDENT_FIELDS)
@pytest.mark.parametrize("value", [True, False, 1.5, [1], {"a": 1}, "", 2**64])
def test_what_is_no_identifier_is_refused_naming_the_field(field: str, value):
    events = _events()
    lines = [json.dumps(e) for e in events]
    lines[3] = json.dumps({**events[3], field: value})
    for read in _both(lines):
        assert [(b.line, b.field) for b in read.bad] == [(4, field)], read.bad
        assert len(read.events) == len(events) - 1


def test_epoch_seconds_and_milliseconds():
    instant = datetime(2026, 11, 20, 1, 0, 0, 250000, tzinfo=timezone.utc)
    base = _events()[0]
    for at in (instant.timestamp(), round(instant.timestamp() * 1000), instant.isoformat(), "2026-11-20T09:00:00.25+08:00"):
        for read in _both([json.dumps({**base, "at": at})]):
            assert read.bad == []
            assert read.events[0].at == instant and read.events[0].at.utcoffset() is not None
    # whole seconds as an integer; the first and last instants of the range
    for at, expected in ((1795568400, datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc)),
                         (946684800, datetime(2000, 1, 1, tzinfo=timezone.utc)),
                         (946684800000, datetime(2000, 1, 1, tzinfo=timezone.utc)),
                         (4102444799.5, datetime(2099, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc))):
        assert parse_lines([json.dumps({**base, "at": at})]).events[0].at == expected


@pytest.mark.parametrize("at", [0, -1, 946684799, 4102444800, 1e11, 946684799999, 4102444800000, 1e300,
                                True, "2026-11-20T09:00:00", "1999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+01:00",
                                "9999-12-31T23:59:59-01:00", "2026-13-01T00:00:00Z", "yesterday", None])
def test_times_that_are_no_instant_of_an_event_are_refused(at):
    events = _events()
    lines = [json.dumps(e) for e in events]
    lines[2] = json.dumps({**events[2], "at": at})
    for read in _both(lines):
        assert [(b.line, b.field) for b in read.bad] == [(3, "at")], read.bad
        assert len(read.events) == len(events) - 1


POISON = {  # JSON text a platform (or a probe) may send in place of a field's value
    "NaN": "NaN", "Infinity": "-Infinity", "1e400": "1e400", "a lone surrogate": '"\\ud800"',
    "a lone low surrogate": '"x\\udfffy"', "a huge position": "1e9", "a huge integer": "9" * 5000,
}


@pytest.mark.parametrize("field", ["position_s", "rate", "from_s", "to_s", "learner", "unit", "popup", "id", "image", "nonce"])
@pytest.mark.parametrize("poison", sorted(POISON))
def test_poison_is_refused_per_record_naming_the_field(field: str, poison: str):
    events = _events()
    lines = [json.dumps(e) for e in events]
    marker = "__POISON__"
    lines[3] = json.dumps({**events[3], field: marker}).replace(f'"{marker}"', POISON[poison])
    for read in _both(lines):
        assert [(b.line, b.field) for b in read.bad] == [(4, field)], read.bad
        assert len(read.events) == len(events) - 1


def test_poison_in_an_unknown_field_is_refused_too():
    """A lone surrogate anywhere would fail when the service stores the record's text."""
    events = _events()
    lines = [json.dumps(e) for e in events]
    lines[1] = lines[1][:-1] + ', "note": "\\ud83d"}'
    for read in _both(lines):
        assert [(b.line, b.field) for b in read.bad] == [(2, "note")]


# Every field, every JSON type: whatever a record holds, reading never raises, the good records
# are kept, and what is kept can be stored and read back.
_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", '"\\ud800"', '"a\\udc00"', "9" * 60, "1e9",
                     '"2026-11-20T09:00:00+08:00"', '"2026-11-20T09:00:00"', "1764032400", "1764032400123",
                     '"play"', '"seek"', '"popup_shown"']).map(lambda raw: _Raw(raw)),
)
_JSON = st.recursive(_JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                             st.dictionaries(st.text(max_size=5), inner, max_size=3)),
                     max_leaves=6)
_FIELDS = ["id", "type", "at", "learner", "session", "platform", "course", "unit", "position_s", "rate",
           "from_s", "to_s", "popup", "image", "images", "nonce", "other"]


class _Raw:
    """JSON text put in place as it is (what json.dumps cannot write: 1e400, a lone surrogate)."""

    def __init__(self, raw: str) -> None:
        self.raw = raw


def _dumps(value) -> str:
    if isinstance(value, _Raw):
        return value.raw
    if isinstance(value, list):
        return "[" + ",".join(_dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(json.dumps(k) + ":" + _dumps(v) for k, v in value.items()) + "}"
    return json.dumps(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.dictionaries(st.sampled_from(_FIELDS), st.one_of(_JSON, st.just(_Raw("__drop__"))), min_size=1, max_size=4),
       at=st.integers(min_value=0, max_value=6))
def test_no_record_breaks_the_reader_and_good_records_are_kept(changes, at):
    events = _events()
    lines = [json.dumps(e) for e in events]
    record = {**events[at]}
    parts = []
    for name, value in {**record, **changes}.items():
        if isinstance(value, _Raw) and value.raw == "__drop__":
            continue
        parts.append(json.dumps(name) + ":" + _dumps(value))
    lines[at] = "{" + ",".join(parts) + "}"
    good_ids = {e["id"] for n, e in enumerate(events) if n != at}
    for read in _both(lines) + [parse_text("\n".join(lines))]:
        kept = {e.id for e in read.events}
        assert good_ids <= kept | {b.event_id for b in read.bad if b.line - 1 != at} | _ids_of_changed(changes)
        assert all(b.line == at + 1 for b in read.bad), read.bad
        assert len(read.events) + len(read.bad) + read.duplicates == len(events)
        for e in read.events:  # what the service stores, and reads back for judging
            back = msgspec.json.Decoder(LearningEvent).decode(msgspec.json.encode(e))
            assert msgspec.structs.astuple(back) == msgspec.structs.astuple(e)
            assert isinstance(e.id, str) and e.at.utcoffset() is not None
    clean = read_clean(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
    if clean is not None:  # the columns take only what the line-by-line reader keeps whole
        assert clean[0].num_rows == len(_both(lines)[0].events) and not _both(lines)[0].bad


def _ids_of_changed(changes: dict) -> set[str]:
    """A changed id may make the record a duplicate of (or equal to) another record's id."""
    value = changes.get("id")
    return {value} if isinstance(value, str) else set()
