"""Face checks of online sessions, on real faces: captures judged against the enrolment photo and
every earlier capture; a session without a capture at its start fails B4."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from monitor.faces.enrol import EncodingCache
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.faces import FaceChecks
from monitor.online.reader import collect, parse_record
from monitor.policy import load_policy
from tests.monitor.online.builders import clean_session

pytestmark = pytest.mark.shared_data
POLICY = load_policy("zhengzhou-2022", {"face_liveness": "still"})  # stills: match and anti-replay only
BURST_POLICY = load_policy("zhengzhou-2022")  # the default: a capture must be a live burst


@pytest.fixture
def folder(shared_data, tmp_path):
    faces = shared_data / "faces"
    for name, source in {"enrol-obama.jpg": faces / "obama" / "1.jpg", "enrol-biden.jpg": faces / "biden" / "1.jpg",
                         "c1.jpg": faces / "obama" / "2.jpg", "c2.jpg": faces / "obama" / "3.jpg",
                         "c3.jpg": faces / "obama" / "4.jpg", "c4.jpg": faces / "obama" / "5-240p.jpg",
                         "alex.jpg": faces / "alex_lacamoire" / "1.jpg"}.items():
        shutil.copy(source, tmp_path / name)
    Image.open(faces / "obama" / "2.jpg").convert("RGB").save(tmp_path / "c1-again.jpg", "JPEG", quality=40)
    (tmp_path / "enrol.json").write_text(json.dumps({"L1": "enrol-obama.jpg", "L2": "enrol-biden.jpg"}))
    return tmp_path


def _session(session, learner, start_s, capture=None, kept="c2.jpg"):
    s = clean_session(session=session, learner=learner, start_s=start_s)
    s.events = [e for e in s.events if e["type"] not in ("face_capture", "photo_kept")]
    if capture:
        s.add("face_capture", 5, image=capture)
    s.add("photo_kept", 200, image=kept)
    return s.events


def _judge(folder, events, policy=POLICY, enrolment=None):
    enrolment = enrolment or {"L1": folder / "enrol-obama.jpg", "L2": folder / "enrol-biden.jpg"}
    checks = FaceChecks(policy, enrolment, folder, EncodingCache(folder / "cache"))
    engine = OnlineEngine(policy, Catalogue(), checks)
    engine.add(collect(parse_record(e, 1) for e in events).events)
    reports = {r.session: r for r in engine.sessions()}
    return {s: sorted(f.rule for f in r.findings) for s, r in reports.items()}, reports


def test_captures_are_matched_replays_refused_and_missing_captures_found(folder):
    events = (_session("S1", "L1", 0, capture="c1.jpg")                                  # genuine
              + _session("S2", "L1", 3600, capture="c1-again.jpg", kept="c3.jpg")       # S1's capture re-sent
              + _session("S3", "L2", 0, capture="alex.jpg", kept="enrol-biden.jpg")     # someone else; enrolment photo kept
              + _session("S4", "L1", 7200, kept="c4.jpg"))  # no capture at the start; kept: obama/5-240p.jpg
    found, reports = _judge(folder, events)
    assert found["S1"] == []
    assert found["S2"] == ["online.face_replay"]
    assert found["S3"] == ["online.face_mismatch", "online.face_replay"]
    # obama/5-240p.jpg is obama/1.jpg (the enrolment photo) made small: a replay the hash sees through
    assert found["S4"] == ["online.face_missing", "online.face_replay"]
    replay = next(f for f in reports["S4"].findings if f.rule == "online.face_replay")
    assert replay.evidence["replay_of"] == "enrolment photo of L1"


def test_cli_turns_face_checks_on_and_refuses_a_bad_enrolment_photo(folder, shared_data):
    path = folder / "events.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in _session("S1", "L1", 0, capture="c1.jpg")))
    run = [sys.executable, "-m", "monitor", "online", str(path), "--enrolment", str(folder / "enrol.json"), "--json",
           "--set", "face_liveness=still"]
    result = subprocess.run(run, capture_output=True, text=True, timeout=300, env={"MONITOR_CACHE_DIR": str(folder / "c"),
                                                                                    "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["sessions"][0]["verdict"] == "valid"
    shutil.copy(shared_data / "groups" / "two_people.jpg", folder / "enrol-obama.jpg")
    bad = subprocess.run(run, capture_output=True, text=True, timeout=300, env={"MONITOR_CACHE_DIR": str(folder / "c2"),
                                                                                 "PATH": "/usr/bin:/bin"})
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: enrolment photo of L1 (L1): 2 faces in") and "Traceback" not in bad.stderr


def _frames(shared_data, start_s, end_s):
    import av
    import numpy as np

    with av.open(str(shared_data / "videos" / "short_hamilton_clip.mp4")) as container:
        return [np.ascontiguousarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)
                if start_s <= float(f.time) <= end_s]


def test_under_the_default_a_capture_must_be_a_live_burst(shared_data, folder):
    import cv2

    shot = _frames(shared_data, 3.9, 5.9)  # one shot of a speaking face
    live = shot[::12][:5]
    Image.fromarray(_frames(shared_data, 6.3, 6.4)[0]).save(folder / "enrol-lin.jpg")  # the enrolment photo
    for n, frame in enumerate(live):
        Image.fromarray(frame).save(folder / f"live-{n}.jpg")
    still = shot[6]  # a frame no other capture uses (a reused one would be a replay first)
    for n in range(4):  # one picture moved about in front of the camera
        turn = cv2.getRotationMatrix2D((320, 180), 1.5 * (n - 1.5), 1 + 0.01 * n)
        Image.fromarray(cv2.warpAffine(still, turn, (640, 360))).save(folder / f"moved-{n}.jpg")
    events = []
    for session, capture in (("B1", {"images": [f"live-{n}.jpg" for n in range(5)]}),
                             ("B2", {"images": [f"moved-{n}.jpg" for n in range(4)]}),
                             ("B3", {"image": "live-1.jpg"})):
        s = clean_session(session=session, learner="LM", start_s=3600 * len(events))
        s.events = [e for e in s.events if e["type"] not in ("face_capture", "photo_kept")]
        s.add("face_capture", 5, **capture)
        events += s.events
    found, reports = _judge(folder, events, BURST_POLICY, {"LM": folder / "enrol-lin.jpg"})
    assert "online.face_not_live" not in found["B1"]
    not_live = {k: [f for f in reports[k].findings if f.rule == "online.face_not_live"] for k in ("B2", "B3")}
    assert "as a whole" in not_live["B2"][0].detail
    assert "a still alone" in not_live["B3"][0].detail


def test_a_burst_answering_a_challenge_must_show_its_prompt(shared_data, folder):
    from datetime import timedelta

    from monitor.faces.challenge import Challenge
    from tests.monitor.online.builders import T0

    Image.fromarray(_frames(shared_data, 6.3, 6.4)[0]).save(folder / "enrol-lin.jpg")
    bursts = {"P1": _frames(shared_data, 3.8, 5.8)[::12], "P2": _frames(shared_data, 4.6, 6.6)[::12]}
    events, challenges = [], []
    for n, (session, frames) in enumerate(bursts.items()):  # P1 turns to his right, P2 to his left
        for k, frame in enumerate(frames):
            Image.fromarray(frame).save(folder / f"{session}-{k}.jpg")
        s = clean_session(session=session, learner="LM", start_s=3600 * n)
        s.events = [e for e in s.events if e["type"] not in ("face_capture", "photo_kept")]
        s.add("face_capture", 5, images=[f"{session}-{k}.jpg" for k in range(len(frames))], nonce=f"nonce-{session}")
        events += s.events
        challenges.append(Challenge("LM", session, T0 + timedelta(seconds=3600 * n + 10), "turn_right", f"nonce-{session}"))
    checks = FaceChecks(BURST_POLICY, {"LM": folder / "enrol-lin.jpg"}, folder, EncodingCache(folder / "cache"),
                        challenges=challenges)
    engine = OnlineEngine(BURST_POLICY, Catalogue(), checks)
    engine.add(collect(parse_record(e, 1) for e in events).events)
    reports = {r.session: r for r in engine.sessions()}
    face_rules = [f.rule for f in reports["P1"].findings if f.rule.startswith("online.face")]
    assert face_rules == [], reports["P1"].findings  # matched, not a replay, live and turning as asked
    wrong = [f for f in reports["P2"].findings if f.rule == "online.face_not_live"]
    assert len(wrong) == 1 and "not as asked (turn_right)" in wrong[0].detail
    assert wrong[0].evidence["prompt"] == "turn_right" and wrong[0].threshold == BURST_POLICY.liveness_turn
    assert wrong[0].measured is not None and wrong[0].measured < BURST_POLICY.liveness_turn


def test_a_picture_held_up_to_the_camera_is_for_review(shared_data, folder):
    from tests.monitor.faces.test_held_up import held_up_picture

    held_up_picture(shared_data, shared_data / "faces" / "obama" / "4.jpg", folder / "held.jpg")
    events = _session("H1", "L1", 0, capture="held.jpg", kept="c3.jpg") + _session("H2", "L1", 3600, capture="c2.jpg",
                                                                                    kept="c1.jpg")
    found, reports = _judge(folder, events)
    held = [f for f in reports["H1"].findings if f.rule == "online.face_not_live"]
    assert len(held) == 1 and held[0].severity == "review" and "held up" in held[0].detail, reports["H1"].findings
    assert held[0].measured >= POLICY.held_up_min_sides and held[0].evidence["image"] == "held.jpg"
    assert "online.face_mismatch" not in found["H1"]  # it is the learner's face: only how it is shown is in doubt
    assert found["H2"] == [], reports["H2"].findings  # real photos of the same person: no frame around them


def test_the_enrolment_photo_cut_through_the_face_is_a_replay(fr_images, tmp_path):
    # face_recognition's own test photos: obama.jpg enrolled; the same photo cut through the face
    # escapes the face hash (the face's alignment changes) but not the photo's structure.
    for name in ("obama.jpg", "obama_partial_face.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        shutil.copy(fr_images / name, tmp_path / name)
    events = (_session("R1", "L1", 0, capture="obama_partial_face.jpg", kept="obama2.jpg")
              + _session("R2", "L1", 3600, capture="biden.jpg", kept="obama3.jpg"))
    found, reports = _judge(tmp_path, events, enrolment={"L1": tmp_path / "obama.jpg"})
    copied = [f for f in reports["R1"].findings if f.rule == "online.face_replay"]
    assert len(copied) == 1 and "cut or resized" in copied[0].detail
    assert copied[0].measured >= POLICY.face_copy_min_matches
    assert "online.face_mismatch" in found["R2"]
    kept = [f for r in reports.values() for f in r.findings if f.detail.startswith("photo_kept")]
    assert kept == []  # obama2.jpg and obama3.jpg, other photos of him: the learner's own face, no copies


def _challenges(**moments):
    """One challenge per session name given, at that many seconds after T0, with a fixed nonce."""
    from datetime import timedelta

    from monitor.faces.challenge import Challenge
    from tests.monitor.online.builders import T0

    owner = {"S1": "L1", "S2": "L1", "S3": "L2"}
    return [Challenge(owner[s], s, T0 + timedelta(seconds=at), "turn_left", f"nonce-{s}") for s, at in moments.items()]


def _judge_with(folder, events, challenges, policy=POLICY):
    checks = FaceChecks(policy, {"L1": folder / "enrol-obama.jpg", "L2": folder / "enrol-biden.jpg"}, folder,
                        EncodingCache(folder / "cache"), challenges=challenges)
    engine = OnlineEngine(policy, Catalogue(), checks)
    engine.add(collect(parse_record(e, 1) for e in events).events)
    return {r.session: r for r in engine.sessions()}


def _with_nonce(events, image, nonce, at_s=None):
    for e in events:
        if e["type"] == "photo_kept" and e["image"] == image:
            e["nonce"] = nonce
    return events


def test_captures_answer_their_own_sessions_challenges_once_and_in_time(folder):
    challenges = _challenges(S1=200, S2=3800, S3=100)
    events = (_with_nonce(_session("S1", "L1", 0, capture="c1.jpg"), "c2.jpg", "nonce-S1")        # answered at 200 s
              + _with_nonce(_session("S2", "L1", 3600, capture="c3.jpg", kept="c4x.jpg"), "c4x.jpg", "nonce-S1")
              + _session("S3", "L2", 0))                                                          # S3's check unanswered
    shutil.copy(folder / "c3.jpg", folder / "c4x.jpg")
    for e in events:
        if e["session"] == "S3" and e["type"] == "photo_kept":
            e["image"] = "enrol-biden.jpg"
    reports = _judge_with(folder, events, challenges)
    assert reports["S1"].findings == []
    s2 = {f.detail for f in reports["S2"].findings}
    assert "photo_kept: its nonce is of a challenge for session S1 of learner L1" in s2  # replayed across sessions
    assert "the random check at 10:03:20 was not answered" in s2  # and S2's own was never answered
    s3 = {f.detail for f in reports["S3"].findings}
    assert "the random check at 09:01:40 was not answered" in s3
    late = _judge_with(folder, _with_nonce(_session("S1", "L1", 0, capture="c1.jpg"), "c2.jpg", "nonce-S1"),
                       _challenges(S1=50))
    assert [f.rule for f in late["S1"].findings] == ["online.face_missing"]
    assert late["S1"].findings[0].detail == "photo_kept: taken 150 s from the moment of its challenge"


def test_failed_face_checks_in_a_row_are_flagged_and_further_captures_refused(folder):
    policy = load_policy("zhengzhou-2022", {"face_liveness": "still", "face_max_failures_in_row": 3})
    s = clean_session(session="S1", learner="L1")
    s.events = [e for e in s.events if e["type"] not in ("face_capture", "photo_kept")]
    for k, at in enumerate((5, 20, 40, 60, 80)):  # Alex, Alex, Alex: three failures; then Obama twice
        s.add("face_capture", at, image="alex.jpg" if k < 3 else f"c{k - 2}.jpg")
    s.add("photo_kept", 200, image="c3.jpg")
    found, reports = _judge(folder, s.events, policy=policy)
    findings = reports["S1"].findings
    attempts = [f for f in findings if f.rule == "online.face_attempts"]
    assert len(attempts) == 1 and attempts[0].severity.value == "review" and len(attempts[0].evidence["events"]) == 3
    refused = [f for f in findings if f.detail.startswith("face_capture refused")]
    assert len(refused) == 2  # the genuine captures after the limit are not judged
    assert reports["S1"].verdict.value == "invalid"


def test_a_challenge_is_answered_once(folder):
    events = _session("S1", "L1", 0, capture="c1.jpg")
    for e in events:
        if e["type"] in ("face_capture", "photo_kept"):
            e["nonce"] = "nonce-S1"
    reports = _judge_with(folder, events, _challenges(S1=30))  # the capture at 5 s answers it in time
    capture = next(e["id"] for e in events if e["type"] == "face_capture")
    assert [f.detail for f in reports["S1"].findings] == [f"photo_kept: its challenge was already answered by event {capture}"]
