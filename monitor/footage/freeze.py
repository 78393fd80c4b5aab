"""Frozen picture (POLICY A2): a paused feed, a still image looped, a camera that stopped
updating. A live camera always changes somewhere (sensor noise, a hand, a head), so "frozen"
means no block of the picture changed, not that the picture looks calm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.footage.detector import FileDetector, FileSignals
from monitor.footage.events import FootageEvent
from monitor.footage.pictures import max_block_change
from monitor.footage.refine import edge
from monitor.footage.runs import true_runs
from monitor.policy import Policy


@dataclass(frozen=True)
class FreezeDetector(FileDetector):
    rule: ClassVar[str] = "footage.freeze"
    needs: ClassVar[frozenset[str]] = frozenset({"samples", "blank", "osd", "spans"})

    change_max: float  # largest block change (grey levels) that still counts as unchanged
    max_s: float  # frozen longer than this is reported

    @classmethod
    def from_policy(cls, policy: Policy) -> "FreezeDetector":
        return cls(policy.freeze_change_max, policy.freeze_max_s)

    def detect_file(self, signals: FileSignals) -> list[FootageEvent]:
        """Blank samples are the black detector's (black pictures are also unchanged)."""
        timeline, samples, skip, keep = signals.timeline, signals.samples, signals.blank, signals.keep
        thumbs, times = samples.thumbs, samples.times_s
        unchanged = np.array(
            [max_block_change(thumbs[k], thumbs[k - 1], keep) <= self.change_max for k in range(1, len(samples))],
            dtype=bool,
        )
        if unchanged.size:
            unchanged &= ~(skip[1:] & skip[:-1])
        events = []
        for first_pair, last_pair in true_runs(unchanged):
            first, last = first_pair, last_pair + 1  # sample indices holding the frozen picture
            still = thumbs[first]

            def same(t: np.ndarray, ref: np.ndarray = still) -> bool:
                return max_block_change(t, ref, keep) <= self.change_max

            start = timeline.first_s if first == 0 else edge(timeline.path, times[first - 1], times[first], same, samples)
            if last == len(samples) - 1:
                end = timeline.end_s
            else:
                end = edge(timeline.path, times[last], times[last + 1], lambda t, ref=still: not same(t, ref), samples)
            if end - start > self.max_s:
                events.append(FootageEvent(
                    rule=self.rule, path=timeline.path, start_s=start, end_s=end,
                    measured=round(end - start, 2), threshold=self.max_s,
                    message="unchanged", args={"seconds": end - start},
                    evidence={"frozen_frame_s": round(float(times[first]), 3)},
                ))
        return events
