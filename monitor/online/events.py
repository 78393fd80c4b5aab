"""The learning-event schema a platform reports in (native events; xAPI statements map onto it).

One clear error per malformed event names the event id and the field; the other events still
count. Every event carries a client-made id, so a re-sent event is counted once.

Events are msgspec Structs, not pydantic models: a platform day is millions of events, and
msgspec decodes and validates one in about a microsecond, several times faster than building a
model (measured in bench/online.py); the reports and everything else stay pydantic.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Seconds = Annotated[float, msgspec.Meta(ge=0)]


class MissingForType(ValueError):
    """A field this type of event needs is absent; `fields` names them."""

    def __init__(self, kind: str, fields: list[str]) -> None:
        super().__init__(f"a {kind} event needs {', '.join(fields)}")
        self.fields = ", ".join(fields)


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
    rate: Annotated[float, msgspec.Meta(gt=0, le=16)] | None = None
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


def missing_for_type(event: EventFields) -> list[str]:
    """The fields this event's type needs and it lacks."""
    return [name for name in TYPE_NEEDS.get(event.type, ()) if getattr(event, name) is None]


def as_learning_event(event: EventFields) -> LearningEvent:
    """An event read by the file reader (fields checked, type needs checked column-wise) as the
    rules' event; the type's needs are checked again, which costs little for the few it is done for."""
    if isinstance(event, LearningEvent):
        return event
    return LearningEvent(*msgspec.structs.astuple(event))
