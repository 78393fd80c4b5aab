"""Where the sampling decodes besides the keyframes ("where to decode", kept apart from "what to
decide"): the packet sizes of a long-GOP file point at the stretches where something may happen
between two keyframes.

- quiet stretches (monitor.footage.sizes.quiet_spans): frozen or black pictures;
- junctions (monitor.footage.junctions): a cut to other footage and back (`splice_junction_ratio`).

Each is decoded from the keyframe before it and sampled every `sample_interval_s`, so freeze,
black and splice see the same samples as on a 2-s GOP there, and pay nothing elsewhere.

The on-screen clock is located and learned first (its first ~17 s decoded once), then read at
every sample while the sampling has the full picture in hand: no frame is decoded for it twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

import av
import numpy as np

from monitor.footage.clock_read import ClockReader, ClockTrack, learn_in_file
from monitor.footage.focus import sharpness
from monitor.footage.junctions import junction_times
from monitor.footage.media import PacketTimeline, Samples, SpanReader, choose_mode, luma_plane, sample
from monitor.footage.osd import LOOK_S, OsdRegion, locate_clock
from monitor.footage.sizes import Quiet, quiet_spans, size_series
from monitor.policy import Policy


def dense_spans(timeline: PacketTimeline, policy: Policy) -> list[tuple[float, float]]:
    """Media intervals to sample densely in a keyframe-sampled file."""
    step = policy.sample_interval_s
    quiet = quiet_spans(size_series(timeline), Quiet.of(policy))
    spans = [(max(timeline.first_s, a - step), min(timeline.end_s, b + step)) for a, b in quiet]
    ratio = max(policy.junction_size_ratio, policy.splice_junction_ratio)
    for t in junction_times(timeline, ratio, policy.junction_max_per_hour)[1:]:
        spans.append((max(timeline.first_s, float(t) - step), min(timeline.end_s, float(t) + step)))
    return spans


def dense_gop_limit(timeline: PacketTimeline, policy: Policy) -> float:
    """The longest keyframe gap sampled at the keyframes; beyond it every frame is decoded. The
    profile's `loop_dense_gop_s`, except in a stream with B-frames: there a long GOP's loops would
    rest on the packet sizes, which the B-pattern drowns (README: 2/3 and 0/3 replays found), so
    only keyframes dense enough to be probed (`sample_interval_s`, as on a 2-s GOP) are enough.
    Without B-frames, a profile may sample pictures of `loop_sizes_min_px` or more at keyframes up to
    `keyframe_gap_max_s` (decoding every frame of them can never be much faster than ffmpeg); on
    from 1080p by default: there the sizes find every replay of recorded frames, re-encoded or not,
    and miss only copies rendered between the original's frames (base.toml)."""
    if timeline.reordered:
        return min(policy.loop_dense_gop_s, policy.sample_interval_s * 1.05)
    if policy.loop_sizes_min_px and timeline.width * timeline.height >= policy.loop_sizes_min_px:
        return max(policy.loop_dense_gop_s, policy.keyframe_gap_max_s)
    return policy.loop_dense_gop_s


def sample_file(timeline: PacketTimeline, policy: Policy,
                on_progress: Callable[[float], None] | None = None) -> tuple[Samples, ClockTrack, np.ndarray]:
    """Keyframes whatever the GOP up to `keyframe_gap_max_s`, plus the dense spans; beyond that,
    every frame decoded and one kept per `sample_interval_s`. The clock is read and the sharpness
    measured (monitor.footage.focus) at each sample, on the full picture: the third value, one per
    sample."""
    gap_max: float | None = policy.keyframe_gap_max_s
    keys = timeline.keyframe_times_s
    every_frame = keys.size < 2 or float(np.max(np.diff(keys))) > dense_gop_limit(timeline, policy)
    if every_frame:
        # A repeat shorter than the GOP at a lag that is no multiple of it holds no keyframe, and
        # its original none either: only pictures of every frame find it (monitor.footage.loop).
        # So every frame is decoded (threaded) and sampled every step, as for a file without keyframes.
        gap_max, dense = None, []
    elif choose_mode(timeline, policy.sample_interval_s, gap_max) == "keyframes" and \
            choose_mode(timeline, policy.sample_interval_s) != "keyframes":
        dense = dense_spans(timeline, policy)
    else:
        dense = []
    region, clock = _learn_clock(timeline)
    times: list[float] = []
    shown: list[datetime | None] = []
    focus: dict[float, float] = {}

    def read(t: float, frame: av.VideoFrame, reader: ClockReader | None = clock) -> None:
        luma = luma_plane(frame)
        focus[t] = sharpness(luma)
        if reader is not None:
            times.append(t)
            shown.append(reader.read(luma))

    samples = sample(timeline, policy.sample_interval_s, on_progress, keyframe_gap_max_s=gap_max, dense=dense,
                     on_frame=read, every_frame=every_frame)
    order = np.argsort(times, kind="stable")
    track = ClockTrack(region, clock, np.asarray(times, dtype=np.float64)[order], tuple(shown[k] for k in order))
    return samples, track, np.array([focus.get(float(t), np.nan) for t in samples.times_s])


def _learn_clock(timeline: PacketTimeline) -> tuple[OsdRegion | None, ClockReader | None]:
    """Where the clock ticks (the file's first seconds) and its digits (the dozen seconds after)."""
    reader = SpanReader(timeline.path, timeline.keyframe_times_s)
    try:
        region = locate_clock(reader, timeline.first_s)
        if region is None:
            return None, None
        return region, learn_in_file(reader, region, timeline.first_s + LOOK_S, timeline.end_s,
                                     timeline.frame_duration_s)
    finally:
        reader.close()
