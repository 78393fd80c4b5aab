import pytest

from monitor.errors import PolicyError
from monitor.policy import load_policy, parameter_names, profile_names


def test_both_profiles_of_the_policy_table_ship():
    assert profile_names() == ["sanmenxia-2021", "zhengzhou-2022"]


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
