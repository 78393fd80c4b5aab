"""Policy profiles: POLICY.md's table as data files, loaded and validated.

Every threshold the monitor applies comes from here, so a city with other numbers is one file
away and the code holds no policy numbers of its own.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from monitor.errors import PolicyError, first_problem

_PROFILE_DIR = "profiles"


class Policy(BaseModel):
    """The parameters of one profile. No field has a default: values come only from the data files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    # rule code -> the clause of this profile's own document that the rule enforces (the
    # profile's `[clauses]`, merged over what it extends): Sanmenxia's findings cite 004, not 003.
    # Not a parameter: no override sets it. A rule not listed cites the catalogue's clause.
    clauses: dict[str, str] = Field(default_factory=dict)
    # A1/A2 continuity
    practical_min_continuous_s: float
    theory_min_coverage: float
    gap_tolerance_s: float
    freeze_max_s: float
    freeze_change_max: float
    black_max_s: float
    black_luma_max: float
    covered_contrast_max: float
    sample_interval_s: float
    loop_min_s: float
    loop_match_ratio: float
    loop_match_max: float
    loop_probe_interval_s: float
    loop_min_motion: float
    junction_size_ratio: float
    junction_max_per_hour: int
    splice_cut_similarity_max: float
    splice_cut_structure_max: float
    splice_return_similarity_min: float
    # A2 as NVRs record it (issue #16): where to decode, the loop search, the on-screen clock
    quiet_window_s: float
    quiet_level_max: float
    quiet_spread_max: float
    splice_junction_ratio: float
    keyframe_gap_max_s: float
    loop_bin_s: float
    loop_similarity_min: float
    loop_run_min_s: float
    loop_candidates_per_hour: int
    loop_confirm_ratio: float
    loop_confirm_max: float
    loop_confirm_motion: float
    loop_dense_gop_s: float
    loop_sizes_min_px: int
    loop_frame_ratio: float
    osd_clock_tolerance_s: float
    osd_clock_jump_s: float
    osd_clock_rate_tolerance: float
    defocus_max_s: float
    defocus_sharpness_ratio: float
    camera_moved_max_s: float
    camera_moved_similarity_max: float
    # A5 class shape
    max_class_size: int
    trainee_per_teacher_max: int
    class_hour_min_s: float
    practical_share_min: float
    certificate_only_min_hours: int
    registration_before_first_hour: bool  # class.registered_late unless an authority accepts it
    # A3/A4
    all_trainees_visible: bool
    min_sightings_per_hour: int
    check_interval_s: float
    unknown_person_min_share: float  # of an hour's check moments with faces matching nobody
    identifiable_min_face_px: int  # a face smaller than this in the footage cannot be identified
    identifiable_min_sharpness: float  # nor one more blurred than this (monitor/faces/quality.py)
    identifiable_max_turn: float  # nor one turned further from the camera (0 facing it, 1 in profile)
    unidentifiable_max_share: float  # of an hour's check moments with a face that cannot be identified
    onsite_unseen_max: int  # people an on-site count may exceed the faces the footage shows by
    enrolment_min_face_px: int
    face_match_tolerance: float
    capture_min_face_px: int
    face_replay_max_bits: int
    face_copy_min_matches: int
    face_start_window_s: float
    liveness_min_motion: float
    liveness_same_face_max: float
    liveness_mouth_open: float
    liveness_turn: float
    face_liveness: Literal["burst", "still"]
    held_up_reach: float
    held_up_min_length: float
    held_up_min_sides: int
    challenge_window_s: float
    face_max_failures_in_row: int
    image_retention_days: int  # captures and photos deleted past it (hashes and verdicts kept)
    # B
    popup_max_gap_s: float
    online_theory_share_max: float | None  # blended courses only (an institution's online theory part)
    offline_practice_min_hours: float | None  # None: the profile's documents set no such minimum
    offline_practice_occupations: list[str]  # occupations whose online courses need it (004 annex 3)
    cooldown_after_assessment_months: int  # calendar months (Jan 31 + 1 = Feb 28/29), not days
    subsidised_trainings_per_year_max: int | None  # B9 per person and calendar year; None: no limit
    two_places_overlap_tolerance_s: float  # one person in a class hour and online at once, beyond this
    unfocused_max_s: float
    multi_window_overlap_tolerance_s: float
    position_speed_tolerance: float
    position_tolerance_s: float
    online_class_hour_s: float
    photo_predictable_tolerance_s: float

    @field_validator("online_theory_share_max", "offline_practice_min_hours", "subsidised_trainings_per_year_max",
                     mode="before")
    @classmethod
    def _none_word(cls, value: Any) -> Any:
        # TOML has no null: profiles write "none" where a document sets no such limit.
        return None if value == "none" else value


def parameter_names() -> list[str]:
    """The names a profile or an override may set."""
    return [n for n in Policy.model_fields if n not in ("name", "clauses")]


def clause_of(policy: Policy, rule: str) -> str | None:
    """The clause the profile cites for a rule, None where it cites none of its own (the rule
    catalogue's then stands: monitor.findings.finding)."""
    return policy.clauses.get(rule)


def profile_names() -> list[str]:
    """Profiles shipped with the monitor (base is a building block, not a profile)."""
    files = resources.files(__package__).joinpath(_PROFILE_DIR).iterdir()
    return sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml") and f.name != "base.toml")


@cache
def _profile_file(name: str) -> dict[str, Any]:
    path = resources.files(__package__).joinpath(_PROFILE_DIR, f"{name}.toml")
    if not path.is_file():
        raise PolicyError(f"unknown policy profile {name!r} (known: {', '.join(profile_names())})")
    return tomllib.loads(path.read_text(encoding="utf-8"))


def _merged(name: str, table: str) -> dict[str, Any]:
    """A table of a profile over the same table of what it extends."""
    data = _profile_file(name)
    parent = data.get("extends")
    return {**(_merged(parent, table) if parent else {}), **data.get(table, {})}


@cache
def _raw_profile(name: str) -> dict[str, Any]:
    return _merged(name, "parameters")


@cache
def _raw_clauses(name: str) -> dict[str, str]:
    return _merged(name, "clauses")


def load_policy(name: str, overrides: dict[str, Any] | None = None) -> Policy:
    """The named profile with a class's overrides applied; unknown names are a clear error."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(parameter_names()))
    if unknown:
        raise PolicyError(
            f"unknown policy parameter {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(parameter_names())})"
        )
    values = {**_raw_profile(name), **overrides, "name": name, "clauses": _raw_clauses(name)}
    try:
        return Policy.model_validate(values)
    except ValidationError as exc:
        field, what = first_problem(exc)
        raise PolicyError(f"policy parameter {field!r}: {what}") from None


class ProfileVersion(BaseModel):
    """One profile in force in a jurisdiction from a day on."""

    model_config = ConfigDict(frozen=True)

    in_force_from: date
    profile: str


class Jurisdiction(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    title: str
    versions: tuple[ProfileVersion, ...]

    def in_force(self, on: date) -> ProfileVersion:
        """The version in force on a day; before the first one, the first (the rules a training
        older than our data files would have been judged by are not known: the earliest is the
        closest written rule, and the verdict names it)."""
        current = self.versions[0]
        for version in self.versions:
            if version.in_force_from <= on:
                current = version
        return current


@cache
def jurisdictions() -> dict[str, Jurisdiction]:
    data = tomllib.loads(resources.files(__package__).joinpath("jurisdictions.toml").read_text(encoding="utf-8"))
    out = {}
    for name, spec in data.items():
        versions = sorted((ProfileVersion(in_force_from=v["from"], profile=v["profile"]) for v in spec["versions"]),
                          key=lambda v: v.in_force_from)
        out[name] = Jurisdiction(name=name, title=spec.get("title", name), versions=tuple(versions))
    return out


def jurisdiction(name: str) -> Jurisdiction:
    known = jurisdictions()
    if name not in known:
        raise PolicyError(f"unknown jurisdiction {name!r} (known: {', '.join(sorted(known))})")
    return known[name]


def check_overrides(profile: str, overrides: dict[str, Any]) -> None:
    """Raise PolicyError unless every override names a parameter and gives it a valid value."""
    load_policy(profile, overrides)
