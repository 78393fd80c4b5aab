"""xAPI statements mapped onto native learning events, so that a platform's existing sender (a
video.js player following the Video Profile, an LRS export) is judged as it is.

What real senders send, and so what is read (xAPI 1.0.3, Video Profile, our supervision profile):
- event id: the statement id (a statement without one gets a name-based UUID of its content, so
  the same statement sent twice is still counted once);
- learner: the actor's identifier, whichever of the four it has (account name, mbox without
  `mailto:`, mbox_sha1sum, openid); a Group is no learner and is refused;
- session: the Video Profile's `session-id` context extension, else `context.registration`;
- course: `contextActivities.parent`, else `grouping`, else the object's activity id (a
  video.js player sends neither); each may be one activity or an array (1.0.3 allows both);
- unit: the object's activity id; platform: the caller's (the service's key), else
  `context.platform`, else the default (the CLI: `--platform` or the file's name);
- at: `timestamp`, else `stored` (an LRS sets both).
Verbs the rules do not use are ignored, not errors; a voiding statement is recognised and
names the statement it voids, which then stops counting.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from monitor.online import supervision
from monitor.online.xapi_schema import parse_timestamp

VIDEO = "https://w3id.org/xapi/video/extensions/"
TIME, TIME_FROM, TIME_TO = VIDEO + "time", VIDEO + "time-from", VIDEO + "time-to"
SESSION_ID, SPEED = VIDEO + "session-id", VIDEO + "speed"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"

_ADL, _W3ID_ADL, _VIDEO_VERB = "http://adlnet.gov/expapi/verbs/", "https://w3id.org/xapi/adl/verbs/", "https://w3id.org/xapi/video/verbs/"
# Verb IRI -> native event type: the Video Profile's (ADL's verbs under both of their IRIs, and
# the exactMatch verbs the profile names), then ours.
VERBS: dict[str, str] = {
    _ADL + "initialized": "session_start", _W3ID_ADL + "initialized": "session_start",
    _VIDEO_VERB + "played": "play", "http://activitystrea.ms/schema/1.0/play": "play",
    _VIDEO_VERB + "paused": "pause", "http://id.tincanapi.com/verb/paused": "pause",
    _VIDEO_VERB + "seeked": "seek",
    _ADL + "completed": "unit_complete", _W3ID_ADL + "completed": "unit_complete",
    _VIDEO_VERB + "completed": "unit_complete",  # (the profile's first version)
    _ADL + "terminated": "session_end", _W3ID_ADL + "terminated": "session_end",
    _W3ID_ADL + "abandoned": "session_end",  # a session ends with terminated or abandoned
    _ADL + "interacted": "ratechange", _W3ID_ADL + "interacted": "ratechange",
    **supervision.VERBS,
}
_STATEMENT_NAMESPACE = uuid.UUID("5b0e7f47-3c1e-4a55-9f0b-7d1f4a2e9c11")  # for ids made from content


class XapiError(ValueError):
    """A statement that cannot stand for a learning event; `field` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class Ignored(Exception):
    """A statement that says nothing the rules use (another verb, a volume change …)."""


def is_statement(record: dict[str, Any]) -> bool:
    return "verb" in record and "actor" in record


def voided_target(statement: dict[str, Any]) -> str | None:
    """The id of the statement a voiding statement voids, or None for any other statement."""
    if _get(statement, "verb", "id") != VOIDED:
        return None
    target = _get(statement, "object", "id")
    if _get(statement, "object", "objectType") != "StatementRef" or not isinstance(target, str):
        raise XapiError("object", "a voiding statement's object is a StatementRef with the id of the statement voided")
    return target


def statement_id(statement: dict[str, Any]) -> Any:
    """The statement's id as the event's, or one made from its content."""
    given = statement.get("id")
    if given is not None:
        return given  # (anything but text refused by the event's own check, naming `id`)
    content = json.dumps(statement, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return str(uuid.uuid5(_STATEMENT_NAMESPACE, hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()))


# Where in a statement each field of the native event comes from, to name it in messages.
_STATEMENT_FIELDS = {
    "id": "id", "at": "timestamp", "learner": "actor", "session": f"context.extensions.{SESSION_ID}",
    "platform": "context.platform", "course": "context.contextActivities.parent", "unit": "object.id",
    "position_s": f"result.extensions.{TIME}", "from_s": f"result.extensions.{TIME_FROM}",
    "to_s": f"result.extensions.{TIME_TO}", "rate": f"context.extensions.{SPEED}",
    "popup": f"context.extensions.{supervision.POPUP_ID}", "image": f"context.extensions.{supervision.IMAGE}",
    "images": f"context.extensions.{supervision.IMAGES}", "nonce": f"context.extensions.{supervision.NONCE}",
}


def statement_field(native: str) -> str:
    """The statement's place of a native event's field (or fields, "from_s, to_s") a message names."""
    return ", ".join(_STATEMENT_FIELDS.get(name, name) for name in native.split(", "))


def _get(record: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(record, dict) or key not in record:
            return None
        record = record[key]
    return record


def _object(record: Any, where: str) -> dict[str, Any]:
    """An optional part that must be a JSON object when present (extensions, context …)."""
    if record is None:
        return {}
    if not isinstance(record, dict):
        raise XapiError(where, f"{where} must be a JSON object, not {type(record).__name__}")
    return record


def _learner(actor: Any) -> str:
    if not isinstance(actor, dict):
        raise XapiError("actor", "the actor must be a JSON object")
    if actor.get("objectType") == "Group":
        raise XapiError("actor", "a Group cannot be a learner: a statement the rules judge needs one learner "
                                 "(an Agent) as its actor")
    account = actor.get("account")
    if isinstance(account, dict) and isinstance(account.get("name"), str) and account["name"]:
        return account["name"]
    mbox = actor.get("mbox")
    if isinstance(mbox, str) and mbox.removeprefix("mailto:"):
        return mbox.removeprefix("mailto:")
    for name in ("mbox_sha1sum", "openid"):
        value = actor.get(name)
        if isinstance(value, str) and value:
            return value
    raise XapiError("actor", "the actor has no identifier (account, mbox, mbox_sha1sum or openid)")


def _first_activity(value: Any, where: str) -> str | None:
    """The id of a context activity given as one object or as an array (the first)."""
    if value is None:
        return None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise XapiError(where, f"{where} must be an activity or an array of activities")
    if not value:
        return None
    first = value[0]
    if not isinstance(first, dict) or not isinstance(first.get("id"), str):
        raise XapiError(where, f"{where} holds an activity without an id")
    return first["id"]


def _speed(value: Any) -> float:
    """The Video Profile writes speed as "1.5x"; some players send a number."""
    if isinstance(value, bool):
        raise XapiError("context.extensions.speed", f"speed {value!r} is not a number like '1.5x'")
    try:
        return float(str(value).strip().removesuffix("x"))
    except ValueError:
        raise XapiError("context.extensions.speed", f"speed {value!r} is not a number like '1.5x'") from None


def to_native(statement: dict[str, Any], default_platform: str | None = None,
              platform: str | None = None) -> dict[str, Any]:
    """The native event a statement stands for (a dict, validated by the caller like any event).
    `platform`: the caller's, over anything the statement says (the service knows the sender by
    its key); `default_platform`: for statements that name none. Raises Ignored for a statement
    the rules do not use, XapiError naming the field for one that cannot be an event."""
    verb_id = _get(statement, "verb", "id")
    if not isinstance(verb_id, str):
        raise XapiError("verb.id", "statement has no verb id")
    kind = VERBS.get(verb_id)
    if kind is None:
        raise Ignored(verb_id)
    context = _object(statement.get("context"), "context")
    extensions = _object(context.get("extensions"), "context.extensions")
    results = _object(_object(statement.get("result"), "result").get("extensions"), "result.extensions")
    if kind == "ratechange" and SPEED not in extensions:
        raise Ignored("interacted without a speed change (volume, full screen, captions …)")
    activities = _object(context.get("contextActivities"), "context.contextActivities")
    obj = _object(statement.get("object"), "object")
    if obj.get("objectType", "Activity") != "Activity":
        raise XapiError("object", f"the object must be the video (an Activity), not a {obj.get('objectType')}")
    unit = obj.get("id")
    course = (_first_activity(activities.get("parent"), "context.contextActivities.parent")
              or _first_activity(activities.get("grouping"), "context.contextActivities.grouping") or unit)
    session = extensions.get(SESSION_ID)
    if session is None:
        session = context.get("registration")
    if session is None:
        raise XapiError("session", "no session: neither the Video Profile's session-id context extension "
                                   f"({SESSION_ID}) nor context.registration")
    stated_platform = context.get("platform")
    timestamp = statement.get("timestamp", statement.get("stored"))
    at = parse_timestamp(timestamp) if isinstance(timestamp, str) else None
    event: dict[str, Any] = {
        "id": statement_id(statement),
        "type": kind,
        "at": at if at is not None else timestamp,
        "learner": _learner(statement.get("actor")),
        "session": session,
        "platform": platform or (stated_platform if isinstance(stated_platform, str) and stated_platform else None)
                    or default_platform,
        "course": course,
        "unit": unit,
    }
    if kind in ("play", "pause", "unit_complete", "heartbeat"):
        event["position_s"] = results.get(TIME, extensions.get(TIME))
        if kind == "play" and SPEED in extensions:
            event["rate"] = _speed(extensions[SPEED])
    elif kind == "seek":
        event["from_s"], event["to_s"] = results.get(TIME_FROM), results.get(TIME_TO)
    elif kind == "ratechange":
        event["rate"] = _speed(extensions[SPEED])
    elif kind.startswith("popup_"):
        event["popup"] = extensions.get(supervision.POPUP_ID)
    elif kind in ("face_capture", "photo_kept"):
        for field, iri in (("image", supervision.IMAGE), ("images", supervision.IMAGES), ("nonce", supervision.NONCE)):
            value = extensions.get(iri, results.get(iri))
            if value is not None:
                event[field] = value
    return event
