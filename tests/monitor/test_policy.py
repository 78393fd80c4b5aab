import pytest

from monitor.errors import PolicyError
from monitor.policy import load_policy, parameter_names, profile_names


def test_both_profiles_of_the_policy_table_ship():
    assert profile_names() == ["demo-short", "sanmenxia-2021", "zhengzhou-2022"]  # and the demo's


def test_profiles_carry_the_policy_table_values():
    zz, smx = load_policy("zhengzhou-2022"), load_policy("sanmenxia-2021")
    assert zz.practical_min_continuous_s == 900 and smx.practical_min_continuous_s == 900
    assert zz.practical_share_min == 0.60 and smx.practical_share_min == 0.65
    assert zz.online_theory_share_max == 0.40 and smx.online_theory_share_max is None
    assert zz.all_trainees_visible is True and smx.all_trainees_visible is False
    assert zz.gap_tolerance_s == 2.0
    assert zz.class_hour_min_s == 2400 and zz.max_class_size == 80


def test_override_replaces_a_named_parameter_only():
    policy = load_policy("zhengzhou-2022", {"practical_min_continuous_s": 600})
    assert policy.practical_min_continuous_s == 600
    assert policy.theory_min_coverage == 1.0


def test_unknown_override_is_a_clear_error_naming_it():
    with pytest.raises(PolicyError, match="unknown policy parameter 'practical_min_continous_s'"):
        load_policy("zhengzhou-2022", {"practical_min_continous_s": 600})


def test_override_of_the_wrong_type_is_a_clear_error():
    with pytest.raises(PolicyError, match="freeze_max_s"):
        load_policy("zhengzhou-2022", {"freeze_max_s": "long"})


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(PolicyError, match="unknown policy profile 'beijing'.*zhengzhou-2022"):
        load_policy("beijing")


def test_every_parameter_is_set_by_the_base_profile():
    # Policy has no defaults in code: a missing value in the data files would fail to load.
    values = load_policy("zhengzhou-2022").model_dump()
    assert set(parameter_names()) <= set(values)


# --- each profile cites its own documents (issue #17 item 7) --------------------------------

import re  # noqa: E402
import tomllib  # noqa: E402
from importlib import resources  # noqa: E402

from monitor.findings import RULES, cited, finding  # noqa: E402

_CLAUSE = re.compile(r"\b00[0-4] (§\d+|三|annex)|GB/T")


def test_each_city_cites_its_own_document_for_every_rule():
    zz, smx = load_policy("zhengzhou-2022"), load_policy("sanmenxia-2021")
    for code in RULES:
        assert code in smx.clauses, code
        # Zhengzhou's 003 has no offline-practice minimum, so no clause for it (the rule never fires)
        assert code in zz.clauses or (code == "online.offline_practice" and zz.offline_practice_min_hours is None), code
    # B9's yearly limit is in neither city's document: both cite 002's restatement of the national plan
    assert all(c.startswith(("003", "GB/T")) for r, c in zz.clauses.items() if r != "person.subsidy_limit")
    assert all(c.startswith(("004", "GB/T")) for r, c in smx.clauses.items() if r != "person.subsidy_limit")
    assert zz.clauses["person.subsidy_limit"] == smx.clauses["person.subsidy_limit"] == "002 §二(三)2"
    assert smx.clauses["online.popup_gap"] == "004 §21(2)" and zz.clauses["online.popup_gap"] == "003 §20(3)"
    assert smx.clauses["practical.continuity"] == "004 §20"
    assert load_policy("demo-short").clauses == zz.clauses  # extends Zhengzhou's, clauses too


def test_the_40_hour_certificate_rule_cites_003_19_and_004_20():
    assert RULES["class.certificate_hours"].clause == "003 §19"
    assert load_policy("zhengzhou-2022").clauses["class.certificate_hours"] == "003 §19"
    assert load_policy("sanmenxia-2021").clauses["class.certificate_hours"] == "004 §20"


def test_a_finding_cites_the_clause_of_the_profile_that_judged_it():
    smx = load_policy("sanmenxia-2021")
    assert finding("theory.coverage", clauses=smx.clauses).clause == "004 §20"
    assert finding("theory.coverage").clause == "003 §19"  # no profile: the catalogue's
    [again] = cited([finding("person.cooldown")], smx.clauses)
    assert again.clause == "004 §21(2)" and again.rule == "person.cooldown"


def test_clauses_are_no_parameter_an_override_could_set():
    assert "clauses" not in parameter_names()
    with pytest.raises(PolicyError, match="unknown policy parameter 'clauses'"):
        load_policy("sanmenxia-2021", {"clauses": {"online.popup_gap": "003 §20(3)"}})


def _profile(name: str) -> str:
    return resources.files("monitor.policy").joinpath("profiles", f"{name}.toml").read_text(encoding="utf-8")


def test_the_clause_check_walks_every_profile_file():
    """Every file in profiles/ is checked below (a new city, or the demo's, cannot slip past)."""
    files = {f.name.removesuffix(".toml") for f in resources.files("monitor.policy").joinpath("profiles").iterdir()
             if f.name.endswith(".toml")}
    assert files == {*profile_names(), "base"} and "demo-short" in files


@pytest.mark.parametrize("name", profile_names())
def test_every_parameter_of_a_profile_names_its_clause(name):
    """#17 item 7: each parameter a profile sets names the clause of its document on its line or
    in the comment block above it; where the document sets no such number, it says so."""
    text = _profile(name).split("[parameters]")[1].split("[clauses]")[0]
    above, seen = "", []
    for line in text.splitlines():
        if line.startswith("#"):
            above += line
        elif re.match(r"^[a-z_]+ = ", line):
            comment = line.partition("#")[2] + above
            assert comment.strip(), f"{name}: {line} gives no clause"
            assert _CLAUSE.search(comment) or "sets no" in comment or "has no" in comment, f"{name}: {line} names no clause"
            seen.append(line.split(" = ")[0])
            above = ""
    assert set(seen) == set(tomllib.loads(_profile(name))["parameters"]), name  # every line was looked at


def test_every_parameter_of_base_says_its_clause_or_the_clause_it_defines():
    """A document's number names its clause on its line or in the comment above it; a detector's
    operational parameter sits in a section whose heading names the clause it makes checkable."""
    text = tomllib.loads(_profile("base"))
    heading, block, after_parameter = "", [], False
    seen = set()
    for line in _profile("base").split("[parameters]")[1].split("[clauses]")[0].splitlines():
        if line.startswith("# ---"):
            heading, block = line, []
        elif line.startswith("#"):
            block = [line] if after_parameter else [*block, line]
            after_parameter = False
        elif re.match(r"^[a-z_]+ = ", line):  # a block above several lines speaks for each
            name = line.split(" = ")[0]
            seen.add(name)
            own = " ".join(block) + line.partition("#")[2]
            assert block or "#" in line, f"base.toml: {name} says nothing of itself"
            assert _CLAUSE.search(own) or _CLAUSE.search(heading), f"base.toml: {name} names no clause"
            after_parameter = True
        elif not line.strip():
            continue
    assert seen == set(text["parameters"]) == set(parameter_names())


def test_zhengzhou_does_not_inherit_sanmenxias_offline_practice_minimum():
    zz, smx = load_policy("zhengzhou-2022"), load_policy("sanmenxia-2021")
    assert zz.offline_practice_min_hours is None and zz.offline_practice_occupations == []
    assert smx.offline_practice_min_hours == 8.0 and "茶艺师" in smx.offline_practice_occupations
    assert "电子商务师（含跨境电子商务师）" not in smx.offline_practice_occupations  # annex 3 row 1: wholly online
    assert tomllib.loads(_profile("base"))["parameters"]["offline_practice_min_hours"] == "none"
