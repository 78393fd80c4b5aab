from string import Formatter

from monitor.findings import RULES, Severity, Verdict, finding, say, verdict_of


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


def test_every_message_says_the_same_arguments_in_both_languages():
    def fields(template: str) -> set[str]:
        # an argument's Chinese words (`prompt_zh` for `prompt`) are the same argument said in Chinese
        return {name.removesuffix("_zh") for _, name, _, _ in Formatter().parse(template) if name}

    said = 0
    for rule in RULES.values():
        for name, message in rule.messages.items():
            assert fields(message.zh) <= fields(message.en) | {"allowed_from"}, (rule.code, name)
            assert fields(message.en) <= fields(message.zh) | {"allowed_from"}, (rule.code, name)
            said += 1
    assert said >= 15


def test_a_finding_says_its_message_in_the_readers_language():
    f = finding("online.popup_unanswered", message="timed out", args={"popup": "p7"})
    assert f.detail == "pop-up p7 timed out; credited time stops until another is answered"
    assert say(f) == f.detail and say(f, "zh") == "弹窗 p7 超时未作答；在回答下一个弹窗前不计学时"
    plain = finding("footage.gap", detail="no footage for 12 s")  # no message: its detail, as written
    assert say(plain, "zh") == "no footage for 12 s"


# Rules that are refusals when a class is registered (POLICY A5: a clear error, never a finding).
_REFUSALS = {code for code in RULES if code.startswith("class.")}


def _sample_args(*templates: str) -> dict[str, object]:
    """Arguments for every field the templates name, of the type their format asks for."""
    args: dict[str, object] = {}
    for template in templates:
        for _, name, spec, _ in Formatter().parse(template):
            if name:
                args[name] = 12.345 if spec and spec[-1] in "efg%" else 7 if spec and spec[-1] == "d" else f"<{name}>"
    return args


def test_every_finding_rule_of_the_catalogue_says_itself_in_both_languages_from_its_templates():
    """#17: every finding kind the catalogue holds renders in English and in Chinese from its own
    templates and arguments (the pages parse no English `detail` back)."""
    def chinese(text: str) -> bool:
        return any("\u4e00" <= c <= "\u9fff" for c in text)

    walked = 0
    for rule in RULES.values():
        if rule.code in _REFUSALS:
            assert not rule.messages, rule.code
            continue
        assert rule.messages, f"{rule.code}: no message template, so its findings cannot be said in Chinese"
        for name, message in rule.messages.items():
            args = _sample_args(message.en, message.zh)
            f = finding(rule.code, message=name, args=args)
            en, zh = say(f, "en"), say(f, "zh-Hans")
            assert en == f.detail and en and not chinese(en), (rule.code, name, en)
            assert chinese(zh) and "{" not in zh and "}" not in zh, (rule.code, name, zh)
            walked += 1
    assert walked >= 60
