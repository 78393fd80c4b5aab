"""Splice (POLICY A2): footage of another room, day or camera inserted into a fixed camera's
recording. A fixed classroom camera has no cuts, but edited footage and real life do have abrupt
changes, so a splice is a cut *and a cut back*: later, the picture jumps again, to the scene from
before the first cut, and everything between is foreign. Correlation ignores brightness, so lights
switched on are no cut; requiring the cut back keeps foreign footage that merely resembles the
room for a moment from ending the insert early.

Each cut is a fall of two correlations (monitor.footage.pictures): of the edges as they are, which
another day's people in the same room also break, and of the room's structure, which a teacher
walking through an over-lit room does not (there the raw edges fell to 0.38 between two samples
of a clean class; the structure stays at 0.80 and more on clean footage 2 s apart). Samples 10 s
apart (a long GOP sampled at its keyframes) drift further: in an over-lit clean room the structure
fell to 0.69 between keyframes. So a cut must also be one from a frame to the next: the first frame
unlike the picture before the cut, against the frame just before it, must differ in structure
too (a teacher walking changes a frame's neighbour by next to nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from monitor.footage.detector import FileDetector, FileSignals
from monitor.footage.events import FootageEvent
from monitor.footage.pictures import consecutive, correlate, edge_vectors, similarity
from monitor.footage.refine import edge, first_change
from monitor.policy import Policy


@dataclass(frozen=True)
class SpliceDetector(FileDetector):
    rule: ClassVar[str] = "footage.splice"
    needs: ClassVar[frozenset[str]] = frozenset({"samples", "blank", "spans"})

    cut_similarity_max: float  # consecutive pictures correlating less than this are a cut
    return_similarity_min: float  # a later picture correlating this much with the pre-cut one is a return
    cut_structure_max: float  # ... and whose structures correlate less than this

    @classmethod
    def from_policy(cls, policy: Policy) -> "SpliceDetector":
        return cls(policy.splice_cut_similarity_max, policy.splice_return_similarity_min,
                   policy.splice_cut_structure_max)

    def detect_file(self, signals: FileSignals) -> list[FootageEvent]:
        """Blank samples are the black detector's: a cut to black is no splice."""
        timeline, samples, skip = signals.timeline, signals.samples, signals.blank
        thumbs, times = samples.thumbs, samples.times_s
        vectors = edge_vectors(thumbs)
        structure = edge_vectors(thumbs, structure=True)
        # steps[k]: similarity of sample k to sample k-1, a cut where it is low; raised to the
        # threshold (no cut) where the room's structure stayed
        steps = consecutive(vectors)
        stayed = consecutive(structure) >= self.cut_structure_max
        steps[stayed] = np.maximum(steps[stayed], self.cut_similarity_max)
        events = []
        k = 1
        while k < len(samples):
            before = thumbs[k - 1]
            if skip[k] or skip[k - 1] or steps[k] >= self.cut_similarity_max:
                k += 1
                continue
            later = correlate(vectors[k:], vectors[k - 1])
            back = [i for i, s in enumerate(later) if i > 0 and s >= self.return_similarity_min
                    and steps[k + i] < self.cut_similarity_max]
            if not back:
                k += 1  # a cut with no return: edited footage, or the camera moved for good
                continue
            m = k + back[0]

            def foreign(t: np.ndarray, ref: np.ndarray = before) -> bool:
                return similarity(ref, t) < self.cut_similarity_max

            def home(t: np.ndarray, ref: np.ndarray = before) -> bool:
                return similarity(ref, t) >= self.return_similarity_min

            cut = first_change(timeline.path, times[k - 1], times[k], foreign, samples)
            if cut is not None and cut[1] is not None and \
                    similarity(cut[1], cut[2], structure=True) >= self.cut_structure_max:
                k += 1  # the picture drifted out of likeness frame by frame: people moving, no cut
                continue
            start = times[k] if cut is None else cut[0]
            end = edge(timeline.path, times[m - 1], times[m], home, samples)
            events.append(FootageEvent(
                rule=self.rule, path=timeline.path, start_s=start, end_s=end,
                measured=round(float(steps[k]), 3),
                threshold=self.cut_similarity_max,
                message="inserted", args={"seconds": end - start},
                evidence={
                    "before_s": round(float(times[k - 1]), 3),
                    "inserted_s": round(float(times[k]), 3),
                    "after_s": round(float(times[m]), 3),
                    "similarity_at_cut": round(float(steps[k]), 3),
                    "similarity_on_return": round(float(later[m - k]), 3),
                },
                # the scene before, the other footage, the scene it returns to
                frames=((timeline.path, float(times[k - 1])), (timeline.path, float(times[k])),
                        (timeline.path, float(times[m]))),
            ))
            k = m + 1
        return events
