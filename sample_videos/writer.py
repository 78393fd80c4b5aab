"""Writing footage with PyAV (libx264), one frame at a time, so an hour of video never sits in memory."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import av
import numpy as np


def write_video(
    path: Path,
    frames: Iterable[tuple[int, np.ndarray]],
    fps: int,
    size: tuple[int, int],
    *,
    gop: int | None = None,
    crf: int = 26,
    preset: str = "veryfast",
    creation_time: datetime | None = None,
    x264_params: str | None = None,
) -> Path:
    """Encode (frame index, BGR image) pairs; the frame index is the presentation time in frame
    units, so skipping indices leaves a timestamp hole, as a cut recording does."""
    width, height = size
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        if creation_time is not None:
            container.metadata["creation_time"] = creation_time.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.time_base = Fraction(1, fps)
        options = {"crf": str(crf), "preset": preset}
        if gop is not None:
            stream.codec_context.gop_size = gop
            options["keyint_min"] = str(min(gop, 25))
        if x264_params:
            options["x264-params"] = x264_params
        stream.options = options
        for index, image in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="bgr24")
            frame.pts = index
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
