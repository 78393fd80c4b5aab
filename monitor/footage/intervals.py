"""Interval arithmetic on the wall-clock axis (epoch seconds): what footage covers, minus what
is not valid, clipped to a class hour."""

from __future__ import annotations

Interval = tuple[float, float]


def merge(intervals: list[Interval], bridge_s: float = 0.0) -> list[Interval]:
    """Union of intervals; holes no longer than bridge_s are closed (encoder hiccups)."""
    out: list[list[float]] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if out and start - out[-1][1] <= bridge_s:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


def subtract(base: list[Interval], cuts: list[Interval]) -> list[Interval]:
    """Parts of the (merged) base intervals outside every cut."""
    result = []
    cuts = merge(cuts)
    for start, end in base:
        cursor = start
        for c0, c1 in cuts:
            if c1 <= cursor or c0 >= end:
                continue
            if c0 > cursor:
                result.append((cursor, c0))
            cursor = max(cursor, c1)
        if cursor < end:
            result.append((cursor, end))
    return result


def clip(intervals: list[Interval], start: float, end: float) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]


def holes(covered: list[Interval], start: float, end: float) -> list[Interval]:
    """Parts of [start, end) that no (merged) interval covers."""
    return subtract([(start, end)], covered)


def overlaps(a: Interval, b: Interval) -> bool:
    return a[1] > b[0] and b[1] > a[0]


def total(intervals: list[Interval]) -> float:
    return sum(b - a for a, b in intervals)


def to_edges(covered: list[Interval], start: float, end: float, tolerance_s: float) -> list[Interval]:
    """The (merged) intervals with a shortfall of at most `tolerance_s` at either edge of
    [start, end) closed: footage that starts a second late or stops a second early is an
    encoder's or a clock's hiccup at a class hour's edge, forgiven as one inside the hour is."""
    out = [list(i) for i in covered]
    first = next((i for i in out if i[1] > start), None)
    if first is not None and start < first[0] <= start + tolerance_s:
        first[0] = start
    last = next((i for i in reversed(out) if i[0] < end), None)
    if last is not None and end - tolerance_s <= last[1] < end:
        last[1] = end
    return [(a, b) for a, b in out]


def inside(a: Interval, b: Interval, tolerance_s: float) -> bool:
    """Whether interval a lies in b for longer than the tolerance."""
    return min(a[1], b[1]) - max(a[0], b[0]) > tolerance_s
