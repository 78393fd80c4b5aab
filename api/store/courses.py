"""A platform's course catalogue and its learners' assessments (B5, B7, B8): the platform's own,
by its own course ids; a change judges again only the platform's own learners it touches.

A course's mode follows its owner, never the body (#17, B7): a platform's own course is `online`
(003 §20(4), 004 annex 3: no 40 % cap on its online hours); a `blended` course is an
institution's, its theory part put on a listed platform (003 §21: at most 40 % online): the
institution declares it (its hours, and which platform course is its online part) and the platform
names the institution on that course (`blended_for`), so that neither side alone can put another
tenant's learners under the cap or take them out of it. Where both say so, the platform's course is
judged as the blended course's online part: mode blended, the institution's total and online hours."""

from __future__ import annotations

from typing import Any, Iterable

from sqlmodel import Session, select

from api.core.problems import Problem
from api.store.events import insert_ignoring_conflicts, learners_of, mark_dirty, subjects_of_course
from models.tables import Assessment, Course, Job, Organisation
from models.types import utcnow


MODE_OF_OWNER = {"platform": "online", "institution": "blended"}


def as_judged(body: dict[str, Any], owner_kind: str = "platform") -> dict[str, Any]:
    """A stored course as the rules read it: its mode its owner's (rows stored before the mode
    was the owner's carry none, or the body's)."""
    return {**body, "mode": MODE_OF_OWNER[owner_kind]}


def mode_problem(body: dict[str, Any], owner_kind: str) -> str | None:
    """Why a course body cannot be taken from this owner: it names a mode that is not its owner's."""
    mode = body.get("mode")
    if mode is not None and mode != MODE_OF_OWNER[owner_kind]:
        return (f"mode: a {owner_kind}'s course is {MODE_OF_OWNER[owner_kind]!r} (003 §20(4), 004 annex 3); "
                "a blended course, its theory online under the 40 % cap (003 §21), is an institution's")
    return None


# The link fields a stored course carries beside what the rules read (monitor.online.catalogue.Course).
_LINKS = ("blended_for", "platform", "platform_id", "platform_course")


def put_blended(db: Session, institution_id: str, course_ref: str, body: dict[str, Any]) -> tuple[dict[str, Any], Job | None]:
    """Store (or replace) the institution's blended course: its hours and the platform course that
    is its online theory part (`platform` by the platform's name). The stored body, and the job
    judging again the learners of that platform course (and of the one it named before), if new."""
    platform = db.exec(select(Organisation).where(Organisation.name == body["platform"])).first()
    if platform is None or platform.kind != "platform":
        raise Problem(422, f"platform: no platform is called {body['platform']!r}", "validation")
    if body["online_hours"] > body["total_hours"]:
        raise Problem(422, "online_hours: more than the course's total_hours", "validation")
    before = db.exec(select(Course).where(Course.organisation_id == institution_id, Course.course_ref == course_ref)).first()
    stored = {**{k: v for k, v in body.items() if v is not None}, "mode": "blended", "platform_id": platform.id}
    insert_ignoring_conflicts(db, Course.__table__, [{"organisation_id": institution_id, "course_ref": course_ref,  # type: ignore[arg-type]
                                                      "body": stored, "updated_at": utcnow()}],
                              ["organisation_id", "course_ref"], update=["body", "updated_at"])
    parts = {(platform.id, body["platform_course"])}
    if before is not None and before.body.get("platform_id"):
        parts.add((before.body["platform_id"], before.body.get("platform_course", "")))
    return stored, mark_dirty(db, {s for org, ref in parts for s in subjects_of_course(db, org, ref)})


def institution_named(db: Session, name: str) -> str:
    """The id of the institution called `name` (a platform names the one whose course it hosts)."""
    found = db.exec(select(Organisation).where(Organisation.name == name)).first()
    if found is None or found.kind != "institution":
        raise Problem(422, f"blended_for: no institution is called {name!r}", "validation")
    return found.id


def judged_courses(db: Session, rows: list[Course]) -> dict[str, dict[str, Any]]:
    """The platforms' course rows as the rules read them, by "<platform id>:<course>": online
    (as_judged), except where the platform names an institution (`blended_for`) whose blended
    course names this platform course as its online part: then blended, with that course's total
    and online hours (003 §21's 40 % cap), and its occupation and level where the platform says none."""
    named = {row.body["blended_for"] for row in rows if row.body.get("blended_for")}
    declared: dict[tuple[str, str, str], dict[str, Any]] = {}
    for institution in sorted(named):
        owner = db.get(Organisation, institution)
        if owner is None or owner.kind != "institution":
            continue
        for c in db.exec(select(Course).where(Course.organisation_id == institution).order_by(Course.updated_at)).all():  # type: ignore[arg-type]
            if c.body.get("mode") == "blended":
                declared[(institution, c.body.get("platform_id", ""), c.body.get("platform_course", ""))] = c.body
    out = {}
    for row in rows:
        body = {k: v for k, v in row.body.items() if k not in _LINKS}
        blended = declared.get((row.body.get("blended_for") or "", row.organisation_id, row.course_ref))
        if blended is None:
            out[f"{row.organisation_id}:{row.course_ref}"] = as_judged(body)
            continue
        out[f"{row.organisation_id}:{row.course_ref}"] = {
            **body, "mode": "blended", "total_hours": blended["total_hours"], "online_hours": blended["online_hours"],
            "occupation": body.get("occupation") or blended.get("occupation"), "level": body.get("level") or blended.get("level")}
    return out


def put_course(db: Session, organisation_id: str, course_ref: str, body: dict[str, Any]) -> Job | None:
    """Store (or replace) the platform's course, its mode the platform's (`online`); the job
    judging its learners again, if new."""
    body = as_judged(body)
    insert_ignoring_conflicts(db, Course.__table__, [{"organisation_id": organisation_id, "course_ref": course_ref,  # type: ignore[arg-type]
                                                      "body": body, "updated_at": utcnow()}],
                              ["organisation_id", "course_ref"], update=["body", "updated_at"])
    # Only this platform's course changed: only its learners of the course are judged again.
    return mark_dirty(db, subjects_of_course(db, organisation_id, course_ref))


def put_assessments(db: Session, organisation_id: str, items: Iterable[dict[str, Any]]) -> Job | None:
    """Store the platform's learners' assessments (learner, course, assessed_at); the job judging
    those learners again, if new."""
    # One row per (learner, course), the last sent winning: one statement for the batch (an
    # upsert that met the same key twice in one statement fails on PostgreSQL).
    rows = list({(item["learner"], item["course"]): {"organisation_id": organisation_id, **item}
                 for item in items}.values())
    insert_ignoring_conflicts(db, Assessment.__table__, rows, ["organisation_id", "learner", "course"],  # type: ignore[arg-type]
                              update=["assessed_at"])
    learners = learners_of(db, organisation_id, (row["learner"] for row in rows))
    return mark_dirty(db, (learners[row["learner"]].subject for row in rows))
