"""What a finding measured and the threshold it was held to, with units, in the page's language.

Why a table here: the analysis stores bare numbers (`measured`, `threshold`) in the unit of its
rule (seconds, a share, a count of people); a number without its unit misled inspectors ("25.0 /
10.0"). Each rule (and, where one rule measures different things, each of its messages) names
the kind of its two values; a rule missing from the table is rendered marked `untranslated`, and
a test runs every finding of the sample data through both languages and fails on any."""

from __future__ import annotations

from typing import Any, Callable

from babel import Locale
from babel.numbers import format_decimal, format_percent

# kind of (measured, threshold); None: the value is not shown (no threshold, or an id).
_DURATION, _SHARE, _RATE, _PEOPLE, _TIMES, _HOURS, _DAYS, _DISTANCE, _SCORE, _WORDS, _TEXT = (
    "duration", "share", "rate", "people", "times", "hours", "days", "distance", "score", "words", "text")
KINDS: dict[str, tuple[str | None, str | None]] = {
    "footage.gap": (_DURATION, _DURATION), "footage.overlap": (_DURATION, _DURATION),
    "footage.freeze": (_DURATION, _DURATION), "footage.black": (_DURATION, _DURATION),
    "footage.loop": (_DURATION, _DURATION), "footage.splice": (_SCORE, _SCORE),
    "footage.clock_mismatch": (_DURATION, _DURATION), "footage.clock_jump": (_DURATION, _DURATION),
    "footage.clock_jump/rate": (_RATE, _SHARE),
    "footage.defocus": (_SCORE, _SCORE), "footage.camera_moved": (_SCORE, _SCORE),
    "file.unreadable": (None, None), "file.start_unknown": (None, None),
    "practical.continuity": (_DURATION, _DURATION), "theory.coverage": (_SHARE, _SHARE),
    "visibility.trainee_missing": (_PEOPLE, _PEOPLE), "visibility.unverifiable": (_PEOPLE, _PEOPLE),
    # the share of an hour's check moments with a face too small, blurred or turned away to identify (#17)
    "visibility.unverifiable/unidentifiable": (_SHARE, _SHARE),
    "visibility.headcount": (_PEOPLE, _PEOPLE),
    "online.fast_forward/rate": (_RATE, _RATE), "online.fast_forward": (_DURATION, _DURATION),
    "online.multi_window": (_DURATION, _DURATION), "online.popup_gap": (_DURATION, _DURATION),
    "online.popup_unanswered": (_WORDS, None), "online.out_of_order": (_TEXT, _TEXT),
    "online.no_photo": (_TIMES, _TIMES), "online.theory_share": (_SHARE, _SHARE),
    "online.offline_practice": (_HOURS, _HOURS), "online.face_missing": (_TIMES, _TIMES),
    "online.face_mismatch": (_DISTANCE, _DISTANCE), "online.face_replay": (_SCORE, _SCORE),
    "online.face_not_live": (_SCORE, _SCORE), "online.face_attempts": (_TIMES, _TIMES),
    "online.cooldown": (_DAYS, _DAYS), "person.cooldown": (_DAYS, _DAYS),
    "person.subsidy_limit": (_TIMES, _TIMES), "person.two_places": (_DURATION, _DURATION),
}
# Words a rule stores as its measured value.
WORDS = {"timed out": ("timed out", "超时未作答"), "never answered": ("never answered", "未作答")}


def _n(value: float, locale: str, digits: int = 1) -> str:
    return format_decimal(round(value, digits), locale=Locale.parse(locale))


def duration(seconds: float, locale: str) -> str:
    """Seconds under two minutes, minutes under two hours, else hours: one unit per value."""
    zh = locale.startswith("zh")
    if abs(seconds) < 120:
        return f"{_n(seconds, locale)} 秒" if zh else f"{_n(seconds, locale)} s"
    if abs(seconds) < 7200:
        return f"{_n(seconds / 60, locale)} 分钟" if zh else f"{_n(seconds / 60, locale)} min"
    return f"{_n(seconds / 3600, locale)} 小时" if zh else f"{_n(seconds / 3600, locale)} h"


def value(kind: str | None, raw: Any, locale: str) -> str | None:
    """One value in words with its unit; None when there is nothing to say."""
    if raw is None or kind is None:
        return None
    zh = locale.startswith("zh")
    if kind == _WORDS:
        words = WORDS.get(str(raw))
        return None if words is None else words[1 if zh else 0]
    if kind == _TEXT:
        return str(raw)
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            return None
    units = {_PEOPLE: ("人", "people"), _TIMES: ("次", "times"), _HOURS: ("学时", "class hours"), _DAYS: ("天", "days")}
    if kind == _DURATION:
        return duration(float(raw), locale)
    if kind == _SHARE:
        return format_percent(float(raw), "#,##0.#%", locale=Locale.parse(locale))
    if kind == _RATE:
        return f"{_n(float(raw), locale, 2)} 倍速" if zh else f"{_n(float(raw), locale, 2)}×"
    if kind in units:
        return f"{_n(float(raw), locale)} {units[kind][0 if zh else 1]}"
    if kind in (_DISTANCE, _SCORE):
        return _n(float(raw), locale, 3)
    return None


def kinds(finding: dict[str, Any]) -> tuple[str | None, str | None] | None:
    rule = str(finding.get("rule"))
    return KINDS.get(f"{rule}/{finding.get('message')}") or KINDS.get(rule)


def measured_text(finding: dict[str, Any], locale: str, gettext: Callable[[str], str]) -> tuple[str, bool]:
    """"Measured 20 min (threshold 5 s)" in the page's language, and whether every value of the
    finding was put in words (False: shown raw and marked, which a test refuses)."""
    found = kinds(finding)
    measured, threshold = finding.get("measured"), finding.get("threshold")
    if measured is None and threshold is None:
        return "", True
    if found is None:
        return f"{measured} / {threshold}", False
    m, t = value(found[0], measured, locale), value(found[1], threshold, locale)
    complete = (m is not None or measured is None or found[0] is None) and (t is not None or threshold is None or found[1] is None)
    if not complete:
        return f"{measured} / {threshold}", False
    if m is None and t is None:
        return "", True
    if t is None:
        return gettext("Measured %(m)s") % {"m": m}, True
    if m is None:
        return gettext("Threshold %(t)s") % {"t": t}, True
    return gettext("Measured %(m)s (threshold %(t)s)") % {"m": m, "t": t}, True
