"""Defocus (issue #16 item 5, as NVRs define camera tampering): the picture loses its sharpness for
longer than `defocus_max_s`: a lens turned out of focus, smeared or sprayed, a sheet of tracing paper
over it. Black and covered pictures are the black detector's.

Sharpness is measured on the full picture while the sampling has it in hand (a 64x36 thumbnail has
no detail left to lose): the mean absolute Laplacian of the luma thinned to about 480 px wide,
divided by the picture's contrast (its grey-level standard deviation), so that lights dimmed by
20 % do not read as blur. A camera's sharpness depends on its scene, so each sample is compared
with the file's own median: a sample below `defocus_sharpness_ratio` of it is blurred. Measured on
generated 1280x720 footage (H.265 crf 28, GOP 2 s, sensor noise, people moving, lighting drift
20 %): clean samples 0.96-1.09 of the median, and 0.67 at the file's very first picture (the
encoder's first keyframe); a Gaussian defocus of 4 px 0.12; with the camera turned away 0.89-1.40.
The edges are the samples' (within a sampling step, 2 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import cv2
import numpy as np

from monitor.footage.detector import FileDetector, FileSignals
from monitor.footage.events import FootageEvent
from monitor.footage.runs import true_runs
from monitor.policy import Policy

_WIDTH = 480


def sharpness(luma: np.ndarray) -> float:
    """Contrast-normalised mean absolute Laplacian of a grey picture (see the module docstring)."""
    step = max(1, luma.shape[1] // _WIDTH)
    small = np.ascontiguousarray(luma[::step, ::step])
    lap = cv2.Laplacian(small, cv2.CV_16S, ksize=3)
    contrast = float(small.std())
    return float(np.mean(np.abs(lap))) / max(contrast, 1.0)


@dataclass(frozen=True)
class DefocusDetector(FileDetector):
    rule: ClassVar[str] = "footage.defocus"
    needs: ClassVar[frozenset[str]] = frozenset({"samples", "blank", "sharpness"})

    ratio: float  # a sample below this share of the file's median sharpness is blurred
    max_s: float  # blurred longer than this is reported

    @classmethod
    def from_policy(cls, policy: Policy) -> "DefocusDetector":
        return cls(policy.defocus_sharpness_ratio, policy.defocus_max_s)

    def detect_file(self, signals: FileSignals) -> list[FootageEvent]:
        focus = signals.placed.sharpness
        samples, timeline = signals.samples, signals.timeline
        if focus is None or focus.size != len(samples) or len(samples) < 3:
            return []
        usable = ~signals.blank & np.isfinite(focus)
        if usable.sum() < 3:
            return []
        reference = float(np.median(focus[usable]))
        if reference <= 0:
            return []
        blurred = usable & (focus < self.ratio * reference)
        events = []
        times = samples.times_s
        for first, last in true_runs(blurred):
            start = timeline.first_s if first == 0 else float(times[first - 1] + times[first]) / 2
            end = timeline.end_s if last == len(samples) - 1 else float(times[last] + times[last + 1]) / 2
            if end - start <= self.max_s:
                continue
            lowest = first + int(np.argmin(focus[first:last + 1]))
            frames = ((timeline.path, float(times[first - 1])) if first > 0 else (timeline.path, float(times[first])),
                      (timeline.path, float(times[lowest])))
            if last < len(samples) - 1:
                frames += ((timeline.path, float(times[last + 1])),)
            share = float(focus[lowest] / reference)
            events.append(FootageEvent(
                rule=self.rule, path=timeline.path, start_s=start, end_s=end, measured=round(end - start, 2),
                threshold=self.max_s,
                message="blurred", args={"duration_s": end - start, "share": share},
                evidence={"sharpness_share": round(share, 3), "sharpness_ratio_max": self.ratio},
                frames=frames,
            ))
        return events
