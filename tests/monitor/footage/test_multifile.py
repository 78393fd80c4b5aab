"""Several recordings of one class (an NVR splits a day into files): one wall-clock timeline,
holes and overlaps between files, and bad files that cost nothing but themselves."""

from __future__ import annotations

from datetime import timedelta, timezone
from pathlib import Path

import av
import numpy as np
import pytest

from monitor.findings import Verdict
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from sample_videos.classroom import Classroom
from sample_videos.writer import write_video
from tests.conftest import CLASS_START, at, offset_of, write_manifest
from tests.monitor.footage.conftest import TEACHERS

FPS = 25
SIZE = (320, 180)


@pytest.fixture(scope="module")
def room() -> Classroom:
    return Classroom(*SIZE, trainees=9)


def _recording(folder: Path, name: str, room: Classroom, start_s: float, end_s: float, **kw) -> Path:
    frames = ((k, room.frame(start_s + k / FPS)) for k in range(int((end_s - start_s) * FPS)))
    return write_video(folder / name, frames, FPS, SIZE, gop=2 * FPS, **kw)


def _analyze(folder, recordings, hours=(("practical", 0, 90),), **overrides):
    manifest = write_manifest(folder, recordings, list(hours),
                              policy_overrides={"practical_min_continuous_s": 30, **overrides}, teachers=TEACHERS)
    return analyze_class(load_class(manifest))


def _findings(report, rule):
    return [f for h in report.hours for f in h.findings if f.rule == rule] + \
        [f for f in report.findings if f.rule == rule]


def test_two_files_with_a_hole_between_their_declared_starts(tmp_path, room):
    _recording(tmp_path, "a.mp4", room, 0, 40)
    _recording(tmp_path, "b.mp4", room, 50, 90)
    report = _analyze(tmp_path, [{"path": "a.mp4", "start": at(0)}, {"path": "b.mp4", "start": at(50)}])
    gaps = _findings(report, "footage.gap")
    assert [(round(offset_of(g.start)), round(offset_of(g.end))) for g in gaps] == [(40, 50)]
    assert gaps[0].evidence["before"]["file"] == "a.mp4" and gaps[0].evidence["after"]["file"] == "b.mp4"
    hour = report.hours[0]
    assert hour.longest_continuous_s == pytest.approx(40, abs=0.1)
    assert hour.coverage == pytest.approx(80 / 90, abs=0.01)
    assert {f.rule for f in hour.findings} == {"footage.gap"}


def test_files_back_to_back_within_the_tolerance_make_one_run(tmp_path, room):
    _recording(tmp_path, "a.mp4", room, 0, 45)
    _recording(tmp_path, "b.mp4", room, 46, 90)  # a 1 s hiccup between files: under gap_tolerance_s
    report = _analyze(tmp_path, [{"path": "a.mp4", "start": at(0)}, {"path": "b.mp4", "start": at(46)}])
    assert _findings(report, "footage.gap") == []
    assert report.hours[0].longest_continuous_s == pytest.approx(90, abs=0.1)
    assert report.hours[0].verdict is Verdict.VALID


def test_overlapping_files_are_reported(tmp_path, room):
    _recording(tmp_path, "a.mp4", room, 0, 50)
    _recording(tmp_path, "b.mp4", room, 40, 90)
    report = _analyze(tmp_path, [{"path": "a.mp4", "start": at(0)}, {"path": "b.mp4", "start": at(40)}])
    overlaps = _findings(report, "footage.overlap")
    assert len(overlaps) == 1
    assert (round(offset_of(overlaps[0].start)), round(offset_of(overlaps[0].end))) == (40, 50)
    assert overlaps[0].evidence["files"] == ["a.mp4", "b.mp4"]
    assert report.hours[0].coverage == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x00\x01garbage" * 5000, "not a readable media file"),
        (b'{"this": "is json behind a video name"}', "not a readable media file"),
    ],
)
def test_a_corrupt_third_file_is_reported_and_the_rest_analysed(tmp_path, room, content, reason):
    _recording(tmp_path, "a.mp4", room, 0, 45)
    _recording(tmp_path, "b.mp4", room, 45, 90)
    (tmp_path / "c.mp4").write_bytes(content)
    report = _analyze(tmp_path, [{"path": "a.mp4", "start": at(0)}, {"path": "b.mp4", "start": at(45)},
                                 {"path": "c.mp4", "start": at(90)}])
    unreadable = _findings(report, "file.unreadable")
    assert len(unreadable) == 1 and unreadable[0].evidence["file"] == "c.mp4"
    assert reason in unreadable[0].detail
    assert [f.status for f in report.files] == ["analysed", "analysed", "unreadable"]
    assert report.hours[0].verdict is Verdict.VALID  # the hour is fully covered by a and b


def test_a_truncated_file_is_unreadable(tmp_path, room):
    whole = _recording(tmp_path, "whole.mp4", room, 0, 20)
    (tmp_path / "cut.mp4").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    report = _analyze(tmp_path, [{"path": "cut.mp4", "start": at(0)}], hours=[("practical", 0, 20)])
    assert [f.rule for f in report.findings] == ["file.unreadable"]
    assert report.hours[0].coverage == 0 and report.hours[0].verdict is Verdict.INVALID


def test_a_file_without_video_is_unreadable(tmp_path):
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=16000)
        samples = np.zeros((1, 16000), dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
        frame.sample_rate = 16000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    report = _analyze(tmp_path, [{"path": "sound.m4a", "start": at(0)}], hours=[("practical", 0, 20)])
    assert report.files[0].reason == "no video stream"


def test_start_read_from_the_container_when_not_declared(tmp_path, room):
    created = (CLASS_START + timedelta(seconds=10)).astimezone(timezone.utc)
    _recording(tmp_path, "a.mp4", room, 10, 40, creation_time=created)
    report = _analyze(tmp_path, [{"path": "a.mp4"}], hours=[("practical", 10, 40)])
    assert report.files[0].start_source == "container"
    assert offset_of(report.files[0].start) == pytest.approx(10, abs=0.05)
    assert report.hours[0].coverage == pytest.approx(1.0, abs=0.01)


def test_no_start_anywhere_is_reported(tmp_path, room):
    _recording(tmp_path, "a.mp4", room, 0, 10)
    report = _analyze(tmp_path, [{"path": "a.mp4"}], hours=[("practical", 0, 10)])
    assert [f.rule for f in report.findings] == ["file.start_unknown"]


def test_hour_without_any_footage_is_a_gap_and_fails(tmp_path, room):
    _recording(tmp_path, "a.mp4", room, 0, 40)
    report = _analyze(tmp_path, [{"path": "a.mp4", "start": at(0)}],
                      hours=[("practical", 0, 40), ("theory", 60, 100)])
    assert report.hours[0].verdict is Verdict.VALID
    second = report.hours[1]
    assert second.coverage == 0 and second.verdict is Verdict.INVALID
    assert {f.rule for f in second.findings} == {"footage.gap", "theory.coverage"}
