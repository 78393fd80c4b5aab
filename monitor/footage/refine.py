"""Pinning an event's edge to the frame.

Samples say an edge lies between two sample instants; decoding just that stretch (one GOP or so)
finds the first frame where the picture changes state. This is the only place where frames other
than the samples are decoded, so it is where the cost of precision is paid, and only for events.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from monitor.footage.media import Samples, decode_span


def first_change(
    path: Path, after_s: float, until_s: float, predicate: Callable[[np.ndarray], bool],
    samples: Samples | None = None,
) -> tuple[float, np.ndarray | None, np.ndarray] | None:
    """The first frame in (after_s, until_s] whose thumbnail satisfies predicate: its media time,
    the thumbnail of the frame decoded just before it (None if there is none) and its own, so a
    caller can tell a jump from one frame to the next from a drift over many. From the frames a
    dense span of the sampling kept, where one holds the stretch."""
    held = samples.span_frames(after_s, until_s) if samples is not None else None
    previous = None
    for t, thumb in held if held is not None else decode_span(path, after_s, until_s):
        if t > after_s + 1e-6 and predicate(thumb):
            return t, previous, thumb
        previous = thumb
    return None


def first_frame_where(
    path: Path, after_s: float, until_s: float, predicate: Callable[[np.ndarray], bool],
    samples: Samples | None = None,
) -> float | None:
    """Media time of the first frame in (after_s, until_s] whose thumbnail satisfies predicate."""
    found = first_change(path, after_s, until_s, predicate, samples)
    return None if found is None else found[0]


def edge(
    path: Path, after_s: float, until_s: float, predicate: Callable[[np.ndarray], bool],
    samples: Samples | None = None,
) -> float:
    """Like first_frame_where, falling back to the later sample when no frame in between qualifies
    (which happens when the state changes exactly at that sample)."""
    found = first_frame_where(path, after_s, until_s, predicate, samples)
    return until_s if found is None else found
