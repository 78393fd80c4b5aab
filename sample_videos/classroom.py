"""A synthetic classroom seen by a fixed camera: desks, trainees who fidget, a teacher who walks,
and sensor noise. Frames are a pure function of time, so any moment can be rendered again
(which is how loops and freezes are planted). Every motion has its own random frequency, so the
scene never repeats by itself, as a real one does not; the seed also changes the room's layout,
so two seeds are two different rooms (for splices)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True)
class _Mover:
    x: float  # rest position, share of width / height
    y: float
    colour: tuple[int, int, int]
    freq: tuple[float, float]  # rad/s of the two sway components
    phase: tuple[float, float]


@dataclass
class Classroom:
    width: int = 640
    height: int = 360
    trainees: int = 12
    seed: int = 7
    noise_sigma: float = 3.0
    _background: np.ndarray = field(init=False, repr=False)
    _noise: list[tuple[np.ndarray, np.ndarray]] = field(init=False, repr=False)
    _trainees: list[_Mover] = field(init=False, repr=False)
    _teacher: _Mover = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        w, h = self.width, self.height
        bg = np.zeros((h, w, 3), np.uint8)
        bg[:] = tuple(int(v) for v in rng.integers(110, 200, 3))  # wall
        floor = rng.uniform(0.55, 0.7)
        cv2.rectangle(bg, (0, int(h * floor)), (w, h), tuple(int(v) for v in rng.integers(50, 140, 3)), -1)
        board = rng.uniform(0.05, 0.45)
        cv2.rectangle(bg, (int(w * board), int(h * 0.06)), (int(w * (board + 0.5)), int(h * 0.30)), (235, 240, 240), -1)
        cv2.rectangle(bg, (int(w * board), int(h * 0.06)), (int(w * (board + 0.5)), int(h * 0.30)), (60, 60, 60), 2)
        window_left = rng.random() < 0.5
        for i in range(int(rng.integers(3, 7))):  # windows on one wall
            x = 0.02 + 0.035 * i if window_left else 0.95 - 0.035 * i
            cv2.rectangle(bg, (int(w * x), int(h * 0.1)), (int(w * (x + 0.025)), int(h * 0.45)), (200, 190, 120), -1)
        bg = np.clip(bg + rng.normal(0, 6, (h, w, 1)), 0, 255).astype(np.uint8)
        cols = max(1, math.ceil(self.trainees / 3))
        self._trainees = []
        for k in range(self.trainees):
            r, c = divmod(k, cols)
            x, y = 0.12 + 0.76 * (c + 0.5) / cols, 0.55 + 0.13 * r
            self._trainees.append(_Mover(
                x, y, tuple(int(v) for v in rng.integers(40, 220, 3)),
                (float(rng.uniform(0.2, 1.2)), float(rng.uniform(0.5, 2.0))),
                (float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0, 2 * math.pi))),
            ))
            cv2.rectangle(bg, (int(w * (x - 0.05)), int(h * (y + 0.05))), (int(w * (x + 0.05)), int(h * (y + 0.09))),
                          (70, 90, 120), -1)  # desk
        self._teacher = _Mover(0.5, 0.45, (40, 40, 40), (float(rng.uniform(0.05, 0.12)), float(rng.uniform(0.17, 0.31))),
                               (float(rng.uniform(0, 2 * math.pi)), float(rng.uniform(0, 2 * math.pi))))
        self._background = bg
        # Sensor noise as saturating uint8 additions and subtractions: as fast as a copy at 720p.
        self._noise = []
        for _ in range(5):
            noise = np.rint(rng.normal(0, self.noise_sigma, (h, w, 3)))
            self._noise.append((np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8)))

    def frame(self, t: float, lights: float = 1.0) -> np.ndarray:
        """The picture at time t seconds; `lights` scales brightness (lights switched on/off)."""
        img = self._background.copy()
        w, h = self.width, self.height
        unit = h / 360
        for m in self._trainees:
            x = int(w * m.x + 6 * unit * math.sin(m.freq[0] * t + m.phase[0]))
            y = int(h * m.y + 3 * unit * math.sin(m.freq[1] * t + m.phase[1]))
            cv2.ellipse(img, (x, y), (int(18 * unit), int(24 * unit)), 0, 0, 360, m.colour, -1)
            cv2.circle(img, (x, y - int(32 * unit)), int(12 * unit), (150, 180, 215), -1)
        tm = self._teacher
        tx = int(w * (tm.x + 0.2 * math.sin(tm.freq[0] * t + tm.phase[0]) + 0.1 * math.sin(tm.freq[1] * t + tm.phase[1])))
        ty = int(h * tm.y)
        cv2.ellipse(img, (tx, ty), (int(22 * unit), int(55 * unit)), 0, 0, 360, tm.colour, -1)
        cv2.circle(img, (tx, ty - int(70 * unit)), int(15 * unit), (140, 170, 205), -1)
        brighter, darker = self._noise[int(t * 997) % len(self._noise)]  # varies frame to frame, like a sensor
        img = cv2.subtract(cv2.add(img, brighter), darker)
        return img if lights == 1.0 else cv2.convertScaleAbs(img, alpha=lights)
