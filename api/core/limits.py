"""Rate limits (issue #7): per API key on ingest (event batches, captures, uploads), per client
address on failed sign-ins. A platform in a loop, or someone guessing keys, is slowed before
the database feels it.

The counting is the `limits` library's moving window; its storage is memory by default (each
API process counts alone) or Redis (`MONITOR_RATE_LIMIT_STORAGE=redis://...`, shared by every
API process of a deployment).
"""

from __future__ import annotations

import math
import time
from limits import RateLimitItem, parse, storage, strategies

from api.core.problems import Problem
from api.core.settings import ServiceSettings


class RateLimits:
    def __init__(self, settings: ServiceSettings) -> None:
        self._limiter = strategies.MovingWindowRateLimiter(storage.storage_from_string(settings.rate_limit_storage))
        self.ingest = parse(settings.ingest_rate_limit)
        self.sign_in = parse(settings.sign_in_rate_limit)

    def hit(self, item: RateLimitItem, *identifiers: str) -> None:
        """Count one; over the limit, a 429 saying when to come back."""
        if not self._limiter.hit(item, *identifiers):
            raise self.refusal(item, *identifiers)

    def allows(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._limiter.test(item, *identifiers)

    def spend(self, item: RateLimitItem, *identifiers: str) -> None:
        """Count one without refusing this one (a failed sign-in is answered as such)."""
        self._limiter.hit(item, *identifiers)

    def refusal(self, item: RateLimitItem, *identifiers: str) -> Problem:
        reset = self._limiter.get_window_stats(item, *identifiers).reset_time
        wait = max(1, math.ceil(reset - time.time()))
        return Problem(429, f"too many requests: at most {item}; try again in {wait} s", "rate-limited",
                       headers={"Retry-After": str(wait)})
