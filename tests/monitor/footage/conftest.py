"""Real clips decoded once per session, and a way to write tampered versions of them with PyAV."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import av
import cv2
import numpy as np
import pytest

from monitor.footage.analyze import analyze_class
from monitor.footage.report import ClassReport
from monitor.manifest import load_class
from sample_videos.writer import write_video
from tests.conftest import at, write_manifest

# A class must list its teachers (A5, checked when the manifest is read); footage tests need one.
TEACHERS = [{"id": "E-01", "name": "Teacher"}]

VTEST_SIZE = (384, 288)  # half of 768x576: keeps the decoded clip in memory small
VTEST_FPS = 10


def _decode(path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [cv2.resize(f.to_ndarray(format="bgr24"), size, interpolation=cv2.INTER_AREA)
                for f in container.decode(video=0)]


@pytest.fixture(scope="session")
def vtest(shared_data: Path) -> list[np.ndarray]:
    """vtest.avi: 795 frames, 10 fps, a fixed camera over a pedestrian area (our classroom stand-in)."""
    return _decode(shared_data / "videos" / "vtest.avi", VTEST_SIZE)


@pytest.fixture(scope="session")
def hamilton(shared_data: Path) -> list[np.ndarray]:
    """short_hamilton_clip.mp4 resized to vtest's size: footage of another place, for splicing."""
    return _decode(shared_data / "videos" / "short_hamilton_clip.mp4", VTEST_SIZE)


Mapping = Callable[[int], np.ndarray | None]


@pytest.fixture
def tampered(tmp_path: Path, vtest: list[np.ndarray]) -> Callable[..., Path]:
    """Write vtest re-encoded, frame k taken from mapping(k) (None drops the frame, leaving a
    timestamp hole), with a keyframe every `gop` frames."""

    def make(name: str, mapping: Mapping, gop: int | None = 2 * VTEST_FPS, frames: int | None = None) -> Path:
        count = frames or len(vtest)

        def pictures():
            for k in range(count):
                image = mapping(k)
                if image is not None:
                    yield k, image

        return write_video(tmp_path / f"{name}.mp4", pictures(), VTEST_FPS, VTEST_SIZE, gop=gop)

    return make


def analyze_clip(path: Path, duration_s: float, kind: str = "practical", **overrides) -> ClassReport:
    """One clip starting at 08:00:00, one class hour over its whole length."""
    manifest = write_manifest(
        path.parent, [{"path": path.name, "start": at(0)}], [(kind, 0, duration_s)],
        policy_overrides={"practical_min_continuous_s": 30, **overrides}, teachers=TEACHERS,
    )
    return analyze_class(load_class(manifest))
