"""Issue #16's footage parameters are Policy fields: typed, in every profile, overridable per class
like the others (they used to be read from base.toml's side table, out of reach of an override)."""

from __future__ import annotations

import pytest

from monitor.errors import PolicyError
from monitor.policy import load_policy, parameter_names, profile_names

FOOTAGE = ["quiet_window_s", "quiet_level_max", "quiet_spread_max", "keyframe_gap_max_s", "loop_bin_s",
           "loop_similarity_min", "loop_run_min_s", "loop_candidates_per_hour", "loop_confirm_ratio",
           "loop_confirm_max", "loop_confirm_motion", "osd_clock_tolerance_s", "osd_clock_jump_s",
           "osd_clock_rate_tolerance", "loop_dense_gop_s", "loop_frame_ratio", "defocus_max_s",
           "defocus_sharpness_ratio", "camera_moved_max_s", "camera_moved_similarity_max",
           "splice_junction_ratio", "loop_sizes_min_px", "splice_cut_structure_max"]


@pytest.mark.parametrize("profile", profile_names())
def test_every_profile_carries_the_footage_parameters(profile):
    policy = load_policy(profile)
    assert set(FOOTAGE) <= set(parameter_names())
    assert policy.keyframe_gap_max_s == 12.0 and policy.osd_clock_tolerance_s == 60.0
    assert isinstance(policy.loop_candidates_per_hour, int)


def test_a_class_overrides_a_footage_parameter_and_a_bad_value_is_refused():
    assert load_policy("zhengzhou-2022", {"loop_bin_s": 0.4, "osd_clock_tolerance_s": 5}).loop_bin_s == 0.4
    with pytest.raises(PolicyError, match="loop_candidates_per_hour"):
        load_policy("zhengzhou-2022", {"loop_candidates_per_hour": "many"})
