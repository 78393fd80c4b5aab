"""Face-check challenges for online learners (POLICY B4, B6): a moment the learner cannot predict,
a prompt to follow (for liveness) and a nonce the capture must carry back, which makes a capture
of one session useless in any other, by construction.

The moments and nonces come from the operating system's random source (`secrets`): a platform
or learner who knew the generator's state could otherwise prepare captures in advance.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from monitor.faces.liveness import PROMPTS
from monitor.policy import Policy


@dataclass(frozen=True)
class Challenge:
    learner: str
    session: str
    at: datetime  # when the platform must take the capture
    prompt: str  # what the learner is asked to do during the burst
    nonce: str  # the capture answering this challenge carries it


def challenges_for(learner: str, session: str, start: datetime, planned_s: float, policy: Policy,
                   rng: random.Random | None = None) -> list[Challenge]:
    """One challenge at the start of the session, and one at a random moment of each online class
    hour it is planned to last. `rng` is for tests only; by default the system's random source."""
    rng = rng or secrets.SystemRandom()
    hour = policy.online_class_hour_s
    moments = [rng.uniform(0, min(policy.face_start_window_s, planned_s))]
    begin = 0.0
    while begin < planned_s:
        moments.append(begin + rng.uniform(0, min(hour, planned_s - begin)))
        begin += hour
    return [Challenge(learner, session, start + timedelta(seconds=offset), rng.choice(PROMPTS),
                      secrets.token_urlsafe(16)) for offset in moments]


def load_challenges(path: Path) -> list[Challenge]:
    """CHALLENGES.json: the challenges handed out, [{"learner", "session", "at", "prompt", "nonce"}]."""
    from pydantic import AwareDatetime, BaseModel, ValidationError

    from monitor.errors import MonitorError, first_problem, read_user_file

    class Given(BaseModel):
        learner: str
        session: str
        at: AwareDatetime
        prompt: Literal[PROMPTS]  # type: ignore[valid-type]
        nonce: str

    text = read_user_file(path, "challenges file")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MonitorError(f"challenges file {path} is not JSON: {exc}") from None
    if not isinstance(data, list):
        raise MonitorError(f"challenges file {path} must be a list of challenges")
    try:
        return [Challenge(**Given.model_validate(item).model_dump()) for item in data]
    except ValidationError as exc:
        where, what = first_problem(exc)
        raise MonitorError(f"challenges file {path}: {where}: {what}") from None
