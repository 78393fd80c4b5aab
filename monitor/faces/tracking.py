"""Faces across the check moments of one fixed camera: find and encode a face once, then follow it.

A classroom camera does not move and trainees sit still; between two check moments a minute
apart almost every face is where it was. Searching the whole 720p frame for faces (dlib's HOG,
upsampled once, to see small faces) costs seconds a moment; checking that a face is still there
costs a template match in a small window. So at each moment after the first:

- the camera's own shift since the last moment is measured (phase correlation), so slow drift
  or a bumped camera does not read as change everywhere;
- each face seen last time is looked for near its place (normalised cross-correlation of its
  patch); found, it is the same face, with the same encoding (no detection, no encoding), and
  change around it, then and now (head and shoulders), is the trainee swaying, not news;
- faces are searched for only where the picture changed and no followed face explains it (a
  trainee who sat down, turned, or came back), on a crop around the change; a changed region
  with no face in it is followed too (a coat, a face the detector misses) until it changes
  beyond moving;
- and every `full_every` moments the whole frame is searched again, so nothing drifts away (a
  face found where a followed one still matches keeps its encoding: finding is cheap, encoding not).

A face whose patch no longer matches (the trainee left, turned away, someone else sat there) is
dropped; if a face is still there it is found again in the changed region. bench/faces.py measures
the speed against searching every frame in full and the recall of both on the same footage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from monitor.faces.detect import Face, describe, face_boxes, faces_in

_SCALE = 4  # change and shift are measured on a picture this many times smaller
_CHANGE_LEVEL = 18  # grey levels (after a light blur): more than sensor noise, less than a face moving
_SEARCH_PX = 12  # how far a face may move between two moments, beyond the camera's shift
_PAD_PX = 48  # around a changed region, so that the detector sees the whole face and some margin


@dataclass
class _Followed:
    face: Face
    patch: np.ndarray  # grey picture of the face box when it was last seen


Box = tuple[int, int, int, int]  # top, right, bottom, left
Region = tuple[int, int, int, int]  # x0, y0, x1, y1


class FaceTracker:
    def __init__(self, full_every: int = 10, min_similarity: float = 0.8) -> None:
        self.full_every = full_every
        self.min_similarity = min_similarity
        self._followed: list[_Followed] = []
        # Changed regions searched without finding a face (a face the detector misses, a bag, a
        # coat): followed like faces, so that their swaying is not searched again at every moment.
        self._movers: list[tuple[Region, np.ndarray]] = []
        self._previous: np.ndarray | None = None
        self._moments = 0
        self.searched_px = 0  # pixels handed to the face detector, for the bench
        self.full_searches = 0

    def faces(self, picture: np.ndarray) -> list[Face]:
        picture = np.ascontiguousarray(picture)
        grey = cv2.cvtColor(picture, cv2.COLOR_RGB2GRAY)
        full = self._previous is None or self._moments % self.full_every == 0 or grey.shape != self._previous.shape
        self._moments += 1
        if full:
            faces = self._search_all(picture, grey)
            self.full_searches += 1  # the movers stay: the full search finds faces, not them
        else:
            faces = self._follow(picture, grey)
        self._followed = [_Followed(f, _patch(grey, f.box)) for f in faces]
        self._previous = grey
        return faces

    def _follow(self, picture: np.ndarray, grey: np.ndarray) -> list[Face]:
        assert self._previous is not None
        dx, dy, still = self._still_there(grey)
        kept = [replace(followed.face, box=moved) for followed, moved in still]
        # where what changed is a followed thing moving, then and now
        quiet: list[Region] = [r for followed, moved in still for r in (
            _head_and_shoulders(followed.face.box, grey.shape), _head_and_shoulders(moved, grey.shape))]
        movers = []
        for region, patch in self._movers:
            moved = _find_patch(grey, patch, _box(region), dx, dy, self.min_similarity)
            if moved is not None:
                quiet += [region, _region(moved)]
                movers.append((_region(moved), _patch(grey, moved)))
        found = list(kept)
        for region in _changed_regions(self._previous, grey, dx, dy, quiet):
            new = [f for f in self._search(picture, region) if not any(_overlap(f.box, o.box) > 0.3 for o in found)]
            found += new
            if not new:
                movers.append((region, _patch(grey, _box(region))))
        self._movers = movers
        return found

    def _still_there(self, grey: np.ndarray) -> tuple[int, int, list[tuple[_Followed, Box]]]:
        """The camera's shift since the last moment, and each followed face whose patch is found
        near its place, with its new box."""
        assert self._previous is not None
        dx, dy = _camera_shift(self._previous, grey)
        found = [(f, _find_patch(grey, f.patch, f.face.box, dx, dy, self.min_similarity)) for f in self._followed]
        return dx, dy, [(f, moved) for f, moved in found if moved is not None]

    def _search_all(self, picture: np.ndarray, grey: np.ndarray) -> list[Face]:
        """The whole frame searched; a face found where a followed face's patch still matches is
        that face, its encoding kept: the encodings are what a full search of a 1080p classroom
        costs most (32 faces, 2.5 s, against 0.85 s for finding them), and a full search is there to
        find what following missed, not to tell again who sits where nothing changed."""
        self.searched_px += picture.shape[0] * picture.shape[1]
        boxes = face_boxes(picture)
        known: list[Face] = []
        if self._previous is not None and grey.shape == self._previous.shape and self._followed:
            known = [replace(followed.face, box=moved) for followed, moved in self._still_there(grey)[2]]
        faces: list[Face] = []
        unknown: list[tuple[int, int, int, int]] = []
        for box in boxes:
            same = max(known, key=lambda f: _overlap(f.box, box), default=None)
            if same is not None and _overlap(same.box, box) > 0.5:
                known.remove(same)
                faces.append(replace(same, box=box))
            else:
                unknown.append(box)
        return faces + describe(picture, unknown)

    def _search(self, picture: np.ndarray, region: tuple[int, int, int, int]) -> list[Face]:
        """Faces in a region (x0, y0, x1, y1) of the picture, with boxes in the picture's pixels."""
        x0, y0, x1, y1 = region
        self.searched_px += (x1 - x0) * (y1 - y0)
        crop = picture[y0:y1, x0:x1]
        return [replace(f, box=(f.box[0] + y0, f.box[1] + x0, f.box[2] + y0, f.box[3] + x0)) for f in faces_in(crop)]


def _patch(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, right, bottom, left = box
    return grey[max(top, 0):bottom, max(left, 0):right].copy()


def _camera_shift(before: np.ndarray, after: np.ndarray) -> tuple[int, int]:
    """How far the whole picture moved (pixels, x and y), by phase correlation at full size (a
    quarter-size copy was measured off by 2 px on a plain wall, which reads as change)."""
    window = cv2.createHanningWindow((before.shape[1], before.shape[0]), cv2.CV_32F)
    (sx, sy), response = cv2.phaseCorrelate(before.astype(np.float32), after.astype(np.float32), window)
    if response < 0.05:  # no clear shift (the picture changed a lot): take none
        return 0, 0
    shift = int(round(sx)), int(round(sy))
    # With many people moving, the peak can be theirs, not the camera's (measured: shifts of 5 to
    # 300 px on a still camera over a swaying class): keep it only if it lines the pictures up better.
    return shift if _misalignment(before, after, shift) < _misalignment(before, after, (0, 0)) else (0, 0)


def _misalignment(before: np.ndarray, after: np.ndarray, shift: tuple[int, int]) -> float:
    """Mean grey difference of the two pictures' overlap, the first moved by `shift`."""
    dx, dy = shift
    h, w = after.shape
    if abs(dx) >= w // 2 or abs(dy) >= h // 2:
        return float("inf")
    a = before[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    b = after[max(dy, 0):h - max(-dy, 0), max(dx, 0):w - max(-dx, 0)]
    return float(cv2.absdiff(a[::_SCALE, ::_SCALE], b[::_SCALE, ::_SCALE]).mean())


def _find_patch(grey: np.ndarray, patch: np.ndarray, box: tuple[int, int, int, int], dx: int, dy: int,
                min_similarity: float) -> tuple[int, int, int, int] | None:
    """The face's new box if its patch is found near where it was, or where the camera's shift
    took it (both: with many people moving, the measured shift can be theirs, not the camera's)."""
    top, right, bottom, left = box
    h, w = patch.shape
    if h < 8 or w < 8:
        return None
    y0, x0 = max(top + min(dy, 0) - _SEARCH_PX, 0), max(left + min(dx, 0) - _SEARCH_PX, 0)
    y1 = min(bottom + max(dy, 0) + _SEARCH_PX, grey.shape[0])
    x1 = min(right + max(dx, 0) + _SEARCH_PX, grey.shape[1])
    window = grey[y0:y1, x0:x1]
    if window.shape[0] < h or window.shape[1] < w:
        return None
    scores = cv2.matchTemplate(window, patch, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if best < min_similarity:
        return None
    new_top, new_left = y0 + by, x0 + bx
    return (new_top, new_left + w, new_top + h, new_left)


def _head_and_shoulders(box: Box, shape: tuple[int, ...]) -> Region:
    """Around a face, what moves with it when a trainee sways or leans: its own width aside, most
    of a face above (hair), two faces below (neck, shoulders, chest). A face that newly appears
    there would be another trainee's: seats are farther apart than that."""
    top, right, bottom, left = box
    width, height = right - left, bottom - top
    return (max(left - width, 0), max(top - 3 * height // 4, 0), min(right + width, shape[1]),
            min(bottom + 2 * height, shape[0]))


def _changed_regions(before: np.ndarray, after: np.ndarray, dx: int, dy: int, quiet: list[Region]) -> list[Region]:
    """Regions around what changed between two moments once the camera's shift is undone, leaving
    out the `quiet` regions (followed things moving), padded for the detector."""
    h, w = after.shape
    shifted = cv2.warpAffine(before, np.float32([[1, 0, dx], [0, 1, dy]]), (w, h), borderMode=cv2.BORDER_REPLICATE)
    small = [cv2.resize(g, (w // _SCALE, h // _SCALE), interpolation=cv2.INTER_AREA) for g in (shifted, after)]
    difference = cv2.absdiff(cv2.GaussianBlur(small[0], (3, 3), 0), cv2.GaussianBlur(small[1], (3, 3), 0))
    changed = (difference > _CHANGE_LEVEL).astype(np.uint8)
    # the edges the shift brought in (copied border pixels) are not change
    rows, cols = abs(dy) // _SCALE + 1, abs(dx) // _SCALE + 1
    changed[:rows, :] = changed[-rows:, :] = 0
    changed[:, :cols] = changed[:, -cols:] = 0
    for x0, y0, x1, y1 in quiet:
        changed[max(y0 // _SCALE - 1, 0):y1 // _SCALE + 2, max(x0 // _SCALE - 1, 0):x1 // _SCALE + 2] = 0
    changed = cv2.dilate(changed, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(changed)
    regions = []
    for x, y, bw, bh, area in stats[1:count]:
        if area < 4:  # a few small pixels: noise
            continue
        regions.append((max(x * _SCALE - _PAD_PX, 0), max(y * _SCALE - _PAD_PX, 0),
                        min((x + bw) * _SCALE + _PAD_PX, w), min((y + bh) * _SCALE + _PAD_PX, h)))
    return _merge(regions)


def _merge(regions: list[Region]) -> list[Region]:
    """Regions that overlap by more than half of the smaller one as one (no face searched twice
    over); others stay apart, even where their margins touch: in a full classroom the bounding
    box of touching regions grows to the whole frame (measured), which is the search avoided."""
    merged = True
    while merged:
        merged = False
        out: list[Region] = []
        for r in regions:
            for k, o in enumerate(out):
                inter = max(0, min(r[2], o[2]) - max(r[0], o[0])) * max(0, min(r[3], o[3]) - max(r[1], o[1]))
                if inter > 0.5 * min(_area(r), _area(o)):
                    out[k] = (min(r[0], o[0]), min(r[1], o[1]), max(r[2], o[2]), max(r[3], o[3]))
                    merged = True
                    break
            else:
                out.append(r)
        regions = out
    return regions


def _box(region: Region) -> Box:
    x0, y0, x1, y1 = region
    return y0, x1, y1, x0


def _region(box: Box) -> Region:
    top, right, bottom, left = box
    return left, top, right, bottom


def _area(region: Region) -> int:
    return (region[2] - region[0]) * (region[3] - region[1])


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (top, right, bottom, left) boxes."""
    top, bottom = max(a[0], b[0]), min(a[2], b[2])
    left, right = max(a[3], b[3]), min(a[1], b[1])
    if bottom <= top or right <= left:
        return 0.0
    inter = (bottom - top) * (right - left)
    area = lambda x: (x[2] - x[0]) * (x[1] - x[3])  # noqa: E731
    return inter / (area(a) + area(b) - inter)
