"""Benchmark of the footage core against ffmpeg's freezedetect + blackdetect (issue #3).

Makes (once, under bench/out/, never committed) a clean 1-hour and a tampered 1-hour
1280x720 25 fps H.264 class recording, NVR-like (a keyframe every 2 s, no B-frames), and a
30-minute cut of the clean one. Then, in one run on this machine, it measures:

- wall time of `monitor analyze --json` on the tampered hour, and of
  `ffmpeg -vf freezedetect,blackdetect -f null -` on the same file: their ratio is the figure
  (target: monitor at least 5x faster, while also finding loops and splices);
- peak RSS of `monitor analyze` on 30 and on 60 minutes (target <= 500 MB, flat);
- recall of the planted events (each found, located within 1 s) and false alarms on the clean hour.

Run: .venv/bin/python bench/footage.py   (needs Debian's ffmpeg for the baseline:
apt-get install ffmpeg; the bench installs nothing itself)
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sample_videos.classroom import Classroom  # noqa: E402
from sample_videos.writer import write_video  # noqa: E402

OUT = ROOT / "bench" / "out"
FPS, SIZE, HOUR_S = 25, (1280, 720), 3600
START = datetime(2026, 11, 20, 8, 0, 0, tzinfo=timezone(timedelta(hours=8)))

# Planted in the tampered hour, seconds after the start: (rule, start, end).
LOOP = (1200.0, 1440.0, 300.36)  # 20:00-24:00 shows again what was filmed at 05:00.36
FREEZE = (1800.0, 1840.0)
BLACK = (2400.0, 2430.0)
SPLICE = (3000.0, 3060.0)  # another room for a minute
PLANTED = [("footage.loop", LOOP[0], LOOP[1]), ("footage.freeze", *FREEZE),
           ("footage.black", *BLACK), ("footage.splice", *SPLICE)]


def _tampered_frame(room: Classroom, other: Classroom, t: float):
    if LOOP[0] <= t < LOOP[1]:
        return room.frame(LOOP[2] + (t - LOOP[0]))
    if FREEZE[0] <= t < FREEZE[1]:
        return room.frame(FREEZE[0])
    if BLACK[0] <= t < BLACK[1]:
        return room.frame(t, lights=0.05)
    if SPLICE[0] <= t < SPLICE[1]:
        return other.frame(t)
    return room.frame(t)


def _make(path: Path, tampered: bool) -> Path:
    if path.exists():
        return path
    room, other = Classroom(*SIZE, trainees=24, seed=7), Classroom(*SIZE, trainees=10, seed=99)
    frames = ((k, _tampered_frame(room, other, k / FPS) if tampered else room.frame(k / FPS))
              for k in range(HOUR_S * FPS))
    partial = path.with_suffix(".part.mp4")
    write_video(partial, frames, FPS, SIZE, gop=2 * FPS, preset="ultrafast", crf=28)
    partial.rename(path)
    return path


def _first_half(source: Path, path: Path) -> Path:
    """The first 30 minutes, by copying packets (no re-encoding)."""
    if path.exists():
        return path
    with av.open(str(source)) as src, av.open(str(path), "w") as dst:
        stream_in = src.streams.video[0]
        stream_out = dst.add_stream_from_template(stream_in)
        for packet in src.demux(stream_in):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * stream_in.time_base >= HOUR_S / 2:
                break
            packet.stream = stream_out
            dst.mux(packet)
    return path


def _manifest(recording: Path, duration_s: float) -> Path:
    manifest = {
        "class_id": f"BENCH-{recording.stem}", "policy": "zhengzhou-2022",
        "policy_overrides": {"class_hour_min_s": duration_s},
        "schedule": [{"index": 1, "kind": "practical", "start": START.isoformat(),
                      "end": (START + timedelta(seconds=duration_s)).isoformat()}],
        "recordings": [{"path": recording.name, "start": START.isoformat()}],
    }
    path = recording.with_suffix(".json")
    path.write_text(json.dumps(manifest))
    return path


def _peak_rss_mb(pid: int) -> float | None:
    """VmHWM of a live process. (rusage is no good here: Linux carries the forking bench's own
    memory into the child's ru_maxrss across exec.)"""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _measured(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS (MB, polled ten times a second) and stdout of one command."""
    began = time.perf_counter()
    with tempfile.TemporaryFile(mode="w+") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.DEVNULL, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _peak_rss_mb(proc.pid) or 0.0)
            time.sleep(0.1)
        elapsed = time.perf_counter() - began
        sink.seek(0)
        stdout = sink.read()
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, peak, stdout


def _analyze(manifest: Path) -> tuple[float, float, dict]:
    seconds, rss, stdout = _measured([sys.executable, "-m", "monitor", "analyze", str(manifest), "--json"])
    return seconds, rss, json.loads(stdout)


def _offset(instant: str) -> float:
    return (datetime.fromisoformat(instant) - START).total_seconds()


def main() -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("the baseline needs Debian's ffmpeg: apt-get install ffmpeg")
    OUT.mkdir(parents=True, exist_ok=True)
    print("making the recordings under bench/out/ (first run only; about 10 minutes each) …", flush=True)
    tampered = _make(OUT / "tampered60.mp4", tampered=True)
    clean = _make(OUT / "clean60.mp4", tampered=False)
    clean30 = _first_half(clean, OUT / "clean30.mp4")

    t_monitor, rss_tampered, report = _analyze(_manifest(tampered, HOUR_S))
    t_ffmpeg, rss_ffmpeg, _ = _measured([ffmpeg, "-hide_banner", "-nostats", "-i", str(tampered),
                                         "-vf", "freezedetect,blackdetect", "-f", "null", "-"])
    _, rss60, clean_report = _analyze(_manifest(clean, HOUR_S))
    _, rss30, _ = _analyze(_manifest(clean30, HOUR_S / 2))

    findings = [f for h in report["hours"] for f in h["findings"]] + report["findings"]
    found = []
    for rule, start, end in PLANTED:
        hits = [f for f in findings if f["rule"] == rule
                and abs(_offset(f["start"]) - start) <= 1 and abs(_offset(f["end"]) - end) <= 1]
        found.append(bool(hits))
        print(f"  planted {rule:<15} {start:7.1f}-{end:7.1f} s: {'found' if hits else 'MISSED'}")
    planted_rules = {r for r, _, _ in PLANTED} | {"practical.continuity"}
    extra = [f for f in findings if f["rule"] not in planted_rules]
    clean_findings = [f for h in clean_report["hours"] for f in h["findings"]] + clean_report["findings"]

    print(f"monitor analyze, tampered hour: {t_monitor:.1f} s (peak RSS {rss_tampered:.0f} MB)")
    print(f"ffmpeg freezedetect+blackdetect: {t_ffmpeg:.1f} s (peak RSS {rss_ffmpeg:.0f} MB)")
    print(f"speed ratio (ffmpeg / monitor): {t_ffmpeg / t_monitor:.1f}x   target >= 5x")
    print(f"peak RSS: 30 min {rss30:.0f} MB, 60 min {rss60:.0f} MB (ratio {rss60 / rss30:.2f})   target <= 500 MB, flat")
    print(f"recall of planted events: {sum(found)}/{len(found)}; other findings in the tampered hour: {len(extra)}")
    print(f"false alarms on the clean hour: {len(clean_findings)}")


if __name__ == "__main__":
    main()
