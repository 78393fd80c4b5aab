"""A recording placed on the class's wall-clock timeline (epoch seconds), with what was read of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from monitor.footage.clock_read import ClockTrack
from monitor.footage.media import PacketTimeline, Samples


@dataclass(frozen=True)
class PlacedFile:
    name: str  # as the manifest names it
    timeline: PacketTimeline
    samples: Samples
    wall_start: datetime  # wall-clock instant of the first frame
    start_source: str  # "declared" (manifest) or "container" (creation_time)
    clock: ClockTrack | None = None  # the on-screen clock as read at the samples (None: not looked for)
    sharpness: np.ndarray | None = None  # per sample, on the full picture (monitor.footage.focus)

    @property
    def path(self) -> Path:
        return self.timeline.path

    @property
    def _offset(self) -> float:
        return self.wall_start.timestamp() - self.timeline.first_s

    def wall(self, media_s: float) -> float:
        return media_s + self._offset

    def media(self, wall_s: float) -> float:
        return wall_s - self._offset

    @property
    def wall_begin(self) -> float:
        return self.wall(self.timeline.first_s)

    @property
    def wall_end(self) -> float:
        return self.wall(self.timeline.end_s)
