"""Benchmark of the face checks (issue #4): identity error rates on the real faces of
../shared/data; the latency of one still capture verdict (target p95 <= 300 ms) and of a 5-frame
burst (target p95 <= 1 s); and the visibility pass on a generated 1-hour 1280x720 classroom of 32
seated real faces (they sway, some leave for a while, the camera creeps), one check a minute, against the
naive loop (face_recognition.face_locations upsampled once on every full frame + face_encodings of
every face), both on the same decoded frames, with each one's recall of the faces present
(target: >= 4x faster at the same recall).

With --whole-hour: the same classroom as a real camera films it (25 fps, H.264, keyframe every
2 s) and `monitor analyze` on it with the roster's photos, continuity and visibility together,
timed against the issue's 60 s per hour of 720p. With --nvr, as the NVR of issue #16's (b) records
it instead: 1920x1080 H.265 (sample_videos/nvr.py's encoder: ultrafast, crf 28, a keyframe every
10 s, no B-frames) with the OSD clock burned in, against the same 60 s per hour. --minutes N makes
and analyses N minutes instead of 60 (the target scaled); --set PARAMETER=VALUE (repeatable) is a
policy override, to compare e.g. the default with --set loop_sizes_min_px=2073600 (1080p sampled at
its keyframes).

Run: .venv/bin/python bench/faces.py [--visibility-only | --smallest-face |
     --whole-hour [--nvr] [--minutes N] [--set PARAMETER=VALUE ...]]
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.faces.captures import ReplayIndex, judge_faces  # noqa: E402
from monitor.faces.copies import keypoints, shared_structure  # noqa: E402
from monitor.faces.detect import PORTRAIT_DETECT_SIDE, faces_in  # noqa: E402
from monitor.faces.enrol import EncodingCache, enrol, load_rgb  # noqa: E402
from monitor.faces.held_up import frame_sides  # noqa: E402
from monitor.faces.liveness import burst_liveness  # noqa: E402
from monitor.policy import load_policy  # noqa: E402
from sample_videos.classroom import Classroom  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
POLICY = load_policy("zhengzhou-2022")


def _p95(samples: list[float]) -> float:
    return float(np.percentile(samples, 95))


def _distinct_photos() -> list[Path]:
    """The photos of ../shared/data/faces but the copies of others (a re-encoding, a 240p copy)."""
    return sorted(p for p in (DATA / "faces").glob("*/*") if p.name not in ("2-reencoded.png", "5-240p.jpg"))


SEATS, COLUMNS, SIZE, HOUR_S, CHECK_S = 32, 8, (1280, 720), 3600, 60
NVR_SIZE = (1920, 1080)  # issue #16's (b)
# When the class hour starts: the manifest's schedule and recording, and the OSD clock's first reading.
START = datetime(2026, 11, 20, 8, 0, tzinfo=timezone(timedelta(hours=8)))
OUT = ROOT / "bench" / "out" / "faces"


class _SeatedRoom(Classroom):
    """The seated real faces as a Classroom, so that sample_videos/nvr.py's `write_nvr` renders them
    with its own sensor noise, OSD clock and encoder settings rather than a copy of them here."""

    def __init__(self, size: tuple[int, int], scene: Callable[[float], np.ndarray]) -> None:
        super().__init__(size[0], size[1], trainees=0, noise_sigma=0.0)
        self._scene = scene

    def frame(self, t: float, lights: float = 1.0) -> np.ndarray:
        return self._scene(t)


def _head_and_shoulders(image: Image.Image, aspect: float) -> Image.Image:
    """The photo cut around its face, three faces high and `aspect` (width/height) wide where the
    photo allows, the face two fifths down: scaled whole into a 1080p seat, a full-length photo
    (obama/3.jpg) left a 30-px face dlib misses and a wide one (kit_harington/1.jpg) was squeezed
    sideways out of recognition, 8 of 32 trainees never seen. A camera sees heads and shoulders."""
    top, right, bottom, left = faces_in(np.asarray(image), detect_max_side=PORTRAIT_DETECT_SIDE)[0].box
    height = min(image.height, 3 * (bottom - top))
    width = min(image.width, int(height * aspect))
    x0 = min(max(0, (left + right) // 2 - width // 2), image.width - width)
    y0 = min(max(0, (top + bottom) // 2 - height * 2 // 5), image.height - height)
    return image.crop((x0, y0, x0 + width, y0 + height))


def _paste(image: np.ndarray, portrait: np.ndarray, x: float, y: float) -> None:
    """The portrait at a sub-pixel place, edges blended into the (flat) background, clipped to the
    picture: a camera never sees an edge jump a whole pixel, and the monitor's clock finder takes
    whole-pixel jumps a second apart for ticking digits."""
    h, w = portrait.shape[:2]
    ix, iy = int(np.floor(x)) - 1, int(np.floor(y)) - 1
    shift = np.float32([[1, 0, x - ix], [0, 1, y - iy]])
    border = tuple(int(v) for v in image[0, -1])
    patch = cv2.warpAffine(portrait, shift, (w + 2, h + 2), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=border)
    xa, ya = max(0, ix), max(0, iy)
    xb, yb = min(image.shape[1], ix + w + 2), min(image.shape[0], iy + h + 2)
    image[ya:yb, xa:xb] = patch[ya - iy:yb - iy, xa - ix:xb - ix]


def _hour_path(size: tuple[int, int], codec: str, minutes: int, fps: int) -> Path:
    """The 720p hours keep the names they were made under, so the files already made are reused."""
    if size == SIZE and codec == "h264" and minutes == HOUR_S // 60:
        return OUT / ("classroom-hour.mp4" if fps == 1 else f"classroom-hour-{fps}fps.mp4")
    return OUT / f"classroom-{size[0]}x{size[1]}-{codec}-{minutes}min-{fps}fps.mp4"


def _classroom_hour(fps: int = 1, nvr: bool = False, minutes: int = HOUR_S // 60
                    ) -> tuple[Path, list[tuple[int, int, int, int]], list[list[tuple[float, float]]]]:
    """The recording (made once; 1 frame/s for the visibility bench, 25 for the whole hour; `nvr`:
    1080p H.265 with the OSD clock, as issue #16's (b)), each seat's face area (x0, y0, x1, y1 at no
    drift) and when each seat is empty (start, end in s). The seats scale with the picture, and the
    NVR's show heads and shoulders (`_head_and_shoulders`); at 720p the hour is the one it always
    was (same photos whole, same random draws)."""
    from sample_videos.nvr import live, write_nvr
    from sample_videos.writer import write_video

    size = NVR_SIZE if nvr else SIZE
    scale = size[1] / SIZE[1]
    top = int(size[1] * 0.08) if nvr else 0  # the OSD clock's band: no face behind the digits
    margin = int(round(10 * scale))
    photos = _distinct_photos()
    rng = np.random.default_rng(5)
    cell_w, cell_h = size[0] // COLUMNS, (size[1] - top) // (SEATS // COLUMNS)
    height = cell_h - 2 * margin
    sources = [Image.open(photo).convert("RGB") for photo in photos]
    if nvr:
        sources = [_head_and_shoulders(image, (cell_w - margin) / height) for image in sources]
    portraits, seats, away = [], [], []
    for k in range(SEATS):
        image = sources[k % len(sources)]
        width = min(cell_w - margin, int(image.width * height / image.height))
        portraits.append(np.asarray(image.resize((width, height)))[:, :, ::-1])  # BGR
        row, col = divmod(k, COLUMNS)
        x, y = col * cell_w + (cell_w - width) // 2, top + row * cell_h + margin
        seats.append((x, y, x + width, y + height))
        if k % 5 == 2:  # some trainees step out for 10-20 minutes
            start = float(rng.uniform(300, 2400))
            away.append([(start, start + float(rng.uniform(600, 1200)))])
        else:
            away.append([])
    path = _hour_path(size, "hevc" if nvr else "h264", minutes, fps)
    if path.exists():
        return path, seats, away
    print(f"making {minutes} min of a {size[0]}x{size[1]} {fps} fps {'H.265 NVR' if nvr else 'H.264'} classroom "
          f"of {SEATS} real faces: {path} …", flush=True)
    background = np.full((size[1], size[0], 3), 118, np.uint8)
    # camera noise at 720p: a pool of noise pictures, each frame one of them rolled by a random
    # amount (fresh noise for each of 90,000 frames would take longer than encoding them); drawn
    # first, as it always was. The NVR's noise is sample_videos/nvr.py's own.
    pool = [] if nvr else [rng.integers(-4, 5, (size[1], size[0], 3), dtype=np.int16) for _ in range(16)]

    # trainees sway: each one's place swings up to 4 px (at 720p) with a period of their own
    # (7-20 s), plus a pixel of jitter (a classroom with nobody moving for 10 s would be a frozen
    # picture to the continuity checks)
    period = rng.uniform(7, 20, (1, SEATS, 2))
    phase = rng.uniform(0, 2 * np.pi, (1, SEATS, 2))
    seconds = np.arange(HOUR_S).reshape(-1, 1, 1)
    jitter = rng.integers(-1, 2, (HOUR_S, SEATS, 2))
    sway = np.rint(4 * scale * np.sin(2 * np.pi * seconds / period + phase)).astype(int) + jitter

    def places(t: float) -> np.ndarray:
        """Each seat's (dx, dy) at t. The 720p hour moves them by whole pixels once a second, all
        at once; under an OSD clock every face's edges then tick with the digits, and the monitor
        found no clock (osd.py: the band re-jumping a second apart, nothing else). The NVR's seats
        glide as people do: sub-pixel, from frame to frame, each seat's jitter at its own phase."""
        if not nvr:
            return sway[int(t)] + int(t) // 120  # the camera creeps a pixel every two minutes
        wave = 4 * scale * np.sin(2 * np.pi * t / period[0] + phase[0])
        at = np.minimum(t + np.arange(SEATS) / SEATS, HOUR_S - 1.001)
        step, share = at.astype(int), (at % 1)[:, None]
        glide = jitter[step, np.arange(SEATS)] * (1 - share) + jitter[step + 1, np.arange(SEATS)] * share
        return wave + glide + t / 120

    def scene(t: float) -> np.ndarray:
        image = background.copy()
        for (x0, y0, x1, y1), portrait, gone, (dx, dy) in zip(seats, portraits, away, places(t)):
            if any(a <= t < b for a, b in gone):
                continue
            if nvr:
                _paste(image, portrait, x0 + dx, y0 + dy)
                continue
            dx, dy = max(int(dx), -x0), max(int(dy), -y0)
            image[y0 + dy:y1 + dy, x0 + dx:x1 + dx] = portrait[: size[1] - y0 - dy, : size[0] - x0 - dx]
        return image

    duration_s = minutes * 60
    part = path.with_name(path.stem + ".part.mp4")  # renamed when complete: a broken run is never reused
    if nvr:
        write_nvr(part, _SeatedRoom(size, scene), live(START), duration_s, fps=fps, codec="hevc", gop_s=10.0)
    else:
        def frames():  # type: ignore[no-untyped-def]
            for second in range(duration_s):
                still = scene(second).astype(np.int16)
                for k in range(fps):
                    noise = np.roll(pool[int(rng.integers(len(pool)))], int(rng.integers(size[0])), axis=1)
                    yield second * fps + k, np.clip(still + noise, 0, 255).astype(np.uint8)

        write_video(part, frames(), fps, size, gop=2 * fps if fps > 1 else 2)
    part.rename(path)
    return path, seats, away


def _recall(found: list[list[tuple[int, int, int, int]]], seats, away) -> float:
    """Share of (moment, seated trainee) whose face was found: a face box centred in the seat."""
    hits = present = 0
    for n, boxes in enumerate(found):
        t = CHECK_S / 2 + n * CHECK_S
        drift = int(t) // 120
        for (x0, y0, x1, y1), gone in zip(seats, away):
            if any(a <= t < b for a, b in gone):
                continue
            present += 1
            hits += any(x0 + drift <= (l + r) / 2 < x1 + drift and y0 + drift <= (tp + b) / 2 < y1 + drift
                        for tp, r, b, l in boxes)
    return hits / present


def smallest_face() -> None:
    """The smallest face dlib's HOG detector finds reliably in a 1280x720 frame, at each upsampling:
    real portraits scaled so that the detected face box is N pixels high, 12 per frame, noise added."""
    import face_recognition

    from monitor.faces.enrol import load_rgb

    photos = _distinct_photos()
    portraits = []
    for photo in photos:
        image = load_rgb(photo, photo.name)
        boxes = face_recognition.face_locations(image, number_of_times_to_upsample=1)
        if len(boxes) == 1:
            top, _, bottom, _ = boxes[0]
            portraits.append((image, bottom - top))
    rng = np.random.default_rng(9)
    print(f"smallest face found in 1280x720 ({len(portraits)} real portraits, 12 faces a frame, 2 frames a size):")
    for upsample in (0, 1, 2):
        row, spent = [], 0.0
        for height in (20, 24, 28, 32, 40, 48, 64):
            found = placed = 0
            for _ in range(2):
                frame = np.full((720, 1280, 3), 118, np.uint8)
                seats = []
                for k in range(12):
                    image, face_h = portraits[int(rng.integers(len(portraits)))]
                    scale = height / face_h
                    small = cv2.resize(image, (max(1, int(image.shape[1] * scale)), max(1, int(image.shape[0] * scale))),
                                       interpolation=cv2.INTER_AREA)[:170, :300]
                    y, x = (k // 4) * 240 + 20, (k % 4) * 320 + 10
                    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
                    seats.append((x, y, x + small.shape[1], y + small.shape[0]))
                frame = np.clip(frame.astype(np.int16) + rng.integers(-3, 4, frame.shape), 0, 255).astype(np.uint8)
                began = time.perf_counter()
                boxes = face_recognition.face_locations(frame, number_of_times_to_upsample=upsample)
                spent += time.perf_counter() - began
                placed += len(seats)
                found += sum(any(x0 <= (l + r) / 2 < x1 and y0 <= (t + b) / 2 < y1 for t, r, b, l in boxes)
                             for x0, y0, x1, y1 in seats)
            row.append(f"{height}px {found / placed:.0%}")
        print(f"  upsample {upsample} ({spent / 14:.2f} s a frame): " + ", ".join(row))


def visibility_bench() -> None:
    import face_recognition

    from monitor.faces.tracking import FaceTracker
    from monitor.footage.media import frame_rgb

    path, seats, away = _classroom_hour()
    began = time.perf_counter()
    frames = [frame_rgb(path, CHECK_S / 2 + n * CHECK_S) for n in range(HOUR_S // CHECK_S)]
    decode_s = time.perf_counter() - began
    assert all(f is not None for f in frames)

    tracker = FaceTracker()
    began = time.perf_counter()
    tracked = [[f.box for f in tracker.faces(frame)] for frame in frames]
    tracked_s = time.perf_counter() - began

    began = time.perf_counter()
    naive = []
    for frame in frames:
        boxes = face_recognition.face_locations(frame, number_of_times_to_upsample=1)
        face_recognition.face_encodings(frame, boxes)
        naive.append(boxes)
    naive_s = time.perf_counter() - began

    searched = tracker.searched_px / (len(frames) * SIZE[0] * SIZE[1])
    print(f"visibility, 1 h 1280x720, {SEATS} seated faces, {len(frames)} check moments "
          f"(decoding them: {decode_s:.1f} s):")
    print(f"  naive loop (full-frame HOG x1 upsample + encodings): {naive_s:.1f} s, recall {_recall(naive, seats, away):.3f}")
    print(f"  the visibility pass (faces followed, search where changed): {tracked_s:.1f} s, recall "
          f"{_recall(tracked, seats, away):.3f}; {tracker.full_searches} full searches, {searched:.1%} of all "
          f"pixels searched")
    print(f"  ratio naive / pass: {naive_s / tracked_s:.1f}x   target >= 4x at the same recall")


def whole_hour(nvr: bool = False, minutes: int = HOUR_S // 60, overrides: dict[str, Any] | None = None) -> None:
    """`monitor analyze` (the real command, as a class would be judged) on a 25 fps hour with a
    roster of 32 photos: its wall time is what the issue's target is about, the child's CPU time
    what it costs on a busy machine (the wall time alone mixes in the load of others)."""
    import subprocess

    path, _, _ = _classroom_hour(fps=25, nvr=nvr, minutes=minutes)
    duration_s = minutes * 60
    photos = _distinct_photos()
    policy_overrides: dict[str, Any] = {"practical_share_min": 0}
    if duration_s < POLICY.class_hour_min_s:  # else the class is refused for its short hour before any footage
        policy_overrides["class_hour_min_s"] = float(duration_s)
    policy_overrides.update(overrides or {})
    manifest = {"class_id": "BENCH-HOUR", "policy": "zhengzhou-2022",
                "policy_overrides": policy_overrides,
                "schedule": [{"index": 1, "kind": "practical", "start": START.isoformat(),
                              "end": (START + timedelta(seconds=duration_s)).isoformat()}],
                "recordings": [{"path": str(path), "start": START.isoformat()}],
                "roster": [{"id": f"T{k:02d}", "name": photos[k % len(photos)].parent.name,
                            "photo": str(photos[k % len(photos)])} for k in range(SEATS)],
                # two teachers: 32 trainees for one would break the 1:20 ratio (class.teacher_ratio)
                "teachers": [{"id": "L1", "name": "teacher 1"}, {"id": "L2", "name": "teacher 2"}]}
    with tempfile.TemporaryDirectory() as folder:
        manifest_path = Path(folder) / "class.json"
        manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        done = subprocess.run([str(Path(sys.executable).parent / "monitor"), "analyze", str(manifest_path), "--json"],
                              capture_output=True, text=True)
        took = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):  # 1: the class has findings (a verdict, not a failure)
        raise SystemExit(f"monitor analyze failed: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout)
    hour = report["hours"][0]
    visibility = hour.get("visibility") or {}
    seen = sum(1 for n in (visibility.get("seen") or {}).values() if n > 0)
    recording = (report.get("files") or [{}])[0]
    sampling = recording.get("sampling")
    what = (f"{NVR_SIZE[0]}x{NVR_SIZE[1]} 25 fps H.265 (keyframe every 10 s, OSD clock)" if nvr
            else f"{SIZE[0]}x{SIZE[1]} 25 fps H.264 (keyframe every 2 s)")
    print(f"whole hour ({minutes} min), {what}, {SEATS} seated real faces, roster of {SEATS} photos"
          f"{', overrides ' + json.dumps(overrides) if overrides else ''}:")
    print(f"  monitor analyze (continuity + visibility): wall {took:.1f} s, CPU {cpu:.1f} s (user+sys), "
          f"sampling {sampling}, OSD clock: {recording.get('clock')}")
    print(f"  verdict {hour['verdict']} ({', '.join(sorted({f['rule'] for f in hour['findings']})) or 'no findings'}), "
          f"headcount mean {visibility.get('headcount_mean')}, seen {seen}/{SEATS}, "
          f"never seen {len(visibility.get('missing', []))}")
    print(f"  per hour: wall {took * 60 / minutes:.1f} s, CPU {cpu * 60 / minutes:.1f} s   target <= 60 s per hour "
          f"(<= {60 * minutes / 60:g} s for {minutes} min)")
    for finding in hour["findings"]:
        print(f"  {finding['rule']}: {finding['detail']}")


def _override(text: str) -> tuple[str, Any]:
    """PARAMETER=VALUE, the value read as JSON (numbers, true/false) or else kept as text."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected PARAMETER=VALUE")
    try:
        return name, json.loads(value)
    except json.JSONDecodeError:
        return name, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--whole-hour", action="store_true")
    what.add_argument("--visibility-only", action="store_true")
    what.add_argument("--smallest-face", action="store_true")
    parser.add_argument("--nvr", action="store_true", help="--whole-hour on 1920x1080 H.265, keyframe every 10 s, OSD clock")
    parser.add_argument("--minutes", type=int, default=HOUR_S // 60, help="--whole-hour: minutes of footage (default 60)")
    parser.add_argument("--set", type=_override, action="append", default=[], metavar="PARAMETER=VALUE",
                        help="--whole-hour: a policy override (repeatable)")
    args = parser.parse_args()
    if (args.nvr or args.set or args.minutes != HOUR_S // 60) and not args.whole_hour:
        parser.error("--nvr, --minutes and --set go with --whole-hour")
    if not 1 <= args.minutes <= HOUR_S // 60:
        parser.error("--minutes: 1 to 60")
    if not DATA.is_dir():
        raise SystemExit(f"needs the real faces in {DATA}")
    if args.whole_hour:
        whole_hour(nvr=args.nvr, minutes=args.minutes, overrides=dict(args.set))
        return
    if args.visibility_only:
        visibility_bench()
        return
    if args.smallest_face:
        smallest_face()
        return
    # The real faces of ../shared/data and of face_recognition's own tests (`make testdata`), each
    # photo once: copies (re-encoded, scaled down, cut) are found by their shared structure and left
    # out, so that a pair is two photos, not one photo twice.
    extra = ROOT / "tests" / ".data" / "face_recognition"
    photos = sorted((DATA / "faces").glob("*/*")) + sorted(extra.glob("*.*g"))  # .jpg, .png
    # face_recognition's photos are of Biden (biden.jpg) and Obama (all the others, 32bit.png too)
    identity = {p: p.parent.name if p.parent.parent.name == "faces" else "biden" if "biden" in p.name else "obama"
                for p in photos}
    encodings: dict[Path, tuple[str, np.ndarray]] = {}
    kept_keys: list = []
    copies = 0
    for photo in photos:
        picture = load_rgb(photo, photo.name)
        keys = keypoints(picture)
        if any(shared_structure(keys, other) >= POLICY.face_copy_min_matches for other in kept_keys):
            copies += 1
            continue
        kept_keys.append(keys)
        faces = faces_in(picture)
        if len(faces) == 1:
            encodings[photo] = (identity[photo], faces[0].encoding)
    print(f"photos: {len(photos)} ({len(list(extra.glob('*.*g')))} of face_recognition's tests), {copies} copies left out")
    genuine, impostor = [], []
    for (a, (who_a, enc_a)), (b, (who_b, enc_b)) in itertools.combinations(encodings.items(), 2):
        (genuine if who_a == who_b else impostor).append(float(np.linalg.norm(enc_a - enc_b)))
    tol = POLICY.face_match_tolerance
    fnm = sum(d > tol for d in genuine)
    fm = sum(d <= tol for d in impostor)
    print(f"identities {len({w for w, _ in encodings.values()})}, photos {len(encodings)}, tolerance {tol}")
    print(f"false non-match: {fnm}/{len(genuine)} genuine pairs (distances {min(genuine):.2f}-{max(genuine):.2f})")
    print(f"false match: {fm}/{len(impostor)} impostor pairs (distances {min(impostor):.2f}-{max(impostor):.2f})")

    with tempfile.TemporaryDirectory() as tmp:
        enrolled = enrol("L", "L", DATA / "faces" / "obama" / "1.jpg", EncodingCache(Path(tmp)), POLICY.enrolment_min_face_px)
        captures = [DATA / "faces" / "obama" / n for n in ("2.jpg", "3.jpg", "4.jpg")]
        enrolment_keys = keypoints(load_rgb(DATA / "faces" / "obama" / "1.jpg", "enrolment"))  # once per learner
        still = []
        for _ in range(7):
            for capture in captures:  # as monitor/online/faces.py judges a capture
                began = time.perf_counter()
                picture = load_rgb(capture, capture.name)
                faces = faces_in(picture, detect_max_side=PORTRAIT_DETECT_SIDE)
                judge_faces(capture.name, faces, enrolled, ReplayIndex(), tolerance=tol,
                            min_face_px=POLICY.capture_min_face_px, replay_max_bits=POLICY.face_replay_max_bits)
                shared_structure(keypoints(picture), enrolment_keys)
                frame_sides(picture, faces[0].box, reach=POLICY.held_up_reach, min_length=POLICY.held_up_min_length)
                still.append(time.perf_counter() - began)
    print(f"still capture verdict (decode + detect + encode + hash + match + copy of the enrolment photo + held up), "
          f"{len(still)} runs on photos of 626-2333 px: p95 {_p95(still) * 1000:.0f} ms, median "
          f"{np.median(still) * 1000:.0f} ms   target p95 <= 300 ms")

    with av.open(str(DATA / "videos" / "short_hamilton_clip.mp4")) as container:
        frames = [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)
                  if 3.9 <= float(f.time) <= 5.9][::12][:5]
    burst = []
    for _ in range(10):
        began = time.perf_counter()
        burst_liveness(frames, POLICY, "turn_right")
        burst.append(time.perf_counter() - began)
    print(f"5-frame burst liveness with its prompt (640x360), {len(burst)} runs: p95 {_p95(burst) * 1000:.0f} ms   target p95 <= 1 s")
    smallest_face()
    visibility_bench()


if __name__ == "__main__":
    main()
