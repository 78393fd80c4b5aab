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


def junction_times(timeline: PacketTimeline, size_ratio: float) -> np.ndarray:
    """Media times of the file start, of inter-frame packets at least `size_ratio` times the 90th
    percentile of their neighbours (B-frames are small, P-frames large: a percentile compares a
    frame with the large ones), and of keyframes closer than usual to the previous one."""
    times = timeline.times_s
    candidates = [timeline.first_s]
    inter = ~timeline.keyframes
    if inter.sum() > 2 * _NEIGHBOURS + 1:
        sizes = timeline.sizes[inter].astype(np.float64)
        windows = sliding_window_view(np.pad(sizes, _NEIGHBOURS, mode="edge"), 2 * _NEIGHBOURS + 1).copy()
        windows[:, _NEIGHBOURS] = np.nan  # a frame is not its own neighbour
        usual = np.nanpercentile(windows, 90, axis=1)
        spikes = sizes >= size_ratio * np.maximum(usual, 1.0)
        candidates.extend(times[inter][spikes].tolist())
    keys = timeline.keyframe_times_s
    if keys.size >= 3:
        spacing = np.diff(keys)
        early = spacing < 0.75 * np.median(spacing)
        candidates.extend(keys[1:][early].tolist())
    return np.unique(np.asarray(candidates, dtype=np.float64))
