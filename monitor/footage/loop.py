"""Loop (POLICY A2): footage already shown earlier in the class, shown again (usually re-encoded)
to fill time that was not recorded.

Samples alone cannot find a re-encoded copy: the copy's keyframes fall at other moments than the
original's, and in a lively room pictures a second apart differ as much as any two. So the search
decodes short stretches frame by frame, where a copy would begin (junctions the packets reveal,
file starts) and at a regular interval. A stretch at least as long as the sampling step holds, for
every earlier sample, the frame of the *same instant* if it is a copy; such a frame matches that
sample to within re-encoding noise, far closer than the sample's own neighbours. Once the lag is
known, the copy's start and end are found by bisection, decoding one frame of each side per step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from monitor.footage.detector import ClassSignals
from monitor.footage.events import FootageEvent
from monitor.footage.junctions import junction_times
from monitor.footage.media import SpanReader
from monitor.footage.pictures import distance, distances_to_many
from monitor.footage.placed import PlacedFile
from monitor.policy import Policy

_EDGE_RESOLUTION_S = 0.2


@dataclass(frozen=True)
class _Match:
    copy: PlacedFile
    original: PlacedFile
    copy_s: float  # media time in `copy` of a frame known to be a copy
    lag_s: float  # wall seconds from the original to the copy
    threshold: float  # distance under which two frames count as copies of one another
    distance: float  # how close the matching pair was


@dataclass(frozen=True)
class LoopDetector:
    rule: ClassVar[str] = "footage.loop"
    needs: ClassVar[frozenset[str]] = frozenset({"timeline", "samples", "spans"})

    min_s: float  # shortest repeat reported; also the smallest lag considered
    match_ratio: float  # copy distance as a share of the original's motion between samples
    match_max: float  # copy distance at most this (RMS grey levels)
    min_motion: float  # samples moving less than this are too still to tell copies apart
    junction_ratio: float  # packet size ratio that marks a junction
    junctions_per_hour: int  # at most this many junctions searched per hour of footage
    probe_interval_s: float  # a stretch is also searched this often

    @classmethod
    def from_policy(cls, policy: Policy) -> "LoopDetector":
        return cls(policy.loop_min_s, policy.loop_match_ratio, policy.loop_match_max, policy.loop_min_motion,
                   policy.junction_size_ratio, policy.junction_max_per_hour, policy.loop_probe_interval_s)

    def probe_times(self, placed: PlacedFile) -> np.ndarray:
        """Junctions, and one instant per probe interval, moved to the next keyframe when one is
        near (a stretch starting at a keyframe decodes nothing before it)."""
        timeline = placed.timeline
        regular = np.arange(timeline.first_s, timeline.end_s, self.probe_interval_s)
        keys = timeline.keyframe_times_s
        if keys.size:
            nxt = keys[np.minimum(np.searchsorted(keys, regular), keys.size - 1)]
            regular = np.where((nxt >= regular) & (nxt - regular <= self.probe_interval_s / 4), nxt, regular)
        return np.unique(np.concatenate([junction_times(timeline, self.junction_ratio, self.junctions_per_hour),
                                         regular]))

    def detect(self, signals: ClassSignals) -> list[FootageEvent]:
        files = [f.placed for f in signals.files]
        if not files:
            return []
        search = _Search(self, _SampleIndex(files))
        try:
            return search.run(files)
        finally:
            search.close()


class _Search:
    """One loop search over a class: the sample index, and the recordings kept open for spans."""

    def __init__(self, detector: LoopDetector, index: "_SampleIndex") -> None:
        self.d = detector
        self.index = index
        self.window_s = index.max_spacing_s + 0.1
        self._readers: dict[Path, SpanReader] = {}

    def close(self) -> None:
        for reader in self._readers.values():
            reader.close()

    def _span(self, placed: PlacedFile, start_s: float, end_s: float) -> list[tuple[float, np.ndarray]]:
        reader = self._readers.get(placed.path)
        if reader is None:
            reader = self._readers[placed.path] = SpanReader(placed.path)
        return list(reader.span(start_s, end_s))

    def run(self, files: list[PlacedFile]) -> list[FootageEvent]:
        events: list[FootageEvent] = []
        for placed in files:
            searched_until = -np.inf
            for at in self.d.probe_times(placed):
                if at < searched_until or any(e.path == placed.path and e.start_s <= at < e.end_s for e in events):
                    continue
                searched_until = at + self.window_s
                match = self._match_in(placed, at)
                if match is None:
                    continue
                event = self._extent(match)
                if event.duration_s >= self.d.min_s:
                    events.append(event)
        return events

    def _match_in(self, placed: PlacedFile, at: float) -> _Match | None:
        """The best copy-of-an-earlier-sample among the frames of [at, at + window], if any."""
        frames = self._span(placed, at, at + self.window_s)
        if not frames:
            return None
        d, index = self.d, self.index
        times = np.array([t for t, _ in frames])
        walls = np.array([placed.wall(t) for t in times])
        usable = (index.wall_s <= walls.max() - d.min_s) & (index.motion >= d.min_motion)
        if not usable.any():
            return None
        dist = distances_to_many(np.stack([th for _, th in frames]), index.thumbs[usable])
        limit = np.minimum(d.match_ratio * index.motion[usable], d.match_max)[None, :]
        ok = (dist <= limit) & (index.wall_s[usable][None, :] <= walls[:, None] - d.min_s)
        if not ok.any():
            return None
        score = np.where(ok, dist / limit, np.inf)
        f, i = np.unravel_index(int(np.argmin(score)), score.shape)
        sample = np.flatnonzero(usable)[i]
        return _Match(
            copy=placed, original=index.file_of(sample), copy_s=float(times[f]),
            lag_s=float(walls[f] - index.wall_s[sample]), threshold=float(limit[0, i]), distance=float(dist[f, i]),
        )

    def _frame(self, placed: PlacedFile, media_s: float) -> np.ndarray | None:
        half = placed.timeline.frame_duration_s / 2
        frames = self._span(placed, media_s - half, media_s + half)
        return frames[0][1] if frames else None

    def _copy_holds(self, match: _Match, copy_s: float) -> bool:
        original_s = match.original.media(match.copy.wall(copy_s) - match.lag_s)
        if not match.original.timeline.first_s <= original_s < match.original.timeline.end_s:
            return False
        a, b = self._frame(match.copy, copy_s), self._frame(match.original, original_s)
        return a is not None and b is not None and distance(a, b) <= match.threshold

    def _bisect(self, match: _Match, holds_s: float, fails_s: float) -> tuple[float, float]:
        """Narrow a time where the copy holds and one where it does not down to the edge between."""
        while abs(fails_s - holds_s) > _EDGE_RESOLUTION_S:
            mid = (holds_s + fails_s) / 2
            if self._copy_holds(match, mid):
                holds_s = mid
            else:
                fails_s = mid
        return holds_s, fails_s

    def _extent(self, match: _Match) -> FootageEvent:
        timeline = match.copy.timeline
        first, last = timeline.first_s, timeline.end_s - timeline.frame_duration_s
        start = first if self._copy_holds(match, first) else self._bisect(match, match.copy_s, first)[0]
        end = timeline.end_s if self._copy_holds(match, last) else self._bisect(match, match.copy_s, last)[1]
        original_start = match.original.media(match.copy.wall(start) - match.lag_s)
        return FootageEvent(
            rule=self.d.rule, path=match.copy.path, start_s=start, end_s=end,
            measured=round(end - start, 2), threshold=self.d.min_s,
            detail=f"{end - start:.1f} s repeat footage shown {match.lag_s:.1f} s earlier",
            evidence={
                "original_file": match.original.name,
                "original_start_s": round(original_start, 3),
                "original_end_s": round(original_start + (end - start), 3),
                "lag_s": round(match.lag_s, 3),
                "match_distance": round(match.distance, 3),
                "match_threshold": round(match.threshold, 3),
            },
            frames=((match.copy.path, start), (match.copy.path, end), (match.original.path, original_start),
                    (match.original.path, original_start + (end - start))),
        )


class _SampleIndex:
    """Every sample of the class on one wall-clock axis, with how much each one moves."""

    def __init__(self, files: list[PlacedFile]) -> None:
        self._files = files
        walls, thumbs, motion, owner, spacing = [], [], [], [], [0.0]
        for n, placed in enumerate(files):
            s = placed.samples
            walls.append(s.times_s + (placed.wall(0.0)))
            thumbs.append(s.thumbs)
            owner.append(np.full(len(s), n))
            motion.append(_neighbour_motion(s.thumbs))
            if len(s) > 1:
                spacing.append(float(np.max(np.diff(s.times_s))))
        self.wall_s = np.concatenate(walls)
        self.thumbs = np.concatenate(thumbs)
        self.motion = np.concatenate(motion)
        self._owner = np.concatenate(owner)
        self.max_spacing_s = max(spacing)

    def file_of(self, sample: int) -> PlacedFile:
        return self._files[int(self._owner[sample])]


def _neighbour_motion(thumbs: np.ndarray) -> np.ndarray:
    """For each sample, the distance to its nearer neighbouring sample (inf when alone)."""
    n = len(thumbs)
    if n < 2:
        return np.full(n, np.inf)
    steps = np.array([distance(thumbs[k], thumbs[k - 1]) for k in range(1, n)])
    return np.minimum(np.concatenate([[np.inf], steps]), np.concatenate([steps, [np.inf]]))
