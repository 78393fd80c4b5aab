"""Short clips of the footage a finding points at, made when an inspector asks and cached.

Why clips: a freeze or a loop is a matter of motion; two stills show that two pictures agree, a
few seconds show the scene standing still or coming round again. Why WebM (VP8): every Chromium
plays it, whatever its build's proprietary codecs. Made from the stored recording (never the
institution's file again), at most CLIP_MAX_S seconds, 640 px wide and 12 frames a second: a few
hundred kilobytes, made in 1.1–5.6 s on this shared machine (measured); cached by the recording's sha256 and
the interval, so a second look costs nothing."""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av

CLIP_MAX_S = 8.0
CLIP_FPS = 12
CLIP_WIDTH = 640


def clip_path(cache: Path, sha256: str, start_s: float, duration_s: float) -> Path:
    return cache / "clips" / f"{sha256}-{round(start_s * 1000)}-{round(duration_s * 1000)}.webm"


def make_clip(source: Path, start_s: float, duration_s: float, target: Path) -> Path | None:
    """The clip [start_s, start_s + duration_s) of `source` at `target` (made once; None when
    nothing of it can be decoded). Written to a temporary name and renamed: a reader never
    sees half a clip."""
    if target.is_file():
        return target
    duration_s = min(max(duration_s, 0.5), CLIP_MAX_S)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".webm", dir=target.parent)
    os.close(handle)
    written = 0
    try:
        with av.open(str(source), metadata_errors="ignore") as inp, av.open(temporary, "w", format="webm") as out:
            stream = inp.streams.video[0]
            stream.thread_type = "AUTO"
            width = min(CLIP_WIDTH, stream.codec_context.width) // 2 * 2
            height = round(stream.codec_context.height * width / stream.codec_context.width) // 2 * 2
            encoder = out.add_stream("libvpx", rate=CLIP_FPS)
            encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
            encoder.options = {"deadline": "realtime", "cpu-used": "8", "crf": "12", "b": "1M"}
            tb = float(stream.time_base)
            inp.seek(int(max(0.0, start_s - 1.0) / tb), stream=stream, backward=True)
            next_at = start_s
            for frame in inp.decode(stream):
                at = (frame.pts or 0) * tb
                if at < next_at - 0.5 / CLIP_FPS:
                    continue
                if at >= start_s + duration_s:
                    break
                picture = frame.reformat(width=width, height=height, format="yuv420p")
                picture.pts, picture.time_base = written, Fraction(1, CLIP_FPS)
                out.mux(encoder.encode(picture))
                written += 1
                next_at = start_s + written / CLIP_FPS
            out.mux(encoder.encode(None))
        if written == 0:
            return None
        os.replace(temporary, target)
        return target
    except (av.FFmpegError, OSError, IndexError):
        return None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
