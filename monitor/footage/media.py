"""Reading recordings through PyAV: packet timelines without decoding, sampled thumbnails, spans.

Everything the detectors look at is a small grey thumbnail (THUMB_W x THUMB_H) of the luma plane,
so memory does not grow with resolution and only a few kilobytes are kept per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

import av
import cv2
import numpy as np

THUMB_W, THUMB_H = 64, 36
# Every frame's picture, where every frame is decoded: 576 bytes, 52 MB for an hour at 25 fps. On
# generated footage a copy's frame lay 0.08 of the scene's own motion (0.5-2 s) from its original
# at this size, a clean file's nearest other frame 0.18 and more (64x36: 0.10 and 0.23; 16x9:
# 0.07 and 0.07, no longer apart).
MICRO_W, MICRO_H = 32, 18
# Dense spans' frames kept as thumbnails (Samples.span_frames) up to this many a file (2.3 KB each:
# 46 MB); beyond it an edge there is decoded again.
SPAN_FRAMES_MAX = 20_000
# The loop search compares grey pictures this wide (monitor.footage.loop). The dense spans' frames
# are kept at this size too, up to SPAN_GREYS_MAX a file (14 KB each at 16:9: 43 MB), so that a loop
# edge at a cut (a junction the sampling decoded around) is not decoded again from its keyframe.
CONFIRM_W = 160
SPAN_GREYS_MAX = 3000
_LUMA_FORMATS = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"}


class UnreadableMedia(Exception):
    """The file is not a readable video: the message is the reason shown to the user."""


@dataclass(frozen=True)
class PacketTimeline:
    """What demuxing alone tells about one file: frame times, packet sizes and keyframes."""

    path: Path
    times_s: np.ndarray  # presentation times of video frames, media seconds, sorted
    sizes: np.ndarray  # packet sizes in bytes, same order
    keyframes: np.ndarray  # bool, same order
    width: int
    height: int
    codec: str
    frame_duration_s: float
    creation_time: datetime | None
    truncated: str | None  # why demuxing stopped early, if it did
    # Frames presented in another order than they are stored (B-frames): their packet sizes follow
    # the encoder's B-pattern more than the picture's change, and a replay no longer repeats them
    # (README: H.264 with 2 B-frames 2/3 replays found by sizes, H.265 with 3 B-frames 0/3).
    reordered: bool = False

    @property
    def first_s(self) -> float:
        return float(self.times_s[0])

    @property
    def end_s(self) -> float:
        """Media time just after the last frame."""
        return float(self.times_s[-1]) + self.frame_duration_s

    @property
    def keyframe_times_s(self) -> np.ndarray:
        return self.times_s[self.keyframes]


# What a classroom camera records; outside it a file is refused before anything is decoded.
MIN_SIDE_PX, MAX_SIDE_PX, MAX_FPS = 16, 8192, 240


def _open_video(path: Path) -> tuple[av.container.InputContainer, av.video.stream.VideoStream]:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, OSError) as exc:
        raise UnreadableMedia(f"not a readable media file ({_reason(exc)})") from None
    if not container.streams.video:
        container.close()
        raise UnreadableMedia("no video stream")
    stream = container.streams.video[0]
    if stream.codec_context is None or not stream.codec_context.width:
        container.close()
        raise UnreadableMedia("video stream has no decodable picture size")
    width, height = stream.codec_context.width, stream.codec_context.height
    if not (MIN_SIDE_PX <= width <= MAX_SIDE_PX and MIN_SIDE_PX <= height <= MAX_SIDE_PX):
        container.close()  # a crafted size would make every decoded picture huge
        raise UnreadableMedia(f"picture size {width}x{height} is outside what a camera records "
                              f"({MIN_SIDE_PX}-{MAX_SIDE_PX} px a side)")
    return container, stream


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.split("\n")[0][:200]


def _creation_time(container: av.container.InputContainer) -> datetime | None:
    raw = container.metadata.get("creation_time")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def probe(path: Path) -> PacketTimeline:
    """Demux every packet of the video stream (no decoding) into a timeline."""
    container, stream = _open_video(path)
    times: list[float] = []
    sizes: list[int] = []
    keys: list[bool] = []
    truncated: str | None = None
    tb = float(stream.time_base)
    try:
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None:
                continue
            times.append(ts * tb)
            sizes.append(packet.size)
            keys.append(bool(packet.is_keyframe))
    except (av.FFmpegError, OSError) as exc:
        truncated = f"stops early: {_reason(exc)}"
    finally:
        creation = _creation_time(container)
        width, height = stream.codec_context.width, stream.codec_context.height
        codec = stream.codec_context.name
        rate = stream.average_rate or stream.guessed_rate
        container.close()
    if not times:
        raise UnreadableMedia(truncated or "no video frames")
    stored = np.asarray(times, dtype=np.float64)
    order = np.argsort(stored, kind="stable")
    times_s = stored[order]
    steps = np.diff(times_s)
    typical = float(np.median(steps)) if steps.size else (1.0 / float(rate) if rate else 0.04)
    if 0 < typical < 1 / MAX_FPS:
        raise UnreadableMedia(f"{1 / typical:,.0f} frames a second is more than a camera records (at most {MAX_FPS})")
    return PacketTimeline(
        path=path,
        times_s=times_s,
        sizes=np.asarray(sizes, dtype=np.int32)[order],
        keyframes=np.asarray(keys, dtype=bool)[order],
        width=width,
        height=height,
        codec=codec,
        frame_duration_s=typical if typical > 0 else 0.04,
        creation_time=creation,
        truncated=truncated,
        reordered=bool(np.any(np.diff(stored) < 0)),
    )


def luma_plane(frame: av.VideoFrame) -> np.ndarray:
    """The frame's grey picture at full size, a view of the decoded plane where the format allows
    (no copy: the OSD clock is read from it at every sample)."""
    if frame.format.name in _LUMA_FORMATS:
        plane = frame.planes[0]
        return np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
    return frame.to_ndarray(format="gray")


def micro_picture(frame: av.VideoFrame) -> np.ndarray:
    """MICRO_W x MICRO_H grey picture of a frame, cheaply: the luma thinned to about 240 columns
    first (each micro pixel still averages dozens), so that every frame of an hour can afford it."""
    luma = luma_plane(frame)
    step = max(1, luma.shape[1] // 240)
    return cv2.resize(np.ascontiguousarray(luma[::step, ::step]), (MICRO_W, MICRO_H), interpolation=cv2.INTER_AREA)


def thumbnail(frame: av.VideoFrame) -> np.ndarray:
    """The luma plane shrunk to THUMB_W x THUMB_H by area averaging (uint8). Pictures wider than
    640 are first thinned to every 2nd (3rd …) pixel: a thumbnail block still averages 100 or more
    pixels, and the resize costs a quarter (measured: 0.3 ms at 720p, a quarter of a decode)."""
    luma = luma_plane(frame)
    step = max(1, luma.shape[1] // 640)
    if step > 1:
        luma = luma[::step, ::step]
    return cv2.resize(np.ascontiguousarray(luma), (THUMB_W, THUMB_H), interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Samples:
    """Thumbnails of one file at its sample instants (media seconds)."""

    times_s: np.ndarray  # (n,)
    thumbs: np.ndarray  # (n, THUMB_H, THUMB_W) uint8
    mode: str  # "keyframes" or "interval"
    # Where every frame was decoded anyway (`every_frame`): a tiny picture of each, for the loop
    # search's frame-by-frame matching (monitor.footage.loop); None elsewhere.
    frame_times_s: np.ndarray | None = None  # (m,)
    frames: np.ndarray | None = None  # (m, MICRO_H, MICRO_W) uint8
    # Where keyframe sampling decoded a dense span: the thumbnail of every frame in it, so that an
    # event's edge there (a freeze's, black's, a splice's: monitor.footage.refine) is pinned without
    # decoding the span again from its keyframe (on the 4-minute 1080p bench file, 779 frames).
    spans: tuple[tuple[float, float], ...] = ()  # media intervals decoded frame by frame
    span_times_s: np.ndarray | None = None  # (k,) sorted
    span_thumbs: np.ndarray | None = None  # (k, THUMB_H, THUMB_W) uint8
    # The first dense spans' frames (up to SPAN_GREYS_MAX) as CONFIRM_W-wide grey pictures:
    # (media from, media to, times, pictures) per span, every frame of it.
    span_greys: tuple[tuple[float, float, np.ndarray, np.ndarray], ...] = ()

    def span_frames(self, after_s: float, until_s: float) -> Iterator[tuple[float, np.ndarray]] | None:
        """Every frame's thumbnail with after_s <= time <= until_s where one dense span holds the
        whole stretch, else None (decode it)."""
        if self.span_times_s is None or not any(a <= after_s + 1e-6 and until_s - 1e-6 <= b for a, b in self.spans):
            return None
        lo = int(np.searchsorted(self.span_times_s, after_s - 1e-6))
        hi = int(np.searchsorted(self.span_times_s, until_s + 1e-6, side="right"))
        return zip(self.span_times_s[lo:hi].tolist(), self.span_thumbs[lo:hi])

    def __len__(self) -> int:
        return int(self.times_s.size)


def choose_mode(timeline: PacketTimeline, interval_s: float, keyframe_gap_max_s: float | None = None) -> str:
    """Keyframes suffice when they are never further apart than the sampling step, or, given
    `keyframe_gap_max_s`, never further apart than that (long NVR GOPs: the sampling then also
    decodes where the packet sizes say something happened, see `sample`'s `dense`)."""
    keys = timeline.keyframe_times_s
    limit = interval_s if keyframe_gap_max_s is None else max(interval_s, keyframe_gap_max_s)
    if keys.size >= 2 and float(np.max(np.diff(keys))) <= limit * 1.05 and keys[0] - timeline.first_s <= limit:
        return "keyframes"
    return "interval"


def sample(
    timeline: PacketTimeline,
    interval_s: float,
    on_progress: Callable[[float], None] | None = None,
    *,
    keyframe_gap_max_s: float | None = None,
    dense: list[tuple[float, float]] | None = None,
    on_frame: Callable[[float, av.VideoFrame], None] | None = None,
    every_frame: bool = False,
) -> Samples:
    """Decode only what the sampling needs: keyframes where they are dense enough (one per
    `interval_s` where they are denser still), else every frame but keep one per `interval_s`. In
    keyframe mode, each `dense` span (media seconds) is also decoded from the keyframe before it and
    sampled every `interval_s`: a freeze or black shorter than a 10-s GOP would otherwise fall
    between two samples. Decode errors end the sampling of this file early (the packet timeline
    already knows how long it is). `on_frame` sees every sampled frame while it is decoded (the OSD
    clock is read there, at no extra decoding)."""
    mode = choose_mode(timeline, interval_s, keyframe_gap_max_s)
    due = _due_keyframes(timeline.keyframe_times_s, interval_s) if mode == "keyframes" else None
    container, stream = _open_video(timeline.path)
    context = stream.codec_context
    if mode == "keyframes":
        context.skip_frame = "NONKEY"  # measured: frame threading halves the speed of keyframe-only decoding
    else:
        context.thread_type = "AUTO"
    times: list[float] = []
    thumbs: list[np.ndarray] = []
    next_due = -np.inf
    last_report = 0.0
    every = every_frame and mode == "interval"
    # Preallocated from the packet count: an hour's 90000 small pictures as one array (52 MB), not a
    # list of arrays stacked at the end (61 MB of them and the 52 MB copy at once).
    capacity = timeline.times_s.size + 16 if every else 0
    frame_times = np.empty(capacity, dtype=np.float64)
    micro = np.empty((capacity, MICRO_H, MICRO_W), dtype=np.uint8)
    held = 0
    try:
        for frame in container.decode(stream) if due is None else _decoded_keyframes(container, stream, due):
            if frame.time is None:
                continue
            t = float(frame.time)
            if every and held < capacity:
                frame_times[held] = t
                micro[held] = micro_picture(frame)
                held += 1
            if mode == "interval" and t < next_due:
                continue
            times.append(t)
            thumbs.append(thumbnail(frame))
            if on_frame is not None:
                on_frame(t, frame)
            next_due = t + interval_s * 0.999
            if on_progress is not None and t - last_report >= 10.0:
                on_progress(t - timeline.first_s)
                last_report = t
    except (av.FFmpegError, OSError):
        pass
    finally:
        container.close()
    spans: list[tuple[float, float]] = []
    span_times: list[float] = []
    span_thumbs: list[np.ndarray] = []
    greys: list[tuple[float, float, np.ndarray, np.ndarray]] = []
    greys_held = 0
    if mode == "keyframes" and dense and times:
        reader = SpanReader(timeline.path)
        try:
            for a, b in _merged(dense, interval_s):
                due = -np.inf
                keep_all = len(span_times) < SPAN_FRAMES_MAX
                keep_grey = greys_held < SPAN_GREYS_MAX
                grey_times: list[float] = []
                grey_pictures: list[np.ndarray] = []
                last = a
                for t, frame in reader.frames(a, b):
                    thumb = thumbnail(frame) if keep_all or t >= due else None
                    if keep_grey:
                        grey_times.append(t)
                        grey_pictures.append(_grey(frame, CONFIRM_W))
                    if keep_all:
                        span_times.append(t)
                        span_thumbs.append(thumb)
                        last = t
                    if t >= due:
                        times.append(t)
                        thumbs.append(thumb)
                        if on_frame is not None:
                            on_frame(t, frame)
                        due = t + interval_s * 0.999
                if keep_all and last > a:
                    spans.append((a, last))
                if keep_grey and grey_times:
                    greys.append((a, grey_times[-1], np.asarray(grey_times), np.stack(grey_pictures)))
                    greys_held += len(grey_times)
        finally:
            reader.close()
    if not times:
        raise UnreadableMedia("no frame could be decoded")
    order = np.argsort(times, kind="stable")
    times_s = np.asarray(times, dtype=np.float64)[order]
    keep = np.concatenate([[True], np.diff(times_s) > 1e-6])  # a keyframe inside a dense span is there twice
    if every and held:
        frame_times, micro = frame_times[:held], micro[:held]
        if np.any(np.diff(frame_times) < 0):  # decoders hand frames out in presentation order: rarely taken
            by_time = np.argsort(frame_times, kind="stable")
            frame_times, micro = frame_times[by_time], micro[by_time]
        return Samples(times_s=times_s[keep], thumbs=np.stack(thumbs)[order][keep], mode=mode,
                       frame_times_s=frame_times, frames=micro)
    if span_times:
        by_time = np.argsort(span_times, kind="stable")
        return Samples(times_s=times_s[keep], thumbs=np.stack(thumbs)[order][keep], mode=mode, spans=tuple(spans),
                       span_times_s=np.asarray(span_times, dtype=np.float64)[by_time],
                       span_thumbs=np.stack(span_thumbs)[by_time], span_greys=tuple(greys))
    return Samples(times_s=times_s[keep], thumbs=np.stack(thumbs)[order][keep], mode=mode)


def _due_keyframes(keys: np.ndarray, interval_s: float) -> np.ndarray | None:
    """The keyframes to decode where they come more often than the sampling step (a 1-s GOP):
    decoding is what sampling costs, and every keyframe of a 1-s GOP is twice the pictures a 2-s
    step asks for. A keyframe is passed over while the next one still lies within a step (and the
    5 % `choose_mode` allows) of the last one kept, so samples are never further apart than the
    step where the keyframes allow it. None when every keyframe is due: GOPs longer than half the
    step, whose extra keyframes (an encoder's scene cuts, as at a splice) are all decoded."""
    if keys.size < 3 or float(np.median(np.diff(keys))) > 0.55 * interval_s:
        return None
    kept = [0]
    for i in range(1, keys.size - 1):
        if keys[i + 1] - keys[kept[-1]] > interval_s * 1.05:
            kept.append(i)
    kept.append(keys.size - 1)
    return None if len(kept) == keys.size else keys[kept]


def _decoded_keyframes(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                       due: np.ndarray) -> Iterator[av.VideoFrame]:
    """The due keyframes' pictures: only their packets reach the decoder (keyframes decode on their
    own). `due` holds packet times as the PacketTimeline took them (pts, else dts, times the base)."""
    base = float(stream.time_base)
    wanted = set(np.rint(due / base).astype(np.int64).tolist())
    for packet in container.demux(stream):
        if packet.size == 0:  # the demuxer's last, empty packet: the decoder hands out what it holds
            yield from packet.decode()
            continue
        ts = packet.pts if packet.pts is not None else packet.dts
        if packet.is_keyframe and ts is not None and ts in wanted:
            yield from packet.decode()


def _merged(spans: list[tuple[float, float]], join_s: float) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if out and a - out[-1][1] <= join_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _frames_from(container: av.container.InputContainer, stream: av.video.stream.VideoStream,
                 start_s: float) -> Iterator[tuple[float, av.VideoFrame]]:
    """Seek to the keyframe before start_s and decode on, yielding frames from start_s on. Some
    containers seek past the target (MPEG-TS: a seek to 0.08 s landed on the keyframe at 4.08 s);
    then the seek is repeated further back, down to the file's start."""
    target = start_s
    for attempt in range(6):
        container.seek(int(max(target, 0.0) / float(stream.time_base)), stream=stream, backward=True,
                       any_frame=False)
        frames = (f for f in container.decode(stream) if f.time is not None)
        first = next(frames, None)
        if first is None:  # landed at the end (MPEG-TS, a target after the last keyframe)
            if target <= 0 or attempt == 5:
                return
            target = min(target, start_s) - 2.0 * (attempt + 1)
            continue
        first_s = float(first.time)
        if first_s > start_s + 1e-6 and target > 0 and attempt < 5:
            target = min(target, start_s) - max(2.0, 2 * (first_s - start_s))
            continue
        for frame in _chain(first, frames):
            if float(frame.time) >= start_s - 1e-6:
                yield float(frame.time), frame
        return


def _chain(first: av.VideoFrame, rest: Iterator[av.VideoFrame]) -> Iterator[av.VideoFrame]:
    yield first
    yield from rest


class SpanReader:
    """An open recording for decoding short spans, one after another: opening a container costs
    several milliseconds, which adds up over the hundreds of spans the loop search decodes. A span
    that starts after the previous one ended is decoded on from where that one stopped, without a
    seek, when that is nearer than the keyframe before it (on a 10-s GOP a seek decodes 5 s of
    frames before the span, on average)."""

    def __init__(self, path: Path, keyframe_times_s: np.ndarray | None = None, skip_loop_filter: bool = False) -> None:
        """`skip_loop_filter`: decode without the deblocking filter (about a quarter faster, measured
        on H.265): where two decodes of this kind are compared with each other (the loop search's
        copy and original at 160 px), blocking a few grey levels deep changes neither."""
        self.path = path
        self._container, self._stream = _open_video(path)
        # Frame threading: what a span decodes is mostly the frames from the keyframe before it
        # (on a 10-s GOP 5 s of them on average), a hundred and more, where the few frames in
        # flight that it decodes past a span's end cost little. Measured on 1500 frames of 1080p
        # H.265 (WPP), load 9.6: slice threading (the default) 7.2-8.4 s wall, 4.0-4.2 CPU-s;
        # "AUTO" 4.7 s, 3.3 CPU-s.
        self._stream.codec_context.thread_type = "AUTO"
        if skip_loop_filter:
            self._stream.codec_context.options = {"skip_loop_filter": "all"}
        self._broken = False
        self._keys = keyframe_times_s
        self._frames: Iterator[tuple[float, av.VideoFrame]] | None = None
        self._held: tuple[float, av.VideoFrame] | None = None  # pulled past the previous span's end
        self._done_until = np.inf  # frames up to this time were handed out or skipped

    def _continues(self, start_s: float) -> bool:
        if self._frames is None or start_s < self._done_until:
            return False
        position = self._held[0] if self._held is not None else self._done_until
        if self._keys is None or self._keys.size == 0:
            return start_s - position <= 2.0
        before = self._keys[np.searchsorted(self._keys, start_s + 1e-6) - 1] if start_s >= self._keys[0] else -np.inf
        return position >= before - 1e-6

    def frames(self, start_s: float, end_s: float) -> Iterator[tuple[float, av.VideoFrame]]:
        """Every decoded frame with start_s <= time <= end_s."""
        if self._broken:
            return
        try:
            if not self._continues(start_s):
                self._frames = _frames_from(self._container, self._stream, start_s)
                self._held = None
            while True:
                if self._held is not None:
                    item, self._held = self._held, None
                else:
                    item = next(self._frames, None)  # type: ignore[arg-type]
                    if item is None:
                        self._frames = None
                        return
                if item[0] > end_s + 1e-6:
                    self._held = item
                    self._done_until = end_s
                    return
                if item[0] >= start_s - 1e-6:
                    yield item
        except (av.FFmpegError, OSError):
            self._broken = True
        finally:
            self._done_until = end_s if self._frames is not None else np.inf

    def span(self, start_s: float, end_s: float) -> Iterator[tuple[float, np.ndarray]]:
        """Every frame with start_s <= time <= end_s, as (media time, thumbnail)."""
        for t, frame in self.frames(start_s, end_s):
            yield t, thumbnail(frame)

    def grey(self, start_s: float, end_s: float, width: int) -> Iterator[tuple[float, np.ndarray]]:
        """Every frame with start_s <= time <= end_s as a grey picture `width` pixels wide (the OSD
        search needs more detail than a thumbnail: a clock digit is 1/30 of the height)."""
        for t, frame in self.frames(start_s, end_s):
            yield t, _grey(frame, width)

    def close(self) -> None:
        self._frames = None
        self._container.close()


def _grey(frame: av.VideoFrame, width: int) -> np.ndarray:
    luma = luma_plane(frame)
    height = max(1, int(round(luma.shape[0] * width / luma.shape[1])))
    return cv2.resize(np.ascontiguousarray(luma), (width, height), interpolation=cv2.INTER_AREA)


def decode_span(path: Path, start_s: float, end_s: float) -> Iterator[tuple[float, np.ndarray]]:
    """Every frame with start_s <= time <= end_s of a file opened for just this span."""
    reader = SpanReader(path)
    try:
        yield from reader.span(start_s, end_s)
    finally:
        reader.close()


def frame_rgb(path: Path, media_s: float) -> np.ndarray | None:
    """The full picture (RGB, contiguous: dlib refuses strided arrays) of the first frame at or
    after media_s, for the face checks."""
    container, stream = _open_video(path)
    try:
        for _, frame in _frames_from(container, stream, media_s):
            return np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
    except (av.FFmpegError, OSError):
        return None
    finally:
        container.close()
    return None
