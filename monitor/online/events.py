"""The learning-event schema a platform reports in (native events; xAPI statements map onto it).

One clear error per malformed event names the event id and the field; the other events still
count. Every event carries a client-made id, so a re-sent event is counted once.
"""

from __future__ import annotations

from functools import cached_property
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

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

_NEEDS: dict[str, tuple[str, ...]] = {
    "play": ("position_s",), "pause": ("position_s",), "heartbeat": ("position_s",),
    "seek": ("from_s", "to_s"), "ratechange": ("rate",),
    "popup_shown": ("popup",), "popup_answered": ("popup",), "popup_timeout": ("popup",),
    "unit_complete": ("unit",),
}

_Text = Field(min_length=1, max_length=200)


class LearningEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = _Text
    type: EventType
    at: AwareDatetime
    learner: str = _Text
    session: str = _Text
    platform: str = _Text
    course: str = _Text
    unit: str | None = Field(default=None, min_length=1, max_length=200)
    position_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    rate: float | None = Field(default=None, gt=0, le=16, allow_inf_nan=False)
    from_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    to_s: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    popup: str | None = Field(default=None, min_length=1, max_length=200)
    image: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _fields_of_its_type(self) -> "LearningEvent":
        missing = [name for name in _NEEDS.get(self.type, ()) if getattr(self, name) is None]
        if missing:
            raise PydanticCustomError("missing_for_type", "a {kind} event needs {fields}",
                                      {"kind": self.type, "fields": ", ".join(missing)})
        return self

    @cached_property
    def epoch_s(self) -> float:
        """Read many times by every rule: computed once (datetime.timestamp() is slow)."""
        return self.at.timestamp()

    @cached_property
    def order_key(self) -> tuple[float, int, str]:
        return (self.epoch_s, TYPE_ORDER[self.type], self.id)
