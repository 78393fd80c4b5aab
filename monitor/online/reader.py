"""Reading a platform's events: JSON lines (native events or xAPI statements, mixed as they
come), a JSON array, or an LRS export ({"statements": [...]}). A malformed record is reported with
its line (or item) number, the event id and the field, and never stops the others from counting;
a re-sent event (same id) is counted once."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

import msgspec

from monitor.errors import read_user_bytes, read_user_file
from monitor.online.events import (EventError, EventFields, LearningEvent, MissingForType, WireEvent,
                                   date_out_of_range, fields_from_wire, from_wire, missing_for_type)
from monitor.online.jsonsafe import find_poison, loads
from monitor.online.table import gc_paused
from monitor.online.xapi import Ignored, XapiError, is_statement, statement_field, to_native, voided_target
from monitor.online.xapi_schema import StatementError, validate_statement

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class BadRecord:
    line: int  # 1-based line of a JSON-lines file, or item of a JSON array
    event_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        who = f"event {self.event_id}" if self.event_id else "record"
        return f"line {self.line}: {who}: {self.field}: {self.message}"


@dataclass(frozen=True)
class Voiding:
    """A voiding statement (xAPI 1.0.3 Data 2.3.2): the statement `target` no longer counts."""

    target: str


@dataclass
class ReadResult:
    events: list[EventFields] = field(default_factory=list)  # LearningEvent where read one by one
    columns: "pa.Table | None" = None  # a clean file read into columns (read_events(columnar=True))
    bad: list[BadRecord] = field(default_factory=list)
    duplicates: int = 0
    ignored: int = 0  # xAPI statements that say nothing the rules use (voiding ones too)
    voided: list[str] = field(default_factory=list)  # ids voided by voiding statements read here

    def drop_voided(self) -> None:
        """Events voided by a voiding statement of the same read stop counting (ids compare as
        UUIDs do, without case)."""
        if self.voided:
            gone = {v.lower() for v in self.voided}
            self.events = [e for e in self.events if e.id.lower() not in gone]


Parsed = "LearningEvent | BadRecord | Voiding | None"


_DECODER = msgspec.json.Decoder(WireEvent)


def id_text(value: Any) -> str | None:
    """A record's id as the event's id will be (an integer as its decimal text), for messages."""
    if isinstance(value, str) and value:
        return value[:200]
    if type(value) is int:
        return str(value)
    return None


def _bad_from_validation(line: int, event_id: Any, exc: Exception) -> BadRecord:
    """msgspec says "Expected `float` >= 0.0 - at `$.position_s`": split into field and message."""
    who = id_text(event_id)
    cause = exc.__cause__ if isinstance(exc.__cause__, EventError) else exc
    if isinstance(cause, EventError):
        return BadRecord(line, who, cause.fields, str(cause))
    message, _, where = str(exc).partition(" - at `$.")
    field = where.rstrip("`").split("[", 1)[0].split(".", 1)[0] or "event"
    if message.startswith("Object missing required field"):
        field = message.rsplit("`", 2)[-2] if message.count("`") >= 2 else field
    return BadRecord(line, who, field, message)


def parse_record(record: Any, line: int, default_platform: str | None = None, platform: str | None = None,
                 validate: bool = False, clean: bool = False) -> LearningEvent | BadRecord | Voiding | None:
    """One record: a LearningEvent, a BadRecord saying why not, a Voiding, or None for an ignored
    statement. `platform`: the sender's, over what a statement says (see xapi.to_native);
    `validate`: statements are checked against xAPI 1.0.3 first (the service checks a whole
    batch before reading it, with xapi_schema.check_batch, so it need not); `clean`: the record was
    decoded by msgspec, which refuses what jsonsafe.find_poison looks for, so it is not looked for."""
    if not isinstance(record, dict):
        return BadRecord(line, None, "record", "not a JSON object")
    event_id = record.get("id")
    poisoned = None if clean else find_poison(record)
    if poisoned is not None:
        return BadRecord(line, id_text(event_id), poisoned[0], poisoned[1])
    statement = is_statement(record)
    if statement:
        if validate:
            try:
                validate_statement(record, line, clean=True)  # (poison was looked for above)
            except StatementError as exc:
                return BadRecord(line, id_text(event_id), exc.field or "statement",
                                 f"not a valid xAPI 1.0.3 statement: {exc.message}")
        try:
            target = voided_target(record)
            if target is not None:
                return Voiding(target)
            record = to_native(record, default_platform, platform)
        except Ignored:
            return None
        except XapiError as exc:
            return BadRecord(line, id_text(event_id), exc.field, str(exc))
    if statement:  # text ids and an aware instant, as statements give them: straight into the event
        try:
            event = msgspec.convert(record, LearningEvent)
            if date_out_of_range(event.at) is None:
                return event
        except (msgspec.ValidationError, EventError):
            pass  # an integer id, a missing field …: the path below reads it as sent, or names the field
    try:
        return from_wire(msgspec.convert(record, WireEvent))
    except (msgspec.ValidationError, EventError) as exc:
        bad = _bad_from_validation(line, record.get("id"), exc)
        return replace(bad, field=statement_field(bad.field)) if statement else bad


def _native_fast(text: str, line: int) -> LearningEvent | BadRecord:
    try:
        return from_wire(_DECODER.decode(text))
    except msgspec.DecodeError as exc:
        if not isinstance(exc, msgspec.ValidationError):
            return _diagnose(text, line)
        return _bad_from_validation(line, _id_of(text), exc)
    except EventError as exc:
        return BadRecord(line, _id_of(text), exc.fields, str(exc))


def _diagnose(text: str, line: int) -> BadRecord:
    """A line msgspec would not read as JSON: if Python's reader can, name the poisoned field
    (a lone surrogate, 1e400, NaN) instead of calling the whole line not JSON."""
    try:
        record = loads(text)
    except ValueError:
        return BadRecord(line, None, "line", "not valid JSON")
    except RecursionError:
        return BadRecord(line, None, "line", "nested too deeply")
    found = parse_record(record, line)
    if isinstance(found, BadRecord):
        return found
    return BadRecord(line, None, "line", "not valid JSON")  # (what msgspec refuses and finds nothing wrong in)


def collect(parsed: Iterable[LearningEvent | BadRecord | Voiding | None], result: ReadResult | None = None) -> ReadResult:
    """Gather parsed records, keeping the first of each event id; voided ones are dropped."""
    result = result or ReadResult()
    events = list(result.events)
    for item in parsed:
        if item is None:
            result.ignored += 1
        elif isinstance(item, Voiding):
            result.ignored += 1
            result.voided.append(item.target)
        elif isinstance(item, BadRecord):
            result.bad.append(item)
        else:
            events.append(item)
    result.events, duplicates = _first_of_each_id(events)
    result.duplicates += duplicates
    result.drop_voided()
    return result


Check = Callable[[EventFields], "tuple[str, str] | None"]  # an event -> (field, why refused), or None


Sender = str | tuple[str, ...] | None
"""The sending platform as the service knows it: its id first, then the other names its native
events may give (its organisation's name), so that a rename does not refuse a platform's events."""


def _sender(only_platform: Sender) -> str | None:
    """The platform statements are taken as: the sender's first name (its id)."""
    return only_platform if only_platform is None or isinstance(only_platform, str) else only_platform[0]


def parse_lines(lines: Sequence[str], default_platform: str | None = None, only_platform: Sender = None,
                check: Check | None = None, validate: bool = False) -> ReadResult:
    """JSON lines. Native events are decoded a block of lines at a time, as one JSON array (one
    call into msgspec per block instead of per line, and no Python per event: the fields are
    checked by msgspec, what each type needs in one pass after); a block that does not decode
    that way (a malformed line, an xAPI statement, a blank line) is read line by line."""
    with gc_paused():
        return _parse_lines(lines, default_platform, only_platform, check, validate)


def _parse_lines(lines: Sequence[str], default_platform: str | None, only_platform: Sender,
                 check: Check | None, validate: bool) -> ReadResult:
    events: list[EventFields] = []
    numbers: list[int] = []  # the line of each event
    bad: list[BadRecord] = []
    ignored = 0
    voided: list[str] = []
    for start in range(0, len(lines), _BLOCK):
        block = lines[start:start + _BLOCK]
        rows = _decode_block(block, start)
        if rows is not None:
            for number, row in enumerate(rows, start=start + 1):
                if isinstance(row, BadRecord):
                    bad.append(row)
                else:
                    events.append(row)
                    numbers.append(number)
            continue
        for item in _records(block, start, default_platform, _sender(only_platform), validate):
            if item is None:
                ignored += 1
            elif isinstance(item, Voiding):
                ignored += 1
                voided.append(item.target)
            elif isinstance(item, BadRecord):
                bad.append(item)
            else:
                events.append(item[1])
                numbers.append(item[0])
    return _finish(events, numbers, bad, ignored, voided, only_platform, check)


def _finish(events: list[EventFields], numbers: list[int], bad: list[BadRecord], ignored: int, voided: list[str],
            only_platform: Sender, check: Check | None) -> ReadResult:
    """What each event's type needs, its date, the sender's own checks, then each id once."""
    kept: list[EventFields] = []
    for line, e in zip(numbers, events):
        item: EventFields | BadRecord = e
        if not isinstance(e, LearningEvent):  # decoded a block at a time: what __post_init__ checks
            missing = missing_for_type(e)
            out_of_range = date_out_of_range(e.at) if not missing else None
            if missing:
                item = BadRecord(line, e.id, ", ".join(missing), str(MissingForType(e.type, missing)))
            elif out_of_range:
                item = BadRecord(line, e.id, "at", out_of_range)
        if (only_platform or check) and not isinstance(item, BadRecord):
            item = _vet(item, line, only_platform, check)
        if isinstance(item, BadRecord):
            bad.append(item)
        else:
            kept.append(item)
    bad.sort(key=lambda b: b.line)
    kept, duplicates = _first_of_each_id(kept)
    result = ReadResult(events=kept, bad=bad, duplicates=duplicates, ignored=ignored, voided=voided)
    result.drop_voided()
    return result


_BLOCK = 20_000
_BLOCK_DECODER = msgspec.json.Decoder(list[EventFields])
_WIRE_BLOCK_DECODER = msgspec.json.Decoder(list[WireEvent])


def _decode_block(block: Sequence[str], start: int) -> list[EventFields | BadRecord] | None:
    """A block of native event lines as events, or None when some line needs a closer look."""
    rows = _decode_array("[" + ",".join(block) + "]", start)
    # a line holding two objects ("{...},{...}") would shift every line number after it
    return rows if rows is not None and len(rows) == len(block) else None


def _decode_array(joined: str, start: int = 0) -> list[EventFields | BadRecord] | None:
    """A JSON array of native events as events (or a BadRecord for one that cannot be), or None
    when some item needs a closer look (a statement, a malformed one). Events already in the
    monitor's shape (text ids, RFC 3339 times) decode straight into it; a platform's integer ids
    and epoch times are read as sent and made that shape one by one."""
    try:
        rows: list[Any] = _BLOCK_DECODER.decode(joined)
    except (msgspec.DecodeError, RecursionError):
        try:
            wires = _WIRE_BLOCK_DECODER.decode(joined)
        except (msgspec.DecodeError, RecursionError):
            return None
        rows = [_from_wire_or_bad(w, n) for n, w in enumerate(wires, start=start + 1)]
    return rows


def _from_wire_or_bad(wire: WireEvent, line: int) -> EventFields | BadRecord:
    try:
        return fields_from_wire(wire)
    except EventError as exc:
        return BadRecord(line, id_text(wire.id), exc.fields, str(exc))


def _records(block: Sequence[str], start: int, default_platform: str | None, platform: str | None, validate: bool):
    """Line by line: (line, event), a BadRecord, a Voiding, or None for an ignored statement."""
    for number, text in enumerate(block, start=start + 1):
        text = text.strip()
        if not text:
            continue
        if '"verb"' in text:  # an xAPI statement (or something pretending): the general path
            try:
                item = parse_record(loads(text), number, default_platform, platform, validate)
            except ValueError:
                item = BadRecord(number, None, "line", "not valid JSON")
            except RecursionError:
                item = BadRecord(number, None, "line", "nested too deeply")
        else:
            item = _native_fast(text, number)
        yield (number, item) if isinstance(item, LearningEvent) else item


def _first_of_each_id(events: list[EventFields]) -> tuple[list[EventFields], int]:
    """Re-sent events (an id seen on an earlier line) counted once: the first is kept."""
    if len({e.id for e in events}) == len(events):
        return events, 0
    seen: set[str] = set()
    kept = [e for e in events if not (e.id in seen or seen.add(e.id))]
    return kept, len(events) - len(kept)


def _vet(item: EventFields | BadRecord | Voiding | None, line: int, only_platform: Sender,
         check: Check | None = None) -> EventFields | BadRecord | Voiding | None:
    """A platform reports its own learners' events only (B0): another platform's name is refused;
    `check` refuses what else the caller cannot accept (the server: images it was not given)."""
    if not isinstance(item, EventFields):
        return item
    allowed = (only_platform,) if isinstance(only_platform, str) else only_platform
    if allowed and item.platform not in allowed:
        return BadRecord(line, item.id, "platform",
                         f"event of platform {item.platform!r} sent with the key of platform {allowed[-1]!r}")
    refused = check(item) if check is not None else None
    return BadRecord(line, item.id, refused[0], refused[1]) if refused else item


def parse_text(text: str, default_platform: str | None = None, only_platform: Sender = None,
               check: Check | None = None, validate: bool = False) -> ReadResult:
    """JSON lines, a JSON array or an LRS export ({"statements": [...], "more": ...}), told apart by
    content. `default_platform`: the platform of statements that name none; `only_platform`: the
    sender's (the service knows it by the key): a native event of another platform is refused, and
    statements are taken as this platform's whatever their free-text `context.platform` says."""
    if text.lstrip()[:1] == "[":  # a batch of native events: decoded at once, as lines are a block at a time
        rows = _decode_array(text)
        if rows is not None:
            with gc_paused():
                good = [(n, row) for n, row in enumerate(rows, start=1) if not isinstance(row, BadRecord)]
                return _finish([row for _, row in good], [n for n, _ in good], [r for r in rows if isinstance(r, BadRecord)],
                               0, [], only_platform, check)
    if text.lstrip()[:1] in ("[", "{"):
        clean = True
        try:  # msgspec refuses NaN, 1e400, lone surrogates and giant integers: what it reads holds none
            data = msgspec.json.decode(text)  # (a JSON-lines file fails here at once, after its first line)
        except (msgspec.DecodeError, RecursionError):
            clean = False
            try:
                data = loads(text)  # leniently, to name the poisoned record and keep the others
            except ValueError:
                data = None
            except RecursionError:
                return ReadResult(bad=[BadRecord(1, None, "body", "nested too deeply")])
        if isinstance(data, dict) and isinstance(data.get("statements"), list):
            data = data["statements"]  # an LRS export
        if isinstance(data, dict) and ("verb" in data or "type" in data):
            data = [data]  # a single statement or event
        if isinstance(data, list):
            return parse_records(data, default_platform, only_platform, check, validate, clean)
    return parse_lines(text.splitlines(), default_platform, only_platform, check, validate)


def parse_records(records: Sequence[Any], default_platform: str | None = None, only_platform: Sender = None,
                  check: Check | None = None, validate: bool = False, clean: bool = False) -> ReadResult:
    """Records already decoded (native events or statements; line = place in the list, from 1).
    The xAPI resource hands its validated statements here as they are: encoding them to text for
    parse_text only to decode them again cost about a sixth of a statement batch. `clean`: decoded
    by msgspec (nothing poisoned in them). The records are read, never changed."""
    with gc_paused():  # (tens of thousands of new objects: the collector would walk them again and again)
        return collect(_vet(parse_record(item, n, default_platform, _sender(only_platform), validate, clean), n,
                            only_platform, check) for n, item in enumerate(records, start=1))


def read_events(path: Path, default_platform: str | None = None, columnar: bool = False) -> ReadResult:
    """Read an events file; a file that cannot be read at all is a MonitorError. `columnar`: a
    clean JSON-lines file is read straight into `columns` (columnar.py), `events` stays empty.
    Statements that name no platform (a video.js player's) are the platform `default_platform`,
    else the file's name without its extension (`learn.example.cn.json`: `learn.example.cn`):
    a file of statements is judged as a player or an LRS wrote it, with no flag needed."""
    default_platform = default_platform or Path(path).stem or None
    if columnar:
        from monitor.online.columnar import read_clean

        clean = read_clean(read_user_bytes(path, "events file"))
        if clean is not None:
            return ReadResult(columns=clean[0], duplicates=clean[1])
    return parse_text(read_user_file(path, "events file"), default_platform, validate=True)


def _id_of(text: str) -> str | None:
    try:
        return id_text(loads(text).get("id"))
    except (ValueError, AttributeError, RecursionError):
        return None
