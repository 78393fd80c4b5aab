"""The judging job: subjects whose evidence changed are judged again over all their events, by
the same OnlineEngine the CLI runs. Their session rows and flags are replaced in one transaction
with the job's end.

A subject is a person (the keyed hash of the real-name ID number) with every learner that any
platform enrolled for them, or a learner with no person id alone: only a supervision point that
sees every platform can see one person learning on two at once (B2) or starting a course while
another platform's is unassessed (B8). Everything else stays the platform's own: before the
engine sees them, each event's session, course and id are scoped to its learner or platform
(`<learner id>:<session>`, `<platform id>:<course>`), so two platforms that use the same names
never share a course, a session, an event or a challenge; photos are looked up by learner and
version. The scoping is taken off again in what is stored.

Each session is judged by its platform's jurisdiction's profile in force on its first day, with
the authority's overrides, and the row embeds those values. A subject whose judging fails is
kept as a `judging.failed` item for inspectors and tried again later; the rest are judged."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterable

import msgspec
import numpy as np
from sqlalchemy import delete, or_, select as sa_select, union_all, update
from sqlmodel import Session, select

from api.jobs.flags import SubjectState, raise_or_clear_all
from api.jobs.runner import finish
from api.core.service import Service
from api.core.settings import ServiceSettings
from api.store import judging_state
from api.store.events import insert_ignoring_conflicts
from api.store.faces import challenges_of, photo_versions
from api.store.replay import (Pending, StoredReplay, deleted_images, face_json, face_of, known_faces, pending,
                              record_faces)
from api.store.organisations import JudgedBy, PolicyBook, jurisdiction_of
from api.store.courses import judged_courses
from api.store.persons import class_history
from api.jobs.trainees import judge_persons_trainees
from models.retry import write_unit
from models.tables import (Assessment, Capture, Course, DirtyLearner, Event, Job, JudgingFailure, Learner, LearnerPhoto,
                           LearnerSession, Organisation, SubjectKind, new_id)
from models.types import utcnow
from monitor.faces.cache import FacesCache
from monitor.errors import MonitorError
from monitor.faces.challenge import Challenge
from monitor.faces.detect import PORTRAIT_DETECT_SIDE, faces_in
from monitor.faces.enrol import EncodingCache, Enrolled, load_rgb
from monitor.online.carry import Carried, contribution, latest_cut, prior
from monitor.online.catalogue import Catalogue
from monitor.online.engine import OnlineEngine, SessionReport
from monitor.online.events import LearningEvent
from monitor.online.faces import CAPTURE_TYPES, FaceChecks
from monitor.online.track import Track

log = logging.getLogger("monitor.jobs")
BATCH_LEARNERS = 500
RETRY_FIRST_S = 60.0  # a failed subject is tried again after this, doubling each time
RETRY_MAX_S = 6 * 3600.0
_CHUNK = 500
_DECODE = msgspec.json.Decoder(LearningEvent)
_SCOPED = re.compile(r"\b[0-9a-f]{32}:")
_SUBJECT = re.compile(r"\b[pl]:[0-9a-f]{32,64}\b")


def _chunks(items: list[str], size: int = _CHUNK) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@dataclass
class Plan:
    """How one subject is judged in this round (issue #20): from scratch (`carried` None), or the
    sessions from `floor` on, with what the sessions before it hand on (monitor/online/carry.py)."""

    carried: Carried | None
    floor: float
    units: dict[str, list[str]]  # the units its courses were judged with before (scoped course -> units)


@dataclass
class Loaded:
    """What one batch of subjects is judged from, read once."""

    learners: dict[str, Learner]  # by learner id
    organisations: dict[str, Organisation]
    events: list[LearningEvent]  # scoped, as the engine sees them
    sessions: dict[str, tuple[str, str, datetime]]  # scoped session -> (learner id, session ref, first instant)
    pinned: dict[str, int | None]  # scoped session -> the photo version it was judged with before
    plans: dict[str, Plan] = field(default_factory=dict)  # by subject
    tracks: dict[str, list[Track]] = field(default_factory=dict)  # by subject, once judged


def _scoped(e: LearningEvent, learner: Learner) -> LearningEvent:
    """The event as the engine sees it: the subject as learner, the platform's id as platform,
    and the session, course and id scoped (see the module's docstring)."""
    fields = msgspec.structs.asdict(e)
    fields.update(id=f"{learner.organisation_id}:{e.id}", learner=learner.subject, platform=learner.organisation_id,
                  session=f"{learner.id}:{e.session}", course=f"{learner.organisation_id}:{e.course}")
    return LearningEvent(**fields)


def _learners_of(db: Session, subjects: list[str]) -> dict[str, Learner]:
    persons = [s[2:] for s in subjects if s.startswith("p:")]
    ids = [s[2:] for s in subjects if s.startswith("l:")]
    found: dict[str, Learner] = {}
    for chunk in _chunks(persons):
        found.update((r.id, r) for r in db.exec(select(Learner).where(Learner.person_hash.in_(chunk))).all())  # type: ignore[union-attr]
    for chunk in _chunks(ids):
        found.update((r.id, r) for r in db.exec(select(Learner).where(Learner.id.in_(chunk))).all())  # type: ignore[attr-defined]
    # A learner given a person id since it was marked: judged with its person.
    more = sorted({r.person_hash for r in found.values() if r.person_hash} - set(persons))
    for chunk in _chunks(more):
        found.update((r.id, r) for r in db.exec(select(Learner).where(Learner.person_hash.in_(chunk))).all())  # type: ignore[union-attr]
    return found


def _by_learner(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """(learner id, session) pairs as each learner's sessions: asked learner by learner, the
    (learner_id, session) indexes serve the reads on either database (a list of row values made
    SQLite scan the whole table)."""
    out: dict[str, list[str]] = {}
    for learner_id, session in sorted(set(pairs)):
        out.setdefault(learner_id, []).append(session)
    return out


_UNION = 200  # learners a statement (SQLite takes at most 500 terms in a compound SELECT)
_UNION_PARAMS = 20_000  # and bound values (SQLite takes at most 32,766)


def _pairs_read(db: Session, columns: tuple[Any, ...], learner_col: Any, session_col: Any,
                pairs: Iterable[tuple[str, str]]) -> list[Any]:
    """Rows of some (learner id, session) pairs: a statement a few hundred learners, a UNION ALL of
    one lookup of the (learner_id, session) index each (see `_by_learner`). A statement a learner,
    a round of a thousand learners spent most of its time in round trips."""
    groups: list[list[Any]] = [[]]
    size = 0
    for learner_id, sessions in _by_learner(pairs).items():
        for chunk in _chunks(sessions):
            if groups[-1] and (len(groups[-1]) >= _UNION or size + len(chunk) + 1 > _UNION_PARAMS):
                groups.append([])
                size = 0
            groups[-1].append(sa_select(*columns).where(learner_col == learner_id, session_col.in_(chunk)))
            size += len(chunk) + 1
    out: list[Any] = []
    for parts in groups:
        if parts:
            out.extend(db.connection().execute(union_all(*parts) if len(parts) > 1 else parts[0]).all())
    return out


def _read(db: Session, learners: dict[str, Learner], pairs: Iterable[tuple[str, str]] | None = None,
          ids: Iterable[str] = ()) -> list[tuple[str, LearningEvent]]:
    """The stored events of some sessions ((learner id, session) pairs), or of some learners all."""
    out: list[Any] = []
    if pairs is not None:
        table = Event.__table__  # type: ignore[attr-defined]
        out.extend(_pairs_read(db, (table.c.learner_id, table.c.body), table.c.learner_id, table.c.session, pairs))
    for chunk in _chunks(sorted(set(ids))):
        out.extend(db.exec(select(Event.learner_id, Event.body).where(Event.learner_id.in_(chunk))).all())  # type: ignore[union-attr]
    return [(learner_id, _DECODE.decode(body)) for learner_id, body in out]


def _incremental(db: Session, candidates: dict[str, list[str]], job_id: str
                 ) -> dict[str, tuple[Plan, list[tuple[str, LearningEvent]]]]:
    """For each candidate subject (-> its learner ids): the sessions its round must read, and what
    the others hand on; absent when it must be judged from scratch (never judged, judged before a
    cut the new events fall before, or its courses' units changed since). Asked of all the
    subjects at once, in a few statements whatever their number: every session a plan reads or
    sums up ends at or after the subject's cut (monitor/online/carry.py), so those rows are read
    at once (judging_state.sessions_ending_from) and the plan is worked out here."""
    states = judging_state.subject_states(db, candidates)
    subject_of = {learner_id: subject for subject, ids in candidates.items() if subject in states for learner_id in ids}
    taken: dict[str, set[tuple[str, str]]] = {}
    for pair in judging_state.taken_sessions(db, job_id, subject_of):
        taken.setdefault(subject_of[pair[0]], set()).add(pair)
    read: dict[str, list[tuple[str, LearningEvent]]] = {}
    for learner_id, raw in _read(db, {}, {p for pairs in taken.values() for p in pairs}):
        read.setdefault(subject_of[learner_id], []).append((learner_id, raw))
    judged = judging_state.sessions_ending_from(db, {subject: states[subject].cut_s for subject in read})
    plans: dict[str, Plan] = {}
    later: dict[str, set[tuple[str, str]]] = {}
    for subject, events in read.items():
        state, mine = states[subject], taken[subject]
        floor = min(raw.at.timestamp() for _, raw in events)
        while floor >= state.cut_s:  # back to an instant no judged session spans
            spanning = [r for r in judged[subject] if r.start_s < floor <= r.end_s and (r.learner_id, r.session) not in mine]
            if not spanning:
                break
            floor = min(r.start_s for r in spanning)
        if floor < state.cut_s:
            continue
        later[subject] = {(r.learner_id, r.session) for r in judged[subject] if r.start_s >= floor} - mine
        carried = Carried.from_json(state.carried)
        for r in judged[subject]:
            if state.cut_s <= r.start_s < floor:
                carried.add(Carried.from_json(r.contribution))
        plans[subject] = Plan(carried, floor, {course: list(units) for course, units in state.units.items()})
    courses = {c for plan in plans.values() for c in plan.units}
    now = judging_state.units_of(db, [tuple(c.split(":", 1)) for c in courses])  # type: ignore[misc]
    for subject, plan in list(plans.items()):
        changed = [c for c, units in plan.units.items() if now[tuple(c.split(":", 1))] != units]  # type: ignore[index]
        if changed and _without_sequence(db, changed):
            del plans[subject]  # the fallback unit order of a course changed: every session may judge otherwise
    for learner_id, raw in _read(db, {}, {p for subject in plans for p in later[subject]}):
        read[subject_of[learner_id]].append((learner_id, raw))
    return {subject: (plan, read[subject]) for subject, plan in plans.items()}


def _sealed(db: Session, loaded: Loaded, version_of: dict[str, int | None]) -> set[str]:
    """Scoped sessions whose captures or enrolment photo were deleted past retention: their stored
    verdicts were made with the images and stand; judging them again without would differ."""
    images = {}
    for e in loaded.events:
        if e.type in CAPTURE_TYPES and (e.image or e.images):
            images.setdefault(f"captures/{(e.images or [e.image])[0]}", set()).add(e.session)
    photos = {}
    for p in db.exec(select(LearnerPhoto).where(LearnerPhoto.learner_id.in_(list(loaded.learners)))).all():  # type: ignore[attr-defined]
        photos[(p.learner_id, p.version)] = p.stored_name
    for session, (learner_id, _, _) in loaded.sessions.items():
        name = photos.get((learner_id, version_of.get(session)))
        if name:
            images.setdefault(name, set()).add(session)
    gone = deleted_images(db, images)
    return {session for image in gone for session in images[image]}


def _without_sequence(db: Session, courses: list[str]) -> bool:
    """Whether any of these (scoped) courses has no catalogue sequence: its unit order falls back
    to the units seen (rules/order.py), so a unit seen anew can change any of its verdicts."""
    for course in courses:
        org, ref = course.split(":", 1)
        row = db.exec(select(Course).where(Course.organisation_id == org, Course.course_ref == ref)).first()
        if row is None or not (row.body or {}).get("units"):
            return True
    return False


def load(db: Session, subjects: list[str], job_id: str | None = None, partial: Iterable[str] = ()) -> Loaded:
    """The subjects' events as the engine sees them. From scratch (every event of every learner of
    each subject), except for the subjects in `partial` (marked only because sessions got events,
    and taken by `job_id` with those sessions): theirs are the sessions from the earliest instant
    the new events reach back to, as far as no judged session spans it, and a summary of the rest."""
    learners = _learners_of(db, subjects)
    organisations = {o.id: o for o in db.exec(select(Organisation).where(
        Organisation.id.in_({r.organisation_id for r in learners.values()}))).all()}  # type: ignore[attr-defined]
    by_subject: dict[str, list[str]] = {}
    for learner in learners.values():
        by_subject.setdefault(learner.subject, []).append(learner.id)
    partial = set(partial)
    whole = [s for s in subjects if s not in partial]
    forced = {r.subject for r in _learners_of(db, whole).values()} if whole and partial else set()
    plans: dict[str, Plan] = {}
    read: list[tuple[str, LearningEvent]] = []
    scratch: list[str] = []
    incremental = (_incremental(db, {s: ids for s, ids in by_subject.items() if s in partial and s not in forced}, job_id)
                   if job_id else {})
    for subject, ids in sorted(by_subject.items()):
        found = incremental.get(subject)
        if found is None:
            plans[subject] = Plan(None, float("-inf"), {})
            scratch.extend(ids)
        else:
            plans[subject], more = found
            read.extend(more)
    read.extend(_read(db, learners, None, scratch))
    events: list[LearningEvent] = []
    sessions: dict[str, tuple[str, str, datetime]] = {}
    for learner_id, raw in read:
        e = _scoped(raw, learners[learner_id])
        events.append(e)
        known = sessions.get(e.session)
        if known is None or raw.at < known[2]:
            sessions[e.session] = (learner_id, raw.session, raw.at)
    # The photo version each session was first judged with (None: it had none), unless an
    # inspector asked for it to be judged against the latest.
    pinned: dict[str, int | None] = {}
    table = LearnerSession.__table__  # type: ignore[attr-defined]
    for learner_id, session, judged_by in _pairs_read(db, (table.c.learner_id, table.c.session, table.c.judged_by),
                                                      table.c.learner_id, table.c.session,
                                                      (tuple(s.split(":", 1)) for s in sessions)):  # type: ignore[misc]
        if judged_by and "photo_version" in judged_by and not judged_by.get("photo_unpinned"):
            pinned[f"{learner_id}:{session}"] = judged_by["photo_version"]
    return Loaded(learners, organisations, events, sessions, pinned, plans)


def states(db: Session, loaded: Loaded) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, list[str]]]:
    """What the judged sessions hand on, and each subject's new summary: the latest cut among its
    judged sessions, and everything before it (monitor/online/carry.py)."""
    rows: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    full: dict[str, list[str]] = {}
    courses_of = {subject: set(loaded.plans[subject].units) | {e.course for t in tracks for e in t.events}
                  for subject, tracks in loaded.tracks.items()}
    seen = judging_state.units_of(db, [tuple(c.split(":", 1)) for cs in courses_of.values() for c in cs])  # type: ignore[misc]
    for subject, tracks in loaded.tracks.items():
        plan = loaded.plans[subject]
        if plan.carried is None:
            full[subject] = [r.id for r in loaded.learners.values() if r.subject == subject]
        made = {t.key: contribution(t) for t in tracks}
        for t in tracks:
            learner_id, session = t.session.split(":", 1)
            rows.append({"learner_id": learner_id, "session": session, "subject": subject, "platform": t.platform,
                         "start_s": t.start_s, "end_s": t.end_s, "contribution": made[t.key].to_json()})
        if not tracks:
            continue
        cut = latest_cut([(t.start_s, t.end_s) for t in tracks], plan.floor)
        carried = Carried.from_json(plan.carried.to_json()) if plan.carried is not None else Carried()
        for t in tracks:
            if t.start_s < cut:
                carried.add(made[t.key])
        units = {c: seen[tuple(c.split(":", 1))] for c in courses_of[subject]}  # type: ignore[index]
        summaries.append({"subject": subject, "cut_s": cut, "carried": carried.to_json(), "units": units})
    return rows, summaries, full


def _catalogue(db: Session, loaded: Loaded) -> Catalogue:
    """Each platform's own courses (scoped by platform) and the subjects' assessments from every
    platform that reported them: a person's earlier training counts wherever it was."""
    orgs = sorted({r.organisation_id for r in loaded.learners.values()})
    # a platform's own course is online, whatever a row stored before said, unless it is the online
    # part of an institution's blended course that both declared (#17, B7: the 40 % cap)
    courses = judged_courses(db, [c for chunk in _chunks(orgs)
                                  for c in db.exec(select(Course).where(Course.organisation_id.in_(chunk))).all()])  # type: ignore[attr-defined]
    history: dict[str, list[dict[str, Any]]] = {}
    by_org: dict[str, dict[str, Learner]] = {}
    for learner in loaded.learners.values():
        by_org.setdefault(learner.organisation_id, {})[learner.learner_ref] = learner
    for org, refs in by_org.items():
        for chunk in _chunks(sorted(refs)):
            for a in db.exec(select(Assessment).where(Assessment.organisation_id == org,
                                                      Assessment.learner.in_(chunk))).all():  # type: ignore[attr-defined]
                history.setdefault(refs[a.learner].subject, []).append(
                    {"course": f"{org}:{a.course}", "assessed_at": a.assessed_at})
    # The persons' classroom classes too (#17: the person rules over classes and courses alike).
    for subject, classes in class_history(db, [r.person_hash for r in loaded.learners.values() if r.person_hash]).items():
        history.setdefault(subject, []).extend(classes)
    return Catalogue.model_validate({"courses": courses, "history": history})


def _face_checks(db: Session, settings: ServiceSettings, loaded: Loaded, judged: JudgedBy,
                 photos: dict[str, list[LearnerPhoto]]) -> tuple[FaceChecks, dict[str, int | None]]:
    """Captures are files named by their ids under storage/captures. A capture that copies anyone's
    enrolment photo, or any capture taken before it, is a replay: the replay index in the database
    answers that (api/store/replay.py), so only the photos of the learners judged here are loaded,
    by learner and version, and from the faces found when they were stored, not from the files.
    Each session is compared with the version it was judged with before, else the latest."""
    storage = settings.storage
    policy = judged.policy()
    mine = [p for versions in photos.values() for p in versions]
    gone = deleted_images(db, [p.stored_name for p in mine])  # past retention: no photo to compare with
    mine = [p for p in mine if p.stored_name not in gone]
    enrolment = {f"{p.learner_id}#{p.version}": storage / p.stored_name for p in mine}
    stored = known_faces(db, [p.stored_name for p in mine])
    enrolled = {}
    for p in mine:
        faces = stored.get(p.stored_name, [])
        if len(faces) == 1 and faces[0].get("encoding") is not None and int(faces[0]["px"]) >= policy.enrolment_min_face_px:
            key = f"{p.learner_id}#{p.version}"
            enrolled[key] = Enrolled(key, key, str(storage / p.stored_name), p.sha256,
                                     np.asarray(faces[0]["encoding"], dtype=np.float64), int(faces[0]["px"]),
                                     faces[0]["hash"], cached=True)
    images = {(e.images or [e.image])[0] for e in loaded.events if e.type in CAPTURE_TYPES and (e.image or e.images)}
    known = {image: [face_of(f) for f in faces]
             for image, faces in known_faces(db, [f"captures/{i}" for i in images]).items()}
    known = {image.removeprefix("captures/"): faces for image, faces in known.items()}
    version_of: dict[str, int | None] = {}
    for session, (learner_id, _, _) in loaded.sessions.items():
        versions = [p.version for p in photos.get(learner_id, [])]
        if session in loaded.pinned and (loaded.pinned[session] is None or loaded.pinned[session] in versions):
            version_of[session] = loaded.pinned[session]
        else:
            version_of[session] = versions[-1] if versions else None

    def photo_key(e: LearningEvent) -> str:
        learner_id = e.session.split(":", 1)[0]
        return f"{learner_id}#{version_of.get(e.session)}"

    learners = list(loaded.learners.values())
    by_ref = {(r.organisation_id, r.learner_ref): r for r in learners}
    challenges = [Challenge(by_ref[(c.organisation_id, c.learner)].subject,
                            f"{by_ref[(c.organisation_id, c.learner)].id}:{c.session}", c.at, c.prompt, c.nonce)
                  for c in challenges_of(db, learners)]
    checks = FaceChecks(policy, enrolment, storage / "captures", EncodingCache(settings.cache_dir),
                        FacesCache(settings.cache_dir), challenges, photo_key=photo_key,
                        replay=StoredReplay(db, policy.capture_min_face_px), known_faces=known, enrolled=enrolled)
    return checks, version_of


def _judged_by(loaded: Loaded, book: PolicyBook, settings: ServiceSettings) -> dict[str, JudgedBy]:
    """Per scoped session: its platform's jurisdiction's values in force on its first day."""
    out = {}
    for session, (learner_id, _, first) in loaded.sessions.items():
        org = loaded.organisations[loaded.learners[learner_id].organisation_id]
        out[session] = book.judged_by(jurisdiction_of(org, settings.default_jurisdiction), first.date())
    return out


@dataclass
class Judged:
    report: SessionReport
    judged_by: dict[str, Any]


def judge(db: Session, settings: ServiceSettings, loaded: Loaded, book: PolicyBook) -> list[Judged]:
    """Every session of the loaded subjects, each by its own values. One engine per distinct set
    of values, fed the events of the subjects that have a session under it (a subject's rules
    look across all its sessions); usually one."""
    per_session = _judged_by(loaded, book, settings)
    groups: dict[tuple[Any, ...], list[str]] = {}
    for session, judged in per_session.items():
        groups.setdefault(judged.key(), []).append(session)
    catalogue = _catalogue(db, loaded)
    photos = photo_versions(db, loaded.learners) if settings.online_face_checks else {}
    units = judging_state.units_of(db, [tuple(c.split(":", 1)) for c in {e.course for e in loaded.events}])  # type: ignore[misc]
    out: list[Judged] = []
    for sessions in groups.values():
        judged = per_session[sessions[0]]
        wanted = set(sessions)
        subjects = {loaded.learners[loaded.sessions[s][0]].subject for s in sessions}
        faces, version_of = (_face_checks(db, settings, loaded, judged, photos) if settings.online_face_checks
                             else (None, {}))
        # Not screened: the rules read every session, which is what the summaries are made from.
        engine = OnlineEngine(judged.policy(), catalogue, faces, screened=False)
        for subject in subjects:
            carried = loaded.plans[subject].carried if subject in loaded.plans else None
            if carried is not None:
                engine.carry(subject, prior(subject, carried))
        mine = [e for e in loaded.events if e.learner in subjects]
        for (org, ref), seen in units.items():
            engine.know_units(f"{org}:{ref}", seen)
        engine.add(mine)
        reports = engine.sessions()
        for subject in subjects:
            loaded.tracks.setdefault(subject, engine.tracks_of(subject))
        sealed = _sealed(db, loaded, version_of) if settings.online_face_checks else set()
        for report in reports:
            if report.session in sealed:
                continue  # its images are gone: its verdict, kept, is not judged again
            if report.session in wanted:
                more: dict[str, Any] = {"face_checks": settings.online_face_checks}
                if settings.online_face_checks:
                    more["photo_version"] = version_of.get(report.session)
                out.append(Judged(report, judged.as_json(**more)))
    return out


def find_faces(service: Service, batch: int = 100) -> int:
    """Find the faces of every image in the replay index not looked at yet (new captures and
    photos), once per image, and keep them with their hashes: a judging round then compares a
    capture with what the index holds, taken before it, and never detects faces again. Read,
    detect outside any transaction, then write briefly. Returns how many rows were filled."""
    settings = service.settings
    done = 0
    while True:
        with service.session() as db:
            rows = pending(db, batch)
            have = known_faces(db, [r.image for r in rows])
            sha = _sha256_of(db, rows)
        if not rows:
            return done
        found: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            if r.image not in have and r.image not in found:
                found[r.image] = _faces_in_file(settings, r, sha.get(r.image))

        def write() -> None:
            with service.session() as db:
                record_faces(db, found, rows)
                db.commit()

        write_unit(write)
        done += len(rows)


def _sha256_of(db: Session, rows: list[Pending]) -> dict[str, str]:
    """The stored images' sha256 (the caches of faces found before are keyed by it)."""
    out = {}
    photos = [r.ref for r in rows if r.kind == "photo"]
    captures = sorted({r.image.removeprefix("captures/") for r in rows if r.kind == "capture"})
    for chunk in _chunks(photos):
        out.update((p.stored_name, p.sha256) for p in db.exec(select(LearnerPhoto).where(LearnerPhoto.id.in_(chunk))).all())  # type: ignore[attr-defined]
    for chunk in _chunks(captures):
        out.update((f"captures/{c.id}", c.sha256) for c in db.exec(select(Capture).where(Capture.id.in_(chunk))).all())  # type: ignore[attr-defined]
    return out


def _faces_in_file(settings: ServiceSettings, row: Pending, sha256: str | None) -> list[dict[str, Any]]:
    """The faces of one stored image, tallest first: from the encoding cache for a photo (its face
    was found when it was uploaded), from the faces cache of earlier versions, else found now. An
    unreadable or missing image has none."""
    if row.kind == "photo" and sha256:
        hit = EncodingCache(settings.cache_dir).get(sha256)
        if hit is not None:
            encoding, px, face_hash = hit
            return [{"box": None, "encoding": encoding.tolist(), "hash": face_hash, "px": px}]
    if row.kind == "capture" and sha256:
        cached = FacesCache(settings.cache_dir).get(sha256)
        if cached is not None:
            return sorted((face_json(f) for f in cached), key=lambda f: -f["px"])
    try:
        picture = load_rgb(settings.storage / row.image, f"image {row.image}")
    except MonitorError:
        return []
    return sorted((face_json(f) for f in faces_in(picture, detect_max_side=PORTRAIT_DETECT_SIDE)), key=lambda f: -f["px"])


def _take(db: Session, job: Job) -> list[str]:
    """Up to a batch of dirty subjects, taken by this job (or taken before by an attempt of it
    that died); subjects waiting out a failure's back-off are left for later."""
    waiting = select(JudgingFailure.subject).where(JudgingFailure.retry_after > utcnow())
    free = (select(DirtyLearner.learner).where(or_(DirtyLearner.job_id.is_(None), DirtyLearner.job_id == job.id),  # type: ignore[union-attr]
                                               DirtyLearner.learner.not_in(waiting))  # type: ignore[attr-defined]
            .order_by(DirtyLearner.since).limit(BATCH_LEARNERS))
    db.exec(update(DirtyLearner).where(DirtyLearner.learner.in_(free.scalar_subquery())).values(job_id=job.id))  # type: ignore[attr-defined,call-overload]
    subjects = list(db.exec(select(DirtyLearner.learner).where(DirtyLearner.job_id == job.id)).all())
    judging_state.take_sessions(db, job.id, _learners_of(db, subjects))  # and the sessions that got events
    return subjects


@dataclass
class Round:
    """What judging a batch gives, written in one unit: the sessions' rows and their states."""

    judged: list[Judged] = field(default_factory=list)
    states: list[dict[str, Any]] = field(default_factory=list)
    summaries: list[dict[str, Any]] = field(default_factory=list)
    full: dict[str, list[str]] = field(default_factory=dict)

    def extend(self, other: "Round") -> None:
        self.judged += other.judged
        self.states += other.states
        self.summaries += other.summaries
        self.full.update(other.full)


def _judge_isolated(service: Service, subjects: list[str], job: Job) -> tuple[Round, dict[str, str]]:
    """Judge the batch; if that fails, each subject alone, so one subject's poison fails only it."""
    settings = service.settings

    def attempt(group: list[str]) -> Round:
        with service.session() as db:
            book = PolicyBook(db)
            partial = set()
            for chunk in _chunks(group):
                partial.update(db.exec(select(DirtyLearner.learner).where(
                    DirtyLearner.job_id == job.id, DirtyLearner.learner.in_(chunk), DirtyLearner.full == False)).all())  # type: ignore[attr-defined]  # noqa: E712
            loaded = load(db, group, job.id, partial)
            out = Round(judge(db, settings, loaded, book))
            out.states, out.summaries, out.full = states(db, loaded)
            db.commit()
            return out

    try:
        return attempt(subjects), {}
    except Exception:  # noqa: BLE001 - any failure: find the subject(s) it belongs to
        if len(subjects) == 1:
            log.exception("judging %s failed", subjects[0])
            return Round(), {subjects[0]: _reason()}
    judged = Round()
    failed: dict[str, str] = {}
    for subject in subjects:
        try:
            judged.extend(attempt([subject]))
        except Exception:  # noqa: BLE001
            log.exception("judging %s failed", subject)
            failed[subject] = _reason()
    return judged, failed


def _reason() -> str:
    import sys

    exc = sys.exc_info()[1]
    return f"{type(exc).__name__}: {exc}"[:2000]


def run_judging(service: Service, job: Job, progress: Callable[[str, float], None]) -> None:
    """Batches of dirty subjects: take them (a write), read and judge, then store the sessions and
    drop the marks in one write unit; until none is left. Subjects whose events came in while
    they were judged were handed back by ingest and are judged in the next round."""
    while True:
        subjects = write_unit(lambda: _taken(service, job))
        if not subjects:
            def done() -> None:
                with service.session() as db:
                    finish(db, job)
                    db.commit()

            write_unit(done)
            return
        if service.settings.online_face_checks:
            progress("finding faces in new images", 0.3)
            find_faces(service)
        progress(f"judging {len(subjects)} learners", 0.5)
        judged, failed = _judge_isolated(service, subjects, job)

        def write() -> None:
            with service.session() as db:
                _store_all(db, judged.judged)
                # the persons' class trainees too: an online session during a class hour is the
                # class's finding as well (person.two_places, for review there)
                judge_persons_trainees(db, [s[2:] for s in subjects if s.startswith("p:") and s not in failed],
                                       service.settings.default_jurisdiction)
                judging_state.keep_states(db, judged.states, judged.summaries, judged.full)
                _record_failures(db, failed, [s for s in subjects if s not in failed])
                # Learners' marks before their sessions' marks, as everywhere (store_events): a lock cycle otherwise.
                db.exec(delete(DirtyLearner).where(DirtyLearner.job_id == job.id,  # type: ignore[call-overload]
                                                   DirtyLearner.learner.not_in(list(failed))))  # type: ignore[attr-defined]
                if failed:  # left marked, free, for a later job once their back-off has passed
                    db.exec(update(DirtyLearner).where(DirtyLearner.job_id == job.id).values(job_id=None))  # type: ignore[call-overload]
                judging_state.release_sessions(db, job.id, _learners_of(db, list(failed)) if failed else [])
                db.commit()

        write_unit(write)
        if failed and set(failed) == set(subjects):
            # Only failures were left in this round: let the back-off run; a later job takes them.
            def later() -> None:
                with service.session() as db:
                    finish(db, job)
                    db.commit()

            write_unit(later)
            return


def _record_failures(db: Session, failed: dict[str, str], succeeded: list[str]) -> None:
    """A failure is kept for inspectors with its reason and the next try; a success clears it."""
    now = utcnow()
    if succeeded:
        for chunk in _chunks(succeeded):
            db.exec(delete(JudgingFailure).where(JudgingFailure.subject.in_(chunk)))  # type: ignore[attr-defined,call-overload]
    for subject, reason in failed.items():
        row = db.get(JudgingFailure, subject)
        if row is None:
            row = JudgingFailure(subject=subject, reason=reason, attempts=1,
                                 retry_after=now + timedelta(seconds=RETRY_FIRST_S))
        else:
            row.attempts += 1
            row.reason, row.updated_at = reason, now
            row.retry_after = now + timedelta(seconds=min(RETRY_MAX_S, RETRY_FIRST_S * 2 ** (row.attempts - 1)))
        db.add(row)


def _taken(service: Service, job: Job) -> list[str]:
    with service.session() as db:
        subjects = _take(db, job)
        db.commit()
        return subjects


def _unscoped(value: Any, names: dict[str, str], subject: str = "", learner_ref: str = "") -> Any:
    """A finding as people read it: scoped names back to the platforms' own, platform ids to
    names, the subject to the session's own learner id (a person's hash is never shown)."""
    if isinstance(value, str):
        text = _SUBJECT.sub(lambda m: learner_ref if m.group(0) == subject else "another learner", value)
        text = _SCOPED.sub("", text)
        for org_id, name in names.items():
            if org_id in text:
                text = text.replace(org_id, name)
        return text
    if isinstance(value, list):
        return [_unscoped(v, names, subject, learner_ref) for v in value]
    if isinstance(value, dict):
        out = {k: _unscoped(v, names, subject, learner_ref) for k, v in value.items()}
        if isinstance(value.get("other_platform"), str) and value["other_platform"] in names:
            out["other_platform_id"] = value["other_platform"]  # for hiding another platform's side from a platform
        return out
    return value


def _store_all(db: Session, judged: list[Judged]) -> None:
    """Upsert the sessions' rows in one statement (safe even if two judges ever met on one
    learner), then raise or clear their flags in bulk: the write lock is held briefly."""
    if not judged:
        return
    now = utcnow()
    names = {o.id: o.name for o in db.exec(select(Organisation)).all()}
    wanted = sorted({j.report.session.split(":", 1)[0] for j in judged})
    learners = {r.id: r for chunk in _chunks(wanted)
                for r in db.exec(select(Learner).where(Learner.id.in_(chunk))).all()}  # type: ignore[attr-defined]
    rows = []
    for j in judged:
        r = j.report
        learner_id, session = r.session.split(":", 1)
        learner = learners[learner_id]
        rows.append(dict(id=new_id(), learner_id=learner_id, learner=learner.learner_ref, platform=names.get(r.platform, r.platform),
                         session=session, organisation_id=r.platform, course=r.course.split(":", 1)[1],
                         verdict=r.verdict.value, credited_s=r.credited_s, start=_instant(r.start), end=_instant(r.end),
                         events=r.events, findings=[_unscoped(f.model_dump(mode="json"), names, r.learner, learner.learner_ref)
                                                   for f in r.findings],
                         judged_by=j.judged_by, updated_at=now))
    key = ["learner_id", "session"]
    insert_ignoring_conflicts(db, LearnerSession.__table__, rows, key,  # type: ignore[arg-type]
                              update=[c for c in rows[0] if c not in ("id", *key)])
    table = LearnerSession.__table__  # type: ignore[attr-defined]
    ids = {(learner_id, session): row_id for row_id, learner_id, session in _pairs_read(
        db, (table.c.id, table.c.learner_id, table.c.session), table.c.learner_id, table.c.session,
        ((r["learner_id"], r["session"]) for r in rows))}
    subjects = [SubjectState(SubjectKind.SESSION, ids[(r["learner_id"], r["session"])], ids[(r["learner_id"], r["session"])],
                             r["organisation_id"], r["verdict"], [f["rule"] for f in r["findings"]], r["start"]) for r in rows]
    raise_or_clear_all(db, subjects)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)
