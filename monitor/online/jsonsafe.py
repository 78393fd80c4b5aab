"""JSON as hostile senders write it, read so that one poisoned record never costs the others.

Python's json module reads what JSON forbids or cannot carry into Python values that break later,
far from where they came in: `NaN` and `Infinity` literals, `1e400` (read as inf), lone UTF-16
surrogates (`"\\ud800"`: a str that cannot be encoded to UTF-8, so it fails when stored), and
integers of thousands of digits (which fail when printed); and NUL characters, which JSON carries
(`"\\u0000"`) but no PostgreSQL text holds. msgspec refuses all of these, but for a
whole document at once, with no field named. So a batch is read leniently here, each of those
becomes a `Poison` marker or stays a surrogate string, and `find_poison` names the first one in a
record (its path, e.g. `result.extensions.https://w3id.org/xapi/video/extensions/time`), so that
the record is refused with its field and the rest of the batch is kept. (msgspec reads a NUL: a
reader that took msgspec's reading looks for poison where the text holds `\\u0000`.)
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_INT_DIGITS = 40  # far above any id or count; below Python's 4300-digit limit on printing ints


class Poison:
    """A JSON value that is no number a record may hold: why, kept where the value was."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why

    def __repr__(self) -> str:
        return f"Poison({self.why!r})"


def _constant(name: str) -> Poison:
    return Poison(f"{name} is not a JSON number")


def _float(text: str) -> float | Poison:
    value = float(text)
    return value if math.isfinite(value) else Poison(f"{text} is beyond the range of a number")


def _int(text: str) -> int | Poison:
    if len(text) > _MAX_INT_DIGITS:
        return Poison(f"an integer of {len(text)} digits")
    return int(text)


def loads(text: str) -> Any:
    """json.loads, with non-finite and huge numbers as Poison markers instead of values that
    break later. Raises ValueError for text that is not JSON, RecursionError for nesting too deep."""
    return json.loads(text, parse_constant=_constant, parse_float=_float, parse_int=_int)


_ENCODE = json.JSONEncoder(allow_nan=False, ensure_ascii=False, check_circular=False).encode


_NUL = "text holding a NUL character (0x00), which no stored text may hold (PostgreSQL's refuses it)"


def _writes(value: Any) -> bool:
    """Whether the value can be written as JSON and then as UTF-8: no Poison marker (not
    serialisable), no NaN or infinity (allow_nan=False), no lone surrogate (UTF-8 refuses it)."""
    try:
        text = _ENCODE(value)
        text.encode("utf-8")
    except (TypeError, ValueError, RecursionError):  # (UnicodeEncodeError is a ValueError)
        return False
    return "\\u0000" not in text  # no NUL (an escaped backslash before "u0000" is walked and found clean)


def find_poison(value: Any, path: str = "") -> tuple[str, str] | None:
    """The first poisoned place in a decoded value: (its dotted path, why), or None.

    Nearly every record holds none: that is known from json.dumps (C) refusing to write it, far
    faster than walking it in Python; only then is it walked, to name the place."""
    if _writes(value):
        return None
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        kind = type(item)
        if kind is str:
            if _SURROGATE.search(item):
                return where or "record", "text holding a lone UTF-16 surrogate (not Unicode text)"
            if "\x00" in item:
                return where or "record", _NUL
        elif kind is dict:
            for key, inner in reversed(list(item.items())):
                if _SURROGATE.search(key):
                    return where or "record", "a key holding a lone UTF-16 surrogate (not Unicode text)"
                if "\x00" in key:
                    return where or "record", "a key holding a NUL character (0x00)"
                stack.append((f"{where}.{key}" if where else key, inner))
        elif kind is list:
            stack.extend((f"{where}[{n}]", inner) for n, inner in reversed(list(enumerate(item))))
        elif kind is Poison:
            return where or "record", item.why
        elif kind is float and not math.isfinite(item):  # a value made in Python, not read here
            return where or "record", f"{item} is not a finite number"
    return None
