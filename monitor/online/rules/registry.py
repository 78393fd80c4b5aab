"""Every online rule, listed once: its finding codes, its exact form and its screen.

The engine runs the exact forms (`judge`) on the learners the screens flag and on every learner
when it is the oracle (`OnlineEngine(..., screened=False)`); monitor/online/screen.py runs every
`screen` over the columns. A new rule is one module with both forms and one line here; the
screen tests (tests/monitor/online/test_screen.py) hold the two forms to the same reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from monitor.online.rules.columns import Screening, SessionColumns
from monitor.online.rules.course import course_shape
from monitor.online.rules.fast_forward import fast_forward, screen_fast_forward
from monitor.online.rules.multi_window import multi_window, screen_multi_window
from monitor.online.rules.order import out_of_order, screen_out_of_order
from monitor.online.rules.person import person_rules
from monitor.online.rules.photos import no_photo, screen_no_photo
from monitor.online.rules.popups import (
    popup_gap,
    popup_unanswered,
    screen_popup_gap,
    screen_popup_unanswered,
)

Scope = Literal["session", "learner", "catalogue"]


@dataclass(frozen=True)
class OnlineRule:
    """One rule of POLICY B.

    scope "session": `judge(track, ctx) -> [Finding]`, one session alone;
    scope "learner": `judge(tracks, ctx) -> {track key: [Finding]}`, all of a learner's sessions;
    scope "catalogue": `judge(track, ctx) -> [Finding]` from the catalogue and the session's first
    and last events only, so it runs on every session, screened or not (`screen` is None)."""

    codes: tuple[str, ...]  # the finding codes it writes (monitor.findings.RULES)
    scope: Scope
    judge: Callable[..., Any]
    screen: Callable[[SessionColumns, Screening], np.ndarray] | None  # per session: may it find anything?


RULES: tuple[OnlineRule, ...] = (
    OnlineRule(("online.fast_forward",), "learner", fast_forward, screen_fast_forward),  # B1
    OnlineRule(("online.multi_window",), "learner", multi_window, screen_multi_window),  # B2
    OnlineRule(("online.popup_gap",), "session", popup_gap, screen_popup_gap),  # B3
    OnlineRule(("online.popup_unanswered",), "session", popup_unanswered, screen_popup_unanswered),  # B3
    OnlineRule(("online.out_of_order",), "learner", out_of_order, screen_out_of_order),  # B5
    OnlineRule(("online.no_photo",), "session", no_photo, screen_no_photo),  # B6
    OnlineRule(("online.theory_share", "online.offline_practice"), "catalogue", course_shape, None),  # B7
    OnlineRule(("person.cooldown", "person.subsidy_limit", "person.two_places"), "catalogue", person_rules, None),  # B8, B9
)

LEARNER_RULES = tuple(r for r in RULES if r.scope == "learner")
SESSION_RULES = tuple(r for r in RULES if r.scope in ("session", "catalogue"))
CATALOGUE_RULES = tuple(r for r in RULES if r.scope == "catalogue")
SCREENS = tuple(r.screen for r in RULES if r.screen is not None)
