"""Every finding of the sample class and of a platform's sample day reads in both languages from
its rule's message template (#17): the pages parse no English back."""

from __future__ import annotations

from pathlib import Path

from api.pages.routes import say_finding
from monitor.footage.analyze import analyze_class
from monitor.manifest import load_class
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine
from monitor.online.reader import collect, parse_record
from monitor.policy import load_policy
from sample_videos.make_sample import make_sample_class
from sample_videos.online_day import make_day


def _has_chinese(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def test_the_samples_findings_all_say_themselves_in_both_languages(tmp_path: Path) -> None:
    report = analyze_class(load_class(make_sample_class(tmp_path)))
    findings = [f for h in report.hours for f in h.findings] + list(report.findings)
    day = make_day(learners=150, seed=2)
    engine = OnlineEngine(load_policy("zhengzhou-2022"),
                          Catalogue.model_validate({"courses": day["courses"], "history": day["history"]}))
    engine.add(collect(parse_record(e, n) for n, e in enumerate(day["events"], start=1)).events)
    findings += [f for s in engine.sessions() for f in s.findings]
    rules = {f.rule for f in findings}
    # The class plants a freeze and a loop (black and splice: tests/monitor/footage); the day a violation
    # of every online rule.
    assert {"footage.freeze", "footage.loop"} <= rules, rules
    assert len(rules) >= 10
    for f in findings:
        stored = f.model_dump(mode="json")  # as the pages get it back from the database
        assert f.message, f
        en, zh = say_finding(stored, "en"), say_finding(stored, "zh-Hans")
        assert en == f.detail and en and not _has_chinese(en), (f.rule, en)
        assert zh is not None and _has_chinese(zh) and "{" not in zh, (f.rule, zh)


def test_a_stored_finding_without_a_message_is_shown_as_english_not_read_back() -> None:
    old = {"rule": "footage.freeze", "detail": "picture unchanged for 15.0 s"}  # stored before #17's templates
    assert say_finding(old, "en") == "picture unchanged for 15.0 s"
    assert say_finding(old, "zh-Hans") is None  # the page folds it away, marked English
    broken = {"rule": "footage.freeze", "message": "unchanged", "args": {}, "detail": "picture unchanged for 15.0 s"}
    assert say_finding(broken, "zh-Hans") is None and say_finding(broken, "en") == broken["detail"]
    said = {"rule": "footage.freeze", "message": "unchanged", "args": {"seconds": 15.04}}
    assert say_finding(said, "zh-Hans") == "画面静止 15.0 秒" and say_finding(said, "en") == "picture unchanged for 15.0 s"
