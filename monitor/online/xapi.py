"""xAPI Video Profile statements mapped onto native learning events, so a platform can hand over
its learning record store's export as it is. The statement id is the event id, the actor the
learner, the `session-id` context extension the session, the object the unit and the parent
context activity the course."""

from __future__ import annotations

from typing import Any

VIDEO = "https://w3id.org/xapi/video/extensions/"
TIME, TIME_FROM, TIME_TO = VIDEO + "time", VIDEO + "time-from", VIDEO + "time-to"
SESSION_ID, SPEED = VIDEO + "session-id", VIDEO + "speed"

# The verb's last path segment: the profile uses both ADL and w3id verb ids.
_VERBS = {
    "initialized": "session_start", "played": "play", "paused": "pause", "seeked": "seek",
    "completed": "unit_complete", "terminated": "session_end", "interacted": "ratechange",
}


class XapiError(ValueError):
    """A statement that cannot stand for a learning event; `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Ignored(Exception):
    """A statement of the profile that says nothing the rules use (volume, full screen …)."""


def is_statement(record: dict[str, Any]) -> bool:
    return "verb" in record and "actor" in record


def _get(record: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def _learner(actor: Any) -> str:
    account = _get(actor, "account", "name")
    if isinstance(account, str) and account:
        return account
    mbox = _get(actor, "mbox")
    if isinstance(mbox, str) and mbox:
        return mbox.removeprefix("mailto:")
    openid = _get(actor, "openid")
    if isinstance(openid, str) and openid:
        return openid
    raise XapiError("actor", "actor has no account name, mbox or openid")


def _speed(value: Any) -> float:
    try:
        return float(str(value).strip().removesuffix("x"))
    except ValueError:
        raise XapiError("context.extensions.speed", f"speed {value!r} is not a number like '1.5x'") from None


def to_native(statement: dict[str, Any], default_platform: str | None = None) -> dict[str, Any]:
    """The native event a statement stands for (a dict, validated by the caller like any event)."""
    verb_id = _get(statement, "verb", "id")
    if not isinstance(verb_id, str):
        raise XapiError("verb.id", "statement has no verb id")
    kind = _VERBS.get(verb_id.rstrip("/").rsplit("/", 1)[-1])
    if kind is None:
        raise Ignored(verb_id)
    results = _get(statement, "result", "extensions") or {}
    context = _get(statement, "context", "extensions") or {}
    parents = _get(statement, "context", "contextActivities", "parent") or []
    event: dict[str, Any] = {
        "id": statement.get("id"),
        "type": kind,
        "at": statement.get("timestamp"),
        "learner": _learner(statement.get("actor")),
        "session": context.get(SESSION_ID),
        "platform": _get(statement, "context", "platform") or default_platform,
        "course": parents[0].get("id") if parents and isinstance(parents[0], dict) else None,
        "unit": _get(statement, "object", "id"),
    }
    if kind in ("play", "pause", "unit_complete"):
        event["position_s"] = results.get(TIME)
        if kind == "play" and SPEED in context:
            event["rate"] = _speed(context[SPEED])
    elif kind == "seek":
        event["from_s"], event["to_s"] = results.get(TIME_FROM), results.get(TIME_TO)
    elif kind == "ratechange":
        if SPEED not in context:
            raise Ignored("interacted without a speed change")
        event["rate"] = _speed(context[SPEED])
    return event
