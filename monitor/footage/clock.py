"""The on-screen clock checked against the file's timeline (issue #16 item 4).

An NVR burns the date and time into every picture. A file placed on the wall clock (its declared or
container start plus media time) should show, at every picture, the time it is placed at. The
sampling reads the clock at every sample (monitor.footage.clock_read); here the readings become:

- `footage.clock_mismatch`: over the file, the clock's median offset from where the file is placed
  is beyond `osd_clock_tolerance_s` (footage of another day or hour, or a wrong declared start);
  the pictures themselves are not thereby invalid, so the footage keeps counting and the finding
  asks for review.
- `footage.clock_jump`: a stretch whose offset departs from the file's own by more than
  `osd_clock_jump_s`: back (an earlier recording played again, old clock and all: caught even
  where the picture matching missed it), forward (footage cut out), a stall; or a clock running
  at the wrong rate against media time (beyond `osd_clock_rate_tolerance`: footage sped up, or
  stamped with another frame rate). A stretch's ends are pinned by reading every frame between
  the two samples around each, which also confirms it: a single misread sample reads no further.

Each reading is the whole second shown, so a frame's offset lies in (-1, 0]: offsets are taken
at +0.5 s. Footage whose clock was not found or not learned gets no finding; its file report
says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar

import numpy as np

from monitor.footage.clock_read import ClockReader
from monitor.footage.detector import ClassSignals, FileSignals
from monitor.footage.events import FootageEvent
from monitor.footage.media import SpanReader, luma_plane
from monitor.footage.runs import true_runs
from monitor.policy import Policy

_MIN_READINGS = 3  # fewer read samples say nothing about a file's clock
_RATE_SPAN_S = 30.0  # the rate is judged over footage at least this long (quantisation: 1 s)
_CONFIRM_S = 1.0  # after a sample that reads off, this much more must read off too


@dataclass(frozen=True)
class ClockDetector:
    rule: ClassVar[str] = "footage.clock_jump"  # and footage.clock_mismatch
    needs: ClassVar[frozenset[str]] = frozenset({"clock", "spans"})

    tolerance_s: float  # the clock may differ from where the file is placed by this much
    jump_s: float  # a stretch whose offset departs from the file's by more than this jumped
    rate_tolerance: float  # the clock's rate may differ from 1 by this share

    @classmethod
    def from_policy(cls, policy: Policy) -> "ClockDetector":
        return cls(policy.osd_clock_tolerance_s, policy.osd_clock_jump_s, policy.osd_clock_rate_tolerance)

    def detect(self, signals: ClassSignals) -> list[FootageEvent]:
        return [e for f in signals.files for e in self.detect_file(f, signals.tz)]

    def detect_file(self, f: FileSignals, tz: tzinfo) -> list[FootageEvent]:
        track = f.placed.clock
        if track is None or track.reader is None:
            return []
        read = [k for k, s in enumerate(track.shown) if s is not None]
        if len(read) < _MIN_READINGS:
            return []
        times = track.times_s[read]
        shown = np.array([_epoch(track.shown[k], tz) for k in read])
        offsets = shown + 0.5 - np.array([f.placed.wall(t) for t in times])
        events: list[FootageEvent] = []
        rate = _rate(times, shown, self.jump_s)
        if rate is not None and abs(rate - 1.0) > self.rate_tolerance:
            events.append(FootageEvent(
                rule="footage.clock_jump", path=f.timeline.path, start_s=f.timeline.first_s, end_s=f.timeline.end_s,
                measured=round(rate, 4), threshold=self.rate_tolerance, message="rate", args={"rate": rate},
                evidence={"clock_first": track.shown[read[0]].isoformat(), "clock_last": track.shown[read[-1]].isoformat()},
                frames=((f.timeline.path, float(times[0])), (f.timeline.path, float(times[-1]))),
            ))
            return events  # its offsets drift by design: no stretch stands out from the rest
        main = float(np.median(offsets))
        if abs(main) > self.tolerance_s:
            k = int(np.argmin(np.abs(offsets - main)))
            source = f.placed.start_source
            events.append(FootageEvent(
                rule="footage.clock_mismatch", path=f.timeline.path, start_s=f.timeline.first_s,
                end_s=f.timeline.end_s, measured=round(main, 1), threshold=self.tolerance_s,
                message="offset", invalidates_footage=False,
                args={"offset_s": main, "shown": track.shown[read[k]].isoformat(sep=" ")},
                evidence={"clock_shown": track.shown[read[k]].isoformat(), "offset_s": round(main, 1),
                          "start_source": source},
                frames=((f.timeline.path, float(times[k])),),
            ))
        off = np.abs(offsets - main) > self.jump_s
        if off.any():
            reader = SpanReader(f.timeline.path, f.timeline.keyframe_times_s)
            try:
                for first, last in true_runs(off):
                    event = self._stretch(f, track.reader, reader, tz, times, shown, offsets, main, first, last)
                    if event is not None:
                        events.append(event)
            finally:
                reader.close()
        return events

    def _stretch(self, f: FileSignals, clock: ClockReader, reader: SpanReader, tz: tzinfo, times: np.ndarray,
                 shown: np.ndarray, offsets: np.ndarray, main: float, first: int, last: int) -> FootageEvent | None:
        """A stretch of samples whose clock is off, confirmed and pinned to the frame on both ends."""
        path = f.timeline.path

        def off_at(t: float, frame_luma: np.ndarray) -> bool | None:
            value = clock.read(frame_luma)
            if value is None:
                return None
            return abs(_epoch(value, tz) + 0.5 - f.placed.wall(t) - main) > self.jump_s

        # The start is pinned before the confirmation reads the frames after it: the reader decodes
        # on from there, where the other order decoded from the keyframe before twice (on a 10-s
        # GOP, 679 -> about 475 frames for the bench's replayed clock).
        if first == 0:
            start = f.timeline.first_s
        else:
            start = self._pin(reader, off_at, float(times[first - 1]), float(times[first]), entering=True)
        confirm = [off_at(t, luma_plane(fr)) for t, fr in reader.frames(float(times[first]) + 1e-4,
                                                                          float(times[first]) + _CONFIRM_S)]
        judged = [c for c in confirm if c is not None]
        if len(judged) < 2 or np.mean(judged) < 0.8:
            return None  # a misread sample, not a clock that jumped
        if last == times.size - 1:
            end = f.timeline.end_s
        else:
            end = self._pin(reader, off_at, float(times[last]), float(times[last + 1]), entering=False)
        # Which way it went, at the stretch's first edge inside the file (else its last).
        if first > 0:
            jump = float(offsets[first] - offsets[first - 1])
        elif last < times.size - 1:
            jump = float(offsets[last + 1] - offsets[last])
        else:
            return None
        span = float(times[last] - times[first])
        stalled = last > first and float(shown[last] - shown[first]) <= 1.0 and span > self.jump_s
        kind = "stall" if stalled else ("back" if jump < 0 else "forward")
        args = {"jump_s": abs(jump), "stall_s": span}
        before = float(times[first - 1]) if first > 0 else start
        return FootageEvent(
            rule="footage.clock_jump", path=path, start_s=start, end_s=end,
            measured=round(abs(jump) if kind != "stall" else span, 1), threshold=self.jump_s,
            message=kind, args=args,
            evidence={"kind": kind, "offset_s": round(float(offsets[first] - main), 1),
                      "clock_at_start": datetime.fromtimestamp(float(shown[first]), tz).replace(tzinfo=None).isoformat()},
            frames=((path, before), (path, start), (path, min(end, f.timeline.end_s - f.timeline.frame_duration_s))),
        )

    @staticmethod
    def _pin(reader: SpanReader, off_at, a: float, b: float, entering: bool) -> float:
        """The first frame in (a, b] whose clock is off (entering) or back on (leaving); b when none
        reads so (the change came at b's frame)."""
        for t, frame in reader.frames(a, b):
            if t <= a + 1e-6:
                continue
            state = off_at(t, luma_plane(frame))
            if state is not None and state == entering:
                return t
        return b


def _epoch(shown: datetime, tz: tzinfo) -> float:
    """A naive local reading as epoch seconds in the class's zone."""
    return shown.replace(tzinfo=tz).timestamp()


def _rate(times: np.ndarray, shown: np.ndarray, jump_s: float) -> float | None:
    """The clock's rate against media time, None over footage shorter than _RATE_SPAN_S. A jump
    (a replay, a cut) is a step in the offsets, a wrong rate a drift: the steps between
    consecutive readings, less those beyond `jump_s`, add up to the drift, whose slope is the
    rate's error (the readings' whole-second rounding averages out over the file). Where most
    steps are jumps (a clock running at half speed, read every 10 s), the plain fit decides."""
    if times.size < 3 or times[-1] - times[0] < _RATE_SPAN_S:
        return None
    offsets = shown - times
    steps = np.diff(offsets)
    jumps = np.abs(steps) > jump_s
    if jumps.sum() * 2 > steps.size:
        return float(np.polyfit(times, shown, 1)[0])
    drift = np.concatenate([[0.0], np.cumsum(np.where(jumps, 0.0, steps))])
    return 1.0 + float(np.polyfit(times, drift, 1)[0])
