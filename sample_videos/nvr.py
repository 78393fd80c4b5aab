"""Footage as a classroom NVR records it: H.265 or H.264, a keyframe every 1-10 s, B-frames or not,
MP4 / MPEG-TS / MKV / FLV, and the date and time burned into the top-left corner (the OSD clock).

What the picture shows is a script: for each output instant, which moment of the room (re-rendered,
so a replay is the same picture re-encoded), which clock reading (a live OSD keeps ticking over a
replay; a replay of a recording shows the old clock), and whether the lens is covered. Tests and the
bench plant loops, freezes, black and clock faults with it; nothing of it is kept in git.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Callable, Iterator

import av
import cv2
import numpy as np

from sample_videos.classroom import Classroom

CODECS = {"hevc": "libx265", "h264": "libx264"}


@dataclass(frozen=True)
class Shown:
    """What the camera's output shows at one instant."""

    source_s: float  # which moment of the room is pictured (seconds of its own life)
    clock: datetime | None  # what the OSD reads; None: no OSD drawn
    lights: float = 1.0  # 0.05: black (lens covered or camera switched to a dark input)
    blur_px: float = 0.0  # defocus: Gaussian blur of the optics (sigma in pixels at this size), before sensor noise
    turned: float = 0.0  # camera turned away: share of the width the view is shifted (0.33: a third)
    outline: bool = False  # the OSD's digits ringed in black, drawn as a mask grown by a pixel or two


Script = Callable[[float], Shown]


def live(start: datetime, osd: bool = True, outline: bool = False) -> Script:
    """Honest footage: the room as it is, the clock ticking with it (`outline`: see draw_clock)."""
    return lambda t: Shown(t, start + timedelta(seconds=int(t)) if osd else None, outline=outline)


def draw_clock(image: np.ndarray, clock: datetime, outline: bool = False) -> None:
    """The OSD as NVRs burn it: white digits, top left, digits 1/28 of the height.

    The dark outline drawn first as thicker black text is hidden by OpenCV 5 (what
    opencv-python-headless installs now), which caps a Hershey stroke at 2 px: the digits come out
    white on the room. `outline`: a black ring a pixel wide (two from 1080p) around the white strokes,
    drawn from their mask grown by that much, as NVRs ring their digits; there a digit's holes and
    the gaps between touching digits show the room through the ring (tests/monitor/footage/test_clock)."""
    h = image.shape[0]
    scale = h / 600
    text = clock.strftime("%Y-%m-%d %H:%M:%S")
    org = (int(h * 0.03), int(h * 0.06))
    thick = max(1, int(round(2 * scale)))
    if outline:
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.putText(mask, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thick, cv2.LINE_AA)
        edge = max(1, int(round(scale)))
        ring = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * edge + 1, 2 * edge + 1)))
        dark = ring.astype(np.float32)[..., None] / 255
        light = mask.astype(np.float32)[..., None] / 255
        image[:] = np.clip(image * (1 - dark) * (1 - light) + 255 * light, 0, 255).astype(np.uint8)
        return
    cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2 * max(1, thick // 2), cv2.LINE_AA)
    cv2.putText(image, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick, cv2.LINE_AA)


_POOL = 8  # noise fields per picture size; which one a frame gets is a hash of its moment


@cache
def _noise(width: int, height: int, sigma: float) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    out = []
    for _ in range(_POOL):
        noise = np.rint(rng.normal(0, sigma, (height, width, 3)))
        out.append((np.clip(noise, 0, 255).astype(np.uint8), np.clip(-noise, 0, 255).astype(np.uint8)))
    return out


def _mix(k: int) -> int:
    """SplitMix64's finaliser: which noise field frame k gets, with no pattern along k (a
    multiplicative hash gave the packet sizes a lattice that correlated at fixed lags)."""
    z = (k * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return z ^ (z >> 31)


def sensor_room(width: int, height: int, seed: int = 7, trainees: int = 12) -> Classroom:
    """The generated classroom without its own noise (`picture` adds NVR-like noise instead)."""
    return Classroom(width, height, trainees=trainees, seed=seed, noise_sigma=0.0)


def picture(room: Classroom, shown: Shown, fps: float = 25, noise_sigma: float = 3.0) -> np.ndarray:
    """The room at the shown moment, with sensor noise that changes every frame (Classroom's own
    cycles through five fields in a pattern that repeats every ~8 frames, which would give the packet
    sizes a period no camera has; use `sensor_room` for a room without it). The noise is a function
    of the moment shown, so a replay carries the original's noise, as a recording does."""
    image = room.frame(shown.source_s, lights=shown.lights)
    if shown.turned:
        # another part of the room: the view shifted sideways and tilted a little, the rest mirrored in
        h, w = image.shape[:2]
        shift = np.float32([[1, 0, -shown.turned * w], [0, 1, shown.turned * h / 2]])
        image = cv2.warpAffine(image, shift, (w, h), borderMode=cv2.BORDER_REFLECT)
    if shown.blur_px > 0:
        image = cv2.GaussianBlur(image, (0, 0), shown.blur_px)
    if noise_sigma > 0:
        k = int(np.floor(shown.source_s * fps + 1e-6))  # round() halves to even: two copy frames would share one
        brighter, darker = _noise(room.width, room.height, noise_sigma)[_mix(k) % _POOL]
        image = cv2.subtract(cv2.add(image, brighter), darker)
    if shown.clock is not None:
        draw_clock(image, shown.clock, shown.outline)
    return image


def write_nvr(path: Path, room: Classroom, script: Script, duration_s: float, *, fps: float = 25,
              codec: str = "hevc", gop_s: float = 10.0, bframes: int = 0, crf: int = 28,
              preset: str = "ultrafast", creation_time: datetime | None = None, vfr: bool = False,
              start_s: float = 0.0, warmup_s: float = 0.0, tail_s: float = 0.0) -> Path:
    """Encode `duration_s` of the script. The container follows the suffix (.mp4, .ts, .mkv, .flv).
    Keyframes exactly every `gop_s` (no scene-cut keyframes: NVRs keep their cadence). `vfr`: a
    variable frame rate as NVRs write it when they fall behind: every frame up to 40 % of a frame
    late and every 9th dropped (millisecond timestamps; use a container that keeps them: MKV, MP4).

    A segment of a long recording, to be encoded in parallel with others and joined by `join_nvr`:
    `start_s`, the script from that instant on (timestamps still start at 0); `warmup_s` (whole
    GOPs) and `tail_s` of the script before and after it are encoded too and their packets dropped.
    A fresh encoder's first keyframe comes out at half the size of later ones, the GOP after it
    differs, and its last frames are coded as an end of stream. Warmed up 125 frames or more (one GOP
    of 5 or 10 s; 50 left a few bytes' difference in the GOP after the join), the segment's packet
    sizes are a long encode's (tests/monitor/footage/test_nvr_join.py; the bytes differ only in the
    slice headers' picture order count), so the joined file's packet sizes show no seam."""
    first = int(round(start_s * fps))
    warm, tail = int(round(warmup_s * fps)), int(round(tail_s * fps))
    gop = max(1, int(round(gop_s * fps)))
    if abs(first - start_s * fps) > 1e-6 or first < warm or warm % gop:
        raise ValueError("start_s must be a whole number of frames, warmup_s whole GOPs before it")
    if (first or warm or tail) and (vfr or bframes):
        raise ValueError("segments are for a constant frame rate without B-frames")
    count = int(round(duration_s * fps))
    width, height = room.width, room.height
    path.parent.mkdir(parents=True, exist_ok=True)
    rate = Fraction(fps).limit_denominator(1000)
    with av.open(str(path), mode="w") as container:
        if creation_time is not None:
            container.metadata["creation_time"] = creation_time.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        stream = container.add_stream(CODECS[codec], rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.time_base = Fraction(1, 1000) if vfr else 1 / rate
        if codec == "hevc":
            stream.options = {"preset": preset, "crf": str(crf), "x265-params":
                              f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}:log-level=error"}
        else:
            stream.options = {"preset": preset, "crf": str(crf),
                              "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes={bframes}"}

        def mux(packets: list[av.Packet]) -> None:
            for packet in packets:
                if warm or tail:
                    if not warm <= packet.pts < warm + count:
                        continue
                    packet.pts -= warm
                    packet.dts -= warm
                container.mux(packet)

        for k, image in _frames(room, script, (warm + count + tail) / fps, fps, vfr, first - warm):
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            if vfr:
                frame.pts = int(round(_vfr_time(k, fps) * 1000))
                frame.time_base = Fraction(1, 1000)
            else:
                frame.pts = k
                frame.time_base = 1 / rate
            mux(stream.encode(frame))
        mux(stream.encode())
    return path


def _vfr_time(k: int, fps: float) -> float:
    return (k + 0.4 * (_mix(k + 7919) % 1000) / 1000) / fps


def _frames(room: Classroom, script: Script, duration_s: float, fps: float,
            vfr: bool = False, first: int = 0) -> Iterator[tuple[int, np.ndarray]]:
    for k in range(int(round(duration_s * fps))):
        if vfr and k % 9 == 8:
            continue
        shown = script(_vfr_time(k, fps) if vfr else (first + k) / fps)
        yield k, np.ascontiguousarray(picture(room, shown, fps))


def join_nvr(segments: list[Path], path: Path) -> Path:
    """One file of the segments' packets, one after the other, each segment's timestamps shifted by
    the length of those before it (no re-encoding). An hour of 1080p is rendered and encoded in
    GOP-aligned segments in parallel (and a tampered hour re-renders only the segments its events
    touch); joined, the timestamps run on without a gap or an overlap, which the monitor would take
    for a footage.gap or a splice. The segments must come from one encoder setting (same parameter
    sets), each starting on a keyframe at 0, at a constant frame rate without B-frames: checked, the
    join refuses otherwise."""
    with av.open(str(path), mode="w") as dst:
        out = None
        extradata: bytes | None = None
        offset = 0  # in the segments' time base
        for segment in segments:
            with av.open(str(segment)) as src:
                stream = src.streams.video[0]
                if out is None:
                    out = dst.add_stream_from_template(stream)
                    extradata, time_base = stream.codec_context.extradata, stream.time_base
                elif stream.codec_context.extradata != extradata or stream.time_base != time_base:
                    raise ValueError(f"{segment}: another encoder setting or time base than {segments[0]}")
                end = None
                for packet in src.demux(stream):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    if end is None and (not packet.is_keyframe or packet.pts != 0 or packet.dts != 0):
                        raise ValueError(f"{segment} does not start on a keyframe at 0")
                    if end is not None and (packet.pts != end or packet.dts != end):
                        raise ValueError(f"{segment}: a gap or overlap at pts {packet.pts} (expected {end})")
                    end = packet.pts + packet.duration
                    packet.pts += offset
                    packet.dts += offset
                    packet.stream = out
                    dst.mux(packet)
                if end is None:
                    raise ValueError(f"{segment} holds no packet")
                offset += end
    return path


def replayed(base: Script, start_s: float, end_s: float, from_s: float, old_clock: bool = False) -> Script:
    """`base`, except that [start_s, end_s) shows again what was shown from `from_s` on: with the
    clock ticking on (a live OSD burned over replayed pictures) or, `old_clock`, the old clock too
    (a recording played again)."""

    def script(t: float) -> Shown:
        if start_s <= t < end_s:
            then = base(from_s + (t - start_s))
            now = base(t)
            return Shown(then.source_s, then.clock if old_clock else now.clock, then.lights, outline=now.outline)
        return base(t)

    return script


def frozen(base: Script, start_s: float, end_s: float) -> Script:
    """The picture stops at start_s for [start_s, end_s); a live OSD keeps ticking over it."""
    return lambda t: (Shown(base(start_s).source_s, base(t).clock, outline=base(t).outline) if start_s <= t < end_s
                      else base(t))


def blacked(base: Script, start_s: float, end_s: float) -> Script:
    """The picture goes dark for [start_s, end_s); the OSD stays."""
    return lambda t: (Shown(base(t).source_s, base(t).clock, 0.05, outline=base(t).outline) if start_s <= t < end_s
                      else base(t))


def defocused(base: Script, start_s: float, end_s: float, blur_px: float) -> Script:
    """The lens out of focus for [start_s, end_s); the OSD (drawn by the NVR) stays sharp."""
    return lambda t: (Shown(base(t).source_s, base(t).clock, base(t).lights, blur_px, outline=base(t).outline)
                      if start_s <= t < end_s else base(t))


def turned_away(base: Script, start_s: float, end_s: float, share: float = 0.33) -> Script:
    """The camera turned away for [start_s, end_s) (for good when end_s is past the end)."""
    return lambda t: (Shown(base(t).source_s, base(t).clock, base(t).lights, turned=share, outline=base(t).outline)
                      if start_s <= t < end_s else base(t))
