"""Reading a platform's events: JSON lines (native events or xAPI statements, mixed as they
come), a JSON array, or an LRS export ({"statements": [...]}). A malformed record is reported with
its line (or item) number, the event id and the field, and never stops the others from counting;
a re-sent event (same id) is counted once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import msgspec

from monitor.errors import read_user_file
from monitor.online.events import LearningEvent, MissingForType
from monitor.online.xapi import Ignored, XapiError, is_statement, to_native


@dataclass(frozen=True)
class BadRecord:
    line: int  # 1-based line of a JSON-lines file, or item of a JSON array
    event_id: str | None
    field: str
    message: str

    def __str__(self) -> str:
        who = f"event {self.event_id}" if self.event_id else "record"
        return f"line {self.line}: {who}: {self.field}: {self.message}"


@dataclass
class ReadResult:
    events: list[LearningEvent] = field(default_factory=list)
    bad: list[BadRecord] = field(default_factory=list)
    duplicates: int = 0
    ignored: int = 0  # xAPI statements that say nothing the rules use


_DECODER = msgspec.json.Decoder(LearningEvent)


def _bad_from_validation(line: int, event_id: Any, exc: Exception) -> BadRecord:
    """msgspec says "Expected `float` >= 0.0 - at `$.position_s`": split into field and message."""
    who = event_id if isinstance(event_id, str) and event_id else None
    cause = exc.__cause__ if isinstance(exc.__cause__, MissingForType) else exc
    if isinstance(cause, MissingForType):
        return BadRecord(line, who, cause.fields, str(cause))
    message, _, where = str(exc).partition(" - at `$.")
    field = where.rstrip("`").split("[", 1)[0].split(".", 1)[0] or "event"
    if message.startswith("Object missing required field"):
        field = message.rsplit("`", 2)[-2] if message.count("`") >= 2 else field
    return BadRecord(line, who, field, message)


def parse_record(record: Any, line: int, default_platform: str | None = None) -> LearningEvent | BadRecord | None:
    """One record: a LearningEvent, a BadRecord saying why not, or None for an ignored statement."""
    if not isinstance(record, dict):
        return BadRecord(line, None, "record", "not a JSON object")
    event_id = record.get("id")
    if is_statement(record):
        try:
            record = to_native(record, default_platform)
        except Ignored:
            return None
        except XapiError as exc:
            return BadRecord(line, event_id if isinstance(event_id, str) else None, exc.field, str(exc))
    try:
        return msgspec.convert(record, LearningEvent)
    except (msgspec.ValidationError, MissingForType) as exc:
        return _bad_from_validation(line, event_id, exc)


def _native_fast(text: str, line: int) -> LearningEvent | BadRecord:
    try:
        return _DECODER.decode(text)
    except msgspec.DecodeError as exc:
        if not isinstance(exc, msgspec.ValidationError):
            return BadRecord(line, None, "line", "not valid JSON")
        return _bad_from_validation(line, _id_of(text), exc)
    except MissingForType as exc:
        return BadRecord(line, _id_of(text), exc.fields, str(exc))


def collect(parsed: Iterable[LearningEvent | BadRecord | None], result: ReadResult | None = None) -> ReadResult:
    """Gather parsed records, keeping the first of each event id."""
    result = result or ReadResult()
    seen: set[str] = {e.id for e in result.events}
    for item in parsed:
        if item is None:
            result.ignored += 1
        elif isinstance(item, BadRecord):
            result.bad.append(item)
        elif item.id in seen:
            result.duplicates += 1
        else:
            seen.add(item.id)
            result.events.append(item)
    return result


Check = Callable[[LearningEvent], "tuple[str, str] | None"]  # an event -> (field, why refused), or None


def parse_lines(lines: Iterable[str], default_platform: str | None = None, only_platform: str | None = None,
                check: Check | None = None) -> ReadResult:
    def records():
        for number, text in enumerate(lines, start=1):
            text = text.strip()
            if not text:
                continue
            if '"verb"' in text:  # an xAPI statement (or something pretending): the general path
                try:
                    yield _vet(parse_record(json.loads(text), number, default_platform), number, only_platform, check)
                except ValueError:
                    yield BadRecord(number, None, "line", "not valid JSON")
                except RecursionError:
                    yield BadRecord(number, None, "line", "nested too deeply")
            else:
                yield _vet(_native_fast(text, number), number, only_platform, check)

    return collect(records())


def _vet(item: LearningEvent | BadRecord | None, line: int, only_platform: str | None,
         check: Check | None = None) -> LearningEvent | BadRecord | None:
    """A platform reports its own learners' events only (B0): another platform's name is refused;
    `check` refuses what else the caller cannot accept (the server: images it was not given)."""
    if not isinstance(item, LearningEvent):
        return item
    if only_platform is not None and item.platform != only_platform:
        return BadRecord(line, item.id, "platform",
                         f"event of platform {item.platform!r} sent with the key of platform {only_platform!r}")
    refused = check(item) if check is not None else None
    return BadRecord(line, item.id, refused[0], refused[1]) if refused else item


def parse_text(text: str, default_platform: str | None = None, only_platform: str | None = None,
               check: Check | None = None) -> ReadResult:
    """JSON lines, a JSON array or an LRS export ({"statements": [...]}), told apart by content."""
    if text.lstrip()[:1] in ("[", "{"):
        try:
            data = json.loads(text)  # a JSON-lines file fails here at once, after its first line
        except ValueError:
            data = None
        except RecursionError:
            return ReadResult(bad=[BadRecord(1, None, "body", "nested too deeply")])
        if isinstance(data, dict) and isinstance(data.get("statements"), list):
            data = data["statements"]  # an LRS export
        if isinstance(data, dict) and ("verb" in data or "type" in data):
            data = [data]  # a single statement or event
        if isinstance(data, list):
            return collect(_vet(parse_record(item, n, default_platform), n, only_platform, check)
                           for n, item in enumerate(data, start=1))
    return parse_lines(text.splitlines(), default_platform, only_platform, check)


def read_events(path: Path, default_platform: str | None = None) -> ReadResult:
    """Read an events file; a file that cannot be read at all is a MonitorError."""
    return parse_text(read_user_file(path, "events file"), default_platform)


def _id_of(text: str) -> str | None:
    try:
        value = json.loads(text).get("id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None
