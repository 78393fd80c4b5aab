"""Where the sampling decodes besides the keyframes ("where to decode", kept apart from "what to
decide"): the packet sizes of a long-GOP file point at the stretches where something may happen
between two keyframes.

- quiet stretches (monitor.footage.sizes.quiet_spans): frozen or black pictures;
- junctions (monitor.footage.junctions): a cut to other footage and back.

Each is decoded from the keyframe before it and sampled every `sample_interval_s`, so freeze,
black and splice see the same samples as on a 2-s GOP there, and pay nothing elsewhere.
"""

from __future__ import annotations

from typing import Callable

from monitor.footage.junctions import junction_times
from monitor.footage.media import PacketTimeline, Samples, choose_mode, sample
from monitor.footage.sizes import quiet_spans, size_series
from monitor.policy import Policy


def dense_spans(timeline: PacketTimeline, policy: Policy) -> list[tuple[float, float]]:
    """Media intervals to sample densely in a keyframe-sampled file."""
    step = policy.sample_interval_s
    shortest = min(policy.freeze_max_s, policy.black_max_s)
    quiet = quiet_spans(size_series(timeline), policy.quiet_window_s,
                        policy.quiet_level_max, shortest / 2, policy.quiet_spread_max)
    spans = [(max(timeline.first_s, a - step), min(timeline.end_s, b + step)) for a, b in quiet]
    for t in junction_times(timeline, policy.junction_size_ratio, policy.junction_max_per_hour)[1:]:
        spans.append((max(timeline.first_s, float(t) - step), min(timeline.end_s, float(t) + step)))
    return spans


def sample_file(timeline: PacketTimeline, policy: Policy,
                on_progress: Callable[[float], None] | None = None) -> Samples:
    """Keyframes whatever the GOP up to `keyframe_gap_max_s`, plus the dense spans; beyond that,
    every frame decoded and one kept per `sample_interval_s`."""
    gap_max = policy.keyframe_gap_max_s
    if choose_mode(timeline, policy.sample_interval_s, gap_max) == "keyframes" and \
            choose_mode(timeline, policy.sample_interval_s) != "keyframes":
        dense = dense_spans(timeline, policy)
    else:
        dense = []
    return sample(timeline, policy.sample_interval_s, on_progress, keyframe_gap_max_s=gap_max, dense=dense)
