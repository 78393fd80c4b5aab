"""The on-screen clock (OSD) an NVR burns into the picture: where it is.

The clock's digits change once a second and stay put in between, while everything else in a
classroom changes gradually (people move a little from frame to frame) or not at all. So, over a
few seconds of consecutive frames, the clock is the thumbnail pixels that jump at a few isolated
transitions, about one second apart, and are still otherwise. Its rows are left out of every
comparison of pictures: over a frozen or replayed picture a live OSD keeps ticking (so a freeze
would never look unchanged), and a replay shows another time than its original.

The whole band of rows is masked, not just the seconds: in a replay an hour later the hours and
minutes differ too, and the date differs across days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from monitor.footage.media import THUMB_H, THUMB_W, SpanReader

GREY_W = 320  # width of the pictures searched: a digit 1/30 of the height is 6 rows here, 1.2 in a thumbnail
_JUMP = 25.0  # grey levels: a tick moved digit pixels 40-200 at this width (360p and 1080p)
_STILL = 3.0  # median frame-to-frame change of an OSD pixel between ticks (sensor noise averages out)
LOOK_S = 4.3  # decoded from the file's start: four ticks
_RATE_SLACK = 0.25  # s: how far from a second apart two ticks may be
_BAND = 0.08  # the clock's line of text is at most this share of the picture's height (NVRs: 1/30-1/20)
_DOMINANT = 3.0  # that band holds this many times the re-jumping pixels of any other band (moving edges
# re-jump a second apart by chance: at 1080p, 1-2 % of a classroom's pixels jump in 4 s)


@dataclass(frozen=True)
class OsdRegion:
    rows: tuple[int, int]  # first and last thumbnail row of the clock's band (inclusive)
    ticks: int  # tick transitions seen
    box: tuple[int, int, int, int]  # the ticking digits (x0, y0, x1, y1) as shares of 10000 of the picture

    def keep(self) -> np.ndarray:
        """(THUMB_H, THUMB_W) bool: the pixels to compare (everything but the band)."""
        mask = np.ones((THUMB_H, THUMB_W), dtype=bool)
        mask[self.rows[0]:self.rows[1] + 1] = False
        return mask


def find_clock(frames: list[tuple[float, np.ndarray]]) -> OsdRegion | None:
    """The clock's band from consecutive (time, grey picture GREY_W wide) frames, or None when
    nothing ticks."""
    if len(frames) < 10:
        return None
    times = np.array([t for t, _ in frames])
    thumbs = np.stack([th for _, th in frames]).astype(np.float32)
    change = np.abs(np.diff(thumbs, axis=0))  # (n-1, h, w)
    jumps = change > _JUMP
    count = jumps.sum(axis=0)
    ticking = (count >= 1) & (count <= max(2, int(np.ceil(times[-1] - times[0])) + 1)) & \
        (np.median(change, axis=0) < _STILL)
    if ticking.sum() < 2:
        return None
    # A moving edge also jumps once and stays put; the clock's digits jump again a second later
    # at the same pixels (the units of the seconds change on every tick). "A second" first to the
    # frame; failing that, within _RATE_SLACK: a clock running 20 % fast (30-fps pictures stamped
    # 25 fps) ticks every 0.83 s and must still be found, so that its rate can be judged
    # (monitor.footage.clock). (The slack alone let a 360p classroom's re-jumping edges outnumber
    # the ticks.)
    flat = (jumps & ticking[None]).reshape(jumps.shape[0], -1)
    at = times[1:]
    step = float(np.median(np.diff(times)))
    for slack in (step * 0.6, max(step * 0.6, _RATE_SLACK)):
        on_ticks = np.zeros(flat.shape[1], dtype=bool)
        ticks: set[int] = set()
        for k in np.flatnonzero(flat.sum(axis=1) >= 2):
            later = np.flatnonzero(np.abs(at - at[k] - 1.0) <= slack)
            for k2 in later:
                shared = flat[k] & flat[k2]
                if shared.sum() >= 3:
                    on_ticks |= shared
                    ticks.update((int(k), int(k2)))
        if 2 <= len(ticks) <= 2 * (times[-1] - times[0] + 1):
            break
    if len(ticks) < 2 or len(ticks) > 2 * (times[-1] - times[0] + 1):
        return None  # a clock ticks once a second (a tick may spread over two frames), not every few frames
    on_ticks = on_ticks.reshape(jumps.shape[1:])
    h, w = on_ticks.shape
    # The clock is one line of text: most of what re-jumped must lie in one band of rows.
    band = max(2, int(round(h * _BAND)))
    per_row = on_ticks.sum(axis=1)
    sums = np.convolve(per_row, np.ones(band, dtype=np.int64), mode="valid")
    top_row = int(np.argmax(sums))
    elsewhere = np.concatenate([sums[:max(0, top_row - band + 1)], sums[top_row + band:]])
    if sums[top_row] < 6 or (elsewhere.size and sums[top_row] < _DOMINANT * elsewhere.max()):
        return None
    on_ticks[:top_row] = False
    on_ticks[top_row + band:] = False
    ys, xs = np.nonzero(on_ticks)
    top, bottom = int(ys.min()) * THUMB_H // h, (int(ys.max()) + 1) * THUMB_H // h
    box = (int(xs.min()) * 10000 // w, int(ys.min()) * 10000 // h, (int(xs.max()) + 1) * 10000 // w,
           (int(ys.max()) + 1) * 10000 // h)
    return OsdRegion((max(0, top - 1), min(THUMB_H - 1, bottom + 1)), len(ticks), box)


def locate_clock(reader: SpanReader, start_s: float) -> OsdRegion | None:
    """Decode `LOOK_S` seconds from `start_s` and find the clock there."""
    return find_clock(list(reader.grey(start_s, start_s + LOOK_S, GREY_W)))
