"""The pages' pure helpers for evidence (no browser): consecutive findings of one rule merged,
frames labelled by clock time, values with units."""

from __future__ import annotations

from api.pages import measures
from api.pages.routes import evidence_rows, finding_groups, frame_clock


def _f(rule: str, start: str, end: str, **more: object) -> dict[str, object]:
    return {"rule": rule, "start": f"2026-11-20T09:{start}+08:00", "end": f"2026-11-20T09:{end}+08:00", **more}


def test_back_to_back_findings_of_one_rule_are_one_incident() -> None:
    findings = [_f("online.fast_forward", "00:00", "00:10"), _f("online.fast_forward", "00:30", "00:40"),
                _f("online.fast_forward", "00:50", "01:00"), _f("online.fast_forward", "01:20", "01:30"),
                _f("online.multi_window", "01:40", "02:00"),
                _f("online.fast_forward", "02:10", "02:20"),  # after another rule: a new group
                _f("online.fast_forward", "30:00", "30:10")]  # half an hour later: a new group
    groups = finding_groups(findings)
    assert [(g["rule"], len(g["findings"])) for g in groups] == [
        ("online.fast_forward", 4), ("online.multi_window", 1), ("online.fast_forward", 1), ("online.fast_forward", 1)]
    assert groups[0]["start"].endswith("09:00:00+08:00") and groups[0]["end"].endswith("09:01:30+08:00")
    assert len(set(groups[0]["keys"])) == 4  # decided per finding still


def test_frames_are_labelled_by_clock_time_and_a_freeze_by_its_last_frozen_frame() -> None:
    freeze = _f("footage.freeze", "01:40", "01:55", evidence={"frames": [{"file": "a.mp4", "media_s": 10.0},
                                                                         {"file": "a.mp4", "media_s": 25.0}]})
    rows = evidence_rows(freeze)
    assert [(c["label"], c["frame"], c["edge"]) for c in rows[0]] == [
        ("Frozen from", 0, ""), ("Last frozen frame", 1, "before"), ("First live frame", 1, "")]
    assert [c["clock"].strftime("%H:%M:%S.%f")[:12] for c in rows[0]] == ["09:01:40.000", "09:01:54.960", "09:01:55.000"]
    other_file = frame_clock(freeze, {"file": "b.mp4", "media_s": 3.0})
    assert other_file is None  # no anchor in another file: labelled by file and offset instead


def test_values_carry_units_in_both_languages() -> None:
    said = {locale: measures.measured_text({"rule": "online.multi_window", "measured": 1200.0, "threshold": 5.0},
                                           locale, lambda m: {"Measured %(m)s (threshold %(t)s)": "测得 %(m)s（阈值 %(t)s）"}.get(m, m)
                                           if locale == "zh_CN" else m) for locale in ("zh_CN", "en")}
    assert said["zh_CN"] == ("测得 20 分钟（阈值 5 秒）", True)
    assert said["en"] == ("Measured 20 min (threshold 5 s)", True)
    assert measures.measured_text({"rule": "theory.coverage", "measured": 0.5, "threshold": 0.9}, "en", str)[0] == \
        "Measured 50% (threshold 90%)"
    # visibility.unverifiable measures people (not in view, without a photo), or a share of check moments
    unreadable = {"rule": "visibility.unverifiable", "message": "unidentifiable", "measured": 0.6, "threshold": 0.5}
    assert measures.measured_text(unreadable, "en", str)[0] == "Measured 60% (threshold 50%)"
    unseen = {"rule": "visibility.unverifiable", "message": "not_in_view", "measured": 2, "threshold": 1}
    assert measures.measured_text(unseen, "en", str)[0] == "Measured 2 people (threshold 1 people)"
    # A rule the table does not know is shown raw and marked, which the browser tests refuse.
    assert measures.measured_text({"rule": "new.rule", "measured": 3, "threshold": 1}, "en", str) == ("3 / 1", False)
