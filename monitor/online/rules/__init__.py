"""The B1-B8 rules, one small unit each. Session rules look at one Track; learner rules at all of
one learner's tracks (multi-window, unit order, cooldown), because only a supervision point that
sees every platform can see those."""

from __future__ import annotations

from dataclasses import dataclass
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


def instant(track: Track, epoch_s: float) -> datetime:
    """An epoch second in the UTC offset the session's events were reported in."""
    tz = track.events[0].at.tzinfo or timezone.utc
    return datetime.fromtimestamp(epoch_s, tz)


def session_finding(track: Track, rule: str, start_s: float, end_s: float, *, events: list[str],
                    **fields: Any) -> Finding:
    evidence = {"events": events, **fields.pop("evidence", {})}
    return finding(rule, start=instant(track, start_s), end=instant(track, end_s), evidence=evidence, **fields)
