"""NVR footage made in segments and joined (bench/footage.py makes its hour this way, issue #16): the
join must be a recording the monitor cannot tell from one long encode, or the bench would measure
seams (a gap or overlap at a join reads as footage.gap or a splice, a fresh encoder's small first
keyframe and odd first GOP as a junction in the packet sizes)."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from sample_videos.nvr import join_nvr, live, sensor_room, write_nvr
from tests.conftest import CLASS_START

FPS, GOP_S = 25, 5.0


def packets(path: Path) -> list[tuple[int, int, bool, int]]:
    """(pts, dts, keyframe, size) of every packet, in the file's order."""
    with av.open(str(path)) as container:
        return [(p.pts, p.dts, p.is_keyframe, p.size) for p in container.demux(container.streams.video[0])
                if p.dts is not None]


def pictures(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray") for f in container.decode(video=0)]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("join")
    room, script = sensor_room(320, 180), live(CLASS_START)
    first = write_nvr(folder / "first.mp4", room, script, 10, gop_s=GOP_S, tail_s=0.4)
    second = write_nvr(folder / "second.mp4", room, script, 10, gop_s=GOP_S, start_s=10, warmup_s=GOP_S)
    return {"first": first, "second": second, "joined": join_nvr([first, second], folder / "joined.mp4"),
            "whole": write_nvr(folder / "whole.mp4", room, script, 20, gop_s=GOP_S)}


def test_joined_segments_are_one_encode(made: dict[str, Path]) -> None:
    joined, whole = packets(made["joined"]), packets(made["whole"])
    assert len(joined) == len(whole) == 20 * FPS
    step = joined[1][0] - joined[0][0]
    assert step > 0
    assert [(pts, dts) for pts, dts, _, _ in joined] == [(k * step, k * step) for k in range(len(joined))]
    gop = int(GOP_S * FPS)
    assert [k for k, p in enumerate(joined) if p[2]] == [k for k, p in enumerate(whole) if p[2]] == list(range(0, 20 * FPS, gop))
    # the encoder warmed up one GOP and run past the first segment's end: the packet sizes are the
    # long encode's but for a few bytes of the keyframe at the join (rate-control history)
    differ = [k for k, (a, b) in enumerate(zip(joined, whole)) if a[3] != b[3]]
    assert set(differ) <= {10 * FPS}, differ
    assert abs(joined[10 * FPS][3] - whole[10 * FPS][3]) <= 0.02 * whole[10 * FPS][3]


def test_join_copies_the_segments(made: dict[str, Path]) -> None:
    joined = packets(made["joined"])
    parts = packets(made["first"]) + packets(made["second"])
    assert [p[2:] for p in joined] == [p[2:] for p in parts]
    decoded = pictures(made["joined"])
    assert len(decoded) == 20 * FPS
    alone = pictures(made["first"]) + pictures(made["second"])
    assert all(np.array_equal(a, b) for a, b in zip(decoded, alone))


def test_join_refuses_a_segment_that_starts_between_keyframes(made: dict[str, Path], tmp_path: Path) -> None:
    room = sensor_room(320, 180)
    with pytest.raises(ValueError):
        write_nvr(tmp_path / "bad.mp4", room, live(CLASS_START), 4, gop_s=GOP_S, start_s=11, warmup_s=1)
    cut = tmp_path / "cut.mp4"
    with av.open(str(made["second"])) as src, av.open(str(cut), "w") as dst:
        stream = src.streams.video[0]
        out = dst.add_stream_from_template(stream)
        for packet in list(src.demux(stream))[5:]:
            if packet.dts is not None:
                packet.stream = out
                dst.mux(packet)
    with pytest.raises(ValueError):
        join_nvr([made["first"], cut], tmp_path / "joined.mp4")
