"""Camera moved (issue #16 item 5, as NVRs define camera tampering): the fixed background no longer
matches the class's reference view for longer than `camera_moved_max_s`: the camera was turned away
from the trainees (at a wall, a window, the ceiling), whether or not it is turned back later.

The reference view is the median of the samples of the class's first 2 x `camera_moved_max_s` (20 s):
a median over time keeps the room (desks, board, windows) and drops the people moving in it; it is
taken at the start because a camera turned away for good would make any longer median its own. Each sample is
compared with it as `monitor.footage.pictures` compares structure: correlation of edge strength on a
log scale, which ignores brightness (lights on or off) and in which the room's fixed edges outweigh
the people (raw edge strength let the dark teacher walking through an over-lit room outweigh the
washed-out room: a clean 1080p class fell to 0.40 and was reported turned). Measured on generated
rooms (64x36 thumbnails, OSD rows left out, 360p-1080p, lights x0.5-x2.2 drifting 20 %): the same
view 0.75 and more against its median, the camera turned by a third of the picture 0.27 at most.
Black and covered pictures are the black detector's. A turn and a turn back is also a cut and a
cut back, so the splice detector may report the same stretch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.footage.detector import ClassSignals, FileSignals
from monitor.footage.events import FootageEvent
from monitor.footage.pictures import correlate, edge_vectors
from monitor.footage.runs import true_runs
from monitor.policy import Policy


@dataclass(frozen=True)
class CameraMovedDetector:
    rule: ClassVar[str] = "footage.camera_moved"
    needs: ClassVar[frozenset[str]] = frozenset({"samples", "blank", "osd"})

    similarity_max: float  # a sample correlating less than this with the reference view is turned away
    max_s: float  # turned away longer than this is reported

    @classmethod
    def from_policy(cls, policy: Policy) -> "CameraMovedDetector":
        return cls(policy.camera_moved_similarity_max, policy.camera_moved_max_s)

    def detect(self, signals: ClassSignals) -> list[FootageEvent]:
        files = [f for f in signals.files if len(f.samples) > 0]
        if not files:
            return []
        t0 = min(f.placed.wall_begin for f in files)
        early = [f.samples.thumbs[(~f.blank) & (f.samples.times_s + f.placed.wall(0.0) < t0 + 2 * self.max_s)]
                 for f in files]
        early = [e for e in early if len(e)]
        if not early:
            return []
        reference = np.median(np.concatenate(early).astype(np.float32), axis=0)
        return [e for f in files for e in self._file(f, reference)]

    def _file(self, f: FileSignals, reference: np.ndarray) -> list[FootageEvent]:
        samples, timeline = f.samples, f.timeline
        thumbs = np.concatenate([reference[None].astype(np.uint8), samples.thumbs])
        if f.keep is not None:  # the OSD's digits are the same whichever way the camera looks
            fill = thumbs[:, f.keep].mean(axis=1)
            thumbs = thumbs.copy()
            thumbs[:, ~f.keep] = fill[:, None].astype(np.uint8)
        vectors = edge_vectors(thumbs, structure=True)
        similar = correlate(vectors[1:], vectors[0])
        away = ~f.blank & (similar < self.similarity_max)
        times = samples.times_s
        events = []
        for first, last in true_runs(away):
            start = timeline.first_s if first == 0 else float(times[first - 1] + times[first]) / 2
            end = timeline.end_s if last == len(samples) - 1 else float(times[last] + times[last + 1]) / 2
            if end - start <= self.max_s:
                continue
            frames = ((timeline.path, float(times[first - 1] if first > 0 else times[first])),
                      (timeline.path, float(times[first])))
            if last < len(samples) - 1:
                frames += ((timeline.path, float(times[last + 1])),)
            lowest = float(np.min(similar[first:last + 1]))
            events.append(FootageEvent(
                rule=self.rule, path=timeline.path, start_s=start, end_s=end, measured=round(end - start, 2),
                threshold=self.max_s, message="turned",
                args={"duration_s": end - start, "similarity": lowest},
                evidence={"similarity_min": round(lowest, 3), "similarity_max": self.similarity_max},
                frames=frames,
            ))
        return events
