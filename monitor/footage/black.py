"""Black or covered picture (POLICY A2): a lens covered by a hand or cloth, a camera switched to a
dark input. Like ffmpeg's blackdetect it reports start, end and duration, but it looks at the
samples first and decodes only around the edges."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.footage.detector import FileDetector, FileSignals
from monitor.footage.events import FootageEvent
from monitor.footage.pictures import is_blank
from monitor.footage.refine import edge
from monitor.footage.runs import true_runs
from monitor.policy import Policy


@dataclass(frozen=True)
class BlackDetector(FileDetector):
    rule: ClassVar[str] = "footage.black"
    needs: ClassVar[frozenset[str]] = frozenset({"samples", "osd", "spans"})

    luma_max: float  # mean grey level at or below which a picture is black
    contrast_max: float  # grey-level std at or below which a picture is uniform (covered)
    max_s: float  # longer than this is reported

    @classmethod
    def from_policy(cls, policy: Policy) -> "BlackDetector":
        return cls(policy.black_luma_max, policy.covered_contrast_max, policy.black_max_s)

    def blank(self, thumb: np.ndarray, keep: np.ndarray | None = None) -> bool:
        return is_blank(thumb, self.luma_max, self.contrast_max, keep)

    def detect_file(self, signals: FileSignals) -> list[FootageEvent]:
        """The blank samples are the signals' (the same thresholds, computed once per file and also
        used to keep freeze and splice detection away from pictures this detector explains)."""
        timeline, samples, keep = signals.timeline, signals.samples, signals.keep

        def blank(thumb: np.ndarray) -> bool:
            return self.blank(thumb, keep)

        flags = np.array([blank(t) for t in samples.thumbs], dtype=bool)
        events = []
        times = samples.times_s
        for first, last in true_runs(flags):
            start = timeline.first_s if first == 0 else edge(timeline.path, times[first - 1], times[first], blank, samples)
            if last == len(samples) - 1:
                end = timeline.end_s
            else:
                end = edge(timeline.path, times[last], times[last + 1], lambda t: not blank(t), samples)
            if end - start > self.max_s:
                thumb = samples.thumbs[first]
                events.append(FootageEvent(
                    rule=self.rule, path=timeline.path, start_s=start, end_s=end,
                    measured=round(end - start, 2), threshold=self.max_s,
                    message="covered", args={"seconds": end - start},
                    evidence={"mean_luma": round(float(thumb.mean()), 1), "contrast": round(float(thumb.std()), 1)},
                ))
        return events
