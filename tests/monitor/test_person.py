"""The person rules (monitor/person.py) on one person's classroom classes and online courses:
cool-down on a training's start (calendar months, Jan 31 -> Feb 28/29), the yearly limit and the
same occupation and level again, and one person in two places at once. A later training never
changes an earlier one's verdict."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitor import person
from monitor.findings import Severity, say
from monitor.person import Training, judge_trainee
from monitor.policy import load_policy
from tests.monitor.online.builders import T0, clean_session, judge, rules_of

ZZ = load_policy("zhengzhou-2022")


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _class(ref: str, start: str, assessed: str | None = None, **kw) -> Training:
    began = _at(start)
    return Training(ref=ref, started_at=began, assessed_at=_at(assessed) if assessed else None,
                    spans=((began, began + timedelta(minutes=45)),), **kw)


@pytest.mark.parametrize(("assessed", "start", "barred"), [
    ("2027-01-31T10:00:00+08:00", "2027-02-28T09:59:59+08:00", True),
    ("2027-01-31T10:00:00+08:00", "2027-02-28T10:00:00+08:00", False),  # Feb 28: one calendar month
    ("2028-01-31T10:00:00+08:00", "2028-02-29T09:59:59+08:00", True),   # a leap year: Feb 29
    ("2028-01-31T10:00:00+08:00", "2028-02-29T10:00:00+08:00", False),
    ("2027-01-15T10:00:00+08:00", "2027-02-14T10:00:00+08:00", True),   # 30 days, within the month
    ("2026-12-31T23:00:00+08:00", "2027-01-31T23:00:00+08:00", False),  # across the year
])
def test_a_class_after_an_online_course_waits_one_calendar_month(assessed, start, barred):
    online = Training(ref="platform:C0", started_at=_at("2026-09-01T08:00:00+08:00"), assessed_at=_at(assessed))
    verdict = judge_trainee("T-1", _class("class:K1", start), [online], ZZ)
    assert [f.rule for f in verdict.findings] == (["person.cooldown"] if barred else [])
    assert verdict.subsidisable is not barred
    if barred:
        [f] = verdict.findings
        assert f.start == _at(start) and f.severity is Severity.INVALIDATES and f.clause == "003 §20(3)"
        assert f.evidence["trainee"] == "T-1" and f.evidence["allowed_from"] > assessed
        assert "天" in say(f, "zh") and "days after" in say(f, "en")


def test_an_unassessed_earlier_class_bars_the_next_start_and_a_later_one_never_the_earlier():
    k1 = _class("class:K1", "2027-03-01T08:00:00+08:00")  # never assessed
    k2 = _class("class:K2", "2027-05-01T08:00:00+08:00", "2027-05-20T10:00:00+08:00")
    assert [f.message for f in judge_trainee("T", k2, [k1], ZZ).findings] == ["unassessed"]
    # K2's own start, assessment or lack of one never reaches back to K1
    for later in (k2, _class("class:K2", "2027-03-02T08:00:00+08:00")):
        assert judge_trainee("T", k1, [later], ZZ).findings == []


def test_a_training_of_unknown_start_counts_only_when_assessed_before():
    this = _class("class:K2", "2027-05-01T08:00:00+08:00")
    assessed_before = Training(ref="C0", assessed_at=_at("2027-04-20T08:00:00+08:00"))
    unassessed = Training(ref="C9")
    assert [f.message for f in judge_trainee("T", this, [assessed_before], ZZ).findings] == ["too_soon"]
    assert judge_trainee("T", this, [unassessed], ZZ).findings == []


def _year_of_trainings(n: int) -> list[Training]:
    """n trainings of one person in 2027, each assessed long before the next starts."""
    return [_class(f"class:K{k}", f"2027-{2 + 3 * k:02d}-01T08:00:00+08:00", f"2027-{2 + 3 * k:02d}-05T08:00:00+08:00",
                   occupation="电工", level=str(k)) for k in range(n)]


def test_the_fourth_subsidised_training_of_a_year_is_over_the_limit():
    k0, k1, k2, k3 = _year_of_trainings(4)
    assert judge_trainee("T", k2, [k0, k1, k3], ZZ).findings == []  # the third: fine, k3 began later
    [f] = judge_trainee("T", k3, [k0, k1, k2], ZZ).findings
    assert (f.rule, f.message, f.measured, f.threshold) == ("person.subsidy_limit", "per_year", 4, 3)
    assert f.clause == "002 §二(三)2" and f.evidence["earlier_trainings"] == ["class:K0", "class:K1", "class:K2"]
    # last year's do not count; a profile with no limit counts none
    jan = _class("class:N", "2028-01-10T08:00:00+08:00")
    assert judge_trainee("T", jan, [k0, k1, k2, k3], ZZ).findings == []
    unlimited = load_policy("zhengzhou-2022", {"subsidised_trainings_per_year_max": "none"})
    assert judge_trainee("T", k3, [k0, k1, k2], unlimited).findings == []


def test_the_same_occupation_at_the_same_level_again():
    first = _class("class:K1", "2026-03-01T08:00:00+08:00", "2026-03-20T08:00:00+08:00", occupation="电工", level="四级")
    again = _class("class:K2", "2027-06-01T08:00:00+08:00", occupation="电工", level="四级")
    higher = _class("class:K3", "2027-06-01T08:00:00+08:00", occupation="电工", level="三级")
    unknown = _class("class:K4", "2027-06-01T08:00:00+08:00", occupation="电工")
    [f] = judge_trainee("T", again, [first], ZZ).findings
    assert (f.message, f.args["course"]) == ("same_occupation", "class:K1") and "电工" in say(f, "zh")
    assert judge_trainee("T", higher, [first], ZZ).findings == []
    assert judge_trainee("T", unknown, [first], ZZ).findings == []  # no level: the repeat cannot be told
    assert judge_trainee("T", first, [again], ZZ).findings == []  # the later one never reaches back


def test_two_places_at_once_beyond_the_tolerance():
    hour = (_at("2027-03-01T08:00:00+08:00"), _at("2027-03-01T08:45:00+08:00"))
    klass = Training(ref="class:K1", started_at=hour[0], spans=(hour,))
    inside = Training(ref="P:C1", started_at=_at("2026-01-01T08:00:00+08:00"), assessed_at=_at("2026-01-05T08:00:00+08:00"),
                      spans=((_at("2027-03-01T08:30:00+08:00"), _at("2027-03-01T09:30:00+08:00")),))
    edge = Training(ref="P:C2", started_at=inside.started_at, assessed_at=inside.assessed_at,
                    spans=((_at("2027-03-01T08:40:00+08:00"), _at("2027-03-01T09:30:00+08:00")),))  # 5 min: tolerated
    [f] = judge_trainee("T", klass, [inside, edge], ZZ).findings
    assert f.rule == "person.two_places" and f.severity is Severity.REVIEW  # the class's side: the footage decides
    assert f.measured == 900.0 and (f.start, f.end) == (_at("2027-03-01T08:30:00+08:00"), hour[1])
    assert person.two_places(klass, [edge], ZZ.two_places_overlap_tolerance_s) == []


def test_online_sessions_get_the_person_rules_from_the_history():
    hour_start = T0 + timedelta(minutes=2)
    history = {"L1": [
        {"course": "class:K1", "started_at": (T0 - timedelta(days=90)).isoformat(),
         "assessed_at": (T0 - timedelta(days=60)).isoformat(), "occupation": "电工", "level": "四级",
         "spans": [[hour_start.isoformat(), (hour_start + timedelta(minutes=45)).isoformat()]]},
    ]}
    courses = {"C1": {"mode": "online", "occupation": "电工", "level": "四级"}}
    [report] = judge(clean_session().events, {"history": history, "courses": courses})
    assert rules_of([report]) == ["person.subsidy_limit", "person.two_places"]
    two = next(f for f in report.findings if f.rule == "person.two_places")
    assert two.severity is Severity.INVALIDATES  # learning online while on a class's roster in its hour
    # the same learner, another occupation and no overlap: nothing
    history["L1"][0].update(occupation="焊工", spans=[])
    assert rules_of(judge(clean_session().events, {"history": history, "courses": courses})) == []


def test_the_histories_trainings_count_towards_the_yearly_limit_online():
    """Three earlier trainings this year in the history (one a class): the fourth, online, is over."""
    history = {"L1": [{"course": f"K{k}", "started_at": (T0 - timedelta(days=100 - 30 * k)).isoformat(),
                       "assessed_at": (T0 - timedelta(days=95 - 30 * k)).isoformat()} for k in range(3)]}
    [report] = judge(clean_session().events, {"history": history})
    assert rules_of([report]) == ["person.subsidy_limit"]
    assert rules_of(judge(clean_session().events, {"history": {"L1": history["L1"][1:]}})) == []
