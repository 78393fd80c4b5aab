"""Reading the burned-in clock (OSD) with digit templates learned from the footage itself.

Why not an OCR package: the clock is one font, one size, one place for the whole file, and the file
itself shows every digit in order: the units of the seconds step 0, 1, 2 … 9 once a second, and the
tens of the seconds change exactly when the units come round to 0. Twelve seconds of footage thus
label ten glyphs with their digits, with nothing to download and nothing to guess about the font
(an NVR's OSD font is its own). Reading is then nearest-template matching of the line's glyphs:
about a millisecond a picture, so the clock is read at every sample the analysis decodes anyway.

How the glyphs are found: the OSD draws light digits with a dark outline. In the clock's band (found
by monitor.footage.osd) the light pixels split into connected components; a digit is one component
of the line's height (a 1080p digit measured 28x37 px, a 360p one 8x12); separators (":" "-") are
shorter and a bright background (a whiteboard behind the text) is taller and wider, so both drop out
by size, while the dark outline keeps the digits apart from that background. Where that background
is as light as the digits (an over-lit room), it shows through the outline in the digits' holes and
in pockets where two digits' rings touch: a light part strictly inside another's box is a hole and
left out, and parts join into one glyph only where they share half the narrower one's columns, so a
pocket stands alone and drops out by size. Only parts reaching into the rows that ticked count: the
band is cut from thumbnail rows, and what lies just under the clock (faces) is in it. Digits
closer than half a digit's width form a run ("2026", "11", "20", "08", "00", "00"); the runs'
lengths say the layout (YYYY-MM-DD hh:mm:ss, or MM-DD-YYYY / DD-MM-YYYY).

How it fails: a clock in a font whose digits break into pieces at this resolution, or a line whose
seconds are not the glyph that ticks, is not learned (the file's report says the clock was found but
not read; no finding). Measured on generated outlined clocks (sample_videos.nvr.draw_clock's
`outline`, 2026-12-05): learned and read at every frame at 720p and 1080p, and at 1080p over a room
lit to white; not learned at 720p over that room (H.265 thins the 1-px ring until digits join the
background); at 360p learned, and 275 of 450 frames read. A single picture that does not read (a
compression smear over the digits) reads as None and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

import cv2
import numpy as np

from monitor.footage.media import SpanReader, luma_plane
from monitor.footage.osd import OsdRegion

LEARN_S = 12.5  # decoded to learn the digits: ten ticks of the units, one wrap of the tens, some margin
_LIGHT = 200  # grey level of the OSD's light strokes (measured 230-255 after H.265 at crf 28)
_GLYPH = (10, 16)  # template size (w, h): a 360p digit is 8x12 px, so nothing is made up
_CHANGE = 0.2  # RMS (0-1 scale) between two pictures of one glyph that means it changed (digits differ 0.3-0.6)
_MIN_STATE_S = 0.5  # a tick holds a digit for a second; shorter states are flicker
# A glyph is the digit of its nearest template when that is at most _ACCEPT away (RMS) and clearly
# nearer than the second nearest. Measured at 360p: the units' own pictures of one digit within
# 0.1; the same digit elsewhere on the line (placed a subpixel differently) 0.05-0.34, its second
# nearest template 0.45 and more; templates of different digits 0.37-0.61 apart.
_ACCEPT = 0.4
_MARGIN = 0.8


@dataclass(frozen=True)
class _Glyph:
    x0: int
    x1: int  # exclusive
    y0: int  # top row in the band
    h: int  # height in pixels
    vector: np.ndarray  # (_GLYPH h * w,) float32 in [0, 1]


def _components(band: np.ndarray, height: int, line: tuple[int, int] | None = None) -> list[_Glyph]:
    """The glyphs of the line's height (within 25 %), left to right: light components no taller
    than the line, joined where they share columns (at 360p the bar of a "5" comes loose from its
    bowl), kept where the joined glyph has the line's height (a ":" or "-" has not). With `line`
    (band rows [top, bottom)), only components reaching into those rows: the band is cut from
    thumbnail rows and holds what lies under the clock too (1080p faces 20 px below the digits
    joined them by their columns, and the clock was never learned)."""
    mask = (band > _LIGHT).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    top, bottom = line if line is not None else (0, band.shape[0])
    parts = sorted((int(s[0]), int(s[0] + s[2]), int(s[1]), int(s[1] + s[3]), k) for k, s in enumerate(stats)
                   if k > 0 and s[3] <= 1.25 * height and s[2] <= 1.2 * height and s[1] < bottom and s[1] + s[3] > top)
    # A light part strictly inside another's box is a hole of a digit (0, 4, 6, 8, 9) showing a light
    # background through the outline (an over-lit room), not a stroke: it is left out.
    parts = [p for p in parts if not any(o[0] < p[0] and p[1] < o[1] and o[2] < p[2] and p[3] < o[3] for o in parts)]
    # Parts join a glyph where at least half the narrower one's columns are shared: a pocket of
    # light background closed off where two outlined digits touch ("08" over-lit) shares a column
    # or two with each and is a glyph of its own (too short, dropped), not a join of the two.
    groups: list[list[tuple[int, int, int, int, int]]] = []
    for part in parts:
        if groups:
            g0, g1 = min(p[0] for p in groups[-1]), max(p[1] for p in groups[-1])
            if min(part[1], g1) - part[0] >= 0.5 * min(part[1] - part[0], g1 - g0):
                groups[-1].append(part)
                continue
        groups.append([part])
    out = []
    for group in groups:
        x0, x1 = min(p[0] for p in group), max(p[1] for p in group)
        y0, y1 = min(p[2] for p in group), max(p[3] for p in group)
        h, w = y1 - y0, x1 - x0
        if not (0.75 * height <= h <= 1.25 * height and w <= 1.2 * height):
            continue
        # The strokes' grey levels, not a thresholded mask: a stroke a pixel wide lands a subpixel
        # differently at each place on the line, and its anti-aliased grey says so smoothly where a
        # mask flips whole pixels (at 360p that cost 0.3 of the 0.4 between two digits). Only
        # pixels at most one away from the glyph count: a light background beyond the dark
        # outline (a whiteboard) is not the digit's.
        mask = np.isin(labels[y0:y1, x0:x1], [p[4] for p in group]).astype(np.uint8)
        near = cv2.dilate(mask, np.ones((3, 3), np.uint8)).astype(np.float32)
        piece = np.clip((band[y0:y1, x0:x1].astype(np.float32) - 120.0) / 135.0, 0.0, 1.0) * near
        vector = cv2.resize(piece, _GLYPH, interpolation=cv2.INTER_AREA).reshape(-1)
        out.append(_Glyph(x0, x1, y0, h, vector))
    return out


def _distances(vectors: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """RMS distance of each glyph (n, size) to each template (10, size), the glyph shifted by up to
    a pixel of the template grid either way (a digit elsewhere on the line is drawn a subpixel
    differently from the units' one: at 360p the shift alone cost 0.1-0.3)."""
    w, h = _GLYPH
    glyphs = np.pad(vectors.reshape(-1, h, w), ((0, 0), (1, 1), (1, 1)))
    t = templates.reshape(1, -1, h * w)
    best = np.full((vectors.shape[0], templates.shape[0]), np.inf)
    for dy in range(3):
        for dx in range(3):
            shifted = glyphs[:, dy:dy + h, dx:dx + w].reshape(-1, 1, h * w)
            best = np.minimum(best, np.sqrt(np.mean((shifted - t) ** 2, axis=2)))
    return best


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


_LAYOUTS = {  # run lengths -> which runs hold year, month, day, hour, minute, second
    (4, 2, 2, 2, 2, 2): ("ymd", (0, 1, 2, 3, 4, 5)),
    (2, 2, 4, 2, 2, 2): ("mdy", (2, 0, 1, 3, 4, 5)),
}


@dataclass(frozen=True)
class ClockReader:
    """Learned digit templates and where the clock's line lies in the picture."""

    rows: tuple[int, int]  # picture rows of the band [r0, r1) at the file's size
    cols: tuple[int, int]  # picture columns of the text [c0, c1)
    height: int  # a digit's height in pixels
    templates: np.ndarray  # (10, n) float32
    layout: tuple[int, ...]  # digits per run, as learned
    order: str  # "ymd", "mdy" or "dmy"
    line: tuple[int, int]  # band rows [top, bottom) of the digits (the band keeps a margin around them)

    def digits(self, luma: np.ndarray) -> list[list[int]] | None:
        """The line's digits as runs, or None where a glyph of the line's height is no digit."""
        band = luma[self.rows[0]:self.rows[1], self.cols[0]:self.cols[1]]
        glyphs = _components(np.ascontiguousarray(band), self.height, self.line)
        if not glyphs:
            return None
        d = _distances(np.stack([g.vector for g in glyphs]), self.templates)
        ranked = np.sort(d, axis=1)
        best = np.argmin(d, axis=1)
        if np.any(ranked[:, 0] > _ACCEPT) or (d.shape[1] > 1 and np.any(ranked[:, 0] > _MARGIN * ranked[:, 1])):
            return None
        return _runs(glyphs, [int(b) for b in best])

    def read(self, luma: np.ndarray) -> datetime | None:
        """The clock shown in one picture (the luma plane at the file's size), naive local time."""
        runs = self.digits(luma)
        if runs is None or tuple(len(r) for r in runs) != self.layout:
            return None
        return _datetime(runs, self.order)


def _runs(glyphs: list[_Glyph], digits: list[int]) -> list[list[int]]:
    """Digits whose glyphs lie closer than half a digit's width form one run."""
    width = float(np.median([g.x1 - g.x0 for g in glyphs]))
    runs: list[list[int]] = [[digits[0]]]
    for prev, g, d in zip(glyphs, glyphs[1:], digits[1:]):
        if g.x0 - prev.x1 <= width * 0.5:
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def _number(run: list[int]) -> int:
    return int("".join(map(str, run)))


def _datetime(runs: list[list[int]], order: str) -> datetime | None:
    values = [_number(r) for r in runs]
    if order == "ymd":
        y, mo, d = values[0], values[1], values[2]
    elif order == "mdy":
        mo, d, y = values[0], values[1], values[2]
    else:
        d, mo, y = values[0], values[1], values[2]
    try:
        return datetime(y, mo, d, values[3], values[4], values[5])
    except ValueError:
        return None


def _states(frames: list[tuple[float, _Glyph, _Glyph]]) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """Consecutive stretches of one units glyph: (start time, mean units vector, mean tens vector).
    A stretch shorter than _MIN_STATE_S inside the window is a transient (H.265 smeared the digits
    for one frame where the minute turned over) and is dropped; what it separated is joined."""
    raw: list[list] = []  # [start, end, units vectors, tens vectors]
    for t, units, tens in frames:
        if raw and _rms(np.mean(raw[-1][2], axis=0), units.vector) <= _CHANGE:
            raw[-1][1] = t
            raw[-1][2].append(units.vector)
            raw[-1][3].append(tens.vector)
        else:
            raw.append([t, t, [units.vector], [tens.vector]])
    kept = [s for n, s in enumerate(raw) if n in (0, len(raw) - 1) or s[1] - s[0] >= _MIN_STATE_S]
    joined: list[list] = []
    for s in kept:
        if joined and _rms(np.mean(joined[-1][2], axis=0), np.mean(s[2], axis=0)) <= _CHANGE:
            joined[-1][1] = s[1]
            joined[-1][2] += s[2]
            joined[-1][3] += s[3]
        else:
            joined.append(s)
    return [(s[0], np.mean(s[2], axis=0), np.mean(s[3], axis=0)) for s in joined]


def learn(pictures: Iterable[tuple[float, np.ndarray]], region: OsdRegion, frame_duration_s: float
          ) -> ClockReader | None:
    """Templates from consecutive pictures (media time, luma plane) spanning at least 11 ticks, or
    None when the clock cannot be learned there."""
    frames: list[tuple[float, _Glyph, _Glyph]] = []
    first_luma: np.ndarray | None = None
    rows = height = centre = line = None
    for t, luma in pictures:
        if rows is None:
            h, w = luma.shape
            wide = (region.rows[0] * h // 36, min(h, (region.rows[1] + 1) * h // 36 + 1))
            centre = (region.box[0] + region.box[2]) / 2 * w / 10000
            band = np.ascontiguousarray(luma[wide[0]:wide[1]])
            # the rows that ticked, as the locator saw them (a few pixels coarse), in the band
            ticked = (region.box[1] * h // 10000 - wide[0], -(-region.box[3] * h // 10000) - wide[0])
            units = _units(_components(band, _tall(band, ticked), ticked), centre)
            if units is None:
                return None
            height = units.h
            # From here on the band is the units glyph's rows and a quarter of a digit either side.
            pad = max(2, height // 4)
            top = max(0, units.y0 - pad)
            rows = (wide[0] + top, wide[0] + min(band.shape[0], units.y0 + height + pad))
            line = (units.y0 - top, units.y0 - top + height)
            first_luma = luma.copy()
        glyphs = _components(np.ascontiguousarray(luma[rows[0]:rows[1]]), height, line)
        k = _units_index(glyphs, centre)
        if k is None or k == 0:
            continue
        frames.append((t, glyphs[k], glyphs[k - 1]))
    if first_luma is None or rows is None or height is None or line is None or len(frames) < 10:
        return None
    states = _states(frames)
    # The first and last states are partial; the others should last a second each.
    whole = [s for n, s in enumerate(states) if 0 < n < len(states) - 1]
    if len(whole) < 10:
        return None
    starts = np.array([s[0] for s in states])
    if np.any(np.abs(np.diff(starts[1:-1]) - 1.0) > max(0.25, 3 * frame_duration_s)):
        return None  # not a clock ticking once a second (stalled, jumping, or misread)
    wraps = [n for n in range(1, len(states)) if _rms(states[n][2], states[n - 1][2]) > _CHANGE]
    if not wraps:
        return None
    labels = [(n - wraps[0]) % 10 for n in range(len(states))]  # the units read 0 where the tens changed
    if any((n - wraps[0]) % 10 != 0 for n in wraps):
        return None
    templates = np.zeros((10, states[0][1].size), dtype=np.float32)
    for digit in range(10):
        members = [states[n][1] for n in range(len(states)) if labels[n] == digit]
        if not members:
            return None
        templates[digit] = np.mean(members, axis=0)
    distinct = min(_rms(templates[a], templates[b]) for a in range(10) for b in range(a + 1, 10))
    if distinct <= _CHANGE:
        return None
    w = first_luma.shape[1]
    probe = ClockReader(rows, (0, w), height, templates, (), "ymd", line)
    text = _components(np.ascontiguousarray(first_luma[rows[0]:rows[1]]), height, line)
    runs = probe.digits(first_luma)
    if runs is None:
        return None
    layout = tuple(len(r) for r in runs)
    if layout not in _LAYOUTS:
        return None
    order = _LAYOUTS[layout][0]
    if order == "mdy" and _number(runs[0]) > 12:
        order = "dmy"
    cols = (max(0, text[0].x0 - height), min(w, text[-1].x1 + height))
    reader = ClockReader(rows, cols, height, templates, layout, order, line)
    return reader if reader.read(first_luma) is not None else None


def _tall(band: np.ndarray, line: tuple[int, int]) -> int:
    """A first guess of the line's height for finding the ticking glyph: the tallest height that
    six components reaching into the rows that ticked share (within 25 %), not wider than tall (the
    whiteboard behind the text is). The line has twelve digits and more; where the room behind an
    outlined clock is over-lit, the digits' holes are light components too, as many as the digits
    and a fifth their height, and a median of all took a hole's height for the line's."""
    mask = (band > _LIGHT).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    heights = np.array([int(s[3]) for s in stats[1:] if s[3] >= 5 and s[2] <= 1.2 * s[3] and s[3] < band.shape[0]
                        and s[1] < line[1] and s[1] + s[3] > line[0]])
    shared = [h for h in heights if np.count_nonzero((heights >= h / 1.25) & (heights <= h * 1.25)) >= 6]
    return int(max(shared)) if shared else 0


def _units(glyphs: list[_Glyph], centre: float) -> _Glyph | None:
    k = _units_index(glyphs, centre)
    return None if k is None else glyphs[k]


def _units_index(glyphs: list[_Glyph], centre: float | None) -> int | None:
    """The glyph under the ticking box's centre (the units of the seconds)."""
    if not glyphs or centre is None:
        return None
    k = int(np.argmin([abs((g.x0 + g.x1) / 2 - centre) for g in glyphs]))
    g = glyphs[k]
    return k if g.x0 - (g.x1 - g.x0) <= centre <= g.x1 + (g.x1 - g.x0) else None


@dataclass(frozen=True)
class ClockTrack:
    """What one file's on-screen clock showed at its samples, and what could be made of it."""

    region: OsdRegion | None  # where the clock ticks (None: no clock found)
    reader: ClockReader | None  # its learned digits (None: found but not learned)
    times_s: np.ndarray  # media seconds of the pictures read
    shown: tuple[datetime | None, ...]  # what each showed (naive local time; None: not read)

    @property
    def read(self) -> int:
        return sum(s is not None for s in self.shown)

    @property
    def note(self) -> str:
        """For the file's report: footage without a readable clock says so, without a finding."""
        if self.region is None:
            return "no on-screen clock found"
        if self.reader is None:
            return "an on-screen clock ticks but could not be read"
        return f"on-screen clock read at {self.read} of {len(self.shown)} samples"


def learn_in_file(reader: SpanReader, region: OsdRegion, from_s: float, end_s: float,
                  frame_duration_s: float) -> ClockReader | None:
    """Learn the digits from `from_s` on (right after where the clock was located: the reader
    decodes on without a seek), else once more from the file's middle (a fault at its start)."""
    for start in dict.fromkeys([from_s, max(from_s, (from_s + end_s) / 2 - LEARN_S / 2)]):
        if start + LEARN_S > end_s + 0.5:
            continue
        pictures = ((t, luma_plane(f)) for t, f in reader.frames(start, start + LEARN_S))
        learned = learn(pictures, region, frame_duration_s)
        if learned is not None:
            return learned
    return None
