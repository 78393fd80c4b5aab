"""Benchmark of the footage core against ffmpeg's freezedetect + blackdetect (issue #3).

Makes (once, under bench/out/, never committed) a clean 1-hour and a tampered 1-hour
1280x720 25 fps H.264 class recording, NVR-like (a keyframe every 2 s, no B-frames), and a
30-minute cut of the clean one. Then, in one run on this machine, it measures:

- wall time of `monitor analyze --json` on the tampered hour, and of
  `ffmpeg -vf freezedetect,blackdetect -f null -` on the same file: their ratio is the figure
  (target: monitor at least 10x faster, issue #16 (5x in issue #3), while also finding loops and splices);
- peak RSS of `monitor analyze` on 30 and on 60 minutes (target <= 500 MB, flat);
- recall of the planted events (each found, located within 1 s) and false alarms on the clean hour.

Run: .venv/bin/python bench/footage.py   (needs Debian's ffmpeg for the baseline:
apt-get install ffmpeg; the bench installs nothing itself)

NVR footage (issue #16): `--nvr b` (1920x1080) or `--nvr c` (2560x1440), H.265 25 fps, a keyframe
every 10 s (`--gop S` for another cadence), an OSD clock, `--minutes N` long (60 for the issue's
figures): a clean file and a tampered one (loops of 5, 12 and 60 s at short and long lags off the
GOP, the 12-s one a recording replayed with its old clock, a freeze under the ticking clock, black),
each timed against ffmpeg on the same file, with recall, false alarms and peak RSS. Files of 30
minutes or more are made as 60-s segments (6 GOPs), two libx265 encodes at a time (this machine has
2 cores; the hour of (b), clean and tampered, took 78 minutes at 26.8 frames/s under other sessions'
load), each encoded from one GOP before its start to 0.4 s past its end and those packets dropped,
so that its packet sizes are those of one long encode (on 0-70 s of 1080p: all 1,750 equal; the
bytes differ only in the slice headers' picture order count); then joined packet for packet
(`sample_videos.nvr.join_nvr`: timestamps shifted, no re-encode, checked continuous, a keyframe
every 250 frames). The clean segments (under bench/out/nvr-WxH-segments/) serve every duration; the
tampered file re-renders only the segments whose frames its script changes (11 of an hour's 60). The
clean file's first half, joined from its first segments, is analysed too: peak RSS at 30 against 60
minutes. `--all` runs (a), (b) and (c) in one run. `--recall 5 4 3` measures the recall of short
loops at lags off a 10-s GOP and false alarms on clean files (see recall_main), at 640x360 or
`--size WxH` (with `--trainees N` people in the room).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime, timedelta, timezone
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from monitor.footage.analyze import analyze_class  # noqa: E402
from monitor.footage.junctions import junction_times  # noqa: E402
from monitor.footage.loop import _runs, _similarity_join  # noqa: E402
from monitor.footage.media import PacketTimeline, probe  # noqa: E402
from monitor.footage.sizes import Quiet, frame_levels, quiet_spans, size_series  # noqa: E402
from monitor.manifest import load_class  # noqa: E402
from monitor.policy import load_policy  # noqa: E402
from sample_videos.classroom import Classroom  # noqa: E402
from sample_videos.nvr import Script, Shown, blacked, frozen, join_nvr, live, replayed, sensor_room, write_nvr  # noqa: E402
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


def _manifest(recording: Path, duration_s: float, overrides: dict | None = None) -> Path:
    manifest = {
        "class_id": f"BENCH-{recording.stem}", "policy": "zhengzhou-2022",
        "policy_overrides": {"class_hour_min_s": duration_s, **(overrides or {})},
        "schedule": [{"index": 1, "kind": "practical", "start": START.isoformat(),
                      "end": (START + timedelta(seconds=duration_s)).isoformat()}],
        "recordings": [{"path": recording.name, "start": START.isoformat()}],
        "teachers": [{"id": "E-01", "name": "Bench"}],  # a class must list its teachers (A5)
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


def _measured(cmd: list[str]) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS (MB, polled ten times a second), stdout and CPU seconds (user +
    system, its threads included) of one command. The CPU time is what a neighbour's load moves
    least on this shared machine: under load a process with more threads than another gets more
    of the two cores, so the wall-clock ratio swings with the load, the CPU ratio much less."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
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
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the child was reaped by poll()
    cpu = (after.ru_utime + after.ru_stime) - (used.ru_utime + used.ru_stime)
    return elapsed, peak, stdout, cpu


def _analyze(manifest: Path) -> tuple[float, float, dict, float]:
    seconds, rss, stdout, cpu = _measured([sys.executable, "-m", "monitor", "analyze", str(manifest), "--json"])
    return seconds, rss, json.loads(stdout), cpu


def _offset(instant: str) -> float:
    return (datetime.fromisoformat(instant) - START).total_seconds()


def main(overrides: dict | None = None) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("the baseline needs Debian's ffmpeg: apt-get install ffmpeg")
    OUT.mkdir(parents=True, exist_ok=True)
    print("making the recordings under bench/out/ (first run only; about 10 minutes each) …", flush=True)
    tampered = _make(OUT / "tampered60.mp4", tampered=True)
    clean = _make(OUT / "clean60.mp4", tampered=False)
    clean30 = _first_half(clean, OUT / "clean30.mp4")

    t_monitor, rss_tampered, report, cpu_monitor = _analyze(_manifest(tampered, HOUR_S, overrides))
    t_ffmpeg, rss_ffmpeg, _, cpu_ffmpeg = _measured([ffmpeg, "-hide_banner", "-nostats", "-i", str(tampered),
                                         "-vf", "freezedetect,blackdetect", "-f", "null", "-"])
    _, rss60, clean_report, _ = _analyze(_manifest(clean, HOUR_S, overrides))
    _, rss30, _, _ = _analyze(_manifest(clean30, HOUR_S / 2, overrides))

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
    print(f"speed ratio (ffmpeg / monitor): {t_ffmpeg / t_monitor:.1f}x   target >= 10x (issue #16); "
          f"CPU {cpu_monitor:.1f} s against {cpu_ffmpeg:.1f} s ({cpu_ffmpeg / cpu_monitor:.1f}x); "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"peak RSS: 30 min {rss30:.0f} MB, 60 min {rss60:.0f} MB (ratio {rss60 / rss30:.2f})   target <= 500 MB, flat")
    print(f"recall of planted events: {sum(found)}/{len(found)}; other findings in the tampered hour: {len(extra)}")
    print(f"false alarms on the clean hour: {len(clean_findings)}")


NVR_SIZES = {"b": (1920, 1080), "c": (2560, 1440)}
NVR_GOP_S = 10.0  # seconds between keyframes of the NVR files (a "smart codec"); --gop for short files


def nvr_plan(duration_s: float, whole_frames: bool = False) -> list[tuple[str, float, float, float | None]]:
    """Planted events of the tampered NVR file: (rule, start, end, lag of a loop). The 12-s loop is a
    recording played again, its old clock included: a footage.clock_jump (back) over the same
    stretch. Lags are no multiple of the 10-s GOP. Two of them (7.3 s, 0.3 d + 0.7 s) are half a
    frame off whole frames: the generator then renders moments between the original's frames, which
    no replayed recording holds; `whole_frames` rounds every lag to whole frames, as a replay is."""
    d = duration_s
    plan = [("footage.loop", 0.2 * d, 0.2 * d + 5, 7.3), ("footage.loop", 0.45 * d, 0.45 * d + 12, 0.3 * d + 0.7),
            ("footage.clock_jump", 0.45 * d, 0.45 * d + 12, None),
            ("footage.freeze", 0.6 * d, 0.6 * d + 15, None), ("footage.black", 0.75 * d, 0.75 * d + 8, None)]
    if d >= 240:  # to the file's end where it is shorter than 5 minutes
        plan.append(("footage.loop", 0.8 * d, min(d, 0.8 * d + 60), 0.5 * d + 0.4))
    if whole_frames:
        plan = [(rule, a, b, round(lag * FPS) / FPS if lag else lag) for rule, a, b, lag in plan]
    return plan


def _nvr_script(duration_s: float, tampered: bool, whole_frames: bool = False) -> Script:
    script = live(START)
    if tampered:
        plan = nvr_plan(duration_s, whole_frames)
        old_clock = {a for rule, a, _, _ in plan if rule == "footage.clock_jump"}
        for rule, a, b, lag in plan:
            if rule == "footage.loop":
                script = replayed(script, a, b, a - lag, old_clock=a in old_clock)
            elif rule == "footage.freeze":
                script = frozen(script, a, b)
            elif rule == "footage.black":
                script = blacked(script, a, b)
    return script


def _nvr_make(path: Path, size: tuple[int, int], duration_s: float, tampered: bool,
              whole_frames: bool = False, gop_s: float = NVR_GOP_S) -> Path:
    if path.exists():
        return path
    partial = path.with_suffix(".part.mp4")
    write_nvr(partial, sensor_room(*size, trainees=24), _nvr_script(duration_s, tampered, whole_frames), duration_s,
              codec="hevc", gop_s=gop_s)
    partial.rename(path)
    return path


# Files of SEGMENTED_MIN_S or longer are made of SEGMENT_S segments (6 GOPs), each its own libx265
# encode with write_nvr's settings, two at a time (the machine has two cores), joined packet for
# packet by join_nvr. Each segment is encoded from one GOP before its start and NVR_TAIL_S past its end,
# those packets dropped: its packets are then a long encode's (a fresh encoder's first GOP and last
# frames differ). The clean script's segments serve every duration; the tampered file re-renders only
# the segments whose encoded frames (warm-up and tail included) its script shows differently.
SEGMENT_S, NVR_TAIL_S, SEGMENTED_MIN_S = 60.0, 0.4, 1800.0


def _nvr_segment(job: tuple[str, tuple[int, int], float, bool, float, bool]) -> tuple[str, float]:
    """One segment (in a worker process: the script is rebuilt there, closures do not pickle)."""
    name, size, duration_s, tampered, start_s, whole_frames = job
    path = Path(name)
    began = time.perf_counter()
    partial = path.with_suffix(".part.mp4")
    write_nvr(partial, sensor_room(*size, trainees=24), _nvr_script(duration_s, tampered, whole_frames), SEGMENT_S,
              codec="hevc", gop_s=NVR_GOP_S, start_s=start_s, warmup_s=NVR_GOP_S if start_s else 0.0,
              tail_s=NVR_TAIL_S)
    partial.rename(path)
    return name, time.perf_counter() - began


def _nvr_segment_paths(size: tuple[int, int], duration_s: float, tampered: bool,
                       whole_frames: bool = False) -> list[tuple[Path, float]]:
    folder = OUT / f"nvr-{size[0]}x{size[1]}-segments"
    clean, script = live(START), _nvr_script(duration_s, tampered, whole_frames)
    plain = _nvr_script(duration_s, tampered) if whole_frames else script
    out = []
    for i in range(int(round(duration_s / SEGMENT_S))):
        start = i * SEGMENT_S
        first = int(round((start - (NVR_GOP_S if start else 0.0)) * FPS))
        last = int(round((start + SEGMENT_S + NVR_TAIL_S) * FPS))
        touched = tampered and any(script(k / FPS) != clean(k / FPS) for k in range(first, last))
        # a whole-frame plan's segment that its lags leave as the plain plan's is that one's file
        wf = "-wf" if whole_frames and any(script(k / FPS) != plain(k / FPS) for k in range(first, last)) else ""
        name = f"tampered{duration_s:g}s{wf}-{int(start):05d}.mp4" if touched else f"clean-{int(start):05d}.mp4"
        out.append((folder / name, start))
    return out


def _checked(path: Path, frames: int) -> Path:
    """The joined file as the bench needs it: `frames` packets, a keyframe exactly every GOP,
    timestamps running on a frame at a time (a gap or overlap would be a footage.gap or splice)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        step = int(round(1 / (FPS * stream.time_base)))
        count, gop = 0, int(NVR_GOP_S * FPS)
        for packet in container.demux(stream):
            if packet.dts is None:
                continue
            if packet.pts != count * step or packet.dts != count * step or packet.is_keyframe != (count % gop == 0):
                raise SystemExit(f"{path}: packet {count} at pts {packet.pts}, keyframe {packet.is_keyframe}")
            count += 1
    if count != frames:
        raise SystemExit(f"{path}: {count} packets, {frames} expected")
    return path


def _nvr_segmented(size: tuple[int, int], duration_s: float, tag: str,
                   whole_frames: bool = False) -> tuple[Path, Path, Path]:
    """The clean and tampered files of `duration_s` and the clean file's first half (RSS at 30
    against 60 minutes), joined from segments made once under bench/out/."""
    clean_parts = _nvr_segment_paths(size, duration_s, False)
    tampered_parts = _nvr_segment_paths(size, duration_s, True, whole_frames)
    jobs = {}
    for tampered, parts in ((False, clean_parts), (True, tampered_parts)):
        for path, start in parts:
            if not path.exists() and str(path) not in jobs:
                jobs[str(path)] = (str(path), size, duration_s, tampered and path.name.startswith("tampered"), start,
                                   whole_frames)
    reused = sum(1 for p, _ in tampered_parts if p.name.startswith("clean"))
    print(f"  segments of {SEGMENT_S:g} s: {len(clean_parts)} clean, {len(tampered_parts) - reused} re-rendered "
          f"for the tampered file ({reused} reused); to make now: {len(jobs)}", flush=True)
    if jobs:
        clean_parts[0][0].parent.mkdir(parents=True, exist_ok=True)
        began, done = time.perf_counter(), 0
        frames = (SEGMENT_S + NVR_GOP_S + NVR_TAIL_S) * FPS
        with ProcessPoolExecutor(max_workers=2) as pool:
            for future in as_completed([pool.submit(_nvr_segment, job) for job in jobs.values()]):
                name, seconds = future.result()
                done += 1
                wall = time.perf_counter() - began
                print(f"  {done}/{len(jobs)} {Path(name).name}: {seconds:.0f} s; {wall:.0f} s so far, "
                      f"{done * frames / wall:.1f} frames/s", flush=True)
    frames = int(round(duration_s * FPS))
    made = []
    for name, parts, count in ((f"{tag}-clean.mp4", clean_parts, len(clean_parts)),
                               (f"{tag}{'-wf' if whole_frames else ''}-tampered.mp4", tampered_parts, len(tampered_parts)),
                               (f"{tag}-clean-first{duration_s / 120:g}min.mp4", clean_parts, len(clean_parts) // 2)):
        path = OUT / name
        if not path.exists():
            partial = path.with_suffix(".part.mp4")
            join_nvr([p for p, _ in parts[:count]], partial)
            _checked(partial, int(round(count * SEGMENT_S * FPS)))
            partial.rename(path)
        made.append(path)
    return made[0], made[1], made[2]


def nvr_main(kind: str, minutes: float, overrides: dict | None = None, whole_frames: bool = False,
             gop_s: float = NVR_GOP_S) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise SystemExit("the baseline needs Debian's ffmpeg: apt-get install ffmpeg")
    OUT.mkdir(parents=True, exist_ok=True)
    size, duration = NVR_SIZES[kind], minutes * 60
    tag = f"nvr-{kind}-{minutes:g}min" + (f"-gop{gop_s:g}" if gop_s != NVR_GOP_S else "")
    print(f"started {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    print(f"making {size[0]}x{size[1]} H.265 GOP-{gop_s:g}s recordings of {minutes:g} min under bench/out/ …", flush=True)
    t0 = time.perf_counter()
    half = None
    wf = "-wf" if whole_frames else ""
    if duration >= SEGMENTED_MIN_S and duration % SEGMENT_S == 0 and gop_s == NVR_GOP_S:
        clean, tampered, half = _nvr_segmented(size, duration, tag, whole_frames)
    else:
        tampered = _nvr_make(OUT / f"{tag}{wf}-tampered.mp4", size, duration, True, whole_frames, gop_s)
        clean = _nvr_make(OUT / f"{tag}-clean.mp4", size, duration, False, gop_s=gop_s)
    print(f"  (made in {time.perf_counter() - t0:.0f} s)", flush=True)
    rows = []
    for name, path in (("clean", clean), ("tampered", tampered)):
        load = os.getloadavg()[0]
        t_monitor, rss, report, cpu = _analyze(_manifest(path, duration, overrides))
        t_ffmpeg, rss_ffmpeg, _, cpu_ffmpeg = _measured([ffmpeg, "-hide_banner", "-nostats", "-i", str(path),
                                                         "-vf", "freezedetect,blackdetect", "-f", "null", "-"])
        findings = [f for h in report["hours"] for f in h["findings"]] + report["findings"]
        rows.append((name, t_monitor, t_ffmpeg, rss, rss_ffmpeg, findings, report, cpu, cpu_ffmpeg, load))
    for name, t_monitor, t_ffmpeg, rss, rss_ffmpeg, findings, report, cpu, cpu_ffmpeg, load in rows:
        sampling = report["files"][0]["sampling"], report["files"][0]["samples"]
        print(f"{name}: monitor {t_monitor:.1f} s (peak RSS {rss:.0f} MB, sampling {sampling}), "
              f"ffmpeg {t_ffmpeg:.1f} s (peak RSS {rss_ffmpeg:.0f} MB): {t_ffmpeg / t_monitor:.2f}x   target >= 5x; "
              f"CPU {cpu:.1f} s against {cpu_ffmpeg:.1f} s ({cpu_ffmpeg / cpu:.2f}x); load average {load:.1f}")
    clean_findings = [f for f in rows[0][5] if f["rule"] != "practical.continuity"]
    print(f"false alarms on the clean file: {len(clean_findings)} {[f['rule'] for f in clean_findings]}")
    found = 0
    plan = nvr_plan(duration, whole_frames)
    for rule, a, b, lag in plan:
        hits = [f for f in rows[1][5] if f["rule"] == rule
                and abs(_offset(f["start"]) - a) <= 1 and abs(_offset(f["end"]) - b) <= 1]
        found += bool(hits)
        what = f"lag {lag:.2f} s" if lag else ""
        print(f"  planted {rule:<15} {a:7.1f}-{b:7.1f} s {what}: {'found' if hits else 'MISSED'}")
    extra = [(f["rule"], round(_offset(f["start"]), 1)) for f in rows[1][5]
             if f["rule"] != "practical.continuity"
             and not any(f["rule"] == r and abs(_offset(f["start"]) - a) <= 1 for r, a, _, _ in plan)]
    print(f"recall of planted events: {found}/{len(plan)}; other findings in the tampered file: {extra}", flush=True)
    if half is not None:  # the same analysis of the clean file's first half: is the peak RSS flat?
        t_half, rss_half, _, cpu_half = _analyze(_manifest(half, duration / 2, overrides))
        rss_full = rows[0][3]
        print(f"peak RSS of monitor analyze on the clean file: {minutes / 2:g} min {rss_half:.0f} MB "
              f"({t_half:.1f} s, CPU {cpu_half:.1f} s), {minutes:g} min {rss_full:.0f} MB "
              f"(ratio {rss_full / rss_half:.2f})   target <= 500 MB, flat")
    print(f"ended {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)


def recall_main(lengths: list[float], files_per_length: int, overrides: dict | None = None,
                size: tuple[int, int] = (640, 360), trainees: int = 12, whole_frames: bool = False) -> None:
    """Recall of short loops at lags off the GOP (issue #16: the shortest loop found with >= 95 %
    recall) and false alarms on clean files: 640x360 H.265, a keyframe every 10 s, 25 fps, an OSD
    clock ticking on over the replays, four loops per 2-minute file at random places and lags
    (0.3-15 s, never within 0.5 s of a multiple of the GOP), `loop_min_s` set to the loop's length.
    Seeded: the same files every run (under bench/out/recall/). `size` and `trainees` (`--size`,
    `--trainees`): the same script at another resolution (under bench/out/recall-WxH-Nt/), to
    measure where the packet sizes carry a copy half a frame off its original (sampling.dense_gop_limit).
    `whole_frames` (`--whole-frames`): each lag rounded to a whole number of frames, as a replayed
    recording is (its copy frames are the original's frames, noise included: `picture` draws the
    noise by the frame shown), not the moments between them that a real-valued lag renders; same
    seeds, so the loops sit where the real-valued ones do (under a folder ending in -wf)."""
    default = size == (640, 360) and trainees == 12
    out = OUT / (("recall" if default else f"recall-{size[0]}x{size[1]}-{trainees}t") + ("-wf" if whole_frames else ""))
    out.mkdir(parents=True, exist_ok=True)
    room = sensor_room(*size, trainees=trainees)
    print(f"recall: {size[0]}x{size[1]}, {trainees} trainees, {'whole-frame' if whole_frames else 'real-valued'} "
          f"lags, files under {out}; started "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC, load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    duration = 120.0
    teachers = [{"id": "E-01", "name": "Bench"}]

    def analyse(path: Path, loop_min_s: float) -> list:
        manifest = json.loads(_manifest(path, duration).read_text())
        manifest["policy_overrides"].update({"practical_min_continuous_s": 20, "loop_min_s": loop_min_s,
                                             "practical_share_min": 0, **(overrides or {})})
        manifest["teachers"] = teachers
        path.with_suffix(".json").write_text(json.dumps(manifest))
        report = analyze_class(load_class(path.with_suffix(".json")))
        return [f for h in report.hours for f in h.findings if f.rule != "practical.continuity"] + report.findings

    for length in lengths:
        rng = random.Random(int(length * 100))
        planted = found = 0
        extra: list[tuple[str, float]] = []
        for n in range(files_per_length):
            loops = []
            script = live(START)
            for k in range(4):
                start = 22.0 + 25.0 * k + rng.uniform(0, 3)
                while True:
                    lag = rng.uniform(max(length, 0.3) + 0.3, 15.0)
                    if whole_frames:
                        lag = round(lag * FPS) / FPS
                    if abs(lag / 10 - round(lag / 10)) * 10 > 0.5:
                        break
                loops.append((start, start + length, lag))
                script = replayed(script, start, start + length, start - lag)
            folder = out / f"len{length:g}-{n}"
            folder.mkdir(exist_ok=True)
            path = folder / "loops.mp4"
            if not path.exists():
                partial = path.with_suffix(".part.mp4")
                write_nvr(partial, room, script, duration, codec="hevc", gop_s=10)
                partial.rename(path)
            findings = analyse(path, length)
            for a, b, lag in loops:
                planted += 1
                hit = any(f.rule == "footage.loop" and abs(_offset(f.start.isoformat()) - a) <= 1
                          and abs(_offset(f.end.isoformat()) - b) <= 1 and abs(f.evidence["lag_s"] - lag) <= 0.3
                          for f in findings)
                found += hit
                print(f"  {path.parent.name}: loop {a:.1f}-{b:.1f} s, lag {lag:.2f} s "
                      f"({lag * FPS:.1f} frames): {'found' if hit else 'MISSED'}", flush=True)
            extra += [(f.rule, round(_offset(f.start.isoformat()), 1)) for f in findings
                      if not any(abs(_offset(f.start.isoformat()) - a) <= 1 for a, _, _ in loops)]
        print(f"loops of {length:g} s (loop_min_s {length:g}): found {found}/{planted} "
              f"({found / planted:.0%}); other findings {extra}", flush=True)
    clean_alarms = []
    for n in range(files_per_length):
        folder = out / f"clean-{n}"
        folder.mkdir(exist_ok=True)
        path = folder / "clean.mp4"
        if not path.exists():
            clock = live(START)
            light = 1.0 + 0.1 * n

            def drifting(t: float, clock=clock, light=light):
                shown = clock(t)
                return type(shown)(t, shown.clock, light + 0.2 * t / duration)

            partial = path.with_suffix(".part.mp4")
            write_nvr(partial, sensor_room(*size, seed=20 + n, trainees=trainees), drifting, duration,
                      codec="hevc", gop_s=10)
            partial.rename(path)
        clean_alarms += [f.rule for f in analyse(path, min(lengths))]
    print(f"clean files: {files_per_length} x {duration:g} s, loop_min_s {min(lengths):g}: "
          f"false alarms {len(clean_alarms)} {clean_alarms}")
    print(f"ended {datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)


# The size-series measurement (issue #16, `--sizes`): 4-minute files, H.265, a keyframe every 10 s,
# 25 fps, an OSD clock ticking on over the replays (one 12-s replay shows its old clock). Loops at
# lags that are a whole number of frames (as a recording played again is: its frames) and at lags
# half a frame off (7.3 s = 182.5 frames: the generator renders moments between the original's
# frames, which no replayed recording holds, but the --nvr bench plants such lags).
SIZES_D = 240.0
SIZES_PLANS: dict[str, list[tuple]] = {
    "A": [("loop", 40, 45, 7.3), ("loop", 75, 80, 52.6), ("loop", 100, 112, 17.9), ("loop", 130, 142, 101.3, "old"),
          ("freeze", 160, 175), ("black", 200, 208)],
    "C": [("loop", 40, 45, 7.32), ("loop", 75, 80, 52.6), ("loop", 100, 112, 17.92),
          ("loop", 130, 142, 101.32, "old"), ("freeze", 160, 175), ("black", 200, 208)],
    "B": [("loop", 60, 65, 5.6), ("loop", 150, 210, 123.4), ("loop", 225, 237, 33.3)],
    "clean0": [], "clean1": [], "clean2": [],
}


def _sizes_make(name: str, size: tuple[int, int]) -> Path:
    path = OUT / "sizes" / f"{name}-{size[0]}x{size[1]}.mp4"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    script = live(START)
    n = int(name[-1]) if name.startswith("clean") else 0
    for event in SIZES_PLANS[name]:
        if event[0] == "loop":
            script = replayed(script, event[1], event[2], event[1] - event[3], old_clock=len(event) > 4)
        elif event[0] == "freeze":
            script = frozen(script, event[1], event[2])
        else:
            script = blacked(script, event[1], event[2])
    if name.startswith("clean"):  # lighting drifting by 20 % over the file, another room each
        base, light = script, 1.0 - 0.1 * n

        def script(t: float, base=base, light=light) -> Shown:
            shown = base(t)
            return Shown(shown.source_s, shown.clock, light + 0.2 * t / SIZES_D)
    partial = path.with_suffix(".part.mp4")
    write_nvr(partial, sensor_room(*size, seed=20 + n if name.startswith("clean") else 7), script, SIZES_D,
              codec="hevc", gop_s=10)
    partial.rename(path)
    return path


def size_loop_runs(timeline: PacketTimeline, loop_min_s: float, similarity_min: float, run_min_s: float,
                   binned_s: float | None = None) -> list[tuple[float, float, float, float]]:
    """Loop candidates from the size series alone: (start, end, lag, mean correlation) in media
    seconds, windows of half `loop_min_s`, each against every window at least `loop_min_s` earlier.
    `binned_s`: on a grid of that step (the loop search's way), else per frame (`frame_levels`)."""
    if binned_s:
        series = size_series(timeline)
        count = int(np.ceil((timeline.end_s - timeline.first_s) / binned_s)) + 1
        x, step = series.binned(timeline.first_s, binned_s, count), binned_s
    else:
        x, step = frame_levels(timeline), timeline.frame_duration_s
    m = max(4, int(round(loop_min_s / 2 / step)))
    best, lag = _similarity_join(x, m, exclusion=int(round(loop_min_s / step)))
    out = []
    for first, last, lag_bins in _runs(best, lag, similarity_min):
        if (last - first) * step >= run_min_s:
            out.append((timeline.first_s + first * step, timeline.first_s + (last + m) * step, lag_bins * step,
                        float(np.mean(best[first:last + 1]))))
    return out


def sizes_main(size: tuple[int, int], extra: list[tuple[Path, list[tuple]]] | None = None) -> None:
    """Recall and false candidates per hour of the free signals (issue #16 part 1), no decoding:
    loops from the size series' similarity join (per frame and, as the loop search has it, binned
    to `loop_bin_s`), freeze and black from its quiet spans, loop edges from its junctions."""
    policy = load_policy("base")
    fps = 25
    files = [(_sizes_make(name, size), plan) for name, plan in SIZES_PLANS.items()] + (extra or [])
    tally: dict[str, list[int]] = {}
    false: dict[str, dict[str, int]] = {}
    clean_s: dict[str, float] = {}
    in_tampered: dict[str, int] = {"loop/frame": 0, "loop/binned": 0}

    def count(key: str, hit: bool) -> None:
        key = f"{timeline.width}x{timeline.height} {key}"
        tally.setdefault(key, [0, 0])
        tally[key][0] += hit
        tally[key][1] += 1

    for path, plan in files:
        timeline = probe(path)
        fps = round(1 / timeline.frame_duration_s)
        runs = {"loop/frame": size_loop_runs(timeline, policy.loop_min_s, policy.loop_similarity_min,
                                             policy.loop_run_min_s),
                "loop/binned": size_loop_runs(timeline, policy.loop_min_s, policy.loop_similarity_min,
                                              policy.loop_run_min_s, binned_s=policy.loop_bin_s)}
        quiet = quiet_spans(size_series(timeline), Quiet.of(policy))
        junctions = junction_times(timeline, policy.junction_size_ratio, policy.junction_max_per_hour)[1:]
        loops = [(e[1], e[2], e[3]) for e in plan if e[0] == "loop"]
        events = [(e[1], e[2]) for e in plan]
        for a, b, lag in loops:
            kind = "whole-frame lag" if abs(lag * fps - round(lag * fps)) < 0.01 else "half-frame lag"
            for key, found in runs.items():
                hit = any(x < b and y > a and abs(g - lag) <= 0.3 for x, y, g, _ in found)
                count(f"{key} {b - a:g} s, {kind}", hit)
            for edge in (a, b):
                count(f"junction at a loop edge, {kind}", bool(np.any(np.abs(junctions - edge) <= 0.12)))
        for rule, a, b in [(e[0], e[1], e[2]) for e in plan if e[0] in ("freeze", "black")]:
            covered = sum(max(0.0, min(b, y) - max(a, x)) for x, y in quiet)
            count(f"quiet span over {rule} ({b - a:g} s)", covered >= 0.8 * (b - a))
        res = f"{timeline.width}x{timeline.height}"
        alarms = false.setdefault(res, {"loop/frame": 0, "loop/binned": 0, "quiet": 0, "junction": 0})
        for key, found in runs.items():
            outside = [r for r in found if not any(r[0] < y + 1 and r[1] > x - 1 for x, y, _ in loops)]
            if plan:
                in_tampered[key] += len(outside)
            else:
                alarms[key] += len(outside)
        if not plan:
            clean_s[res] = clean_s.get(res, 0.0) + timeline.end_s - timeline.first_s
            alarms["quiet"] += len(quiet)
            alarms["junction"] += int(junctions.size)
        else:
            false_quiet = [q for q in quiet if not any(q[0] < y + 1 and q[1] > x - 1 for x, y in events)]
            if false_quiet:
                print(f"  {path.name}: quiet spans off the planted events {false_quiet}")
    print(f"size-series signals, H.265 GOP 10 s (files under {OUT / 'sizes'} and the --nvr bench's):")
    for key, (hit, total) in sorted(tally.items()):
        print(f"  {key:<58} {hit}/{total}")
    for res, alarms in false.items():
        hours = clean_s[res] / 3600
        print(f"{res} clean footage: {clean_s[res] / 60:.0f} min; false candidates per hour: " + ", ".join(
            f"{k} {v / hours:.0f} ({v})" for k, v in alarms.items()))
    print("loop candidates off the planted loops in the tampered files (freeze and black repeat their own "
          "shape): " + ", ".join(f"{k} {v}" for k, v in in_tampered.items()))


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nvr", choices=sorted(NVR_SIZES), help="NVR footage instead of the 720p H.264 hour")
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--gop", type=float, default=NVR_GOP_S,
                        help="with --nvr: seconds between keyframes (files of 30 minutes and more are made in "
                             "segments only at the default 10 s), e.g. 1 for the cadence sampled at every other keyframe")
    parser.add_argument("--all", action="store_true",
                        help="the issue's three cases in one run: (a) the 720p H.264 GOP-50 hour, then "
                             "(b) and (c) NVR footage of --minutes")
    parser.add_argument("--set", metavar="PARAMETER=VALUE", action="append", default=[],
                        help="a profile parameter for monitor analyze, e.g. loop_dense_gop_s=12 (keyframe sampling "
                             "and the size series' loop candidates on long GOPs) or, on (a), sample_interval_s=4 "
                             "(every other keyframe of its 2-s GOP)")
    parser.add_argument("--recall", type=float, nargs="*", help="loop lengths (s): recall of short loops instead")
    parser.add_argument("--files", type=int, default=5, help="with --recall: files per length (4 loops each)")
    parser.add_argument("--size", metavar="WxH", default="640x360", help="with --recall: the files' picture size")
    parser.add_argument("--trainees", type=int, default=12, help="with --recall: people in the generated room")
    parser.add_argument("--whole-frames", action="store_true",
                        help="with --recall or --nvr: lags of a whole number of frames (a replayed recording), "
                             "files under *-wf")
    parser.add_argument("--sizes", metavar="WxH", nargs="?", const="640x360",
                        help="the size series' recall and false candidates on 4-minute files (no decoding); "
                             "with --nvr also on that bench's files of --minutes, if made")
    args = parser.parse_args()
    overrides = {key: float(value) for key, value in (item.split("=", 1) for item in args.set)}
    if args.all:
        print("(a) 1280x720 H.264, a keyframe every 2 s (GOP 50), 60 min", flush=True)
        main(overrides)
        for kind in ("b", "c"):
            print(f"({kind})", flush=True)
            nvr_main(kind, args.minutes, overrides, args.whole_frames)
    elif args.sizes:
        width, height = (int(v) for v in args.sizes.split("x"))
        made = []
        if args.nvr:
            tag = f"nvr-{args.nvr}-{args.minutes:g}min"
            plan = [(r.split(".")[1], a, b, lag) if lag else (r.split(".")[1], a, b)
                    for r, a, b, lag in nvr_plan(args.minutes * 60) if r != "footage.clock_jump"]
            made = [(p, pl) for p, pl in ((OUT / f"{tag}-tampered.mp4", plan), (OUT / f"{tag}-clean.mp4", []))
                    if p.exists()]
        sizes_main((width, height), made)
    elif args.recall:
        width, height = (int(v) for v in args.size.split("x"))
        recall_main(args.recall, args.files, overrides, (width, height), args.trainees, args.whole_frames)
    elif args.nvr:
        nvr_main(args.nvr, args.minutes, overrides, args.whole_frames, args.gop)
    else:
        main(overrides)
