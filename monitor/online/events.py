"""The learning-event schema a platform reports in (native events; xAPI statements map onto it).

One clear error per malformed event names the event id and the field; the other events still
count. Every event carries a client-made id, so a re-sent event is counted once.

Events are msgspec Structs, not pydantic models: a platform day is millions of events, and
msgspec decodes and validates one in about a microsecond, several times faster than building a
model (measured in bench/online.py); the reports and everything else stay pydantic.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

import msgspec

EventType = Literal[
    "session_start", "play", "pause", "heartbeat", "seek", "ratechange", "hidden", "visible",
    "popup_shown", "popup_answered", "popup_timeout", "unit_complete", "session_end",
    "face_capture", "photo_kept",
]

# Order of events that share an instant: what starts a state goes before what reports within it,
# and what ends it goes last. Sorting by (at, this, id) makes the order independent of arrival.
TYPE_ORDER: dict[str, int] = {name: n for n, name in enumerate([
    "session_start", "visible", "play", "ratechange", "seek", "heartbeat", "popup_shown", "popup_answered",
    "popup_timeout", "face_capture", "photo_kept", "unit_complete", "hidden", "pause", "session_end",
])}

TYPE_NEEDS: dict[str, tuple[str, ...]] = {
    "play": ("position_s",), "pause": ("position_s",), "heartbeat": ("position_s",),
    "seek": ("from_s", "to_s"), "ratechange": ("rate",),
    "popup_shown": ("popup",), "popup_answered": ("popup",), "popup_timeout": ("popup",),
    "unit_complete": ("unit",),
}

# A position in a video (or a seek's ends): no lesson video runs a week; a larger number is a
# platform's bug (milliseconds sent as seconds) or a probe, and would only distort the rules.
MAX_POSITION_S = 7 * 86400.0
MAX_RATE = 16.0
# Instants: the years an event can be of. A platform's clock at 1970 (epoch 0) or a date the
# calendar cannot shift to UTC (year 1 at +01:00) is refused, not judged.
FIRST_YEAR, LAST_YEAR = 2000, 2099
_FIRST = datetime(FIRST_YEAR, 1, 1, tzinfo=timezone.utc).timestamp()
_END = datetime(LAST_YEAR + 1, 1, 1, tzinfo=timezone.utc).timestamp()
# Epoch numbers are told apart by magnitude: seconds of 2000-2099 are 9.5e8 to 4.1e9, milliseconds
# 9.5e11 to 4.1e12; the two ranges are three orders of magnitude apart, so no instant is ambiguous.
EPOCH_MS_FROM = 1e11

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Seconds = Annotated[float, msgspec.Meta(ge=0, le=MAX_POSITION_S)]
# What platforms' databases hand out: an integer id becomes its decimal text (JSON true/false are
# not integers). Bounded to 64 bits: a thousand-digit "id" is not an id.
Ident = Text | Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
IDENT_FIELDS = ("id", "learner", "session", "platform", "course", "unit", "popup", "nonce")


class EventError(ValueError):
    """An event refused as a whole because of some of its fields; `fields` names them."""

    def __init__(self, fields: str, message: str) -> None:
        super().__init__(message)
        self.fields = fields


class MissingForType(EventError):
    """A field this type of event needs is absent; `fields` names them."""

    def __init__(self, kind: str, fields: list[str]) -> None:
        super().__init__(", ".join(fields), f"a {kind} event needs {', '.join(fields)}")


class EventFields(msgspec.Struct, dict=True, forbid_unknown_fields=False):
    """An event's fields as sent, checked one by one but not yet against each other. The file
    reader decodes whole files into these (a call into Python per event costs more than the
    decoding itself) and checks what each type needs column-wise (`missing_for_type`)."""

    id: Text
    type: EventType
    at: Annotated[datetime, msgspec.Meta(tz=True)]
    learner: Text
    session: Text
    platform: Text
    course: Text
    unit: Text | None = None
    position_s: Seconds | None = None
    rate: Annotated[float, msgspec.Meta(gt=0, le=MAX_RATE)] | None = None
    from_s: Seconds | None = None
    to_s: Seconds | None = None
    popup: Text | None = None
    image: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    # A face_capture may be a burst: 3-5 frames over about 2 s while the learner follows a prompt.
    images: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=500)]],
                      msgspec.Meta(min_length=1, max_length=10)] | None = None
    # A capture answering a challenge (monitor.faces.challenge) carries the challenge's nonce.
    nonce: Text | None = None


class LearningEvent(EventFields):
    """An event whose fields are checked against its type, with what every rule reads computed once."""

    def __post_init__(self) -> None:
        missing = missing_for_type(self)
        if missing:
            raise MissingForType(self.type, missing)
        # Read many times by every rule, so computed once here (datetime.timestamp() is slow, and
        # functools.cached_property takes a lock on every read in Python 3.11: measured 3x slower).
        self.epoch_s: float = self.at.timestamp()
        self.order_key: tuple[float, int, str] = (self.epoch_s, TYPE_ORDER[self.type], self.id)


class WireEvent(msgspec.Struct, forbid_unknown_fields=False):
    """An event as platforms send it: identifiers as text or JSON integers, `at` as RFC 3339 with
    an offset or Unix epoch seconds or milliseconds. `from_wire` makes it the one shape the rest
    of the monitor reads (the fields in EventFields' order)."""

    id: Ident
    type: EventType
    at: Annotated[datetime, msgspec.Meta(tz=True)] | float
    learner: Ident
    session: Ident
    platform: Ident
    course: Ident
    unit: Ident | None = None
    position_s: Seconds | None = None
    rate: Annotated[float, msgspec.Meta(gt=0, le=MAX_RATE)] | None = None
    from_s: Seconds | None = None
    to_s: Seconds | None = None
    popup: Ident | None = None
    image: Annotated[str, msgspec.Meta(min_length=1, max_length=500)] | None = None
    images: Annotated[list[Annotated[str, msgspec.Meta(min_length=1, max_length=500)]],
                      msgspec.Meta(min_length=1, max_length=10)] | None = None
    nonce: Ident | None = None


assert WireEvent.__struct_fields__ == EventFields.__struct_fields__, "the wire shape mirrors the event's"
_IDENT_INDEX = tuple(WireEvent.__struct_fields__.index(name) for name in IDENT_FIELDS)
_FLOAT_INDEX = tuple(WireEvent.__struct_fields__.index(name) for name in ("position_s", "rate", "from_s", "to_s"))


def from_wire(wire: WireEvent) -> LearningEvent:
    """The event a platform's record stands for; EventError names the field it cannot be."""
    return LearningEvent(*_normal_values(wire))


def fields_from_wire(wire: WireEvent) -> EventFields:
    """As from_wire, without what LearningEvent computes (the block reader checks what each type
    needs column-wise afterwards, as for events decoded straight into EventFields)."""
    return EventFields(*_normal_values(wire))


def _normal_values(wire: WireEvent) -> list[Any]:
    values: list[Any] = list(msgspec.structs.astuple(wire))
    for i in _IDENT_INDEX:
        if type(values[i]) is int:
            values[i] = str(values[i])
    for i in _FLOAT_INDEX:  # msgspec.convert lets inf through (from a dict made by json.loads)
        if values[i] is not None and not math.isfinite(values[i]):
            raise EventError(WireEvent.__struct_fields__[i], f"{values[i]} is not a finite number")
    if not isinstance(values[2], datetime):
        values[2] = from_epoch(values[2])
    else:
        out_of_range = date_out_of_range(values[2])
        if out_of_range:
            raise EventError("at", out_of_range)
    return values


def from_epoch(value: float) -> datetime:
    """Unix epoch seconds or milliseconds (by magnitude, see EPOCH_MS_FROM), as a UTC instant."""
    if not math.isfinite(value):
        raise EventError("at", f"{value} is not a finite number")
    seconds = value / 1000 if abs(value) >= EPOCH_MS_FROM else value
    if not _FIRST <= seconds < _END:
        raise EventError("at", f"epoch time {value!r} is neither seconds nor milliseconds of the years "
                               f"{FIRST_YEAR}-{LAST_YEAR}")
    return datetime.fromtimestamp(seconds, timezone.utc)


def date_out_of_range(at: datetime) -> str | None:
    """Why an instant is no event's (None: it may be). By its own calendar year, so that no
    arithmetic is done on a date at the calendar's edge."""
    if FIRST_YEAR <= at.year <= LAST_YEAR:
        return None
    return f"{at.isoformat()} is outside the years {FIRST_YEAR}-{LAST_YEAR}"


def missing_for_type(event: EventFields) -> list[str]:
    """The fields this event's type needs and it lacks."""
    return [name for name in TYPE_NEEDS.get(event.type, ()) if getattr(event, name) is None]


def as_learning_event(event: EventFields) -> LearningEvent:
    """An event read by the file reader (fields checked, type needs checked column-wise) as the
    rules' event; the type's needs are checked again, which costs little for the few it is done for."""
    if isinstance(event, LearningEvent):
        return event
    return LearningEvent(*msgspec.structs.astuple(event))
