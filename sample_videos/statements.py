"""A native learning event as the xAPI statement a player following the Video Profile (and, for
what that profile cannot say, the monitor's supervision profile) sends for it: for benchmarks and
tests that need a platform's day as statements. Valid xAPI 1.0.3: UUID ids, IRIs for the course
and the video, the learner as an account of the platform's site."""

from __future__ import annotations

import uuid
from typing import Any

from monitor.online import supervision
from monitor.online.xapi import SESSION_ID, SPEED, TIME, TIME_FROM, TIME_TO, VERBS

_ADL, _VIDEO = "http://adlnet.gov/expapi/verbs/", "https://w3id.org/xapi/video/verbs/"
VERB_OF: dict[str, str] = {
    "session_start": _ADL + "initialized", "play": _VIDEO + "played", "pause": _VIDEO + "paused",
    "seek": _VIDEO + "seeked", "unit_complete": _ADL + "completed", "session_end": _ADL + "terminated",
    "ratechange": _ADL + "interacted",
    **{kind: iri for iri, kind in supervision.VERBS.items()},
}
assert all(VERBS[iri] == kind for kind, iri in VERB_OF.items())  # the reader reads back what is written
_IDS = uuid.UUID("3f8a1c52-6d0e-4b7a-9c21-5e4f7a8b9c0d")
SITE = "https://learn.example.cn"


def statement_id(event_id: str) -> str:
    """A statement's id is a UUID: an event id that is not one becomes a name-based one."""
    try:
        return str(uuid.UUID(event_id))
    except ValueError:
        return str(uuid.uuid5(_IDS, event_id))


def iri(name: str, kind: str) -> str:
    return name if ":" in name else f"{SITE}/{kind}/{name}"


def as_statement(e: dict[str, Any]) -> dict[str, Any]:
    """The statement standing for native event `e` (its course and unit become IRIs under SITE)."""
    kind = e["type"]
    result: dict[str, Any] = {}
    context: dict[str, Any] = {SESSION_ID: e["session"]}
    if kind in ("play", "pause", "unit_complete", "heartbeat"):
        result[TIME] = e["position_s"]
    if kind == "seek":
        result[TIME_FROM], result[TIME_TO] = e["from_s"], e["to_s"]
    if e.get("rate") is not None:
        context[SPEED] = f"{e['rate']:g}x"
    if kind.startswith("popup_"):
        context[supervision.POPUP_ID] = e["popup"]
    for field, extension in (("image", supervision.IMAGE), ("images", supervision.IMAGES), ("nonce", supervision.NONCE)):
        if e.get(field) is not None:
            context[extension] = e[field]
    return {
        "id": statement_id(e["id"]),
        "actor": {"objectType": "Agent", "account": {"homePage": SITE, "name": e["learner"]}},
        "verb": {"id": VERB_OF[kind], "display": {"en-US": VERB_OF[kind].rsplit("/", 1)[-1]}},
        "object": {"objectType": "Activity", "id": iri(e["unit"], "videos"),
                   "definition": {"type": "https://w3id.org/xapi/video/activity-type/video"}},
        "result": {"extensions": result} if result else {},
        "context": {"contextActivities": {"parent": [{"id": iri(e["course"], "courses")}],
                                          "category": [{"id": "https://w3id.org/xapi/video"}]},
                    "extensions": context},
        "timestamp": e["at"],
    }
