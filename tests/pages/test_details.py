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
