"""Translations: the catalogues are .po files (msgids in English); they are compiled in memory
when first used, so no generated .mo file is kept in the repository. Dates and numbers are
formatted per locale by Babel."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations

LOCALES = ("zh_CN", "en")
DEFAULT = "zh_CN"
_FOLDER = Path(__file__).resolve().parent / "translations"


@cache
def translations(locale: str) -> NullTranslations:
    po = _FOLDER / locale / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return NullTranslations()  # English: the msgids themselves
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick(requested: str | None) -> str:
    return requested if requested in LOCALES else DEFAULT


def when(value: datetime | str | None, locale: str, tz: str = "Asia/Shanghai") -> str:
    """A wall-clock instant in the city's time zone, in the locale's medium format."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return format_datetime(value, "medium", tzinfo=_zone(tz), locale=Locale.parse(locale))


def clock(value: datetime, locale: str) -> str:
    """The time of day alone (axis ticks): the last part of the locale's medium format."""
    return when(value, locale).rsplit(" ", 1)[-1]


def number(value: float | int | None, locale: str, digits: int = 1) -> str:
    if value is None:
        return "—"
    return format_decimal(round(value, digits), locale=Locale.parse(locale))


def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def age(seconds: float, locale: str) -> str:
    """How long ago, roughly (the queue's age column): "3 days", "3天"."""
    return format_timedelta(timedelta(seconds=max(0.0, seconds)), threshold=1.5, locale=Locale.parse(locale))
