"""Attendance and headcount per class period (monitor/attendance.py): per trainee moments seen,
rates, approved absences made up; opening number, mean present over footage and on-site checks,
the subsidisable headcount as the lower of the two; absent and unknown people for review."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor.attendance import Absence, CheckMoment, HourChecks, OnsiteCount, class_period, hours_of_report
from monitor.findings import Severity, say, verdict_of, Verdict
from monitor.policy import load_policy

ZZ = load_policy("zhengzhou-2022")  # min_sightings_per_hour from base
DAY1 = datetime.fromisoformat("2026-11-20T08:00:00+08:00")
DAY2 = DAY1 + timedelta(days=1)
ROSTER = ["T-1", "T-2", "T-3", "T-4"]


def _hour(index: int, start: datetime, present: list[list[str]], unknown: list[int] | None = None) -> HourChecks:
    moments = [CheckMoment(at=start + timedelta(minutes=1 + k), present=p, unknown=(unknown or [0] * len(present))[k])
               for k, p in enumerate(present)]
    return HourChecks(index=index, start=start, end=start + timedelta(minutes=45), moments=moments)


def _class(t4_day2: bool = False) -> list[HourChecks]:
    """Day 1: everyone but T-4 (T-3 leaves halfway); day 2: T-1 and T-2 only (T-4 too, if asked)."""
    day1 = [["T-1", "T-2", "T-3"]] * 2 + [["T-1", "T-2"]] * 2
    day1_late = [["T-1", "T-2", "T-3"]] * 4
    day2 = [["T-1", "T-2"] + (["T-4"] if t4_day2 else [])] * 4
    return [_hour(1, DAY1, day1), _hour(2, DAY1 + timedelta(hours=1), day1_late), _hour(3, DAY2, day2)]


def test_per_trainee_moments_rates_and_absent_hours():
    period = class_period(ROSTER, _class(), [], [], ZZ)
    by = {t.trainee: t for t in period.trainees}
    assert (by["T-1"].moments_checked, by["T-1"].moments_seen, by["T-1"].rate) == (12, 12, 1.0)
    assert (by["T-3"].moments_seen, by["T-3"].hours_absent, by["T-3"].attendance_rate) == (6, [3], pytest.approx(2 / 3, abs=1e-4))
    assert (by["T-4"].moments_seen, by["T-4"].hours_absent, by["T-4"].attendance_rate) == (0, [1, 2, 3], 0.0)
    absent = [f for f in period.findings if f.rule == "visibility.trainee_absent"]
    assert [(f.evidence["trainee"], f.evidence["hours"]) for f in absent] == [("T-3", [3]), ("T-4", [1, 2, 3])]
    assert all(f.severity is Severity.REVIEW for f in absent)  # lowers the headcount, voids nothing
    assert verdict_of(period.findings) is Verdict.REVIEW
    assert "未出现在第 1, 2, 3 课时" in say(absent[1], "zh") and absent[1].clause == "003 §21"


def test_the_subsidisable_headcount_is_the_lower_of_the_opening_and_the_mean_present():
    period = class_period(ROSTER, _class(), [], [], ZZ)
    h = period.headcount
    assert h.roster == 4 and h.opening == 3  # T-1, T-2, T-3 seen on the first day
    assert h.mean_present == pytest.approx((3 * 2 + 2 * 2 + 3 * 4 + 2 * 4) / 12, abs=1e-3)
    assert h.subsidisable == h.mean_present < h.opening
    assert [p.present for p in h.series][:4] == [3, 3, 2, 2] and {p.source for p in h.series} == {"footage"}
    # everyone present all along: the opening is the lower (equal) one
    full = [_hour(1, DAY1, [ROSTER] * 3), _hour(2, DAY2, [ROSTER] * 3)]
    assert class_period(ROSTER, full, [], [], ZZ).headcount.subsidisable == 4.0


def test_on_site_counts_join_the_series_and_an_inspectors_count_on_the_first_day_the_opening():
    onsite = [OnsiteCount(at=DAY1 + timedelta(minutes=30), present=4, absent=[], person="检查员甲"),
              OnsiteCount(at=DAY2 + timedelta(minutes=30), present=1, absent=["T-2", "T-3", "T-4"], person="检查员乙")]
    period = class_period(ROSTER, _class(), onsite, [], ZZ)
    h = period.headcount
    assert h.opening == 4  # the inspector counted 4 at the opening; the footage identified 3
    assert len(h.series) == 14 and [p.source for p in h.series].count("onsite") == 2
    assert h.mean_present == pytest.approx((30 + 4 + 1) / 14, abs=1e-3) and h.subsidisable == h.mean_present
    assert {t.trainee: t.onsite_absent for t in period.trainees} == {"T-1": 0, "T-2": 1, "T-3": 1, "T-4": 1}


def test_an_accepted_leave_made_up_in_a_later_hour_counts_as_attended():
    hours = _class(t4_day2=True)  # T-4 misses day 1 (hours 1, 2) and attends hour 3
    made_up = Absence(trainee="T-4", hour=1, makeup_hour=3, accepted=True)
    not_accepted = Absence(trainee="T-4", hour=2, makeup_hour=3, accepted=False)
    period = class_period(ROSTER, hours, [], [made_up, not_accepted], ZZ)
    t4 = next(t for t in period.trainees if t.trainee == "T-4")
    assert t4.hours_absent == [1, 2] and t4.hours_made_up == [1]
    assert t4.attendance_rate == pytest.approx(2 / 3, abs=1e-4)
    [absent] = [f for f in period.findings if f.evidence.get("trainee") == "T-4"]
    assert absent.evidence["hours"] == [2]
    # a make-up lesson is a later hour (003 §21 补课): an earlier hour attended makes up nothing missed after it
    missed_again = Absence(trainee="T-3", hour=3, makeup_hour=2, accepted=True)  # hour 2 is earlier, attended
    t3 = next(t for t in class_period(ROSTER, hours, [], [missed_again], ZZ).trainees if t.trainee == "T-3")
    assert t3.hours_absent == [3] and t3.hours_made_up == []
    # a make-up hour the trainee did not attend makes nothing up
    t4_missed_3 = _class() + [_hour(4, DAY2 + timedelta(hours=1), [["T-1"]] * 4)]
    unattended = Absence(trainee="T-4", hour=1, makeup_hour=4, accepted=True)
    assert next(t for t in class_period(ROSTER, t4_missed_3, [], [unattended], ZZ).trainees
                if t.trainee == "T-4").hours_made_up == []
    # ... and before the final assessment (在结业考核前): held after it, it comes too late
    hour3_end = hours[2].end
    for assessed, counted in ((hour3_end, [1]), (hour3_end - timedelta(seconds=1), []), (None, [1])):
        late = class_period(ROSTER, hours, [], [made_up], ZZ, assessed_at=assessed)
        assert next(t for t in late.trainees if t.trainee == "T-4").hours_made_up == counted, assessed
    nowhere = Absence(trainee="T-4", hour=2, makeup_hour=9, accepted=True)
    assert next(t for t in class_period(ROSTER, hours, [], [nowhere], ZZ).trainees if t.trainee == "T-4").hours_made_up == []


def test_unknown_faces_at_most_check_moments_are_for_review():
    hour = _hour(1, DAY1, [ROSTER] * 4, unknown=[1, 1, 1, 0])
    [f] = class_period(ROSTER, [hour], [], [], ZZ).findings
    assert f.rule == "visibility.unknown_person" and f.severity is Severity.REVIEW and f.measured == 0.75
    passing = _hour(1, DAY1, [ROSTER] * 4, unknown=[1, 1, 0, 0])  # half: not more than the share
    assert class_period(ROSTER, [passing], [], [], ZZ).findings == []


def test_no_checks_at_all_gives_no_headcount_rather_than_zero():
    period = class_period(ROSTER, [HourChecks(index=1, start=DAY1, end=DAY1 + timedelta(minutes=45))], [], [], ZZ)
    assert (period.headcount.opening, period.headcount.mean_present, period.headcount.subsidisable) == (None, None, None)
    assert period.findings == [] and all(t.rate is None for t in period.trainees)


def test_the_hours_of_a_report_as_json():
    report = {"hours": [{"index": 1, "start": DAY1.isoformat(), "end": (DAY1 + timedelta(minutes=45)).isoformat(),
                         "visibility": {"moments": [{"at": DAY1.isoformat(), "present": ["T-1"], "unknown": 2}]}},
                        {"index": 2, "start": DAY2.isoformat(), "end": (DAY2 + timedelta(minutes=45)).isoformat()}]}
    hours = hours_of_report(report)
    assert [len(h.moments) for h in hours] == [1, 0] and hours[0].moments[0].unknown == 2


def _counted_hour(faces: list[tuple[list[str], int, int]]) -> HourChecks:
    """One hour, a check moment a minute from 08:01: (identified, strangers, unreadable faces)."""
    moments = [CheckMoment(at=DAY1 + timedelta(minutes=1 + k), present=p, unknown=u, unidentifiable=x)
               for k, (p, u, x) in enumerate(faces)]
    return HourChecks(index=1, start=DAY1, end=DAY1 + timedelta(minutes=45), moments=moments)


def test_an_onsite_count_the_footage_falls_short_of_makes_the_hour_unverifiable():
    """#17 item 2: people an inspector counted in the room whom the footage does not show (the view
    does not cover the room, or faces turned away) make the footage unable to show who attended."""
    hour = _counted_hour([(["T-1", "T-2"], 0, 0), (["T-1"], 0, 1), (["T-1", "T-2"], 1, 0)])
    at_0802 = DAY1 + timedelta(minutes=2, seconds=20)  # nearest moment 08:02: 1 identified + 1 unreadable = 2 faces
    period = class_period(ROSTER, [hour], [OnsiteCount(at=at_0802, present=4, person="王检查")], [], ZZ)
    [f] = [f for f in period.findings if f.rule == "visibility.unverifiable"]
    assert (f.message, f.measured, f.threshold, f.severity) == ("not_in_view", 2, 1, Severity.INVALIDATES)
    assert f.evidence["moment"] == (DAY1 + timedelta(minutes=2)).isoformat() and f.evidence["faces"] == 2
    assert "08:02 实地检查（王检查）在位 4 人，录像中仅见 2 张人脸" in say(f, "zh") and "out of the camera's view" in say(f)
    assert verdict_of(period.findings) is Verdict.INVALID
    # one more counted than shown is within onsite_unseen_max (one stepping out between count and moment)
    within = class_period(ROSTER, [hour], [OnsiteCount(at=at_0802, present=3)], [], ZZ)
    assert not [f for f in within.findings if f.rule == "visibility.unverifiable"]
    # strangers and unreadable faces are people in view too: 08:03 shows 3
    at_0803 = DAY1 + timedelta(minutes=3)
    assert not [f for f in class_period(ROSTER, [hour], [OnsiteCount(at=at_0803, present=4)], [], ZZ).findings
                if f.rule == "visibility.unverifiable"]
    # no check moment within check_interval_s of the count (no valid footage then): nothing to compare
    late = DAY1 + timedelta(minutes=30)
    assert not [f for f in class_period(ROSTER, [hour], [OnsiteCount(at=late, present=4)], [], ZZ).findings
                if f.rule == "visibility.unverifiable"]
    # a count outside the hour is not this hour's
    assert not [f for f in class_period(ROSTER, [hour], [OnsiteCount(at=DAY1 - timedelta(minutes=5), present=4)], [], ZZ).findings
                if f.rule == "visibility.unverifiable"]
    # Sanmenxia has no clause like 003 §19's: for review there, citing 004
    sx = class_period(ROSTER, [hour], [OnsiteCount(at=at_0802, present=4)], [], load_policy("sanmenxia-2021"))
    [g] = [f for f in sx.findings if f.rule == "visibility.unverifiable"]
    assert g.severity is Severity.REVIEW and g.clause.startswith("004")


def test_the_reports_unreadable_faces_reach_the_check_moments():
    report = {"hours": [{"index": 1, "start": DAY1.isoformat(), "end": (DAY1 + timedelta(minutes=45)).isoformat(),
                         "visibility": {"moments": [{"at": DAY1.isoformat(), "present": ["T-1"], "unknown": 1,
                                                     "unidentifiable": 2}]}}]}
    [hour] = hours_of_report(report)
    assert hour.moments[0].faces == 4
