"""Make the sample class: three short class hours filmed by one fixed camera in two NVR files,
with the second hour tampered (a looped copy of the first hour's footage, then a frozen picture).

Hours last one minute here, so the manifest overrides the hour length and the continuity minimum;
everything else is judged as a real class would be. Run: python -m sample_videos.make_sample OUT
"""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sample_videos.classroom import Classroom
from sample_videos.writer import write_video

CST = timezone(timedelta(hours=8))
FPS = 25
SIZE = (640, 360)
DAY = datetime(2026, 11, 20, 8, 0, 0, tzinfo=CST)

# Wall-clock layout, in seconds after 08:00:00 (class time).
FILE1 = (-10, 90)  # cam1-0800.mp4, start declared in the manifest
FILE2 = (90, 185)  # cam1-0801.mp4, start read from its creation_time
LOOP = (65, 90, 20)  # in hour 2, 65..90 s shows again what was filmed at 20 s
FREEZE = (100, 115)  # in hour 2, the picture stops


def _source_time(t: float) -> float:
    """Which real moment the tampered recording shows at class time t."""
    start, end, copied_from = LOOP
    if start <= t < end:
        return copied_from + (t - start)
    if FREEZE[0] <= t < FREEZE[1]:
        return FREEZE[0]
    return t


ROSTER = [{"id": f"T-{n:03d}", "name": name} for n, name in enumerate(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"], start=1)]


def as_sent(manifest: dict) -> dict:  # type: ignore[type-arg]
    """The manifest as an institution sends it to the service: without `policy` (the service
    judges by the institution's jurisdiction; the sample's 1-minute hours are the `demo`
    jurisdiction's, where an admin puts the school)."""
    return {k: v for k, v in manifest.items() if k not in ("policy", "policy_overrides")}


def make_sample_class(out: Path) -> Path:
    """Write the recordings and class.json into `out`; return the manifest's path."""
    out.mkdir(parents=True, exist_ok=True)
    room = Classroom(*SIZE, trainees=12)

    def frames(span: tuple[int, int]):
        first, last = span
        for k in range(int((last - first) * FPS)):
            t = first + k / FPS
            yield k, room.frame(_source_time(t))

    write_video(out / "cam1-0800.mp4", frames(FILE1), FPS, SIZE, gop=2 * FPS)
    write_video(out / "cam1-0801.mp4", frames(FILE2), FPS, SIZE, gop=2 * FPS,
                creation_time=(DAY + timedelta(seconds=FILE2[0])).astimezone(timezone.utc))
    hour = timedelta(minutes=1)
    manifest = {
        "class_id": "SAMPLE-2026-1120",
        # 1-minute class hours: the demo jurisdiction's profile (an admin puts the demo's
        # institution there; through the API a manifest names no policy).
        "policy": "demo-short",
        "schedule": [
            {"index": 1, "kind": "practical", "start": DAY.isoformat(), "end": (DAY + hour).isoformat()},
            {"index": 2, "kind": "practical", "start": (DAY + hour).isoformat(), "end": (DAY + 2 * hour).isoformat()},
            {"index": 3, "kind": "theory", "start": (DAY + 2 * hour).isoformat(), "end": (DAY + 3 * hour).isoformat()},
        ],
        "recordings": [
            {"path": "cam1-0800.mp4", "start": (DAY + timedelta(seconds=FILE1[0])).isoformat()},
            {"path": "cam1-0801.mp4"},
        ],
        # No roster: the sample is about the footage. Trainees without roster photos would be
        # `visibility.unverifiable` in every hour (who attended cannot be checked).
        "roster": [],
        "teachers": [{"id": "E-01", "name": "赵老师"}],
    }
    path = out / "class.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out"
    print(make_sample_class(target))
