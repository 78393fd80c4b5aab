"""Every analysis note the sample class and a platform's sample day produce reads in Chinese."""

from __future__ import annotations

from pathlib import Path

from api.pages.details import detail_zh
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.reader import collect, parse_record
from monitor.policy import load_policy
from sample_videos.make_sample import make_sample_class
from sample_videos.online_day import make_day


def test_the_samples_notes_all_read_in_chinese(tmp_path: Path) -> None:
    report = analyze_class(load_class(make_sample_class(tmp_path)))
    notes = {f.detail for h in report.hours for f in h.findings} | {f.detail for f in report.findings}
    day = make_day(learners=150, seed=2)
    engine = OnlineEngine(load_policy("zhengzhou-2022"),
                          Catalogue.model_validate({"courses": day["courses"], "history": day["history"]}))
    engine.add(collect(parse_record(e, n) for n, e in enumerate(day["events"], start=1)).events)
    notes |= {f.detail for s in engine.sessions() for f in s.findings}
    rules = {f.rule for s in engine.sessions() for f in s.findings}
    assert len(rules) >= 8 and len(notes) > 10  # the day plants a violation of every online rule
    untranslated = sorted(n for n in notes if detail_zh(n) is None)
    assert untranslated == []
    assert detail_zh("picture unchanged for 15.0 s") == "画面静止 15.0 秒"


def test_the_face_checks_judgements_read_in_chinese() -> None:
    # The notes monitor/faces and monitor/online/faces.py write after "face_capture: " or "photo_kept: ".
    judgements = ["no usable face in the capture", "2 faces in the capture: who is learning?",
                  "the enrolment photo sent as a capture", "a copy of the earlier capture c1.jpg",
                  "the enrolment photo, cut or resized, sent as a capture",
                  "the face is not the enrolled learner's", "a still alone cannot prove a live face",
                  "the face moves only as a whole: a photo or a screen", "the face changes within the burst",
                  "a face in 2 of 5 frames, 3 needed", "the face moves, but not as asked (turn_right)",
                  "straight edges around the face (left, right, top): a screen or print held up?"]
    for judgement in judgements:
        zh = detail_zh(f"face_capture: {judgement}")
        assert zh is not None and zh.startswith("face_capture："), judgement
        said = zh.removeprefix("face_capture：").replace("c1.jpg", "")
        assert not any(c.isascii() and c.isalpha() for c in said), (judgement, zh)  # no English left
    assert detail_zh("face_capture: the face moves, but not as asked (turn_left)") == "face_capture：人脸在动，但没有按提示动作（向左转头）"
    assert detail_zh("photo_kept: something no rule knows") is None  # shown as it is, marked English
