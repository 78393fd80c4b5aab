"""A synthetic classroom seen by a fixed camera: desks, trainees who fidget, a teacher who walks,
and sensor noise. Frames are a pure function of time, so any moment can be rendered again
(which is how loops and freezes are planted)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class Classroom:
    width: int = 640
    height: int = 360
    trainees: int = 12
    seed: int = 7
    noise_sigma: float = 3.0
    _background: np.ndarray = field(init=False, repr=False)
    _noise: list[np.ndarray] = field(init=False, repr=False)
    _seats: list[tuple[int, int, tuple[int, int, int], float]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        w, h = self.width, self.height
        bg = np.zeros((h, w, 3), np.uint8)
        bg[:] = (150, 160, 170)
        cv2.rectangle(bg, (0, int(h * 0.62)), (w, h), (90, 110, 130), -1)  # floor
        cv2.rectangle(bg, (int(w * 0.25), int(h * 0.06)), (int(w * 0.75), int(h * 0.30)), (235, 240, 240), -1)
        cv2.rectangle(bg, (int(w * 0.25), int(h * 0.06)), (int(w * 0.75), int(h * 0.30)), (60, 60, 60), 2)
        for i in range(6):  # windows
            x = int(w * (0.02 + 0.035 * i))
            cv2.rectangle(bg, (x, int(h * 0.1)), (x + int(w * 0.025), int(h * 0.45)), (200, 190, 120), -1)
        texture = rng.normal(0, 6, (h, w, 1))
        bg = np.clip(bg + texture, 0, 255).astype(np.uint8)
        self._seats = []
        rows, cols = 3, max(1, math.ceil(self.trainees / 3))
        for k in range(self.trainees):
            r, c = divmod(k, cols)
            x = int(w * (0.12 + 0.76 * (c + 0.5) / cols))
            y = int(h * (0.55 + 0.13 * r))
            colour = tuple(int(v) for v in rng.integers(40, 220, 3))
            self._seats.append((x, y, colour, float(rng.uniform(0, 2 * math.pi))))
            cv2.rectangle(bg, (x - int(w * 0.05), y + int(h * 0.05)), (x + int(w * 0.05), y + int(h * 0.09)),
                          (70, 90, 120), -1)  # desk
        self._background = bg
        self._noise = [rng.normal(0, self.noise_sigma, (h, w, 3)).astype(np.int16) for _ in range(5)]

    def frame(self, t: float, lights: float = 1.0) -> np.ndarray:
        """The picture at time t seconds; `lights` scales brightness (lights switched on/off)."""
        img = self._background.copy()
        w, h = self.width, self.height
        unit = h / 360
        for x, y, colour, phase in self._seats:
            dx = int(6 * unit * math.sin(0.7 * t + phase))
            dy = int(3 * unit * math.sin(1.3 * t + 2 * phase))
            cv2.ellipse(img, (x + dx, y + dy), (int(18 * unit), int(24 * unit)), 0, 0, 360, colour, -1)
            cv2.circle(img, (x + dx, y + dy - int(32 * unit)), int(12 * unit), (150, 180, 215), -1)
        tx = int(w * (0.5 + 0.3 * math.sin(0.11 * t)))
        cv2.ellipse(img, (tx, int(h * 0.45)), (int(22 * unit), int(55 * unit)), 0, 0, 360, (40, 40, 40), -1)
        cv2.circle(img, (tx, int(h * 0.45) - int(70 * unit)), int(15 * unit), (140, 170, 205), -1)
        noise = self._noise[int(t * 997) % len(self._noise)]  # varies frame to frame, like a sensor
        out = img.astype(np.int16) + noise
        if lights != 1.0:
            out = out * lights
        return np.clip(out, 0, 255).astype(np.uint8)
