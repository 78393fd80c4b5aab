"""Make the sample class: three short class hours filmed by one fixed camera in two NVR files,
with the second hour tampered (a looped copy of the first hour's footage, then a frozen picture).

Hours last one minute here, so the manifest overrides the hour length and the continuity minimum;
everything else is judged as a real class would be. Run: python -m sample_videos.make_sample OUT

With a folder of real faces (`faces`: ../shared/data/faces, person/photo.jpg) the class has a
roster with enrolment photos, three of its four trainees sit in the room (another photo of each,
pasted in front of the synthetic class) and the fourth never comes: the analysis then checks who
attended and counts the headcount. Without one the roster is empty and nothing of that is checked.
"""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import numpy as np

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


# The real media beside the checkout (not in git: ../shared/data/README.md says where it comes from).
SHARED_FACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "faces"
# The roster of the class with faces: id, name, enrolment photo; and who sits in the room, in
# another photo of the same person (T-4 never comes).
FACE_ROSTER = (("T-1", "奥巴马", "obama/1.jpg"), ("T-2", "拜登", "biden/1.jpg"), ("T-3", "哈林顿", "kit_harington/1.jpg"),
               ("T-4", "拉卡莫尔", "alex_lacamoire/1.jpg"))
SEATED = ("obama/4.jpg", "biden/2.jpg", "kit_harington/2.jpg")
_PORTRAIT_PX = 120  # the portraits' height: their faces 40-60 px, as a classroom camera sees a front row


def _seats(faces: Path) -> list[tuple[int, int, np.ndarray]]:
    """(x, y, BGR picture) of each seated trainee's portrait along the front of the room."""
    seats, x = [], 12
    for name in SEATED:
        picture = cv2.imread(str(faces / name))
        if picture is None:
            raise FileNotFoundError(f"no picture at {faces / name}")
        width = round(picture.shape[1] * _PORTRAIT_PX / picture.shape[0])
        seats.append((x, SIZE[1] - _PORTRAIT_PX - 12, cv2.resize(picture, (width, _PORTRAIT_PX), interpolation=cv2.INTER_AREA)))
        x += width + 12
    if x > SIZE[0]:
        raise ValueError("the portraits do not fit side by side in the sample's frame")
    return seats


ROSTER = [{"id": f"T-{n:03d}", "name": name} for n, name in enumerate(["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"], start=1)]


def as_sent(manifest: dict) -> dict:  # type: ignore[type-arg]
    """The manifest as an institution sends it to the service: without `policy` (the service
    judges by the institution's jurisdiction; the sample's 1-minute hours are the `demo`
    jurisdiction's, where an admin puts the school)."""
    return {k: v for k, v in manifest.items() if k not in ("policy", "policy_overrides")}


def make_sample_class(out: Path, faces: Path | None = None) -> Path:
    """Write the recordings and class.json into `out`; return the manifest's path. `faces`: a
    folder of real faces (see the module) for a roster with photos and trainees in the room."""
    out.mkdir(parents=True, exist_ok=True)
    room = Classroom(*SIZE, trainees=12)
    seats = _seats(faces) if faces is not None else []
    grain = np.random.default_rng(11).normal(0, 3, (5, _PORTRAIT_PX, SIZE[0], 3))

    def picture(t: float) -> np.ndarray:
        image = room.frame(t)
        for x, y, portrait in seats:  # the camera's noise on the portraits too, the same at the same moment
            h, w = portrait.shape[:2]
            noisy = portrait + grain[int(t * 997) % len(grain), :h, :w]
            image[y:y + h, x:x + w] = np.clip(noisy, 0, 255).astype(np.uint8)
        return image

    def frames(span: tuple[int, int]):
        first, last = span
        for k in range(int((last - first) * FPS)):
            t = first + k / FPS
            yield k, picture(_source_time(t))

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
        # Without faces no roster: the sample is about the footage. Trainees without roster photos
        # would be `visibility.unverifiable` in every hour (who attended cannot be checked).
        "roster": _face_roster(faces, out) if faces is not None else [],
        "teachers": [{"id": "E-01", "name": "赵老师"}],
    }
    path = out / "class.json"
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def _face_roster(faces: Path, out: Path) -> list[dict[str, str]]:
    """The roster with each trainee's enrolment photo copied beside the manifest."""
    (out / "photos").mkdir(exist_ok=True)
    roster = []
    for trainee, name, photo in FACE_ROSTER:
        target = out / "photos" / f"{trainee}{Path(photo).suffix}"
        shutil.copyfile(faces / photo, target)
        roster.append({"id": trainee, "name": name, "photo": target.relative_to(out).as_posix()})
    return roster


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent / "out"
    print(make_sample_class(target))
