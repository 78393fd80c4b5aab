"""The B1-B8 rules, one module each, holding the rule's exact form (read event by event, writes
every finding) and its screen (the same question asked column-wise of every learner at once,
erring towards suspicion) side by side; `registry.RULES` lists them, and is what the engine and
the screen run. Session rules look at one Track; learner rules at all of one learner's tracks
(fast-forward, multi-window, unit order), because only a supervision point that sees every
platform can see those; catalogue rules need no events. Credited time is defined once, in
track.is_credited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from monitor.findings import Finding, finding
from monitor.online.catalogue import Catalogue
from monitor.online.track import Track
from monitor.policy import Policy


@dataclass(frozen=True)
class Context:
    policy: Policy
    catalogue: Catalogue
    # per course, every unit any learner was seen in (the fallback unit order of B5); the engine's
    # own dict, which grows as events come
    units: dict[str, set[str]] = field(default_factory=dict)
    # (learner, course) -> when the learner's training in it began (the first session seen), for
    # B8; the engine fills it for the learners it judges
    starts: dict[tuple[str, str], datetime] = field(default_factory=dict)


def instant(track: Track, epoch_s: float) -> datetime:
    """An epoch second in the UTC offset the session's events were reported in."""
    tz = track.events[0].at.tzinfo or timezone.utc
    return datetime.fromtimestamp(epoch_s, tz)


def session_finding(track: Track, rule: str, start_s: float, end_s: float, *, events: list[str],
                    **fields: Any) -> Finding:
    evidence = {"events": events, **fields.pop("evidence", {})}
    return finding(rule, start=instant(track, start_s), end=instant(track, end_s), evidence=evidence, **fields)
