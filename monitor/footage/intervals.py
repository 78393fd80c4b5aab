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
