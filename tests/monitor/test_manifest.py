import json

import pytest

from monitor.errors import ClassShapeError, ManifestError, PolicyError
from monitor.manifest import load_class
from tests.conftest import at, write_manifest


def _hours(kinds, length=2700):
    return [(k, n * 3600, n * 3600 + length) for n, k in enumerate(kinds)]


def _real_policy(**over):
    return {"class_hour_min_s": 2400, "practical_share_min": 0.6, **over}


def _manifest(tmp_path, **extra):
    path = write_manifest(tmp_path, [], _hours(["practical", "practical", "theory"]), **extra)
    data = json.loads(path.read_text())
    data["policy_overrides"] = _real_policy(**extra.get("policy_overrides", {}))
    path.write_text(json.dumps(data, ensure_ascii=False))
    return path


def test_a_well_shaped_class_loads(tmp_path):
    loaded = load_class(_manifest(tmp_path, roster=[{"id": "T-1", "name": "张伟"}]))
    assert loaded.manifest.roster[0].name == "张伟"
    assert loaded.policy.practical_share_min == 0.6


def test_absent_roster_is_allowed(tmp_path):
    assert load_class(_manifest(tmp_path)).manifest.roster == []


def test_a_class_without_teachers_is_refused(tmp_path):
    """Missing evidence is refused, never a check switched off: no teacher, no ratio to check."""
    with pytest.raises(ClassShapeError, match="no teachers listed") as caught:
        load_class(_manifest(tmp_path, teachers=[]))
    assert caught.value.rule == "class.teacher_ratio"


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        ({"roster": [{"id": f"T-{n}", "name": "x"} for n in range(81)]}, "class.size"),
        ({"roster": [{"id": f"T-{n}", "name": "x"} for n in range(41)], "teachers": [{"id": "E1"}, {"id": "E2"}]},
         "class.teacher_ratio"),
        ({"certificate_only": True}, "class.certificate_hours"),
    ],
)
def test_class_shape_violations_are_refused_naming_the_rule(tmp_path, extra, rule):
    with pytest.raises(ClassShapeError, match=rule) as caught:
        load_class(_manifest(tmp_path, **extra))
    assert caught.value.rule == rule


def test_short_class_hour_is_refused(tmp_path):
    path = write_manifest(tmp_path, [], [("practical", 0, 1800)])
    data = json.loads(path.read_text())
    data["policy_overrides"] = _real_policy()
    path.write_text(json.dumps(data))
    with pytest.raises(ClassShapeError, match="class.hour_length.*30 min, at least 40 min"):
        load_class(path)


def test_too_few_practical_hours_are_refused_per_profile(tmp_path):
    # 2 of 3 practical (67 %) is enough in Zhengzhou (60 %) and Sanmenxia (65 %); 3 of 5 (60 %) only in Zhengzhou.
    kinds = ["practical", "practical", "practical", "theory", "theory"]
    for policy, refused in (("zhengzhou-2022", False), ("sanmenxia-2021", True)):
        path = write_manifest(tmp_path, [], _hours(kinds), policy=policy)
        data = json.loads(path.read_text())
        data["policy_overrides"] = {"class_hour_min_s": 2400}
        path.write_text(json.dumps(data))
        if refused:
            with pytest.raises(ClassShapeError, match="class.practical_share"):
                load_class(path)
        else:
            load_class(path)


@pytest.mark.parametrize(("extra", "rule", "zz", "smx"), [
    ({"roster": [{"id": f"T-{n}", "name": "x"} for n in range(81)]}, "class.size", "003 §20(1)", "004 §21(1)"),
    ({"teachers": []}, "class.teacher_ratio", "003 §20(1)", "004 §21(1)"),
    ({"certificate_only": True}, "class.certificate_hours", "003 §19", "004 §20"),
    ({"kinds": ["practical", "practical", "practical", "theory", "theory", "theory"]}, "class.practical_share",
     "003 §20(1)", "004 §21(1)"),
    ({"length": 1800}, "class.hour_length", "003 §20(1)", "004 §21(1)"),
])
def test_a_refused_class_cites_the_clause_of_its_own_jurisdictions_document(tmp_path, extra, rule, zz, smx):
    """#17 item 7: Sanmenxia's class is refused under 004's clause, not the catalogue's 003 (the
    refusal's clause is what the API's problem details name)."""
    extra = dict(extra)
    hours = _hours(extra.pop("kinds", ["practical", "practical", "theory"]), extra.pop("length", 2700))
    for policy, clause in (("zhengzhou-2022", zz), ("sanmenxia-2021", smx)):
        path = write_manifest(tmp_path, [], hours, policy=policy, **extra)
        data = json.loads(path.read_text())
        data["policy_overrides"] = {}  # the profile's own numbers
        path.write_text(json.dumps(data, ensure_ascii=False))
        with pytest.raises(ClassShapeError) as caught:
            load_class(path)
        assert (caught.value.rule, caught.value.clause) == (rule, clause), policy
        assert f"{rule} ({clause})" in str(caught.value)


def test_unknown_override_is_refused(tmp_path):
    with pytest.raises(PolicyError, match="unknown policy parameter 'bogus'"):
        load_class(_manifest(tmp_path, policy_overrides={"bogus": 1}))


def test_missing_recording_is_a_clear_error(tmp_path):
    path = write_manifest(tmp_path, [{"path": "cam1.mp4", "start": at(0)}], [("practical", 0, 60)])
    with pytest.raises(ManifestError, match="recording not found: cam1.mp4"):
        load_class(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"class_id": "C"}', "schedule: Field required"),
        ('{"class_id": "C", "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00",'
         ' "end": "2026-11-20T09:00:00"}]}', "schedule.0.start: Input should have timezone info"),
        ('{"class_id": "C", "schedule": [{"index": 1, "kind": "lecture", "start": "2026-11-20T08:00:00+08:00",'
         ' "end": "2026-11-20T09:00:00+08:00"}]}', "schedule.0.kind"),
        ('{"class_id": "C", "schedule": [{"index": 1, "kind": "theory", "start": "2026-11-20T09:00:00+08:00",'
         ' "end": "2026-11-20T08:00:00+08:00"}]}', "ends before it starts"),
    ],
)
def test_malformed_manifests_are_one_clear_error(tmp_path, text, message):
    path = tmp_path / "class.json"
    path.write_text(text)
    with pytest.raises(ManifestError, match=message):
        load_class(path)


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="class manifest not found"):
        load_class(tmp_path / "nope.json")
