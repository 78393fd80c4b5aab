"""The per-frame packet size series: a motion signal that costs nothing but demuxing.

In an NVR stream an inter frame's size tracks how much of the picture changed since its reference:
a frozen picture gives near-empty frames, black gives tiny ones, motion gives large ones, a cut a
spike. Sizes also depend on the frame's place in the GOP (an encoder spends differently on P- and
B-frames and along its B-pyramid), so each inter frame is measured against the median of the frames
at the same position: `level` = log2(size / that median). Keyframes (their size is the picture's
detail, not its motion) are left out.

Measured on the generated classroom (640x360, 25 fps, GOP 10 s): inter frames of a frozen picture
with a ticking OSD clock are 0.17x the live median in H.265 without B-frames (46 vs 267 bytes),
0.14x in H.264 (222 vs 1642); with three B-frames the P-frames drop 10x and the B-frames 0.6x. A
replayed stretch repeats the *shape* of the series even when re-encoded, which the loop search uses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.footage.media import PacketTimeline
from monitor.policy import Policy

_MAX_PERIOD = 8  # longest B-frame pattern looked for (x265 uses up to 4 B-frames, x264 up to 3)


@dataclass(frozen=True)
class SizeSeries:
    """Levels of the inter frames of one file, in media time."""

    times_s: np.ndarray  # (n,) inter frames only
    level: np.ndarray  # (n,) log2(size / median size at the same GOP position)
    period: int  # the encoder's frame-type pattern (1: no B-frames)
    major: np.ndarray  # (n,) bool: the position with the largest frames (the P-frames, which carry the change)

    def binned(self, start_s: float, bin_s: float, count: int) -> np.ndarray:
        """Mean level per bin of `bin_s` from `start_s` (NaN where a bin holds no inter frame): a
        fixed time grid, so footage of another frame rate or a variable one lines up."""
        index = np.floor((self.times_s - start_s) / bin_s).astype(np.int64)
        ok = (index >= 0) & (index < count)
        total = np.bincount(index[ok], weights=self.level[ok], minlength=count)
        n = np.bincount(index[ok], minlength=count)
        out = np.full(count, np.nan)
        np.divide(total, n, out=out, where=n > 0)
        return out


def gop_positions(keyframes: np.ndarray) -> np.ndarray:
    """Each frame's index since the last keyframe (0 at keyframes)."""
    idx = np.arange(keyframes.size)
    last_key = np.maximum.accumulate(np.where(keyframes, idx, 0))
    return idx - last_key


def size_series(timeline: PacketTimeline) -> SizeSeries:
    """The normalised series. The GOP position is taken modulo the frame-type pattern, found as the
    shortest period that explains the sizes nearly as well as any (within-class spread of log sizes
    within 10 % of the best): with one median per position of a 250-frame GOP a short file would
    have only a handful of frames per median."""
    inter = ~timeline.keyframes
    logs = np.log2(np.maximum(timeline.sizes[inter].astype(np.float64), 1.0))
    positions = gop_positions(timeline.keyframes)[inter]
    if logs.size < 4:
        return SizeSeries(timeline.times_s[inter], np.zeros_like(logs), 1, np.ones(logs.size, dtype=bool))
    spreads = []
    for period in range(1, _MAX_PERIOD + 1):
        cls = positions % period
        medians = np.array([np.median(logs[cls == c]) if np.any(cls == c) else 0.0 for c in range(period)])
        spreads.append(float(np.mean(np.abs(logs - medians[cls]))))
    best = min(spreads)
    period = next(p for p, s in enumerate(spreads, start=1) if s <= best * 1.1 + 1e-9)
    cls = positions % period
    medians = np.array([np.median(logs[cls == c]) if np.any(cls == c) else 0.0 for c in range(period)])
    return SizeSeries(timeline.times_s[inter], logs - medians[cls], period, cls == int(np.argmax(medians)))


@dataclass(frozen=True)
class Quiet:
    """What makes a stretch quiet (the profile's quiet_* parameters; base.toml says how measured).
    `min_s`: the shortest stretch that counts (half the shortest freeze or black that is a finding)."""

    window_s: float = 2.0
    level_max: float = -1.0
    min_s: float = 2.5
    spread_max: float = 0.02

    @classmethod
    def of(cls, policy: Policy) -> "Quiet":
        return cls(policy.quiet_window_s, policy.quiet_level_max, min(policy.freeze_max_s, policy.black_max_s) / 2,
                   policy.quiet_spread_max)


def quiet_spans(series: SizeSeries, rule: Quiet) -> list[tuple[float, float]]:
    """Media intervals of at least `min_s` where the rolling median level over `window_s` stays at or
    below `level_max`: where the picture may be frozen or black, so the sampling decodes there. Only
    the largest frames of the pattern count: a B-frame of live footage is already near-empty (with
    three B-frames, H.265's B-frames of a frozen picture were 0.6x the live ones, its P-frames 0.1x).
    A stretch whose sizes do not vary (rolling median absolute deviation at most `spread_max`, log2
    units) counts too: x264 spent 0.6x the live size on every frame of a frozen picture, but the
    same number of bytes each time (318 of 318; spread 0.000-0.004), where live footage's frames
    vary by 30 % and more, and a calm 1080p classroom, its P-frames mostly sensor noise, by 0.047
    at its 1st percentile (base.toml)."""
    t, level = series.times_s[series.major], series.level[series.major]
    if t.size < 2:
        return []
    step = float(np.median(np.diff(t)))
    half = max(1, int(round(rule.window_s / step / 2)))
    padded = np.pad(level, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * half + 1)
    rolling = np.median(windows, axis=1)
    spread = np.median(np.abs(windows - rolling[:, None]), axis=1)
    quiet = (rolling <= rule.level_max) | (spread <= rule.spread_max)
    out = []
    padded_flags = np.concatenate([[False], quiet, [False]])
    changes = np.flatnonzero(np.diff(padded_flags.astype(np.int8)))
    for a, b in zip(changes[::2], changes[1::2]):
        start, end = float(t[a]), float(t[b - 1])
        if end - start >= rule.min_s:
            out.append((start, end))
    return out


_SPIKE_RATIO = 8.0  # a P-frame this many times the median P-frame is set aside like a keyframe


def frame_levels(timeline: PacketTimeline, settle: int = 3) -> np.ndarray:
    """Every frame's level in frame order (one value per packet), keyframes and the `settle` frames
    after and before each set to 0 (the usual size): the first frames after a keyframe are sized by
    the keyframe's quality, not by the picture's change, and a copy meets its keyframes at other
    places than its original did. Before a keyframe, x265 spent 0.8x, 0.6x and 0.4x the usual size
    on the last three P-frames of every GOP of a calm 1080p classroom (bench/faces.py --whole-hour
    --nvr): a dip every 10 s that matched itself at every multiple of the GOP, five false
    candidates in three minutes, each costing two decodes from a keyframe. Binning to 0.2 s (as `SizeSeries.binned` does) averages away the
    frame-to-frame shape a replay repeats; on a constant frame rate the frame index is the grid.

    P-frames over `_SPIKE_RATIO` times the median P-frame (and the `settle` after them) are set
    aside too: a replay cut from a decoded recording and encoded again carries the first encode's
    keyframes as pictures of a keyframe's quality, which the second encoder codes at about 64 times
    a P-frame's size, and one such frame spoiled every size window holding it (README: replays of
    a decoded recording found 27/40 at keyframes; the size stage alone gave the true lag for 25/40
    of them with these frames kept, 39/40 without, and no run at an unplanted lag either way)."""
    series = size_series(timeline)
    out = np.zeros(timeline.times_s.size)
    out[~timeline.keyframes] = series.level
    aside = gop_positions(timeline.keyframes) <= settle
    for k in np.flatnonzero(timeline.keyframes):
        aside[max(0, k - settle):k] = True
    predicted = timeline.sizes[~timeline.keyframes]
    if predicted.size:
        spikes = np.flatnonzero(~timeline.keyframes & (timeline.sizes > _SPIKE_RATIO * float(np.median(predicted))))
        for k in spikes:
            aside[k:k + settle + 1] = True
    out[aside] = 0.0
    return out
