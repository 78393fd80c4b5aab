"""Loop (POLICY A2): footage already shown earlier in the class, shown again (usually re-encoded)
to fill time that was not recorded: short repeats sprinkled through the hour, or long ones (the
second half of an hour replaying the first). Repeats of `loop_min_s` or more, at any lag.

Candidates come from three sources, cheapest first; each only says where to decode:
- the packet size series (monitor.footage.sizes), free: every frame's level (`frame_levels`, the
  keyframes and the frames just after them set aside) on one wall-clock grid of the frame step
  (where keyframes are dense, binned to `loop_bin_s`: probes and samples find loops there), cut
  into sliding windows of half `loop_min_s`; one window every `loop_bin_s` is compared with every
  window at least `loop_min_s` earlier (a similarity join as a matrix profile computes it:
  z-normalised windows, blocked matrix products in NumPy; stumpy's left matrix profile gave the same
  lags, but its numba kernels took 46-48 s to compile before their first call). A run of queries
  whose best earlier match lies at one lag is a candidate. Stretches the sizes call quiet (a frozen
  or black picture repeats its own sizes) are left out. Measured (bench/footage.py --sizes): a
  replay whose lag is a whole number of frames, at any GOP phase, correlates 0.77-0.91 at its lag
  and is found (5, 12 and 60 s: 7/7), clean footage gave no candidate; the sizes binned to 0.2 s,
  as this search had them before, found 3/7 with 20 false candidates per hour (the frame-to-frame
  shape is what repeats). A copy half a frame off its original (moments between its frames, as a
  re-timed copy or the generator's 7.3-s lags have them) does not repeat the sizes (0.03-0.34).
- sampled pictures: a keyframe matching an earlier keyframe within noise;
- where keyframes are dense (at most `sample_interval_s` apart), the probes: a stretch as long as
  the sampling step decoded at each junction, at the file's start and every
  `loop_probe_interval_s`, each frame matched against every earlier sample (a copy holds, for every
  earlier sample, the frame of the same instant). A repeat is found from them when it holds a probe.

Deciding costs decoding, and only there: a second of the copy and the original around the lag,
compared as grey pictures 160 px wide with the OSD clock's rows left out (a live clock differs in
a replay by design). A copy's frame matches the original's at the lag within re-encoding noise,
far closer than the original's frames 0.5-2 s away (the scene's own motion); a still scene gives
no such contrast and is never called a loop. With the lag confirmed, both ends are pinned to the
frame: single frames further out bracket each end (doubling, then halving), and the last window
is decoded frame by frame.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from monitor.footage.detector import ClassSignals, FileSignals
from monitor.footage.events import FootageEvent
from monitor.footage.junctions import junction_times
from monitor.footage.media import CONFIRM_W, PacketTimeline, SpanReader, choose_mode  # CONFIRM_W: a 64-px thumbnail blurs a swaying trainee away
from monitor.footage.pictures import distance, distances_to_many
from monitor.footage.sizes import Quiet, frame_levels, quiet_spans, size_series
from monitor.policy import Policy

_NEAR_S = 0.3  # the copy's frame is looked for this close to the lag (the bins' resolution and then some)
_AWAY_S = (0.5, 2.0)  # the scene's own motion: the original's frames this far from the lag (median)
_PROBE_S = 1.0  # copy decoded per confirmation
# A size candidate this short has its copy and original decoded once, edges' windows included: each
# separate decode starts at the keyframe before it (5 s of frames on average on a 10-s GOP), and a
# 5-s candidate's confirmation and two edges took about 2500 decoded frames that way, 1000 this way.
_PREFETCH_MAX_S = 20.0
# How far from a per-frame size candidate's ends its edges are looked for first (further out only
# when the copy fills that window): the size windows' run started and ended within 1.0 s of the
# true edges on the 13 edges measured (bench b's 4-minute file and test_loops' keyframe-sampled
# files: starts -1.0 to +0.4 s, ends -0.1 to +0.5 s). Binned size candidates (short GOPs, not
# measured so), samples' and probes' keep half a loop_min_s.
_SIZE_REACH_S = 2.0
# Per frame, a run of size windows starting or ending within _CUT_NEAR_S of a junction (a cut into
# or out of a copy) is a candidate from this correlation on, not only from `loop_similarity_min`:
# a copy re-timed half a frame off its original repeats the sizes' shape only weakly. Measured on
# bench b's 4-minute 1080p H.265 files (GOP 10 s): the 5-s replay at 7.3 s (182.5 frames) ran 2.2 s
# at 0.62 from the cut into it to the cut out of it, found by nothing else with keyframe sampling;
# the clean file's best runs stayed below 0.6 (none of 5 windows and more), and the tampered file's
# other runs at 0.6 were its planted replays.
_CUT_SIMILARITY_MIN = 0.6
_CUT_NEAR_S = 2.5
# Decoded pictures kept for later candidates, the sampling's dense spans among them (160x90 uint8:
# 58 MB): a 60-s replay's copy and original.
_KEPT_FRAMES = 4000
_HELD_S = 30.0  # decoded pictures kept per side while a candidate is pinned (160x90 uint8: 11 MB at 25 fps)


@dataclass(frozen=True)
class Candidate:
    copy_wall: tuple[float, float]  # where the size series (or a sample) says the copy lies
    lag_s: float  # wall seconds from the original to the copy
    score: float  # ranking: longer and closer runs first
    source: str  # "frames", "sizes", "probes" or "samples"
    reach_s: float | None = None  # how far from copy_wall's ends the edges are looked for first (None: half a loop_min_s)


@dataclass(frozen=True)
class LoopDetector:
    rule: ClassVar[str] = "footage.loop"
    needs: ClassVar[frozenset[str]] = frozenset({"sizes", "samples", "osd", "spans"})

    min_s: float  # shortest repeat reported; also the smallest lag considered
    sample_ratio: float  # sampled thumbnails: copy distance as a share of the sample's own motion ...
    sample_max: float  # ... and at most this (RMS grey levels, 64x36 thumbnails)
    sample_motion: float  # samples moving less than this are too still to tell copies apart
    confirm_ratio: float  # decoded frames (160-px grey): copy distance as a share of the scene's motion ...
    confirm_max: float  # ... and at most this (RMS grey levels)
    confirm_motion: float  # a stretch moving less than this is too still to tell copies apart
    bin_s: float  # the size series is queried one window this often (seconds)
    similarity_min: float  # correlation of size windows that makes a match
    run_min_s: float  # consecutive windows matching at one lag for at least this long make a candidate
    candidates_per_hour: int  # at most this many candidates confirmed per hour of footage
    sample_step_s: float  # the sampling step: files keyframed at least this densely are also probed
    probe_interval_s: float  # ... at one stretch this often
    junction_ratio: float  # ... and at junctions: packets this many times their neighbours
    junctions_per_hour: int  # ... the strongest this many per hour
    frame_ratio: float  # every-frame pictures: nearest earlier frame within this share of the scene's motion
    quiet: Quiet = Quiet()

    @classmethod
    def from_policy(cls, policy: Policy) -> "LoopDetector":
        return cls(policy.loop_min_s, policy.loop_match_ratio, policy.loop_match_max, policy.loop_min_motion,
                   policy.loop_confirm_ratio, policy.loop_confirm_max,
                   policy.loop_confirm_motion, policy.loop_bin_s, policy.loop_similarity_min,
                   policy.loop_run_min_s, policy.loop_candidates_per_hour,
                   policy.sample_interval_s, policy.loop_probe_interval_s, policy.junction_size_ratio,
                   policy.junction_max_per_hour, policy.loop_frame_ratio,
                   Quiet.of(policy))

    def detect(self, signals: ClassSignals) -> list[FootageEvent]:
        files = [f for f in signals.files if f.timeline.times_s.size > 1]
        if not files:
            return []
        search = _Search(self, files)
        try:
            return search.run()
        finally:
            search.close()

    # -- candidates -------------------------------------------------------------------------

    def size_candidates(self, files: list[FileSignals]) -> list[Candidate]:
        """Runs of queried windows whose best earlier match lies at one lag (see the module
        docstring). Where a file's keyframes are further apart than the sampling step, on the
        frames' own grid (a frame missing from it, a variable frame rate's drop, counts as the usual
        size); elsewhere binned to `bin_s` as before: keyframes that dense are probed and sampled
        besides, and frame by frame an hour's join costs 15 s on this machine against 2 s binned.
        Quiet stretches and the time between files count as nothing."""
        per_frame = not all(_keyed_densely(f.timeline, self.sample_step_s) for f in files)
        step = min(f.timeline.frame_duration_s for f in files) if per_frame else self.bin_s
        t0 = min(f.placed.wall_begin for f in files)
        t1 = max(f.placed.wall_end for f in files)
        count = int(np.ceil((t1 - t0) / step)) + 1
        grid = np.full(count, np.nan)
        for f in files:
            series = size_series(f.timeline)
            if per_frame:
                index = np.rint((f.timeline.times_s + f.placed.wall(0.0) - t0) / step).astype(np.int64)
                ok = (index >= 0) & (index < count)
                if not ok.any():
                    continue
                a, b = int(index[ok].min()), int(index[ok].max()) + 1
                grid[a:b] = np.where(np.isnan(grid[a:b]), 0.0, grid[a:b])
                grid[index[ok]] = frame_levels(f.timeline)[ok]
            else:
                first = int(np.floor((f.placed.wall_begin - t0) / step))
                n = min(count - first, int(np.ceil((f.placed.wall_end - f.placed.wall_begin) / step)))
                binned = series.binned(t0 + first * step - f.placed.wall(0.0), step, n)
                grid[first:first + n] = np.where(np.isnan(binned), grid[first:first + n], binned)
            for q0, q1 in quiet_spans(series, self.quiet):
                first = max(0, int((f.placed.wall(q0) - t0) / step))
                grid[first:max(first, int(np.ceil((f.placed.wall(q1) - t0) / step)) + 1)] = np.nan
        m = max(4, int(round(self.min_s / 2 / step)))
        exclusion = max(m, int(round(self.min_s / step)))
        stride = max(1, int(round(self.bin_s / step)))
        best, lag = _similarity_join(grid, m, exclusion=exclusion, stride=stride)
        queries = np.arange(exclusion, best.size, stride)
        if queries.size == 0:
            return []
        best, lag = best[queries], lag[queries]
        run_min = max(2, int(round(self.run_min_s / (stride * step))))
        tolerance = 2 if per_frame else 1

        def runs(similarity_min: float) -> Iterator[Candidate]:
            """The runs of windows at one lag correlating from similarity_min on, long enough."""
            for first, last, lag_steps in _runs(best, lag, similarity_min, tolerance=tolerance):
                if last - first + 1 >= run_min:
                    yield Candidate((t0 + queries[first] * step, t0 + (queries[last] + m) * step), lag_steps * step,
                                    float((last - first + 1) * np.mean(best[first:last + 1])), "sizes",
                                    _SIZE_REACH_S if per_frame else None)

        out = list(runs(self.similarity_min))
        if not per_frame:
            return out
        # A cut into or out of a replay is a junction (the picture jumps); there a run whose
        # windows correlate less is worth a confirmation too (see _CUT_SIMILARITY_MIN).
        cuts = np.concatenate([junction_times(f.timeline, self.junction_ratio, self.junctions_per_hour)
                               + f.placed.wall(0.0) for f in files])
        for cand in runs(_CUT_SIMILARITY_MIN):
            start, end = cand.copy_wall
            if not np.any((np.abs(cuts - start) <= _CUT_NEAR_S) | (np.abs(cuts - end) <= _CUT_NEAR_S)):
                continue
            if any(c.copy_wall[0] < end and start < c.copy_wall[1] and abs(c.lag_s - cand.lag_s) <= 3 * step
                   for c in out):
                continue  # the run above the usual bar, already a candidate
            out.append(cand)
        return out

    def probe_candidates(self, f: FileSignals, index: "_SampleIndex", reader: SpanReader,
                         probe_interval_s: float, junction_ratio: float, junctions_per_hour: int) -> list[Candidate]:
        """Where keyframes are dense (a 2-s GOP), the earlier search: decode a stretch as long as the
        sampling step at each junction the packets reveal, at the file's start and every
        `probe_interval_s`, and look for a frame that matches an earlier sample within noise (a copy
        holds, for every earlier sample, the frame of the same instant). It found the loop in the
        real clip (H.264 with B-frames, 10 fps) whose size series did not correlate (0.2 at the lag)."""
        timeline, placed = f.timeline, f.placed
        regular = np.arange(timeline.first_s, timeline.end_s, probe_interval_s)
        keys = timeline.keyframe_times_s
        if keys.size:
            nxt = keys[np.minimum(np.searchsorted(keys, regular), keys.size - 1)]
            regular = np.where((nxt >= regular) & (nxt - regular <= probe_interval_s / 4), nxt, regular)
        probes = np.unique(np.concatenate([junction_times(timeline, junction_ratio, junctions_per_hour), regular]))
        window = index.max_spacing_s + 0.1
        out: list[Candidate] = []
        searched_until = -np.inf
        for at in probes:
            if at < searched_until:
                continue
            searched_until = at + window
            frames = list(reader.span(float(at), float(at) + window))
            if not frames:
                continue
            walls = np.array([placed.wall(t) for t, _ in frames])
            usable = (index.wall_s <= walls.max() - self.min_s) & (index.motion >= self.sample_motion)
            if not usable.any():
                continue
            dist = distances_to_many(np.stack([th for _, th in frames]), index.thumbs[usable])
            limit = np.minimum(self.sample_ratio * index.motion[usable], self.sample_max)[None, :]
            ok = (dist <= limit) & (index.wall_s[usable][None, :] <= walls[:, None] - self.min_s)
            if not ok.any():
                continue
            score = np.where(ok, dist / limit, np.inf)
            samples = np.flatnonzero(usable)
            taken: list[float] = []
            for flat in np.argsort(score, axis=None)[:50]:  # the best few, one per lag
                k, i = np.unravel_index(int(flat), score.shape)
                if not np.isfinite(score[k, i]) or len(taken) >= 3:
                    break
                lag = float(walls[k] - index.wall_s[samples[i]])
                if any(abs(lag - x) < 0.5 for x in taken):
                    continue
                taken.append(lag)
                out.append(Candidate((walls[k] - 1.0, walls[k] + 1.0), lag, float(1.0 / max(score[k, i], 1e-3)),
                                     "probes"))
        return out

    def frame_candidates(self, files: list[FileSignals]) -> tuple[list[Candidate], "_FrameIndex | None"]:
        """Where every frame was decoded (long GOPs): each frame of a 0.2-s grid against every frame
        at least `min_s` earlier, anywhere in the class. A copy's frame lies within re-encoding noise
        of its original (measured 0.08 of the scene's own motion at 32x18 px), a clean frame's
        nearest other frame much further (0.18 and more); a run of such frames at one lag is a
        candidate. The nearest frame is searched in a projection on the pictures' main components
        (32 numbers a frame: an hour's 18000 queries against 90000 frames is a few seconds of matrix
        products) and the distance then taken on the whole picture, so the projection only ranks."""
        own = [f for f in files if f.samples.frames is not None and f.samples.frames.shape[0] > 1]
        if not own:
            return [], None
        own.sort(key=lambda f: f.placed.wall_begin)
        walls = np.concatenate([f.samples.frame_times_s + f.placed.wall(0.0) for f in own])
        pictures = own[0].samples.frames if len(own) == 1 else np.concatenate([f.samples.frames for f in own])
        if np.any(np.diff(walls) < 0):  # files that overlap on the wall clock
            order = np.argsort(walls, kind="stable")
            walls, pictures = walls[order], pictures[order]
        rows = np.ones(pictures.shape[1], dtype=bool)
        for f in own:  # the OSD clock ticks on over a replay: its rows are left out
            if f.osd is not None:
                r0, r1 = f.osd.rows
                rows[r0 * rows.size // 36:(r1 + 1) * rows.size // 36 + 1] = False
        flat = _without_rows(pictures, rows)
        return _frame_runs(walls, flat, self.min_s, self.frame_ratio, self.confirm_motion), _FrameIndex(walls, flat)

    def sample_candidates(self, files: list[FileSignals]) -> list[Candidate]:
        """A sampled picture matching an earlier one within noise (one far from its neighbours)."""
        walls = np.concatenate([f.samples.times_s + f.placed.wall(0.0) for f in files])
        thumbs = np.concatenate([f.samples.thumbs for f in files])
        if walls.size < 3:
            return []
        order = np.argsort(walls)
        walls, thumbs = walls[order], thumbs[order]
        n = walls.size
        # A block of samples at a time against those early enough for it: the whole class's
        # sample-to-sample matrix grew with the square of its length (an hour's 1800 samples at
        # 2 s: 13 MB, its float temporaries 28 MB more than half an hour's).
        motion = np.full(n, np.inf)
        for a in range(0, n - 1, _SAMPLE_BLOCK):
            b = min(n - 1, a + _SAMPLE_BLOCK)
            steps = np.diag(distances_to_many(thumbs[a:b], thumbs[a + 1:b + 1]))  # each to the next
            motion[a + 1:b + 1] = np.minimum(motion[a + 1:b + 1], steps)
            motion[a:b] = np.minimum(motion[a:b], steps)
        ends = np.searchsorted(walls, walls - self.min_s, side="right")  # samples [0, end) are early enough
        out = []
        for a in range(0, n, _SAMPLE_BLOCK):
            rows = np.arange(a, min(n, a + _SAMPLE_BLOCK))
            rows = rows[(ends[rows] > 0) & (motion[rows] >= self.sample_motion)]
            if rows.size == 0:
                continue
            dist = distances_to_many(thumbs[rows], thumbs[:int(ends[rows].max())])
            for r, i in enumerate(rows):
                j = int(np.argmin(dist[r, :ends[i]]))
                if dist[r, j] <= min(self.sample_ratio * motion[i], self.sample_max):
                    out.append(Candidate((walls[i] - 1.0, walls[i] + 1.0), float(walls[i] - walls[j]),
                                         float(motion[i] / max(dist[r, j], 1e-3)), "samples"))
        return out


_SAMPLE_BLOCK = 256  # sampled pictures compared with the earlier ones at a time
_QUERY_S = 0.2  # frames queried this far apart: a 5-s copy holds 25
_DIMS = 32  # main components the nearest frame is searched in
_MOTION_AT_S = (-2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0)  # the scene's own motion: frames this far off
_RUN_MIN_S = 1.0  # queries matching at one lag for this long make a candidate
_LAG_AGREE_S = 0.15


def _without_rows(pictures: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """(n, d) pictures without the rows left out: a view of the decoded frames where the rows
    kept are one band (the OSD at the top or the bottom, or none), a copy otherwise. The copy was
    the every-frame path's second hold of every frame (an hour of 32x18 frames: 47 MB beside the
    frames' own 52), one of what made its peak RSS grow from 30 to 60 minutes."""
    kept = np.flatnonzero(rows)
    n = pictures.shape[0]
    if kept.size and kept[-1] - kept[0] + 1 == kept.size:
        band = pictures[:, kept[0]:kept[-1] + 1]
        return band.reshape(n, -1)  # a view: within a frame the band's rows lie one after another
    return np.ascontiguousarray(pictures[:, rows]).reshape(n, -1)


@dataclass(frozen=True)
class _FrameIndex:
    """Every decoded frame's tiny picture on the class's wall clock (OSD rows left out)."""

    walls: np.ndarray  # (n,) sorted
    flat: np.ndarray  # (n, d) uint8

    def nearest(self, wall: float, within_s: float) -> int | None:
        k = int(np.searchsorted(self.walls, wall))
        best = min((i for i in (k - 1, k) if 0 <= i < self.walls.size), key=lambda i: abs(self.walls[i] - wall),
                   default=None)
        return best if best is not None and abs(self.walls[best] - wall) <= within_s else None

    def distance(self, i: int, j: int) -> float:
        d = self.flat[i].astype(np.float32) - self.flat[j].astype(np.float32)
        return float(np.sqrt(np.mean(d * d)))


def _frame_runs(walls: np.ndarray, flat: np.ndarray, min_s: float, ratio_max: float, motion_min: float,
                block: int = 128) -> list[Candidate]:
    """Runs of queried frames whose nearest earlier frame (at least `min_s` before) is a copy's.
    Queries go up to `block` at a time, fewer as the class grows, so that a block's distances stay
    near 12 MB: 128 queries against an hour's 90000 frames were 46 MB, three times over in the
    expression's temporaries (the peak RSS then grew with the footage's length)."""
    n = walls.size
    queries = np.flatnonzero(np.concatenate([[True], np.diff(np.floor((walls - walls[0]) / _QUERY_S)) > 0]))
    queries = queries[walls[queries] >= walls[0] + min_s]
    if queries.size == 0:
        return []
    step = max(1, n // 4000)
    sample = flat[::step].astype(np.float64)
    mean = sample.mean(axis=0)
    centred = sample - mean
    # The main components from the covariance (d x d, d = 576): an SVD of the 5000 x 576 sample
    # took 15.7 s on this loaded machine, the eigendecomposition a fraction of a second.
    _, vectors = np.linalg.eigh(centred.T @ centred)
    basis = vectors[:, ::-1][:, :_DIMS].astype(np.float32)  # (d, k), largest first
    mean = mean.astype(np.float32)
    feats = np.concatenate([(flat[a:a + 4096].astype(np.float32) - mean) @ basis for a in range(0, n, 4096)])
    norms = np.einsum("ij,ij->i", feats, feats)
    nearest = np.empty(queries.size, dtype=np.int64)
    rows = max(8, min(block, 3_000_000 // n))
    for a in range(0, queries.size, rows):
        q = queries[a:a + rows]
        limit = int(np.searchsorted(walls, walls[q].max() - min_s, side="right"))
        if limit == 0:
            nearest[a:a + rows] = -1
            continue
        d2 = feats[q] @ feats[:limit].T  # in place from here: no temporaries of the block's size
        d2 *= -2.0
        d2 += norms[None, :limit]
        d2 += norms[q][:, None]
        # Too recent for some queries: only columns from the earliest query's own limit on.
        first = int(np.searchsorted(walls, walls[q].min() - min_s, side="right"))
        if first < limit:
            d2[:, first:][walls[None, first:limit] > walls[q][:, None] - min_s] = np.inf
        j = np.argmin(d2, axis=1)
        nearest[a:a + rows] = np.where(np.isfinite(d2[np.arange(q.size), j]), j, -1)
    found = nearest >= 0
    q, j = queries[found], nearest[found]
    if q.size == 0:
        return []

    def dist(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Distances of pairs, 4096 at a time: an hour's 18000 pairs at once were three float
        copies of 36 MB each, nine times over (the default path's peak RSS grew 363 -> 522 MB
        from 30 to 60 minutes of 1080p)."""
        out = np.empty(x.size, dtype=np.float32)
        for a in range(0, x.size, 4096):
            diff = flat[x[a:a + 4096]].astype(np.float32) - flat[y[a:a + 4096]].astype(np.float32)
            out[a:a + 4096] = np.sqrt(np.mean(diff * diff, axis=1))
        return out

    match = dist(q, j)
    around = [np.clip(np.searchsorted(walls, walls[q] + off), 0, n - 1) for off in _MOTION_AT_S]
    motion = np.median(np.stack([dist(q, k) for k in around]), axis=0)
    ok = (motion >= motion_min) & (match <= ratio_max * motion)
    lags = walls[q] - walls[j]
    out: list[Candidate] = []
    k = 0
    idx = np.flatnonzero(ok)
    while k < idx.size:
        first = last = k
        while last + 1 < idx.size and abs(lags[idx[last + 1]] - lags[idx[first]]) <= _LAG_AGREE_S \
                and walls[q[idx[last + 1]]] - walls[q[idx[last]]] <= 3 * _QUERY_S:
            last += 1
        a, b = walls[q[idx[first]]], walls[q[idx[last]]]
        if b - a >= _RUN_MIN_S - 1e-6:
            score = float((last - first + 1) / max(float(np.mean(match[idx[first:last + 1]] / motion[idx[first:last + 1]])), 1e-3))
            out.append(Candidate((float(a), float(b)), float(np.median(lags[idx[first:last + 1]])), score, "frames"))
        k = last + 1
    return out


def _similarity_join(x: np.ndarray, m: int, exclusion: int, block: int = 1024,
                     stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """For each window of `m` bins, the correlation with its best match among windows starting at
    least `exclusion` bins earlier, and that lag in bins (-inf / 0 where none: NaNs, a flat series).
    `stride`: only every stride-th window from `exclusion` on is matched (the others stay -inf),
    against every earlier window still, so the lag keeps the grid's resolution at a stride-th of
    the cost. Rows go a block at a time, fewer when the series is long (an hour of frames: 90000
    columns), so a block's correlations stay near 12 MB whatever the length (at 50 MB, reached
    from half an hour of 0.2-s bins on, the peak RSS grew from 30 to 60 minutes)."""
    n = x.size - m + 1
    if n <= exclusion:
        return np.full(max(n, 0), -np.inf), np.zeros(max(n, 0), dtype=np.int64)
    windows = np.lib.stride_tricks.sliding_window_view(x, m)
    ok = ~np.isnan(windows).any(axis=1)
    z = np.where(ok[:, None], windows, 0.0)
    z = z - z.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(z, axis=1)
    ok &= norms > 1e-6 * np.sqrt(m)
    z = (z / np.where(ok, norms, 1.0)[:, None]).astype(np.float32)
    z[~ok] = 0.0
    best = np.full(n, -np.inf)
    lag = np.zeros(n, dtype=np.int64)
    queries = np.arange(exclusion, n, stride)
    queries = queries[ok[queries]]  # a window of NaNs or a flat one matches nothing
    rows = max(16, min(block, 3_000_000 // n))
    for a in range(0, queries.size, rows):
        q = queries[a:a + rows]
        limit = int(q[-1]) - exclusion + 1
        corr = z[q] @ z[:limit].T  # these queries against every window early enough for the last
        # Too recent for some of these queries: only the last columns, a band as wide as the
        # block's queries (masking the whole block, and every unusable column besides, took a
        # quarter of an hour's join: 10.7 -> 8.0 s on 90000 frames under load 10).
        band = max(0, int(q[0]) - exclusion + 1)
        if band < limit:
            corr[:, band:][np.arange(band, limit)[None, :] > (q - exclusion)[:, None]] = -np.inf
        j = np.argmax(corr, axis=1)
        value = corr[np.arange(q.size), j]
        # An unusable window's row of z is zero, so it correlates 0 with everything: it can only
        # be the best where every usable one correlates below 0; such rows are done again exactly.
        for r in np.flatnonzero(~ok[j]):
            row = np.where(ok[:limit], corr[r], -np.inf)
            j[r] = int(np.argmax(row))
            value[r] = row[j[r]]
        best[q] = value
        lag[q] = q - j
    return best, lag


def _runs(best: np.ndarray, lag: np.ndarray, threshold: float, tolerance: int = 1) -> list[tuple[int, int, int]]:
    """(first, last, lag) of maximal runs of windows at or above threshold whose lags agree within
    `tolerance` bins (frames: a variable frame rate moves a frame by one); runs at the same lag
    separated by a short dip (a few windows) are one."""
    out: list[list[int]] = []
    i, n = 0, best.size
    while i < n:
        if best[i] < threshold:
            i += 1
            continue
        j = i
        while j + 1 < n and best[j + 1] >= threshold and abs(int(lag[j + 1]) - int(lag[i])) <= tolerance:
            j += 1
        lag_i = int(np.median(lag[i:j + 1]))
        if out and abs(out[-1][2] - lag_i) <= tolerance and i - out[-1][1] <= 10:
            out[-1][1] = j
        else:
            out.append([i, j, lag_i])
        i = j + 1
    return [(a, b, c) for a, b, c in out]


@dataclass
class _Stretch:
    times: np.ndarray  # media seconds
    pictures: np.ndarray  # (n, h, w) uint8 grey (float32 only where compared: a quarter of the memory held)


class _Search:
    """One loop search over a class: candidates, their confirmation and extent."""

    def __init__(self, detector: LoopDetector, files: list[FileSignals]) -> None:
        self.d = detector
        self.files = files
        self._readers: dict[tuple[Path, str], SpanReader] = {}  # one per file and role: each reads on
        self._held: dict[tuple[Path, str], tuple[float, float, _Stretch]] = {}  # prefetched, by file and role
        # Every stretch decoded for any candidate and role, by file: (wall from, wall to, pictures),
        # the oldest let go beyond _KEPT_FRAMES. Candidates share footage: a copy's original may be
        # another copy already decoded, or the original of another loop (bench b: the 60-s replay's
        # original ends inside the 12-s replay, two replays' originals overlap), and each decode
        # from the keyframe before costs 5 s of frames on a 10-s GOP.
        self._kept: dict[Path, list[tuple[float, float, _Stretch]]] = {}
        self._kept_lock = threading.Lock()  # the copy and the original are decoded on two threads
        for f in files:  # what the sampling decoded around cuts, freezes and black (with the loop filter)
            for a, b, times, pictures in f.samples.span_greys:
                self._keep_decoded(f.timeline.path, f.placed.wall(a), f.placed.wall(b),
                                   _Stretch(times + f.placed.wall(0.0), pictures))
        self.frame_index: _FrameIndex | None = None
        self._pool = ThreadPoolExecutor(max_workers=2)  # a candidate's copy and original decoded at once
        # A short size candidate is checked at its middle before its whole stretch is decoded
        # where keyframes are dense: a decode there starts at most a sampling step before its
        # window, so a separate check costs a true copy little. Not where the sampling kept
        # pictures decoded with the loop filter: what is kept, and so which decode a picture
        # comes from, would then change with the decoding done (and the pictures with it).
        self._check_first = all(_keyed_densely(f.timeline, detector.sample_step_s) and not f.samples.span_greys
                                for f in files)

    def close(self) -> None:
        self._pool.shutdown()
        for reader in self._readers.values():
            reader.close()

    def _file_at(self, wall: float) -> FileSignals | None:
        return next((f for f in self.files if f.placed.wall_begin <= wall < f.placed.wall_end), None)

    def _reader(self, f: FileSignals, role: str) -> SpanReader:
        key = (f.timeline.path, role)
        reader = self._readers.get(key)
        if reader is None:
            reader = self._readers[key] = SpanReader(f.timeline.path, f.timeline.keyframe_times_s,
                                                     skip_loop_filter=role != "probe")
        return reader

    def _stretch(self, f: FileSignals, wall0: float, wall1: float, role: str) -> _Stretch:
        # past the file's last frame nothing is there to decode (a seek would decode its last GOP for nothing)
        wall1 = min(wall1, f.placed.wall(float(f.timeline.times_s[-1])) + 1e-6)
        key = (f.timeline.path, role)
        held = self._held.get(key)
        if held is not None and held[0] <= wall0 <= held[1]:
            inside = (held[2].times >= wall0 - 1e-6) & (held[2].times <= wall1 + 1e-6)
            part = _Stretch(held[2].times[inside], held[2].pictures[inside])
            if wall1 <= held[1]:
                return part
            # The rest is decoded on from where the held stretch ended: the reader is there, and a
            # decode from wall0 would start again at the keyframe before it. What is held grows
            # with it (its last `_HELD_S` seconds), so the next window, overlapping this one's end
            # by a frame or two, decodes on too.
            rest = self._decoded(f, held[1] + 1e-4, wall1, role)
            if rest.times.size == 0:
                return part
            grown = _Stretch(np.concatenate([held[2].times, rest.times]), np.concatenate([held[2].pictures, rest.pictures]))
            recent = grown.times >= wall1 - _HELD_S
            self._held[key] = (max(held[0], wall1 - _HELD_S), wall1, _Stretch(grown.times[recent], grown.pictures[recent]))
            inside = (grown.times >= wall0 - 1e-6) & (grown.times <= wall1 + 1e-6)
            return _Stretch(grown.times[inside], grown.pictures[inside])
        return self._decoded(f, wall0, wall1, role)

    def _decoded(self, f: FileSignals, wall0: float, wall1: float, role: str) -> _Stretch:
        """Every frame in [wall0, wall1], from what was decoded before where it holds the stretch
        or its beginning (the rest is decoded on from there: never from a keyframe earlier than
        the whole stretch's)."""
        path = f.timeline.path
        with self._kept_lock:
            held = next(((a, b, st) for a, b, st in self._kept.get(path, []) if a <= wall0 + 1e-6 and b > wall0), None)
        if held is not None:
            inside = (held[2].times >= wall0 - 1e-6) & (held[2].times <= wall1 + 1e-6)
            part = _Stretch(held[2].times[inside], held[2].pictures[inside])
            if held[1] >= wall1 - 1e-6:
                return part
            rest = self._decoded(f, held[1] + 1e-4, wall1, role)
            if rest.times.size == 0:
                return part
            if part.times.size == 0:
                return rest
            return _Stretch(np.concatenate([part.times, rest.times]), np.concatenate([part.pictures, rest.pictures]))
        reader = self._reader(f, role)
        frames = list(reader.grey(f.placed.media(wall0), f.placed.media(wall1), CONFIRM_W))
        if not frames:
            return _Stretch(np.zeros(0), np.zeros((0, 1, 1), np.uint8))
        stretch = _Stretch(np.array([f.placed.wall(t) for t, _ in frames]), np.stack([p for _, p in frames]))
        self._keep_decoded(path, wall0, wall1, stretch)
        return stretch

    def _keep_decoded(self, path: Path, wall0: float, wall1: float, stretch: _Stretch) -> None:
        """Add a decoded stretch to what is kept of its file, joined with those it overlaps or
        touches, and let the oldest go beyond _KEPT_FRAMES."""
        with self._kept_lock:
            kept = self._kept.setdefault(path, [])
            joined = [(a, b, st) for a, b, st in kept if a <= wall1 + 1e-3 and wall0 <= b + 1e-3]
            if joined:
                times = np.concatenate([st.times for _, _, st in joined] + [stretch.times])
                pictures = np.concatenate([st.pictures for _, _, st in joined] + [stretch.pictures])
                times, first = np.unique(times, return_index=True)
                stretch = _Stretch(times, pictures[first])
                wall0 = min([wall0] + [a for a, _, _ in joined])
                wall1 = max([wall1] + [b for _, b, _ in joined])
                kept[:] = [k for k in kept if not any(k is j for j in joined)]
            kept.append((wall0, wall1, stretch))
            total = sum(st.times.size for ks in self._kept.values() for _, _, st in ks)
            while total > _KEPT_FRAMES and len(kept) > 1:
                total -= kept.pop(0)[2].times.size

    def _keep(self, copy: FileSignals, original: FileSignals, shape: tuple[int, int]) -> np.ndarray:
        keep = np.ones(shape, dtype=bool)
        for f in (copy, original):
            if f.osd is not None:
                r0, r1 = f.osd.rows
                keep[r0 * shape[0] // 36:(r1 + 1) * shape[0] // 36 + 1] = False
        return keep

    def run(self) -> list[FootageEvent]:
        hours = sum(f.timeline.end_s - f.timeline.first_s for f in self.files) / 3600.0
        cap = max(5, int(np.ceil(self.d.candidates_per_hour * hours)))
        framed, self.frame_index = self.d.frame_candidates(self.files)
        if all(f.samples.frames is not None for f in self.files):
            candidates = framed  # every frame against every earlier one: sizes and samples add only decoding
        else:
            candidates = framed + self.d.size_candidates(self.files) + self.d.sample_candidates(self.files)
        dense = [f for f in self.files if f.samples.frames is None
                 and (choose_mode(f.timeline, self.d.sample_step_s) == "keyframes" or f.samples.mode == "interval")]
        if dense:
            index = _SampleIndex(self.files)
            for f in dense:
                candidates += self.d.probe_candidates(f, index, self._reader(f, "probe"), self.d.probe_interval_s,
                                                      self.d.junction_ratio, self.d.junctions_per_hour)
        # Which candidates are tried: the best `cap` (probes and samples matched a picture within
        # noise; a size run is only a shape), pieces of one run at one lag counted once (a 60-s
        # replay's frames gave five runs, which took the cap of a 4-minute file from the 12-s
        # replay). In what order: as they lie on the wall clock. A copy whose own stretch holds a
        # repeat of something nearer (bench b: the 12-s replay's second half also replays the 5-s
        # loop's original) is split into runs at two lags; from its start the copy is pinned to its
        # full length first, and the nested run is then covered, where the other order confirmed it
        # first as a loop of its own (1,208 of the file's 3,028 frames decoded by the loop search)
        # inside the one reported anyway.
        candidates = _joined(candidates, self.d.min_s)
        candidates.sort(key=lambda c: ({"frames": 0, "probes": 0, "samples": 1}.get(c.source, 2), -c.score))
        candidates = sorted(candidates[:cap], key=lambda c: c.copy_wall[0])
        events: list[FootageEvent] = []
        covered: list[tuple[float, float]] = []
        for cand in candidates:
            a, b = cand.copy_wall
            if any(x <= (a + b) / 2 <= y for x, y in covered):
                continue
            found = self._confirm_frames(cand) if cand.source == "frames" and self.frame_index is not None \
                else self._confirm(cand)
            if found is None:
                continue
            event, wall_span = found
            if event.duration_s >= self.d.min_s - 0.05:  # a shorter repeat may lie inside a longer one
                covered.append(wall_span)
                events.append(event)
        return events

    def _compare(self, copy: _Stretch, original: _Stretch, keep: np.ndarray, lag_s: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per copy frame: distance to the nearest-in-look original frame within _NEAR_S of the lag,
        the lag that frame gives, and the scene's own motion (median distance to the original's
        frames _AWAY_S away: the nearest alone made a slow scene look still, 2.2 against noise 1.3)."""
        c = copy.pictures[:, keep].astype(np.float32)
        o = original.pictures[:, keep].astype(np.float32)
        d = np.sqrt(np.maximum(
            (c * c).sum(1)[:, None] + (o * o).sum(1)[None, :] - 2.0 * (c @ o.T), 0.0) / c.shape[1])
        offset = original.times[None, :] - (copy.times[:, None] - lag_s)
        near = np.abs(offset) <= _NEAR_S
        away = (np.abs(offset) >= _AWAY_S[0]) & (np.abs(offset) <= _AWAY_S[1])
        dn = np.where(near, d, np.inf)
        best = np.argmin(dn, axis=1)
        match = dn[np.arange(d.shape[0]), best]
        motion = np.nanmedian(np.where(away, d, np.nan), axis=1) if away.any() else np.full(d.shape[0], np.nan)
        motion = np.nan_to_num(motion, nan=np.inf)
        lags = copy.times - original.times[best]
        return match, lags, motion

    def _confirm_frames(self, cand: Candidate) -> tuple[FootageEvent, tuple[float, float]] | None:
        """A candidate from every frame's pictures, confirmed and pinned on those pictures: they are
        already decoded (a decode from the keyframe before, on a 10-s GOP, took 34 s of a 10-minute
        1080p file's 131 s). The copy's frames in the run must match their originals at the lag
        within `frame_ratio` of the scene's own motion there; each end is the last frame, walking
        outwards, that still matches (two misses in a row end it: one frame may be re-encoded worse)."""
        ix = self.frame_index
        assert ix is not None
        step = float(np.median(np.diff(ix.walls))) if ix.walls.size > 1 else 0.04
        lag = cand.lag_s
        a, b = cand.copy_wall
        inside = np.flatnonzero((ix.walls >= a) & (ix.walls <= b))

        def match(i: int) -> float | None:
            o = ix.nearest(float(ix.walls[i]) - lag, step * 0.6)
            return None if o is None else ix.distance(i, o)

        dists = [d for d in (match(int(i)) for i in inside) if d is not None]
        if len(dists) < 3:
            return None
        motion = []
        for i in inside[:: max(1, inside.size // 10)]:
            near = [ix.nearest(float(ix.walls[i]) + off, step) for off in _MOTION_AT_S]
            motion.append(np.median([ix.distance(int(i), j) for j in near if j is not None]))
        scene = float(np.median(motion))
        noise = float(np.median(dists))
        if scene < self.d.confirm_motion or noise > self.d.frame_ratio * scene:
            return None
        # Along the copy a frame matches when it is as close as this copy's frames are, with room
        # for the encoder (the first frames after the cut into a copy measured 0.7-1.1 where the
        # copy's median was 0.65; the scene's own motion in a quiet stretch fell to 3.4), and
        # never half as far as the scene moves.
        limit = min(max(self.d.frame_ratio * scene, 2.0 * noise), 0.5 * scene)

        def walk(i: int, direction: int) -> int:
            last, misses = i, 0
            while 0 <= i + direction < ix.walls.size and misses <= 2:
                i += direction
                d = match(i)
                if d is None:
                    break
                if d <= limit:
                    last, misses = i, 0
                else:
                    misses += 1
            return last

        first, final = walk(int(inside[0]), -1), walk(int(inside[-1]), 1)
        start, end = float(ix.walls[first]), float(ix.walls[final]) + step
        copy_f, orig_f = self._file_at(start), self._file_at(start - lag)
        if copy_f is None or orig_f is None:
            return None
        lag = float(np.median([ix.walls[i] - ix.walls[o] for i in range(first, final + 1)
                               if (o := ix.nearest(float(ix.walls[i]) - lag, step * 0.6)) is not None]))
        return self._event(copy_f, orig_f, start, end, lag, noise, limit), (start, end)

    def _confirm(self, cand: Candidate) -> tuple[FootageEvent, tuple[float, float]] | None:
        """Compare a second of the copy with the original around the lag, and pin both ends.

        A size candidate longer than `_PREFETCH_MAX_S` is checked at its start first, in the window
        where the start is then pinned, and its end in the window where the end is pinned: two
        decodes per side instead of three (each starts at the keyframe before it, on a 10-s GOP 5 s
        of frames on average, more than the windows themselves). Elsewhere, or when the start does
        not show the copy (too still, or the copy begins further in), in the middle of the
        candidate, then at a fifth and four fifths of it."""
        a, b = cand.copy_wall
        self._held.clear()
        # the size windows blur an edge by up to half a loop_min_s (per frame measured within 1 s)
        reach = min(cand.reach_s or np.inf, self.d.min_s / 2 + 0.5)
        if cand.source == "sizes" and b - a > _PREFETCH_MAX_S:
            at = a + reach - _PROBE_S
            self._prefetch(a - reach, a + reach, cand.lag_s, at)
            checked = self._check(at, cand.lag_s)
            # not a copy there (the start further in than the sizes put it, or nothing to tell):
            # the middle decides, as for any candidate
            if checked is not None and checked is not False:
                copy_f, orig_f, lag, noise, limit, keep = checked
                start = self._edge(copy_f, orig_f, lag, limit, keep, a - reach, at, backward=True)
                self._prefetch(b - reach, b + reach, lag)
                end = self._edge(copy_f, orig_f, lag, limit, keep, max(at + _PROBE_S, b - reach), b + reach,
                                 backward=False)
                return self._event(copy_f, orig_f, start, end, lag, noise, limit), (start, end)
            self._held.clear()
        elif cand.source == "sizes":
            if self._check_first:
                # The second at the middle alone first (the copy's and the original's share of
                # it, on two threads): where the scene moved and the copy did not follow, the
                # candidate ends there, without its whole copy and original decoded (on the
                # 720p H.264 GOP-50 hour, 19 of 20 candidates: 0.3-0.8 CPU-s each).
                mid = (a + b) / 2
                self._prefetch(mid, mid + _PROBE_S, cand.lag_s, mid)
                if self._check(mid, cand.lag_s) is False:
                    return None
            self._prefetch(a - reach, b + reach, cand.lag_s, (a + b) / 2)
        # a picture matched at the middle of a probe's or sample's candidate: centre the second there
        first = (a + b) / 2 - (_PROBE_S / 2 if cand.source != "sizes" else 0.0)
        for at in (first, a + (b - a) * 0.2, a + (b - a) * 0.8):
            checked = self._check(at, cand.lag_s)
            if checked is False:
                return None  # the scene moved, and the copy did not follow: not a copy
            if checked is None:
                continue
            copy_f, orig_f, lag, noise, limit, keep = checked
            start = self._edge(copy_f, orig_f, lag, limit, keep, a - reach, min(at, a + reach), backward=True)
            end = self._edge(copy_f, orig_f, lag, limit, keep, max(at + _PROBE_S, b - reach), b + reach,
                             backward=False)
            return self._event(copy_f, orig_f, start, end, lag, noise, limit), (start, end)
        return None

    def _check(self, at: float, lag_s: float
               ) -> tuple[FileSignals, FileSignals, float, float, float, np.ndarray] | bool | None:
        """A second of the copy from `at` against the original around the lag: (copy's file,
        original's file, refined lag, match noise, per-frame limit, pixels compared) where it is a
        copy; False where the scene moved and the copy did not follow; None where it cannot tell
        (too still, or nothing to compare there)."""
        copy_f, orig_f = self._file_at(at), self._file_at(at - lag_s)
        if copy_f is None or orig_f is None:
            return None
        copy = self._stretch(copy_f, at, at + _PROBE_S, "copy")
        original = self._stretch(orig_f, at - lag_s - _AWAY_S[1] - 0.1, at + _PROBE_S - lag_s + _AWAY_S[1] + 0.1,
                                 "original")
        if copy.times.size < 3 or original.times.size < 3:
            return None
        keep = self._keep(copy_f, orig_f, copy.pictures.shape[1:])
        match, lags, motion = self._compare(copy, original, keep, lag_s)
        moving = np.isfinite(motion) & (motion >= self.d.confirm_motion)
        ok = moving & (match <= self.d.confirm_max) & (match <= self.d.confirm_ratio * motion)
        if ok.mean() < 0.8:
            return False if moving.mean() >= 0.8 else None
        noise = float(np.median(match[ok]))
        # Along the copy a frame matches when it is as close as the confirmed ones, with room for
        # the encoder's noise to vary (0.0 at a shared keyframe, 1.4 two frames on: measured).
        limit = min(self.d.confirm_max, max(1.5 * noise, self.d.confirm_ratio * float(np.median(motion[ok]))))
        return copy_f, orig_f, float(np.median(lags[ok])), noise, limit, keep

    def _prefetch(self, w0: float, w1: float, lag: float, check_at: float | None = None) -> None:
        """Decode the copy over [w0, w1] and the original at the lag once each, where each lies in
        one file (the copy's window cut at its file's end): the original with the margin a lag
        refined by `_NEAR_S` needs, and around `check_at` the one the scene's own motion needs
        (`_check`), no wider. The two at once, on two threads (PyAV decodes without the GIL; each
        side has its own reader)."""
        copy_f = self._file_at(w0)
        if copy_f is not None:
            w1 = min(w1, copy_f.placed.wall_end - 1e-6)
        orig_f = self._file_at(w0 - lag)
        if copy_f is None or orig_f is None or copy_f is not self._file_at(w1) or orig_f is not self._file_at(w1 - lag):
            return
        near = _NEAR_S + 2 * copy_f.timeline.frame_duration_s
        o0, o1 = w0 - lag - near, w1 - lag + near
        if check_at is not None:
            o0 = min(o0, check_at - lag - _AWAY_S[1] - 0.1)
            o1 = max(o1, check_at + _PROBE_S - lag + _AWAY_S[1] + 0.1)
        jobs = ((copy_f, w0, w1, "copy"), (orig_f, o0, o1, "original"))
        for f, _, _, role in jobs:
            self._held.pop((f.timeline.path, role), None)
            self._reader(f, role)  # opened here, not on the pool's threads
        done = list(self._pool.map(lambda job: self._stretch(job[0], job[1], job[2], job[3]), jobs))
        for (f, a, b, role), stretch in zip(jobs, done):
            self._held[(f.timeline.path, role)] = (a, b, stretch)

    def _matched(self, copy_f: FileSignals, orig_f: FileSignals, lag: float, limit: float, keep: np.ndarray,
                 w0: float, w1: float) -> tuple[np.ndarray, np.ndarray]:
        """Copy frame times in [w0, w1] and whether each matches the original's frame at the lag."""
        step = copy_f.timeline.frame_duration_s
        copy = self._stretch(copy_f, w0, w1, "copy")
        original = self._stretch(orig_f, w0 - lag - step, w1 - lag + step, "original")
        if copy.times.size == 0 or original.times.size == 0:
            return copy.times, np.zeros(copy.times.size, dtype=bool)
        nearest = np.clip(np.searchsorted(original.times, copy.times - lag), 1, original.times.size - 1)
        nearest -= (copy.times - lag - original.times[nearest - 1]) < (original.times[nearest] - (copy.times - lag))
        if original.times.size == 1:
            nearest[:] = 0
        close = np.abs(original.times[nearest] - (copy.times - lag)) <= step * 0.6
        diff = copy.pictures[:, keep].astype(np.float32) - original.pictures[nearest][:, keep].astype(np.float32)
        return copy.times, close & (np.sqrt(np.mean(diff * diff, axis=1)) <= limit)

    def _edge(self, copy_f: FileSignals, orig_f: FileSignals, lag: float, limit: float, keep: np.ndarray,
              lo: float, hi: float, backward: bool) -> float:
        """Wall time where the copy begins (backward: the first frame of the matching run that reaches
        `hi`) or ends (forward: just after the last frame of the run from `lo`). The window is where
        the size series puts the edge; when the run fills it, single frames further out bracket the
        edge (doubling steps, then halving), and the last window is decoded frame by frame."""
        step = copy_f.timeline.frame_duration_s
        if backward:
            bound = max(copy_f.placed.wall_begin, orig_f.placed.wall_begin + lag)
        else:
            bound = min(copy_f.placed.wall_end, orig_f.placed.wall_end + lag)
        width = max(hi - lo, 1.0)

        def holds(t: float) -> bool:
            times, matched = self._matched(copy_f, orig_f, lag, limit, keep, t, t + step * 1.5)
            return bool(matched[0]) if times.size else False

        lo, hi = (max(lo, bound), hi) if backward else (lo, min(hi, bound))
        # The window first: the edge is usually in it, and a single frame at its far end (which the
        # search used to check first) cost as much decoding as the window, a keyframe's GOP before it.
        times, matched = self._matched(copy_f, orig_f, lag, limit, keep, lo, hi)
        if times.size == 0:
            return hi if backward else lo
        edge = _first_miss(times, matched, step, backward)
        if edge is not None or (lo <= bound if backward else hi >= bound):
            return edge if edge is not None else (lo if backward else hi)
        # Forward, the next windows (each twice as long) are decoded on from where the last one
        # ended (no seek, no frames before them), up to `_PREFETCH_MAX_S` further: a single frame
        # further out costs a decode from its keyframe and then the window before it again (the
        # end of a size candidate cut short by a repeat inside the copy, on the bench: 954 -> 300
        # decoded frames). Beyond that, and backwards, single frames gallop.
        reach = width
        while not backward and hi < min(bound, lo + width + _PREFETCH_MAX_S):
            w1 = min(bound, hi + reach)
            times, matched = self._matched(copy_f, orig_f, lag, limit, keep, hi, w1)
            edge = _first_miss(times, matched, step, backward) if times.size else hi
            if edge is not None or w1 >= bound:
                return edge if edge is not None else w1
            hi, reach = w1, reach * 2
        inside = outside = lo if backward else hi  # the run fills the window: its far end is in the copy
        reach = width
        while True:  # gallop outwards until a frame no longer matches
            inside = outside
            outside = max(bound, inside - reach) if backward else min(bound, inside + reach)
            if outside == inside or not holds(outside):
                break
            reach *= 2
        if outside == inside:
            return bound
        while abs(inside - outside) > width:  # halve the bracket
            mid = (inside + outside) / 2
            if holds(mid):
                inside = mid
            else:
                outside = mid
        w0, w1 = (outside, inside) if backward else (inside, outside)
        times, matched = self._matched(copy_f, orig_f, lag, limit, keep, w0, w1)
        if times.size == 0:
            return w1 if backward else w0
        edge = _first_miss(times, matched, step, backward)
        return edge if edge is not None else (w0 if backward else w1)

    def _event(self, copy_f: FileSignals, orig_f: FileSignals, start: float, end: float, lag: float,
               noise: float, limit: float) -> FootageEvent:
        cp, op = copy_f.placed, orig_f.placed
        s, e = cp.media(start), cp.media(end)
        o0, o1 = op.media(start - lag), op.media(end - lag)
        return FootageEvent(
            rule=self.d.rule, path=cp.path, start_s=s, end_s=e,
            measured=round(end - start, 2), threshold=self.d.min_s,
            message="repeat", args={"seconds": end - start, "lag_s": lag},
            evidence={
                "original_file": op.name,
                "original_start_s": round(o0, 3),
                "original_end_s": round(o1, 3),
                "lag_s": round(lag, 3),
                "match_distance": round(noise, 3),
                "match_threshold": round(limit, 3),
            },
            frames=((cp.path, s), (cp.path, e), (op.path, o0), (op.path, o1)),
        )


def _joined(candidates: list[Candidate], gap_s: float) -> list[Candidate]:
    """Candidates of one source at one lag (within _NEAR_S) whose copies overlap or lie at most
    `gap_s` apart, as one: the run of a long copy breaks where a few of its frames match worse, and
    its pieces are one candidate, whose score is theirs together and whose lag the best piece's."""
    out: list[Candidate] = []
    for c in sorted(candidates, key=lambda c: (c.source, c.copy_wall[0])):
        for k, o in enumerate(out):
            if o.source == c.source and abs(o.lag_s - c.lag_s) <= _NEAR_S \
                    and c.copy_wall[0] <= o.copy_wall[1] + gap_s and o.copy_wall[0] <= c.copy_wall[1] + gap_s:
                out[k] = Candidate((min(o.copy_wall[0], c.copy_wall[0]), max(o.copy_wall[1], c.copy_wall[1])),
                                   o.lag_s if o.score >= c.score else c.lag_s, o.score + c.score, o.source,
                                   o.reach_s if o.reach_s == c.reach_s else None)
                break
        else:
            out.append(c)
    return out


def _keyed_densely(timeline: PacketTimeline, step_s: float) -> bool:
    """Keyframes at most the sampling step apart (a 2-s GOP), as `size_candidates` tells them."""
    keys = timeline.keyframe_times_s
    return keys.size >= 2 and float(np.max(np.diff(keys))) <= step_s * 1.05


def _first_miss(times: np.ndarray, matched: np.ndarray, step: float, backward: bool,
                misses_max: int = 2) -> float | None:
    """Walking out of the copy (backward: from the window's last frame to its first), the edge
    after the last matching frame once more than `misses_max` frames in a row no longer match (as
    `_confirm_frames` walks: one frame may be re-encoded worse, e.g. the first after a cut inside
    the original, which its copy repeats: measured one such frame at 2560x1440); None when the
    walk reaches the window's far end."""
    order = range(times.size - 1, -1, -1) if backward else range(times.size)
    last: int | None = None
    misses = 0
    for k in order:
        if matched[k]:
            last, misses = k, 0
            continue
        misses += 1
        if misses > misses_max:
            if last is None:  # the inside end itself did not match
                return float(times[-1] + step) if backward else float(times[0])
            return float(times[last]) if backward else float(times[last] + step)
    return None


class _SampleIndex:
    """Every sample of the class on one wall-clock axis, with how much each one moves."""

    def __init__(self, files: list[FileSignals]) -> None:
        walls, thumbs, motion, spacing = [], [], [], [0.0]
        for f in files:
            s = f.samples
            walls.append(s.times_s + f.placed.wall(0.0))
            thumbs.append(s.thumbs)
            motion.append(_neighbour_motion(s.thumbs))
            if len(s) > 1:
                spacing.append(float(np.max(np.diff(s.times_s))))
        self.wall_s = np.concatenate(walls)
        self.thumbs = np.concatenate(thumbs)
        self.motion = np.concatenate(motion)
        self.max_spacing_s = max(spacing)


def _neighbour_motion(thumbs: np.ndarray) -> np.ndarray:
    """For each sample, the distance to its nearer neighbouring sample (inf when alone)."""
    n = len(thumbs)
    if n < 2:
        return np.full(n, np.inf)
    steps = np.array([distance(thumbs[k], thumbs[k - 1]) for k in range(1, n)])
    return np.minimum(np.concatenate([[np.inf], steps]), np.concatenate([steps, [np.inf]]))
