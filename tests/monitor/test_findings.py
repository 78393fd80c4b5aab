from monitor.findings import RULES, Severity, Verdict, finding, verdict_of


def test_verdict_is_computed_from_findings():
    loop = finding("footage.loop")
    gap = finding("footage.gap")
    assert verdict_of([]) is Verdict.VALID
    assert verdict_of([gap]) is Verdict.REVIEW
    assert verdict_of([gap, loop]) is Verdict.INVALID


def test_finding_takes_clause_and_severity_from_the_catalogue():
    f = finding("practical.continuity", measured=120.0, threshold=900.0)
    assert f.clause == "003 §19" and f.severity is Severity.INVALIDATES
    assert finding("footage.gap", severity=Severity.INVALIDATES).severity is Severity.INVALIDATES


def test_every_rule_has_both_languages():
    for rule in RULES.values():
        assert rule.title_en and rule.title_zh and rule.clause
