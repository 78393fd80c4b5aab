"""Where the picture may jump, read from packets alone (no decoding).

An encoder spends many bytes on a frame that does not follow from the one before: a cut, the
first frame of a looped copy, the return from an insert. Such frames stand out as packets several
times larger than their neighbours, or as keyframes the encoder placed off its usual cadence.
These instants are where the loop detector spends its decoding.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from monitor.footage.media import PacketTimeline

_NEIGHBOURS = 25  # frames either side that make a packet's "usual" size


def junction_times(timeline: PacketTimeline, size_ratio: float, max_per_hour: int) -> np.ndarray:
    """Media times of the file start, of keyframes closer than usual to the previous one, and of
    inter-frame packets at least `size_ratio` times the 90th percentile of their neighbours
    (B-frames are small, P-frames large: a percentile compares a frame with the large ones), the
    strongest `max_per_hour` of these per hour of footage, so a lively scene cannot make the loop
    search decode the whole file."""
    times = timeline.times_s
    candidates = [timeline.first_s]
    keys = timeline.keyframe_times_s
    if keys.size >= 3:
        spacing = np.diff(keys)
        candidates.extend(keys[1:][spacing < 0.75 * np.median(spacing)].tolist())
    inter = ~timeline.keyframes
    if inter.sum() > 2 * _NEIGHBOURS + 1:
        sizes = timeline.sizes[inter].astype(np.float32)
        score = sizes / np.maximum(_usual_sizes(sizes), 1.0)
        spikes = np.flatnonzero(score >= size_ratio)
        hours = max(1.0, (timeline.end_s - timeline.first_s) / 3600.0)
        strongest = spikes[np.argsort(score[spikes])[::-1][: int(np.ceil(max_per_hour * hours))]]
        candidates.extend(times[inter][strongest].tolist())
    return np.unique(np.asarray(candidates, dtype=np.float64))


def _usual_sizes(sizes: np.ndarray, block: int = 8192) -> np.ndarray:
    """The 90th percentile of each packet's neighbours, a block of rows at a time so that memory
    stays flat however long the recording is."""
    windows = sliding_window_view(np.pad(sizes, _NEIGHBOURS, mode="edge"), 2 * _NEIGHBOURS + 1)
    rank = int(round(0.9 * (2 * _NEIGHBOURS - 1)))
    usual = np.empty(sizes.size, dtype=np.float32)
    for start in range(0, sizes.size, block):
        rows = windows[start:start + block]
        neighbours = np.concatenate([rows[:, :_NEIGHBOURS], rows[:, _NEIGHBOURS + 1:]], axis=1)
        usual[start:start + block] = np.partition(neighbours, rank, axis=1)[:, rank]
    return usual
