"""What a detector reports: a rule, an interval of media time in one file, and its evidence.

Detectors speak media seconds of the file they looked at; the class analysis turns these into
wall-clock findings once it knows where each file sits on the class timeline.
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

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s
