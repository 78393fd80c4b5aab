"""Runs of consecutive samples in one state, the shape freeze and black detection share."""

from __future__ import annotations

from typing import Iterator

import numpy as np


def true_runs(flags: np.ndarray) -> Iterator[tuple[int, int]]:
    """(first, last) indices of every maximal run of True values."""
    if flags.size == 0:
        return
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    changes = np.flatnonzero(np.diff(padded.astype(np.int8)))
    for start, stop in zip(changes[::2], changes[1::2]):
        yield int(start), int(stop) - 1
