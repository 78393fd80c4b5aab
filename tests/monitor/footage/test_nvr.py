"""Footage as classroom NVRs record it (issue #16): H.265 and H.264, a keyframe every 1-10 s, B-frames
or not, MP4 / MPEG-TS / MKV / FLV, an OSD clock burned in. Keyframes at most `loop_dense_gop_s` (2 s)
apart are sampled at the keyframes; longer GOPs are decoded frame by frame (threaded), which the loop
search needs (test_loops); a profile that sets `loop_dense_gop_s` higher (or `loop_sizes_min_px`, for
pictures of that many pixels) gets keyframe sampling up to `keyframe_gap_max_s` on streams without
B-frames, decoding elsewhere only where the packet sizes point. Freeze under a ticking clock
and black found and located either way; clean footage (sensor noise, lighting drift, people moving)
gives no finding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from monitor.footage.analyze import analyze_class
from monitor.footage.media import PacketTimeline, Samples, SpanReader, probe
from monitor.footage.osd import locate_clock
from monitor.footage.refine import first_frame_where
from monitor.footage.sampling import dense_gop_limit, dense_spans
from monitor.footage.report import ClassReport
from monitor.manifest import load_class
from monitor.policy import load_policy, profile_names
from sample_videos.classroom import Classroom
from sample_videos.nvr import Script, Shown, blacked, frozen, live, sensor_room, write_nvr
from tests.conftest import CLASS_START, at, offset_of, write_manifest
from tests.monitor.footage.conftest import TEACHERS

SIZE = (640, 360)


@pytest.fixture(scope="module")
def room() -> Classroom:
    return sensor_room(*SIZE)


def analyze_nvr(path: Path, duration_s: float, **overrides: object) -> ClassReport:
    manifest = write_manifest(path.parent, [{"path": path.name, "start": at(0)}], [("practical", 0, duration_s)],
                              policy_overrides={"practical_min_continuous_s": 20, **overrides}, teachers=TEACHERS)
    return analyze_class(load_class(manifest))


def findings(report: ClassReport, rule: str | None = None) -> list:
    found = [f for h in report.hours for f in h.findings] + report.findings
    return [f for f in found if rule is None or f.rule == rule]


def rules(report: ClassReport) -> set[str]:
    return {f.rule for f in findings(report)} - {"practical.continuity"}


def located(report: ClassReport, rule: str, start_s: float, end_s: float) -> None:
    hits = [f for f in findings(report, rule)
            if abs(offset_of(f.start) - start_s) <= 1.0 and abs(offset_of(f.end) - end_s) <= 1.0]
    assert hits, (rule, start_s, end_s, [(f.rule, offset_of(f.start), offset_of(f.end)) for f in findings(report)])


def drifting(start=CLASS_START) -> Script:
    """Honest footage whose light drifts by 20 % over a minute (clouds, a lamp warming up)."""
    clock = live(start)
    return lambda t: Shown(t, clock(t).clock, 1.0 + 0.2 * t / 60)


FORMATS = [  # codec, container, seconds between keyframes, B-frames
    ("hevc", "mp4", 10, 0),
    ("hevc", "ts", 4, 3),
    ("hevc", "flv", 10, 0),
    ("h264", "mkv", 1, 0),
    ("h264", "flv", 10, 2),
    ("h264", "ts", 6, 0),
]


@pytest.mark.parametrize("codec,ext,gop_s,bframes", FORMATS)
def test_freeze_under_a_ticking_clock_and_black_are_found(tmp_path, room, codec, ext, gop_s,
                                                                               bframes):
    script = blacked(frozen(live(CLASS_START), 10, 22), 30, 38)
    path = write_nvr(tmp_path / f"nvr.{ext}", room, script, 45, codec=codec, gop_s=gop_s, bframes=bframes)
    report = analyze_nvr(path, 45)
    assert report.files[0].sampling == ("keyframes" if gop_s <= 2 else "interval")
    assert rules(report) == {"footage.freeze", "footage.black"}
    located(report, "footage.freeze", 10, 22)
    located(report, "footage.black", 30, 38)


@pytest.mark.parametrize("codec,gop_s", [("hevc", 10), ("h264", 10), ("hevc", 2)])
def test_clean_footage_with_drifting_light_gives_no_finding(tmp_path, room, codec, gop_s):
    path = write_nvr(tmp_path / "clean.mkv", room, drifting(), 60, codec=codec, gop_s=gop_s)
    report = analyze_nvr(path, 60)
    assert rules(report) == set()
    assert report.files[0].sampling == ("keyframes" if gop_s <= 2 else "interval")
    assert report.files[0].samples <= 60 / 2 + 2  # nothing sampled densely where nothing happens


@pytest.mark.parametrize("codec,ext,bframes", [("hevc", "mp4", 0), ("h264", "flv", 2)])
def test_a_profile_trading_short_loops_for_speed_samples_a_long_gop_at_its_keyframes(tmp_path, room, codec, ext,
                                                                                     bframes):
    script = blacked(frozen(live(CLASS_START), 10, 22), 30, 38)
    path = write_nvr(tmp_path / f"nvr.{ext}", room, script, 45, codec=codec, gop_s=10, bframes=bframes)
    report = analyze_nvr(path, 45, loop_dense_gop_s=12.0)
    # B-frames: the sizes cannot find its loops, so every frame is decoded whatever the profile says
    assert report.files[0].sampling == ("keyframes" if bframes == 0 else "interval")
    assert rules(report) == {"footage.freeze", "footage.black"}
    located(report, "footage.freeze", 10, 22)
    located(report, "footage.black", 30, 38)


def test_1080p_h265_long_gop_is_sampled_at_its_keyframes(tmp_path):
    """Where the profile samples pictures of 1920x1080 at keyframes (`loop_sizes_min_px`; no B-frames)."""
    room = sensor_room(1920, 1080)
    path = write_nvr(tmp_path / "hd.mp4", room, frozen(live(CLASS_START), 6, 14), 20, codec="hevc", gop_s=10)
    report = analyze_nvr(path, 20, freeze_max_s=5.0, loop_sizes_min_px=1920 * 1080)
    assert (report.files[0].width, report.files[0].height, report.files[0].codec) == (1920, 1080, "hevc")
    assert report.files[0].sampling == "keyframes"
    located(report, "footage.freeze", 6, 14)


def _timeline(width: int, height: int, gop_s: float, reordered: bool) -> PacketTimeline:
    """A 25-fps timeline as demuxing gives it (no file: dense_gop_limit reads no media)."""
    frames = int(60 * 25)
    return PacketTimeline(path=Path("/nonexistent.mp4"), times_s=np.arange(frames) / 25.0,
                          sizes=np.full(frames, 1000, dtype=np.int32),
                          keyframes=np.arange(frames) % int(gop_s * 25) == 0, width=width, height=height,
                          codec="hevc", frame_duration_s=0.04, creation_time=None, truncated=None,
                          reordered=reordered)


HD = {"loop_sizes_min_px": 1920 * 1080}  # a profile sampling 1080p and more at keyframes


@pytest.mark.parametrize("width,height,reordered,keyframes", [
    (1920, 1080, False, True),  # `loop_sizes_min_px`: the sizes' candidates find its loops
    (2560, 1440, False, True),
    (1080, 1920, False, True),  # a camera on its side has as many pixels
    (1920, 1078, False, False),  # fewer pixels: every frame, as at 640x360
    (1280, 720, False, False),
    (640, 360, False, False),
    (1920, 1080, True, False),  # B-frames drown the sizes whatever the picture size
    (2560, 1440, True, False),
])
def test_which_long_gops_are_sampled_at_their_keyframes(width, height, reordered, keyframes):
    policy = load_policy("zhengzhou-2022", HD)
    limit = dense_gop_limit(_timeline(width, height, 10.0, reordered), policy)
    assert (limit >= 10.0) is keyframes
    assert limit == (policy.keyframe_gap_max_s if keyframes else
                     min(policy.loop_dense_gop_s, policy.sample_interval_s * 1.05) if reordered else
                     policy.loop_dense_gop_s)


@pytest.mark.parametrize("profile", profile_names())
def test_by_default_long_gops_of_1080p_and_more_are_sampled_at_their_keyframes(profile):
    """The picture-size rule is on from 1920x1080 (`loop_sizes_min_px`): decoding every frame of
    such a stream cannot be 5x faster than ffmpeg, and its sizes find every copy of recorded frames
    (base.toml). Smaller pictures, and streams with B-frames, are decoded frame by frame."""
    policy = load_policy(profile)
    assert policy.loop_sizes_min_px == 1920 * 1080
    for width, height in ((640, 360), (1280, 720), (1920, 1078)):
        assert dense_gop_limit(_timeline(width, height, 10.0, False), policy) == policy.loop_dense_gop_s < 10.0
    for width, height in ((1920, 1080), (2560, 1440), (3840, 2160)):
        assert dense_gop_limit(_timeline(width, height, 10.0, False), policy) >= 10.0
        assert dense_gop_limit(_timeline(width, height, 10.0, True), policy) < 10.0


def test_the_picture_size_rule_follows_the_profile():
    """Never lowers a profile's own `loop_dense_gop_s`; keyframes further apart than
    `keyframe_gap_max_s` are still decoded frame by frame; the threshold is the profile's."""
    hd = _timeline(1920, 1080, 10.0, False)
    assert dense_gop_limit(hd, load_policy("zhengzhou-2022", {**HD, "loop_dense_gop_s": 20.0})) == 20.0
    assert dense_gop_limit(hd, load_policy("zhengzhou-2022", {**HD, "keyframe_gap_max_s": 8.0})) < 10.0
    assert dense_gop_limit(_timeline(640, 360, 10.0, False),
                           load_policy("zhengzhou-2022", {"loop_sizes_min_px": 640 * 360})) == 12.0


def _clock_of(path: Path):
    reader = SpanReader(path)
    try:
        return locate_clock(reader, 0.0)
    finally:
        reader.close()


def test_the_osd_clock_is_found_and_footage_without_one_has_none(tmp_path, room):
    region = _clock_of(write_nvr(tmp_path / "osd.mp4", room, live(CLASS_START), 6, codec="hevc", gop_s=2))
    assert region is not None and region.rows[0] <= 1 and region.rows[1] <= 4  # the top-left line of text
    assert _clock_of(write_nvr(tmp_path / "plain.mp4", room, live(CLASS_START, osd=False), 6, codec="hevc")) is None


class _Inserted:
    """The room, except that [start_s, end_s) shows another room: footage of elsewhere spliced in."""

    def __init__(self, room: Classroom, other: Classroom, start_s: float, end_s: float) -> None:
        self.room, self.other, self.start_s, self.end_s = room, other, start_s, end_s
        self.width, self.height = room.width, room.height

    def frame(self, t: float, lights: float = 1.0) -> np.ndarray:
        return (self.other if self.start_s <= t < self.end_s else self.room).frame(t, lights=lights)


def test_a_profile_sampling_a_long_gop_at_its_keyframes_finds_a_short_insert_between_them(tmp_path, room):
    """13-18 s shows another room: no keyframe (0, 10, 20 s) sees it; the cut's packet spike opens a
    dense span (the profile's `splice_junction_ratio`), and the splice detector sees it there."""
    inserted = _Inserted(room, sensor_room(*SIZE, seed=99, trainees=10), 13.0, 18.0)
    path = write_nvr(tmp_path / "insert.mp4", inserted, live(CLASS_START), 30, codec="hevc", gop_s=10)
    report = analyze_nvr(path, 30, loop_dense_gop_s=12.0)
    assert report.files[0].sampling == "keyframes"
    assert rules(report) == {"footage.splice"}
    located(report, "footage.splice", 13, 18)
    # The span comes from the profile's threshold: one above the cut's spike (8.8-11.0 at 360p) opens none.
    policy = load_policy("zhengzhou-2022", {"loop_dense_gop_s": 12.0})
    spans = dense_spans(probe(path), policy)
    assert any(a <= 13.0 <= b for a, b in spans) and any(a <= 18.0 <= b for a, b in spans)
    high = dense_spans(probe(path), load_policy("zhengzhou-2022", {"loop_dense_gop_s": 12.0,
                                                                     "splice_junction_ratio": 30.0}))
    assert not any(a <= 13.0 <= b or a <= 18.0 <= b for a, b in high)


def test_an_edge_inside_a_dense_span_is_pinned_on_the_frames_the_sampling_kept():
    """No decode (the path does not exist): the span's thumbnails answer; outside it, None."""
    times = np.arange(100) * 0.04 + 10.0
    thumbs = np.zeros((100, 36, 64), dtype=np.uint8)
    thumbs[57:] = 200  # the picture changes at the 57th frame
    samples = Samples(times_s=times[::50], thumbs=thumbs[::50], mode="keyframes", spans=((10.0, float(times[-1])),),
                      span_times_s=times, span_thumbs=thumbs)
    assert samples.span_frames(9.0, 11.0) is None
    found = first_frame_where(Path("/nonexistent.mp4"), 10.0, 13.0, lambda t: t.mean() > 100, samples)
    assert found == pytest.approx(times[57])
