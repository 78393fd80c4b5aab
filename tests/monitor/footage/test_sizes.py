"""The free signals: the packet size series normalised per GOP position, its quiet stretches, and the
similarity join that finds a repeated shape at any lag (pure NumPy, no footage needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from monitor.footage.loop import _runs, _similarity_join
from monitor.footage.media import PacketTimeline
from monitor.footage.sizes import Quiet, frame_levels, gop_positions, quiet_spans, size_series


def _timeline(sizes: np.ndarray, gop: int, fps: float = 25.0) -> PacketTimeline:
    n = sizes.size
    return PacketTimeline(path=Path("x.mp4"), times_s=np.arange(n) / fps, sizes=sizes.astype(np.int32),
                          keyframes=(np.arange(n) % gop) == 0, width=640, height=360, codec="hevc",
                          frame_duration_s=1 / fps, creation_time=None, truncated=None)


def test_gop_positions_count_from_each_keyframe():
    keys = np.array([1, 0, 0, 1, 0, 1, 0, 0, 0], dtype=bool)
    assert gop_positions(keys).tolist() == [0, 1, 2, 0, 1, 0, 1, 2, 3]


def test_a_b_frame_pattern_is_found_and_normalised_away():
    rng = np.random.default_rng(1)
    n, gop = 2500, 250
    pattern = np.where(np.arange(n) % 250 % 4 == 0, 2000, 300)  # a P-frame, then three B-frames
    sizes = pattern * rng.lognormal(0, 0.1, n)
    sizes[np.arange(n) % gop == 0] = 40000
    series = size_series(_timeline(sizes, gop))
    assert series.period == 4
    assert abs(float(np.median(series.level))) < 0.05 and float(np.std(series.level)) < 0.3
    assert series.major.sum() == np.count_nonzero((np.arange(n) % 250 % 4 == 0) & (np.arange(n) % gop != 0))


def test_a_frozen_stretch_is_quiet_and_live_footage_is_not():
    rng = np.random.default_rng(2)
    n = 25 * 60
    sizes = 800 * rng.lognormal(0, 0.4, n)
    sizes[25 * 20:25 * 32] = 60  # 12 s of a frozen picture: near-empty frames of one size
    series = size_series(_timeline(sizes, 250))
    spans = quiet_spans(series, Quiet(window_s=2.0, level_max=-1.0, min_s=2.5, spread_max=0.1))
    assert len(spans) == 1 and abs(spans[0][0] - 20) <= 1.0 and abs(spans[0][1] - 32) <= 1.0
    clean = size_series(_timeline(800 * rng.lognormal(0, 0.4, n), 250))
    assert quiet_spans(clean, Quiet(window_s=2.0, level_max=-1.0, min_s=2.5, spread_max=0.1)) == []


def test_sizes_that_do_not_vary_are_quiet_and_a_calm_room_whose_sizes_vary_little_is_not():
    """x264 on a frozen picture spends the same bytes on every frame, at about the usual level; a
    calm classroom's P-frames, mostly sensor noise, vary by a few per cent (bench/faces.py's 1080p
    hour: spread 0.047 and more), and under the old limit of 0.1 most of it was decoded densely."""
    from monitor.policy import load_policy

    rng = np.random.default_rng(6)
    n = 25 * 60
    sizes = 800 * rng.lognormal(0, 0.07, n)  # calm: spread about 0.07 (log2 units)
    sizes[25 * 20:25 * 32] = 800  # frozen, at the usual level
    rule = Quiet.of(load_policy("zhengzhou-2022"))
    spans = quiet_spans(size_series(_timeline(sizes, 250)), rule)
    assert len(spans) == 1 and abs(spans[0][0] - 20) <= 1.0 and abs(spans[0][1] - 32) <= 1.0, spans


def test_the_similarity_join_finds_a_repeated_shape_at_its_lag():
    rng = np.random.default_rng(3)
    x = np.cumsum(rng.normal(size=3000)) * 0.1 + rng.normal(size=3000)
    x[2000:2060] = x[700:760] + rng.normal(0, 0.2, 60)  # 60 bins shown again 1300 bins later, noisier
    best, lag = _similarity_join(x, 12, exclusion=25)
    runs = [(a, b, c) for a, b, c in _runs(best, lag, 0.7) if b - a + 1 >= 5]
    assert any(abs(c - 1300) <= 1 and a <= 2005 and b >= 2040 for a, b, c in runs), runs
    assert np.all(lag[np.isfinite(best)] >= 25)  # nothing matched closer than the exclusion


def test_nan_and_flat_windows_match_nothing():
    x = np.concatenate([np.full(100, np.nan), np.zeros(100), np.sin(np.arange(100))])
    best, _ = _similarity_join(x, 10, exclusion=10)
    assert np.all(np.isneginf(best[:190]))


def test_visibility_moments_are_taken_at_the_nearest_keyframe_in_valid_footage():
    from datetime import datetime, timezone

    from monitor.footage.media import Samples
    from monitor.footage.placed import PlacedFile
    from monitor.footage.visibility import _nearest_keyframe

    timeline = _timeline(np.full(25 * 60, 500.0), gop=250)  # a keyframe every 10 s
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    placed = PlacedFile("x.mp4", timeline, Samples(np.zeros(0), np.zeros((0, 36, 64), np.uint8), "keyframes"),
                        start, "declared")
    t0 = start.timestamp()
    assert _nearest_keyframe(placed, t0 + 27.0, 30.0, [(t0, t0 + 60)]) == t0 + 30.0
    assert _nearest_keyframe(placed, t0 + 27.0, 30.0, [(t0 + 24, t0 + 29)]) == t0 + 27.0  # none valid nearby
    assert _nearest_keyframe(placed, t0 + 27.0, 30.0, [(t0 + 15, t0 + 29)]) == t0 + 20.0


def test_frame_levels_keep_every_frame_and_set_the_keyframes_their_wake_and_the_frames_before_aside():
    rng = np.random.default_rng(4)
    n, gop = 1000, 250
    sizes = 800 * rng.lognormal(0, 0.4, n)
    sizes[np.arange(n) % gop == 0] = 40000
    sizes[np.arange(n) % gop == 1] *= 3  # the frame after a keyframe, sized by its quality
    sizes[np.arange(n) % gop >= gop - 3] *= 0.4  # x265 saving up for the next keyframe
    timeline = _timeline(sizes, gop)
    levels = frame_levels(timeline, settle=3)
    assert levels.shape == (n,)
    wake = np.arange(n) % gop <= 3
    before = (np.arange(n) % gop >= gop - 3) & (np.arange(n) < n - 3)  # the last frames precede no keyframe
    assert np.all(levels[wake | before] == 0.0)
    assert np.all(levels[n - 3:] < -0.5)  # the file's last frames keep their own level
    series = size_series(timeline)
    inter = np.flatnonzero(np.arange(n) % gop != 0)
    kept = ~(wake | before)[inter]
    assert np.allclose(levels[inter[kept]], series.level[kept])  # the rest: each frame's own level


def test_a_p_frame_as_large_as_a_keyframe_is_set_aside_with_its_wake():
    """A replay cut from a decoded recording: the first encode's keyframe comes out of the second
    encoder as a huge P-frame; it and the frames after it must not shape the size windows."""
    rng = np.random.default_rng(5)
    n, gop = 1000, 250
    sizes = 800 * rng.lognormal(0, 0.4, n)
    sizes[np.arange(n) % gop == 0] = 40000
    sizes[400] = 52000  # 65 times the usual P-frame
    sizes[600] = 4000  # 5 times: motion, kept
    levels = frame_levels(_timeline(sizes, gop), settle=3)
    assert np.all(levels[400:404] == 0.0)
    assert levels[404] != 0.0 and levels[399] != 0.0 and levels[600] != 0.0


def test_a_strided_join_matches_only_every_stride_th_window_and_keeps_the_lag_to_the_frame():
    rng = np.random.default_rng(5)
    x = rng.normal(size=4000)
    x[3000:3200] = x[1317:1517] + rng.normal(0, 0.2, 200)  # shown again 1683 frames later
    full, full_lag = _similarity_join(x, 62, exclusion=125)
    best, lag = _similarity_join(x, 62, exclusion=125, stride=5)
    queries = np.arange(125, best.size, 5)
    others = np.setdiff1d(np.arange(best.size), queries)
    assert np.all(best[others] == -np.inf)  # windows between queries are not matched
    assert np.allclose(best[queries], full[queries], atol=1e-5) and np.array_equal(lag[queries], full_lag[queries])
    inside = queries[(queries >= 3000) & (queries <= 3200 - 62)]
    assert np.all(lag[inside] == 1683) and np.all(best[inside] > 0.9)
