"""Who is in the classroom (A3, A4), on a clip made of real faces: a still scene with camera noise
and slow drift, one trainee leaving half-way, one never there."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from PIL import Image

from monitor.findings import Severity, Verdict
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from sample_videos.writer import write_video
from tests.conftest import at, write_manifest

pytestmark = pytest.mark.shared_data
FPS, SIZE, LENGTH_S = 5, (960, 540), 80


def _portrait(path, height=230):
    image = Image.open(path).convert("RGB")
    return np.asarray(image.resize((int(image.width * height / image.height), height)))[:, :, ::-1]  # BGR


def _classroom(shared_data, tmp_path, people=None, blur=None):
    """The clip and its class.json: `people` who sits in each of the three places (by default
    T-1, T-2, T-3 themselves), `blur` which places are out of focus (a Gaussian of that sigma)."""
    import cv2

    faces = shared_data / "faces"
    people = people or {"T-1": faces / "obama" / "4.jpg", "T-2": faces / "biden" / "2.jpg",
                        "T-3": faces / "kit_harington" / "2.jpg"}
    portraits = {k: _portrait(v) for k, v in people.items()}
    for place, sigma in (blur or {}).items():
        portraits[place] = cv2.GaussianBlur(portraits[place], (0, 0), sigma)
    rng = np.random.default_rng(3)

    def frame(k: int) -> np.ndarray:
        t = k / FPS
        image = np.full((SIZE[1], SIZE[0], 3), 120, np.uint8)
        drift = int(t / 8)  # the camera creeps a few pixels over the clip
        for n, (trainee, portrait) in enumerate(portraits.items()):
            if trainee == "T-3" and t >= 40:
                continue  # Kit leaves half-way
            y, x = 150 + drift, 40 + n * 310 + drift
            h, w = portrait.shape[:2]
            image[y:y + h, x:x + min(w, SIZE[0] - x)] = portrait[:, : SIZE[0] - x]
        noise = rng.normal(0, 3, image.shape)
        return np.clip(image + noise, 0, 255).astype(np.uint8)

    write_video(tmp_path / "class.mp4", ((k, frame(k)) for k in range(LENGTH_S * FPS)), FPS, SIZE, gop=2 * FPS)
    roster = []
    for trainee, name, photo in (("T-1", "奥巴马", faces / "obama" / "1.jpg"), ("T-2", "拜登", faces / "biden" / "1.jpg"),
                                 ("T-3", "哈林顿", faces / "kit_harington" / "1.jpg"),
                                 ("T-4", "拉卡莫尔", faces / "alex_lacamoire" / "1.jpg")):
        shutil.copy(photo, tmp_path / f"{trainee}.jpg")
        roster.append({"id": trainee, "name": name, "photo": f"{trainee}.jpg"})
    return write_manifest(tmp_path, [{"path": "class.mp4", "start": at(0)}], [("practical", 0, LENGTH_S)],
                          roster=roster, policy_overrides={"practical_min_continuous_s": 30, "check_interval_s": 10})


@pytest.fixture(scope="module")
def _default_classroom(shared_data, tmp_path_factory):
    """The default clip made once for the module (making it was most of each test's time)."""
    return _classroom(shared_data, tmp_path_factory.mktemp("classroom"))


@pytest.fixture
def classroom(_default_classroom, tmp_path, monkeypatch):
    """A copy of it of the test's own (tests rewrite class.json), with a face cache of its own."""
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    shutil.copytree(_default_classroom.parent, tmp_path / "class")
    return tmp_path / "class" / _default_classroom.name


def test_who_was_seen_who_never_was_and_the_headcount(classroom):
    report = analyze_class(load_class(classroom))
    hour = report.hours[0]
    v = hour.visibility
    assert len(v.moments) == 8
    assert v.missing == ["T-4"]
    assert v.seen["T-1"] == 8 and v.seen["T-2"] == 8 and v.seen["T-3"] == 4
    assert [len(m.present) for m in v.moments] == [3, 3, 3, 3, 2, 2, 2, 2]
    assert v.headcount_mean == pytest.approx(2.5, abs=0.5)
    assert all(m.unknown == 0 and m.unidentifiable == 0 for m in v.moments)
    assert not [f for f in hour.findings if f.rule == "visibility.unverifiable"]  # every face here is readable
    missing = next(f for f in hour.findings if f.rule == "visibility.trainee_missing")
    # an absent trainee lowers the headcount and is for review: it voids the hour for nobody (#17)
    assert missing.severity is Severity.REVIEW and missing.evidence["missing"] == [{"id": "T-4", "name": "拉卡莫尔"}]
    headcount = next(f for f in hour.findings if f.rule == "visibility.headcount")
    assert headcount.measured == pytest.approx(2.5, abs=0.5) and headcount.threshold == 4
    assert hour.verdict is Verdict.REVIEW


def test_a_missing_trainee_is_for_review_under_sanmenxia_too(classroom):
    import json

    data = json.loads(classroom.read_text())
    data["policy"] = "sanmenxia-2021"  # all_trainees_visible: not stated
    data["policy_overrides"]["practical_share_min"] = 0
    classroom.write_text(json.dumps(data, ensure_ascii=False))
    hour = analyze_class(load_class(classroom)).hours[0]
    missing = next(f for f in hour.findings if f.rule == "visibility.trainee_missing")
    assert missing.severity is Severity.REVIEW and hour.verdict is Verdict.REVIEW


def test_a_trainee_without_a_roster_photo_makes_the_hour_unverifiable(classroom):
    """Missing evidence is a finding (#14): T-2 present but without a photo cannot be identified,
    so the footage cannot show all the people attending: invalid where every trainee must be seen."""
    import json

    data = json.loads(classroom.read_text())
    del data["roster"][1]["photo"]
    classroom.write_text(json.dumps(data, ensure_ascii=False))
    hour = analyze_class(load_class(classroom)).hours[0]
    unverifiable = [f for f in hour.findings if f.rule == "visibility.unverifiable"]
    assert len(unverifiable) == 1 and unverifiable[0].severity is Severity.INVALIDATES
    assert unverifiable[0].evidence["without_photo"] == [{"id": "T-2", "name": "拜登"}]
    assert unverifiable[0].measured == 1 and "T-2" in unverifiable[0].detail
    assert hour.verdict is Verdict.INVALID
    assert hour.visibility.without_photo == ["T-2"] and "T-2" not in hour.visibility.missing


def test_a_roster_photo_without_a_face_is_a_clear_error_before_any_analysis(classroom):
    import json

    from monitor.faces.enrol import EnrolmentError

    data = json.loads(classroom.read_text())
    Image.new("RGB", (400, 400), (90, 90, 90)).save(classroom.parent / "wall.jpg")
    data["roster"][1]["photo"] = "wall.jpg"
    classroom.write_text(json.dumps(data, ensure_ascii=False))
    with pytest.raises(EnrolmentError, match=r"T-2 \(拜登\): no face found in .*wall.jpg"):
        analyze_class(load_class(classroom))


def test_evidence_frames_show_who_was_there(classroom, tmp_path):
    import cv2

    folder = tmp_path / "evidence"
    hour = analyze_class(load_class(classroom), evidence=folder).hours[0]
    kept = [m for m in hour.visibility.moments if m.evidence]
    assert len(kept) in (1, 2, 3)
    assert kept[0] is hour.visibility.moments[0] or kept[0].at == hour.visibility.moments[0].at
    assert any(len(m.present) == 2 for m in kept)  # the emptiest moment: after Kit left
    for m in kept:
        picture = cv2.imread(str(folder / m.evidence))
        assert picture is not None and picture.shape[:2] == (540, 960)


def test_the_class_period_from_real_check_moments(classroom):
    """#17: per trainee moments seen; the opening number is who was identified on the first day,
    the subsidisable headcount the lower of it and the mean present; T-4, never there, is listed
    absent for review and voids nothing."""
    from monitor.attendance import class_period, hours_of_report

    loaded = load_class(classroom)
    report = analyze_class(loaded)
    names = {t.id: t.name for t in loaded.manifest.roster}
    period = class_period(names, hours_of_report(report.model_dump(mode="json")), [], [], loaded.policy, names)
    by = {t.trainee: t for t in period.trainees}
    assert (by["T-1"].moments_seen, by["T-1"].moments_checked) == (8, 8) and by["T-4"].moments_seen == 0
    assert by["T-3"].rate == pytest.approx(0.5, abs=0.13) and by["T-4"].hours_absent == [1]
    h = period.headcount
    assert h.opening == 3 and h.mean_present == pytest.approx(2.5, abs=0.5) and h.subsidisable == h.mean_present
    assert [(f.rule, f.evidence["trainee"], f.severity) for f in period.findings] == [
        ("visibility.trainee_absent", "T-4", Severity.REVIEW)]


def test_the_cli_prints_attendance_and_the_headcount(classroom):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "monitor", "analyze", str(classroom)], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "Attendance per trainee" in result.stdout and "拉卡莫尔" in result.stdout
    assert "present at the opening 3" in result.stdout and "subsidisable" in result.stdout
    assert "visibility.trainee_absent" in result.stdout


def test_a_face_too_blurred_to_identify_makes_the_hour_unverifiable(shared_data, tmp_path, monkeypatch):
    """#17, 003 §19: T-2 sits in the room out of focus; the face is found at every check but
    cannot be told, so the footage cannot show who attended: visibility.unverifiable (invalid
    where every trainee must be seen), not a stranger, and T-2 is not seen."""
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    hour = analyze_class(load_class(_classroom(shared_data, tmp_path, blur={"T-2": 5}))).hours[0]
    v = hour.visibility
    assert [m.unidentifiable for m in v.moments] == [1] * 8 and all(m.unknown == 0 for m in v.moments)
    assert v.seen["T-2"] == 0 and "T-2" in v.missing
    [unverifiable] = [f for f in hour.findings if f.rule == "visibility.unverifiable"]
    assert unverifiable.severity is Severity.INVALIDATES and unverifiable.measured == 1.0 and unverifiable.threshold == 0.5
    assert unverifiable.message == "unidentifiable"
    assert "too small, blurred or turned away" in unverifiable.detail
    assert hour.verdict is Verdict.INVALID
    assert not [f for f in hour.findings if f.rule == "visibility.unknown_person"]


def test_a_stranger_in_a_trainees_seat_is_an_unknown_person_not_unverifiable(shared_data, tmp_path, monkeypatch):
    """The same seat with a sharp face of somebody not on the roster: identifiable, so it is a
    stranger (visibility.unknown_person over the period, review: a stand-in?), and the footage is
    not at fault."""
    from monitor.attendance import class_period, hours_of_report

    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    faces = shared_data / "faces"
    # Lacamoire (T-4 of the usual roster) taken off the roster and sat in T-2's seat
    people = {"T-1": faces / "obama" / "4.jpg", "T-2": faces / "alex_lacamoire" / "2.png", "T-3": faces / "kit_harington" / "2.jpg"}
    manifest = _classroom(shared_data, tmp_path, people=people)
    data = json.loads(manifest.read_text())
    data["roster"] = [t for t in data["roster"] if t["id"] != "T-4"]
    manifest.write_text(json.dumps(data, ensure_ascii=False))
    loaded = load_class(manifest)
    report = analyze_class(loaded)
    hour = report.hours[0]
    assert [(m.unknown, m.unidentifiable) for m in hour.visibility.moments] == [(1, 0)] * 8
    assert not [f for f in hour.findings if f.rule == "visibility.unverifiable"]
    names = {t.id: t.name for t in loaded.manifest.roster}
    period = class_period(names, hours_of_report(report.model_dump(mode="json")), [], [], loaded.policy, names)
    [unknown] = [f for f in period.findings if f.rule == "visibility.unknown_person"]
    assert unknown.severity is Severity.REVIEW and unknown.measured == 1.0


def _clip_head(shared_data, tmp_path, frame: int):
    """The real clip's speaker at `frame` (short_hamilton_clip.mp4), his head and some margin, as
    a picture to seat in the classroom: 147-180 he faces the camera, 129-135 and 204-210 his head
    is turned three-quarters away (turn 0.55-0.66, monitor/faces/quality.py)."""
    import av

    from monitor.faces.detect import faces_in

    with av.open(str(shared_data / "videos" / "short_hamilton_clip.mp4")) as container:
        picture = next(np.ascontiguousarray(f.to_ndarray(format="rgb24"))
                       for k, f in enumerate(container.decode(video=0)) if k == frame)
    top, right, bottom, left = max(faces_in(picture), key=lambda f: f.height_px).box
    m = (bottom - top) // 2
    path = tmp_path / f"speaker-{frame}.png"
    Image.fromarray(picture[max(top - m, 0):bottom + m, max(left - m, 0):right + m]).save(path)
    return path


def _speaker_in_t2s_seat(shared_data, tmp_path, frame: int):
    faces = shared_data / "faces"
    people = {"T-1": faces / "obama" / "4.jpg", "T-2": _clip_head(shared_data, tmp_path, frame),
              "T-3": faces / "kit_harington" / "2.jpg"}
    loaded = load_class(_classroom(shared_data, tmp_path, people=people))
    report = analyze_class(loaded)
    names = {t.id: t.name for t in loaded.manifest.roster}
    return report.hours[0], _period(report, loaded, names)


def _period(report, loaded, names):
    from monitor.attendance import class_period, hours_of_report

    return class_period(names, hours_of_report(report.model_dump(mode="json")), [], [], loaded.policy, names)


def test_a_face_turned_away_is_unidentifiable_not_a_stranger(shared_data, tmp_path, monkeypatch):
    """#17, 003 §19: in T-2's seat a large, sharp head turned three-quarters from the camera (the
    real clip's speaker, frame 135), matching nobody on the roster: the match cannot tell such a
    face, so it is unidentifiable, not a stranger; at every check moment, past
    unidentifiable_max_share: visibility.unverifiable, and no visibility.unknown_person."""
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    hour, period = _speaker_in_t2s_seat(shared_data, tmp_path, 135)
    v = hour.visibility
    assert [(m.unknown, m.unidentifiable) for m in v.moments] == [(0, 1)] * 8
    assert v.seen["T-1"] == 8 and v.seen["T-2"] == 0
    [unverifiable] = [f for f in hour.findings if f.rule == "visibility.unverifiable"]
    assert unverifiable.severity is Severity.INVALIDATES and unverifiable.measured == 1.0
    assert unverifiable.message == "unidentifiable" and "turned away" in unverifiable.detail
    assert hour.verdict is Verdict.INVALID
    assert not [f for f in period.findings if f.rule == "visibility.unknown_person"]


def test_the_same_man_facing_the_camera_is_a_stranger(shared_data, tmp_path, monkeypatch):
    """The control: the same speaker in the same seat facing the camera (frame 150) is identifiable
    and on no roster photo: a stranger (visibility.unknown_person, review), the footage not at fault."""
    monkeypatch.setenv("MONITOR_CACHE_DIR", str(tmp_path / "cache"))
    hour, period = _speaker_in_t2s_seat(shared_data, tmp_path, 150)
    assert [(m.unknown, m.unidentifiable) for m in hour.visibility.moments] == [(1, 0)] * 8
    assert not [f for f in hour.findings if f.rule == "visibility.unverifiable"]
    [unknown] = [f for f in period.findings if f.rule == "visibility.unknown_person"]
    assert unknown.severity is Severity.REVIEW and unknown.measured == 1.0
