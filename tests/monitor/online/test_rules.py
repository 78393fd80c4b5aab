"""Every rule: a clean session and a violating one, and the boundaries."""

from __future__ import annotations

import pytest

from monitor.findings import Severity, Verdict
from monitor.policy import load_policy
from tests.monitor.online.builders import Session, clean_session, judge, rules_of


def test_a_clean_session_is_valid_with_its_time_credited():
    [report] = judge(clean_session().events)
    assert report.findings == []
    assert report.verdict is Verdict.VALID
    assert report.credited_s == pytest.approx(600, abs=0.01)


# --- B1 fast-forward ------------------------------------------------------------------------

def test_rate_above_one_is_fast_forward_and_not_credited():
    s = clean_session()
    s.add("ratechange", 300, rate=1.5).add("ratechange", 360, rate=1.0)
    [report] = judge(s.events)
    assert "online.fast_forward" in rules_of([report])
    assert report.credited_s == pytest.approx(540, abs=0.01)
    assert report.verdict is Verdict.INVALID


def test_seek_past_the_furthest_point_watched_is_fast_forward():
    s = clean_session()
    s.add("seek", 300.5, from_s=300, to_s=500)
    [report] = judge(s.events)
    finding = next(f for f in report.findings if f.rule == "online.fast_forward")
    assert finding.measured == 500 and finding.evidence["events"]


def test_seek_back_then_forward_to_the_furthest_point_is_fine():
    s = Session().add("session_start", 0)
    s.watch(0, 300)  # furthest watched: 300
    s.add("seek", 301, from_s=300, to_s=100).add("seek", 302, from_s=100, to_s=300)
    s.watch(303, 500, position=300)
    for t in (100, 380):
        s.add("popup_shown", t, popup=f"p{t}").add("popup_answered", t + 2, popup=f"p{t}")
    s.add("photo_kept", 50, image="p.jpg").add("session_end", 500)
    assert rules_of(judge(s.events)) == []


def test_position_running_ahead_of_the_clock_is_fast_forward():
    s = clean_session()
    s.add("heartbeat", 410, position_s=560)  # 150 s of video in 20 s of wall time after the 390 s report
    assert "online.fast_forward" in rules_of(judge(s.events))


# --- B2 multi-window ------------------------------------------------------------------------

def test_two_platforms_at_once_is_multi_window_for_both():
    a = clean_session(session="A", platform="edu-a")
    b = clean_session(session="B", platform="edu-b", start_s=300)
    reports = judge(a.events + b.events)
    assert rules_of(reports, "A") == ["online.multi_window"] and rules_of(reports, "B") == ["online.multi_window"]
    finding = next(f for r in reports if r.session == "A" for f in r.findings)
    assert finding.evidence["other_platform"] == "edu-b"
    assert finding.measured == pytest.approx(300, abs=0.1)


def test_back_to_back_sessions_are_fine():
    a = clean_session(session="A", platform="edu-a")
    b = clean_session(session="B", platform="edu-b", start_s=600)
    assert rules_of(judge(a.events + b.events)) == []


def test_playing_while_hidden_too_long_is_multi_window():
    s = clean_session().add("hidden", 200).add("visible", 290)  # 90 s hidden, 60 s allowed
    [report] = judge(s.events)
    assert rules_of([report]) == ["online.multi_window"]
    assert report.credited_s == pytest.approx(510, abs=0.01)
    assert rules_of(judge(clean_session().add("hidden", 200).add("visible", 250).events)) == []


# --- B3 pop-ups -----------------------------------------------------------------------------

def _popups_at(*times: float, length: float = 900.0) -> Session:
    s = Session().add("session_start", 0)
    s.watch(0, length, step=10)
    for t in times:
        s.add("popup_shown", t, popup=f"p{t}").add("popup_answered", t, popup=f"p{t}")
    return s.add("photo_kept", 50, image="p.jpg").add("session_end", length)


def test_exactly_300_s_between_popups_is_fine_301_is_not():
    assert rules_of(judge(_popups_at(300, 600, length=900).events)) == []
    found = judge(_popups_at(300, 601, length=900).events)
    assert rules_of(found) == ["online.popup_gap"]
    assert found[0].findings[0].measured == pytest.approx(301, abs=0.01)


def test_start_to_first_and_last_to_end_count_too():
    assert rules_of(judge(_popups_at(301, 600, length=900).events)) == ["online.popup_gap"]
    assert rules_of(judge(_popups_at(300, 599, length=900).events)) == ["online.popup_gap"]


def test_an_unanswered_popup_stops_credited_time_until_the_next_answer():
    s = clean_session(length_s=900)  # pop-ups at 100, 380, 660
    s.events = [e for e in s.events if not (e["type"] == "popup_answered" and e["popup"].endswith("p380"))]
    s.add("popup_timeout", 400, popup="S1-p380")
    [report] = judge(s.events)
    assert rules_of([report]) == ["online.popup_unanswered"]
    assert report.credited_s == pytest.approx(900 - (665 - 400), abs=0.01)
    # B3 as written: the session is not voided by it (review), only the blocked time is lost
    assert report.verdict is Verdict.REVIEW
    assert report.findings[0].severity == "review"


def test_a_pop_up_never_answered_blocks_from_its_showing_to_the_next_answer():
    s = clean_session(length_s=900)  # pop-ups at 100, 380, 660: 380 shown, never answered
    s.events = [e for e in s.events if not (e["type"] == "popup_answered" and e["popup"].endswith("p380"))]
    [report] = judge(s.events)
    assert rules_of([report]) == ["online.popup_unanswered"] and report.verdict is Verdict.REVIEW
    assert report.credited_s == pytest.approx(900 - (665 - 380), abs=0.01)


def test_an_unanswered_pop_up_with_no_pop_up_for_5_minutes_after_it_is_invalid():
    s = clean_session(length_s=900)
    s.events = [e for e in s.events if not (e["type"].startswith("popup") and e["popup"].endswith("p660"))]
    s.events = [e for e in s.events if not (e["type"] == "popup_answered" and e["popup"].endswith("p380"))]
    [report] = judge(s.events)  # 380 -> the end, 520 s with no pop-up: control itself missing
    assert rules_of([report]) == ["online.popup_gap", "online.popup_unanswered"]
    assert report.verdict is Verdict.INVALID and report.credited_s == pytest.approx(380, abs=0.01)


# --- B5 order -------------------------------------------------------------------------------

def test_unit_started_before_the_previous_one_is_complete():
    s = clean_session(unit="2")
    assert rules_of(judge(s.events)) == ["online.out_of_order"]
    done = Session(session="S0", start_s=-3600, unit="1").add("unit_complete", 0, position_s=1200)
    assert rules_of(judge(done.events + clean_session(unit="2").events)) == []
    # the first unit: 1, or 0 where a unit 0 exists; zero-padded numbers keep their width
    assert rules_of(judge(clean_session(unit="1").events)) == []
    zero = Session(session="S0", start_s=-3600, unit="00").add("play", 0, position_s=0)
    assert rules_of(judge(zero.events + clean_session(unit="01").events)) == ["online.out_of_order"]


def test_without_a_catalogue_only_plain_numbers_have_an_order():
    """Digits inside a name are no sequence: unit-03.mp4 after unit-03.mp3, U3 before U2, a
    video IRI ending in 3: none is judged, and the report says why."""
    from monitor.online.engine import judge_file

    for first, second in (("unit-03.mp3", "unit-03.mp4"), ("U3", "U2"), ("https://e.example/v/2", "https://e.example/v/3"),
                          ("第3讲", "第2讲")):
        started = Session(session="S0", start_s=-3600, unit=first).watch(0, 60)
        assert "online.out_of_order" not in rules_of(judge(started.events + clean_session(unit=second).events)), (first, second)
    import json
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "events.jsonl"
        events = clean_session(unit="unit-03.mp4").events + clean_session(learner="L2", session="S2", course="C2", unit="3").events
        path.write_text("\n".join(json.dumps(e) for e in events), encoding="utf-8")
        report = judge_file(path, load_policy("zhengzhou-2022"))
    assert len(report.notes) == 1 and "course C1" in report.notes[0] and "unit-03.mp4" in report.notes[0]
    assert rules_of(report.sessions, "S2") == ["online.out_of_order"]  # 3 before 2: judged


def test_catalogue_order_wins_over_unit_numbers():
    catalogue = {"courses": {"C1": {"units": ["intro", "safety", "wiring"]}}}
    s = clean_session(unit="wiring")
    done = Session(session="S0", start_s=-3600, unit="intro").add("unit_complete", 0, position_s=1)
    assert rules_of(judge(done.events + s.events, catalogue)) == ["online.out_of_order"]


# --- B6 photos ------------------------------------------------------------------------------

def test_a_class_hour_without_a_kept_photo():
    s = clean_session()
    s.events = [e for e in s.events if e["type"] != "photo_kept"]
    assert rules_of(judge(s.events)) == ["online.no_photo"]


def test_photos_at_the_same_offset_of_every_hour_are_for_review():
    s = Session().add("session_start", 0)
    s.watch(0, 5400, step=60)
    for t in range(100, 5400, 280):
        s.add("popup_shown", t, popup=f"p{t}").add("popup_answered", t + 1, popup=f"p{t}")
    s.add("photo_kept", 600, image="a.jpg").add("photo_kept", 2700 + 600, image="b.jpg").add("session_end", 5400)
    [report] = judge(s.events)
    assert [(f.rule, f.severity) for f in report.findings] == [("online.no_photo", Severity.REVIEW)]
    assert report.verdict is Verdict.REVIEW


# --- B7 / B8 --------------------------------------------------------------------------------

def test_too_much_of_the_course_online():
    catalogue = {"courses": {"C1": {"total_hours": 40, "online_hours": 20}}}
    assert rules_of(judge(clean_session().events, catalogue)) == ["online.theory_share"]
    catalogue = {"courses": {"C1": {"total_hours": 40, "online_hours": 16}}}
    assert rules_of(judge(clean_session().events, catalogue)) == []


def _judge_under(profile: str, catalogue: dict, events: list | None = None) -> list:
    from monitor.online.catalogue import Catalogue
    from monitor.online.engine import OnlineEngine
    from monitor.online.reader import collect, parse_record

    events = clean_session().events if events is None else events
    read = collect(parse_record(e, n) for n, e in enumerate(events, start=1))
    engine = OnlineEngine(load_policy(profile), Catalogue.model_validate(catalogue))
    engine.add(read.events)
    return engine.sessions()


def test_a_platforms_own_online_course_is_not_capped_at_40_percent():
    course = {"total_hours": 40, "online_hours": 40}
    assert rules_of(judge(clean_session().events, {"courses": {"C1": {**course, "mode": "online"}}})) == []
    assert rules_of(judge(clean_session().events, {"courses": {"C1": {**course, "mode": "blended"}}})) == [
        "online.theory_share"]
    assert rules_of(judge(clean_session().events, {"courses": {"C1": course}})) == ["online.theory_share"]  # default


def test_sanmenxia_annex_3_occupations_need_8_hours_offline_practice():
    def course(occupation: str, hours: float, mode: str = "online") -> dict:
        return {"courses": {"C1": {"mode": mode, "occupation": occupation, "offline_hours": hours}}}

    [report] = _judge_under("sanmenxia-2021", course("茶艺师", 6))  # annex 3 row 2
    assert rules_of([report]) == ["online.offline_practice"]
    assert report.findings[0].clause == "004 §21(2), annex 3" and report.findings[0].threshold == 8.0
    assert rules_of(_judge_under("sanmenxia-2021", course("茶艺师", 8))) == []  # exactly the minimum
    assert rules_of(_judge_under("sanmenxia-2021", course("电子商务师（含跨境电子商务师）", 0))) == []  # row 1
    assert rules_of(_judge_under("sanmenxia-2021", course("茶艺师", 0, "blended"))) == []  # an institution's
    # Zhengzhou's document sets no such minimum: the same course is fine there
    assert rules_of(_judge_under("zhengzhou-2022", course("茶艺师", 0))) == []
    flagged = {"courses": {"C1": {"mode": "online", "needs_offline_practice": True, "occupation": "焊工"}}}
    assert rules_of(_judge_under("zhengzhou-2022", flagged)) == []
    assert rules_of(_judge_under("sanmenxia-2021", flagged)) == ["online.offline_practice"]


def test_findings_cite_the_document_of_the_profile_that_judged_them():
    s = clean_session()
    s.events = [e for e in s.events if e["type"] != "photo_kept"]
    [zz], [smx] = _judge_under("zhengzhou-2022", {}, s.events), _judge_under("sanmenxia-2021", {}, s.events)
    assert [(f.rule, f.clause) for f in zz.findings] == [("online.no_photo", "003 §20(3)")]
    assert [(f.rule, f.clause) for f in smx.findings] == [("online.no_photo", "004 §21(2)")]


@pytest.mark.parametrize(("assessed_days_before", "flagged"), [(12, True), (31, False), (None, True), (-3, True)])
def test_cooldown_after_the_previous_assessment(assessed_days_before, flagged):
    from datetime import timedelta

    from tests.monitor.online.builders import T0

    assessed = None if assessed_days_before is None else (T0 - timedelta(days=assessed_days_before)).isoformat()
    # the earlier training began 60 days before this one (unassessed, or assessed after this one began: barred)
    earlier = {"course": "C0", "assessed_at": assessed, "started_at": (T0 - timedelta(days=60)).isoformat()}
    catalogue = {"history": {"L1": [earlier]}}
    assert rules_of(judge(clean_session().events, catalogue)) == (["person.cooldown"] if flagged else [])


def _session_at(at, course: str, session: str):
    from tests.monitor.online.builders import T0

    return clean_session(course=course, session=session, start_s=(at - T0).total_seconds())


@pytest.mark.parametrize(("assessed", "start", "flagged"), [
    ("2027-01-31T10:00:00+08:00", "2027-02-28T09:59:59+08:00", True),
    ("2027-01-31T10:00:00+08:00", "2027-02-28T10:00:00+08:00", False),  # one calendar month, not 30 days
    ("2028-01-31T10:00:00+08:00", "2028-02-29T09:59:59+08:00", True),  # a leap year: Feb 29
    ("2028-01-31T10:00:00+08:00", "2028-02-29T10:00:00+08:00", False),
    ("2027-03-31T10:00:00+08:00", "2027-04-30T10:00:00+08:00", False),
    ("2027-01-15T10:00:00+08:00", "2027-02-14T10:00:00+08:00", True),  # 30 days, still within the month
])
def test_cooldown_is_one_calendar_month_from_the_assessment(assessed, start, flagged):
    from datetime import datetime

    history = {"L1": [{"course": "C0", "assessed_at": assessed}]}  # start unknown: assessed before, so earlier
    [report] = judge(_session_at(datetime.fromisoformat(start), "C1", "S1").events, {"history": history})
    assert rules_of([report]) == (["person.cooldown"] if flagged else [])
    if flagged:
        assert datetime.fromisoformat(start) < datetime.fromisoformat(report.findings[0].evidence["allowed_from"])


def test_add_months_clamps_to_the_months_last_day():
    from datetime import datetime

    from monitor.person import add_months

    jan31 = datetime.fromisoformat("2027-01-31T10:00:00+08:00")
    assert add_months(jan31, 1).isoformat() == "2027-02-28T10:00:00+08:00"
    assert add_months(jan31.replace(year=2028), 1).isoformat() == "2028-02-29T10:00:00+08:00"
    assert add_months(datetime.fromisoformat("2027-12-15T00:00:00+08:00"), 1).isoformat() == "2028-01-15T00:00:00+08:00"


def test_a_later_trainings_assessment_leaves_an_earlier_verdict_unchanged():
    """Regression: the rule used to check every other course, so an earlier course became invalid
    once a later one was assessed. Only a training that began earlier bars another's start."""
    from datetime import timedelta

    from tests.monitor.online.builders import T0

    events = (_session_at(T0, "C1", "S1").events + _session_at(T0 + timedelta(days=35), "C2", "S2").events)
    before = {"L1": [{"course": "C1", "assessed_at": (T0 + timedelta(days=10)).isoformat()}]}
    after = {"L1": [*before["L1"], {"course": "C2", "assessed_at": (T0 + timedelta(days=50)).isoformat()}]}
    unassessed = {"L1": [*before["L1"], {"course": "C2", "assessed_at": None}]}
    for history in (before, after, unassessed):
        reports = {r.course: r for r in judge(events, {"history": history})}
        assert rules_of([reports["C1"]]) == [], history  # C2 began later (its start from its sessions)
        assert rules_of([reports["C2"]]) == ["person.cooldown"]  # 25 days after C1's assessment
        assert reports["C2"].findings[0].start == reports["C2"].findings[0].end


def test_cooldown_judges_the_trainings_start_on_every_session_of_it():
    from datetime import timedelta

    from tests.monitor.online.builders import T0

    # C1 assessed 20 days before C2's first session; C2's second session is 40 days after: still barred,
    # because the training started within the month (the finding is dated at the training's start)
    events = (_session_at(T0, "C2", "S1").events + _session_at(T0 + timedelta(days=20), "C2", "S2").events)
    history = {"L1": [{"course": "C1", "assessed_at": (T0 - timedelta(days=20)).isoformat(),
                       "started_at": (T0 - timedelta(days=60)).isoformat()}]}
    reports = judge(events, {"history": history})
    assert [rules_of([r]) for r in reports] == [["person.cooldown"], ["person.cooldown"]]
    assert {r.findings[0].start for r in reports} == {T0}


def test_an_unassessed_training_of_unknown_start_may_be_a_later_one():
    history = {"L1": [{"course": "C0", "assessed_at": None}]}
    assert rules_of(judge(clean_session().events, {"history": history})) == []
