"""What a detector reports: a rule, an interval of media time in one file, and its evidence.

Detectors speak media seconds of the file they looked at; the class analysis turns these into
wall-clock findings once it knows where each file sits on the class timeline. Each event names its
own evidence frames (file, media second): the class analysis adds nothing rule-specific.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class FootageEvent:
    rule: str
    path: Path
    start_s: float  # media seconds in `path`
    end_s: float
    measured: float | str | None = None
    threshold: float | str | None = None
    detail: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    # Frames an inspector should look at, (file, media second); empty: the event's first and last.
    frames: tuple[tuple[Path, float], ...] = ()
    # One of the rule's bilingual messages (monitor.findings) and its arguments, so that a reader
    # gets the finding in Chinese without anything parsing the English `detail` back.
    message: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    # Whether the interval stops counting as valid footage. A clock that disagrees with the declared
    # start over a whole file says the declaration or the NVR's clock is wrong, not that the
    # pictures are: it asks for review and leaves the footage standing.
    invalidates_footage: bool = True

    @property
    def evidence_frames(self) -> tuple[tuple[Path, float], ...]:
        return self.frames or ((self.path, self.start_s), (self.path, self.end_s))

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s
