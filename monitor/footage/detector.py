"""One protocol for every footage detector, after PySceneDetect's `SceneDetector`: a detector is a
small immutable class with named parameters (read from the policy by `from_policy`), it declares
which signals it needs, and it returns `FootageEvent`s that carry their own evidence frames.

Why: the class analysis used to call `black.detect(…, flags)`, `freeze/splice.detect(…, skip)` and
`loop.detect(files)` each its own way and special-cased the evidence of two of them. Now it builds
the signals once per file, hands every detector of `DETECTORS` the whole class, and turns whatever
comes back into findings the same way; adding a detector touches its own module and the list.

Signals (what `needs` may name):
- "timeline": the packet timeline from demuxing (times, sizes, keyframe flags); free.
- "sizes":    the per-frame packet size series normalised per GOP position (monitor.footage.sizes);
              free, computed from the timeline.
- "samples":  keyframe thumbnails (plus denser samples where the size series asked for them).
- "blank":    which samples are black or covered; freeze and splice leave these to the black detector.
- "osd":      the burned-in clock's region (decodes the file's first 4 s), left out of comparisons.
- "clock":    what the clock showed at each sample (monitor.footage.clock_read), and the class's
              time zone (the OSD shows local time).
- "spans":    the detector decodes short stretches itself (confirmation, edges).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timezone, tzinfo
from functools import cached_property
from typing import Callable, ClassVar, Protocol, runtime_checkable

import numpy as np

from monitor.footage.events import FootageEvent
from monitor.footage.media import PacketTimeline, Samples, SpanReader
from monitor.footage.osd import OsdRegion, locate_clock
from monitor.footage.pictures import is_blank
from monitor.footage.placed import PlacedFile
from monitor.policy import Policy


@dataclass
class FileSignals:
    """What one file offers the detectors; derived signals are computed on first use, once."""

    placed: PlacedFile
    blank_luma_max: float
    blank_contrast_max: float

    @property
    def timeline(self) -> PacketTimeline:
        return self.placed.timeline

    @property
    def samples(self) -> Samples:
        return self.placed.samples

    def is_blank(self, thumb: np.ndarray) -> bool:
        return is_blank(thumb, self.blank_luma_max, self.blank_contrast_max, self.keep)

    @cached_property
    def osd(self) -> OsdRegion | None:
        """The burned-in clock, looked for in the file's first seconds (monitor.footage.osd); the
        sampling already looked when it read the clock."""
        if self.placed.clock is not None:
            return self.placed.clock.region
        reader = SpanReader(self.timeline.path)
        try:
            return locate_clock(reader, self.timeline.first_s)
        finally:
            reader.close()

    @cached_property
    def keep(self) -> np.ndarray | None:
        """The thumbnail pixels to compare: all but the OSD clock's band (None: no clock)."""
        return None if self.osd is None else self.osd.keep()

    @cached_property
    def blank(self) -> np.ndarray:
        """Which samples are black or covered (bool per sample)."""
        return np.array([self.is_blank(t) for t in self.samples.thumbs], dtype=bool)


@dataclass
class ClassSignals:
    """The signals of every file of a class, in the order the files lie on the wall clock."""

    files: list[FileSignals] = field(default_factory=list)
    tz: tzinfo = timezone.utc  # the class's own: an NVR's on-screen clock shows local time

    @classmethod
    def of(cls, placed: list[PlacedFile], policy: Policy, tz: tzinfo = timezone.utc) -> "ClassSignals":
        ordered = sorted(placed, key=lambda p: p.wall_begin)
        return cls([FileSignals(p, policy.black_luma_max, policy.covered_contrast_max) for p in ordered], tz)


@runtime_checkable
class Detector(Protocol):
    """A detector: named parameters as fields, the signals it needs, and `detect`."""

    rule: ClassVar[str]  # the finding code its events carry (monitor.findings.RULES)
    needs: ClassVar[frozenset[str]]

    def detect(self, signals: ClassSignals) -> list[FootageEvent]: ...


class FileDetector:
    """Base for detectors that look at one file at a time (everything but the loop search)."""

    rule: ClassVar[str]
    needs: ClassVar[frozenset[str]]

    def detect(self, signals: ClassSignals) -> list[FootageEvent]:
        return [e for f in signals.files for e in self.detect_file(f)]

    def detect_file(self, signals: FileSignals) -> list[FootageEvent]:
        raise NotImplementedError


DetectorFactory = Callable[[Policy], Detector]
