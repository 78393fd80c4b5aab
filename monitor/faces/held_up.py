"""A picture held up to the camera (POLICY B4): a phone, a tablet or a print shows the face inside
straight, high-contrast edges close around it (the screen's bezel, the paper's border). A live
face in a room may have a door frame or a shelf behind it, but rarely a frame on three sides
hugging the head. So: long straight edges, found with Canny and the probabilistic Hough transform
near the face, on its left, right, top and bottom; three sides or more is a frame (a hand holding
the picture may hide the fourth).

This is a cue, not proof (a poster behind the learner is framed too, a borderless screen filling
the camera is not): it raises a `review` finding for an inspector, never an invalidation. Moiré
and screen glare are not looked for.
"""

from __future__ import annotations

import cv2
import numpy as np

SIDES = ("left", "right", "top", "bottom")
_FACE_PX = 100  # the face is scaled to about this height before looking for edges


def frame_sides(image: np.ndarray, box: tuple[int, int, int, int], *, reach: float, min_length: float) -> list[str]:
    """The sides of the face (of SIDES) with a long straight edge across from them within `reach`
    face heights; an edge is at least `min_length` face heights long and spans the face's side."""
    top, right, bottom, left = box
    scale = _FACE_PX / max(1, bottom - top)
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else image
    s = scale if scale < 1 else 1.0
    top, right, bottom, left = (int(v * s) for v in box)
    face_h, face_w = bottom - top, right - left
    height, width = small.shape[:2]
    x0, x1 = max(0, int(left - reach * face_h)), min(width, int(right + reach * face_h))
    y0, y1 = max(0, int(top - reach * face_h)), min(height, int(bottom + reach * face_h))
    gray = cv2.cvtColor(np.ascontiguousarray(small[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (3, 3), 0), 60, 160)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, threshold=int(0.6 * min_length * face_h),
                            minLineLength=int(min_length * face_h), maxLineGap=4)
    found: set[str | None] = set()
    for line in [] if lines is None else lines.reshape(-1, 4):
        ax, ay, bx, by = (int(v) for v in line)
        ax, bx, ay, by = ax + x0, bx + x0, ay + y0, by + y0
        if abs(bx - ax) <= 0.18 * abs(by - ay):  # upright, and as tall as the face: beside it?
            x = (ax + bx) / 2
            if min(ay, by) <= top + 0.2 * face_h and max(ay, by) >= bottom - 0.2 * face_h:
                found.add("left" if x < left - 0.05 * face_w else "right" if x > right + 0.05 * face_w else None)
        elif abs(by - ay) <= 0.18 * abs(bx - ax):  # level, and as wide as the face: above or below it?
            y = (ay + by) / 2
            if min(ax, bx) <= left + 0.2 * face_w and max(ax, bx) >= right - 0.2 * face_w:
                found.add("top" if y < top - 0.15 * face_h else "bottom" if y > bottom + 0.05 * face_h else None)
    return [side for side in SIDES if side in found]
