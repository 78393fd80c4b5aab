"""Hooks for the schemathesis run of test_fuzz.py (loaded by SCHEMATHESIS_HOOKS): instants and
dates as senders get them wrong, beside well-formed ones. Schemathesis on its own generates only
well-formed `date-time` and `date` values, so the naive and out-of-range instants that once gave
500s (#19) never reached the server through it."""

from __future__ import annotations

from datetime import timezone

import schemathesis
from hypothesis import strategies as st

_ODD_INSTANTS = st.sampled_from(["2026-11-20T08:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00",
                                 "0001-01-01T00:00:00", "9999-12-31T23:59:59", "2026-02-30T08:00:00+08:00"])
_WELL_FORMED = st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat())
_NAIVE = st.datetimes().map(lambda d: d.isoformat())

schemathesis.openapi.format("date-time", st.one_of(_ODD_INSTANTS, _WELL_FORMED, _NAIVE))
schemathesis.openapi.format("date", st.one_of(st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30"]),
                                              st.dates().map(lambda d: d.isoformat())))
