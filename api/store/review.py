"""The review aggregate: flags (the inspectors' queue), a flag with its subject and evidence,
and decisions, which are appended and never edit a flag or an earlier decision."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import String, cast, or_
from sqlmodel import Session, select

from api.deps import Caller, audit
from api.core.problems import Problem, not_found
from monitor.findings import RULES, Severity
from models.tables import (Decision, DecisionPublic, Event, Flag, FlagPublic, HourResult, Learner, LearnerSession,
                           LearnerSessionPublic, TraineeResult, TrainingClass)


def _maybe_open():  # type: ignore[no-untyped-def]
    """The flags that may be open. Most flags of a long queue were decided once, on the whole
    flag, and stay decided: those are left in the database. Read: the undecided, and those decided
    finding by finding or with a withdrawal (their status needs `conclusion`). Measured on SQLite,
    20,000 flags of which 2,000 open, on the shared 2-core machine: a queue page 2.5-3.6 s when
    every flag was read, 0.1 s with this."""
    decided = select(Decision.flag_id)
    judged_here = select(Decision.flag_id).where(or_(Decision.finding.is_not(None),  # type: ignore[union-attr]
                                                     Decision.outcome == "withdrawn"))
    return or_(Flag.id.not_in(decided), Flag.id.in_(judged_here))  # type: ignore[attr-defined]


def _cursor(flag: Flag) -> str:
    return base64.urlsafe_b64encode(json.dumps([flag.subject_start.isoformat(), flag.id]).encode()).decode()


def _parse_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        start, flag_id = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        at = datetime.fromisoformat(start)
        if at.tzinfo is None:  # this server's cursors carry an offset; a naive one would be a 500 at the database
            raise ValueError("naive")
        at.astimezone(timezone.utc)  # OverflowError at the ends of datetime
        return at, str(flag_id)
    except (ValueError, TypeError, OverflowError):
        raise Problem(400, "cursor: not a cursor this server gave", "bad-cursor") from None


class FlagPage(BaseModel):
    items: list[FlagPublic]
    next_cursor: str | None
    counts_by_rule: dict[str, int]


def flag_queue(db: Session, status: str | None = None, kind: str | None = None, organisation: str | None = None,
              rule: str | None = None, since: datetime | None = None, until: datetime | None = None,
              include_cleared: bool = False, limit: int = 50, cursor: str | None = None) -> FlagPage:
    """Flags, newest subject first; filters combine; `next_cursor` gives the next page."""
    query = select(Flag)
    if not include_cleared:
        query = query.where(Flag.cleared_at.is_(None))  # type: ignore[union-attr]
    if kind:
        query = query.where(Flag.subject_kind == kind)
    if organisation:
        query = query.where(Flag.organisation_id == organisation)
    if since:
        query = query.where(Flag.subject_start >= since)
    if until:
        query = query.where(Flag.subject_start < until)
    if rule:  # rules are a JSON list of codes: matched as the quoted code in its text, on both databases
        query = query.where(cast(Flag.rules, String).like(f'%"{rule.replace("_", "!_")}"%', escape="!"))
    if status:
        # The status is the decisions' conclusion per finding (as the pages judge it), so it is
        # worked out here over the light columns of the candidates; the open ones are read
        # without the flags decided once on the whole flag (see _ordered).
        # Ordered and paged here too: the ids wanted may be more than a database takes in one IN.
        light = query.with_only_columns(Flag.id, Flag.subject_kind, Flag.subject_id, Flag.rules,  # type: ignore[attr-defined]
                                        Flag.subject_start)
        if status == "open":
            light = light.where(_maybe_open())
        rows = list(db.execute(light).all())  # rows of columns (exec would give the first column alone)
        found = statuses(db, rows)
        rows = sorted((r for r in rows if found[r.id] == status), key=lambda r: (r.subject_start, r.id), reverse=True)
        status_counts: dict[str, int] = {}
        for r in rows:
            for code in r.rules:
                status_counts[code] = status_counts.get(code, 0) + 1
        if cursor:
            start, flag_id = _parse_cursor(cursor)
            rows = [r for r in rows if (r.subject_start, r.id) < (start, flag_id)]
        chosen = [r.id for r in rows[:limit]]
        whole = {f.id: f for f in db.exec(select(Flag).where(Flag.id.in_(chosen))).all()} if chosen else {}  # type: ignore[attr-defined]
        page = [whole[i] for i in chosen]
        items = [FlagPublic.model_validate(f, update={"status": status}) for f in page]
        return FlagPage(items=items, next_cursor=_cursor(page[-1]) if len(rows) > limit else None,
                        counts_by_rule=dict(sorted(status_counts.items())))
    counts: dict[str, int] = {}
    for rules in db.exec(query.with_only_columns(Flag.rules)).all():  # type: ignore[attr-defined]
        for r in rules:
            counts[r] = counts.get(r, 0) + 1
    if cursor:
        start, flag_id = _parse_cursor(cursor)
        query = query.where(or_(Flag.subject_start < start, (Flag.subject_start == start) & (Flag.id < flag_id)))
    flags = list(db.exec(query.order_by(Flag.subject_start.desc(), Flag.id.desc()).limit(limit + 1)).all())  # type: ignore[attr-defined]
    page = flags[:limit]
    outcomes = statuses(db, page)
    items = [FlagPublic.model_validate(f, update={"status": outcomes.get(f.id, "open")}) for f in page]
    return FlagPage(items=items, next_cursor=_cursor(page[-1]) if len(flags) > limit else None,
                    counts_by_rule=dict(sorted(counts.items())))


def flag_of(db: Session, flag_id: str) -> Flag:
    flag = db.get(Flag, flag_id)
    if flag is None:
        raise not_found(f"flag {flag_id}")
    return flag


def flag_with_subject(db: Session, flag_id: str) -> dict[str, Any]:
    """The flag, its subject with the findings and evidence (the class hour's report or the
    learner session), and its decisions, oldest first."""
    flag = flag_of(db, flag_id)
    subject: Any
    if flag.subject_kind == "hour":
        hour = db.get(HourResult, flag.subject_id)
        subject = {"class_id": hour.class_id, "report_id": hour.report_id, **hour.body} if hour else None
    elif flag.subject_kind == "trainee":
        subject = _trainee_subject(db.get(TraineeResult, flag.subject_id))
    else:
        session = db.get(LearnerSession, flag.subject_id)
        subject = LearnerSessionPublic.model_validate(session).model_dump(mode="json") if session else None
    decisions = list(db.exec(select(Decision).where(Decision.flag_id == flag_id).order_by(Decision.id)).all())
    keys = [finding_key(f) for f in (subject or {}).get("findings", [])]
    outcome, standing = conclusion(decisions, keys)
    return {"flag": FlagPublic.model_validate(flag, update={"status": outcome}).model_dump(mode="json"),
            "subject": subject,
            "finding_keys": keys,  # what a decision on one finding names
            "decisions": [DecisionPublic.model_validate(d).model_dump(mode="json") for d in decisions],
            "standing": {k: DecisionPublic.model_validate(d).model_dump(mode="json") for k, d in standing.items()}}


def _trainee_subject(row: TraineeResult | None) -> dict[str, Any] | None:
    """A class trainee's person findings as a flag's subject (the ID number is nowhere in it)."""
    if row is None:
        return None
    return {"class_id": row.class_id, "trainee": row.trainee_id, "verdict": row.verdict, "start": row.start.isoformat(),
            "findings": row.findings, "policy": row.policy, "judged_at": row.judged_at.isoformat()}


# A decision's reason, from a short list (the page says each in the reader's language).
REASONS = {"confirmed": ("evidence_clear", "tampering_seen", "rule_breached", "other"),
           "dismissed": ("false_alarm", "explained", "data_corrected", "other")}
# How long a decision may be taken back by its own author (the pages' undo, the API's withdrawal).
UNDO_S = 60.0


class DecisionIn(BaseModel):
    outcome: Literal["confirmed", "dismissed"]
    note: str = Field(default="", max_length=4000)
    finding: str | None = Field(default=None, min_length=1, max_length=200,
                                description="the one finding decided, by its key (`rule@start`, as GET /flags/{id} lists "
                                            "them in `finding_keys`); without it, the decision is on the whole flag")
    reason: str = Field(default="", max_length=40,
                        description="a reason code for the outcome: confirmed: " + ", ".join(REASONS["confirmed"])
                                    + "; dismissed: " + ", ".join(REASONS["dismissed"]))


def add_decision(db: Session, caller: Caller, flag_id: str, body: DecisionIn) -> Decision:
    """A decision appended: on one finding (the pages' decision bar, through decide_findings), or
    on the whole flag; a finding the flag lacks or a reason not of the outcome is a 422, nothing written."""
    if body.finding is not None:
        return decide_findings(db, caller, flag_id, {body.finding: body.outcome}, body.reason, body.note)[0]
    flag = flag_of(db, flag_id)
    if body.reason and body.reason not in REASONS[body.outcome]:
        raise Problem(422, f"reason {body.reason!r} is not one for {body.outcome}")
    decision = Decision(flag_id=flag.id, outcome=body.outcome, note=body.note, reason=body.reason, key_id=caller.key.id,
                        person=caller.key.person, organisation_id=caller.org_id)
    db.add(decision)
    audit(db, caller, "flag.decide", flag.id, outcome=body.outcome, reason=body.reason)
    db.commit()
    return decision


def decisions_of(db: Session, flag_id: str) -> list[Decision]:
    flag_of(db, flag_id)
    return list(db.exec(select(Decision).where(Decision.flag_id == flag_id).order_by(Decision.id)).all())


# The evidence of a flag, for the inspectors' pages.

def session_row(db: Session, session_id: str) -> LearnerSession | None:
    return db.get(LearnerSession, session_id)


def learner_row(db: Session, learner_id: str | None) -> Learner | None:
    return db.get(Learner, learner_id) if learner_id else None


def session_events(db: Session, session_id: str) -> list[dict[str, Any]]:
    """The events of a learner session as the platform sent them (stored bodies)."""
    row = db.get(LearnerSession, session_id)
    if row is None:
        return []
    bodies = db.exec(select(Event.body).where(Event.learner_id == row.learner_id, Event.session == row.session)).all()
    return [json.loads(b) for b in bodies]


def overlapping_sessions(db: Session, learner_ids: list[str], session_id: str, start: datetime,
                         end: datetime) -> list[LearnerSession]:
    """Sessions of these learners (one person's, on every platform) that overlap [start, end)."""
    return list(db.exec(select(LearnerSession).where(LearnerSession.learner_id.in_(learner_ids),  # type: ignore[attr-defined]
                                                     LearnerSession.id != session_id,
                                                     LearnerSession.start < end, LearnerSession.end > start)).all())


def hour_of_flag(db: Session, flag_id: str) -> HourResult | None:
    """The class hour a flag is about (None for a session's flag or an unknown flag)."""
    flag = db.get(Flag, flag_id)
    return db.get(HourResult, flag.subject_id) if flag is not None and flag.subject_kind == "hour" else None


def decisions_of_class(db: Session, class_id: str) -> dict[str, list[Decision]]:
    """Per class hour (its subject key, `class#index`), the decisions on its flag, oldest first."""
    flags = db.exec(select(Flag).where(Flag.subject_kind == "hour",
                                       Flag.subject_key.startswith(f"{class_id}#"))).all()  # type: ignore[attr-defined]
    return {flag.subject_key: list(db.exec(select(Decision).where(Decision.flag_id == flag.id).order_by(Decision.id)).all())
            for flag in flags}


# --- The triage queue and decisions per finding (issue #18) ------------------------------------

# Why a flag comes first: findings that fake or hide the evidence, then any finding that
# invalidates (the hour or the session earns nothing), then money at stake without invalidating
# (credited time stopped, fewer trainees counted), then the rest. Within a rank, the oldest first:
# the one that has waited longest.
TAMPERING = frozenset({"footage.loop", "footage.splice", "footage.clock_jump", "online.face_replay",
                       "online.face_mismatch", "online.face_not_live", "online.multi_window"})
MONEY = frozenset({"visibility.headcount", "visibility.trainee_missing", "online.popup_unanswered",
                   "online.face_attempts", "practical.continuity", "theory.coverage"})
PRIORITIES = ("tampering", "invalidates", "money", "review")

# Rules a decision needs no judgement for: the finding follows from declared data (dates, hours,
# the class's shape), so an inspector may decide them over a filtered set at once.
NO_JUDGEMENT = frozenset({"online.cooldown", "person.cooldown", "online.theory_share", "online.offline_practice",
                          "person.subsidy_limit", "class.size", "class.teacher_ratio", "class.hour_length",
                          "class.practical_share", "class.certificate_hours"})



def priority_of(rules: list[str]) -> str:
    if TAMPERING & set(rules):
        return "tampering"
    if any(RULES[r].severity == Severity.INVALIDATES for r in rules if r in RULES):
        return "invalidates"
    if MONEY & set(rules):
        return "money"
    return "review"


def finding_key(finding: dict[str, Any]) -> str:
    """A finding's name that survives judging the subject again: its rule and where it starts."""
    return f"{finding.get('rule')}@{finding.get('start') or ''}"


def conclusion(decisions: list[Any], keys: list[str]) -> tuple[str, dict[str, Any]]:
    """The flag's status and each finding's standing decision, from the decisions in the order
    they were made: a withdrawn decision and the withdrawal itself count for nothing; a decision
    on the whole flag (no finding) stands for every finding until a later one on that finding.
    Open while any finding is undecided; then confirmed if any finding is, else dismissed."""
    withdrawn = {d.withdraws for d in decisions if d.outcome == "withdrawn"}
    standing: dict[str, Decision] = {}
    whole: Decision | None = None
    for d in sorted(decisions, key=lambda d: d.id or 0):
        if d.outcome == "withdrawn" or d.id in withdrawn:
            continue
        if d.finding is None:
            whole = d
            standing = {k: d for k in keys}
        else:
            standing[d.finding] = d
    if not keys:
        return (whole.outcome if whole else "open"), standing
    decided = [standing[k].outcome for k in keys if k in standing]
    if len(decided) < len(keys):
        return "open", standing
    return ("confirmed" if "confirmed" in decided else "dismissed"), standing


def _findings_of(db: Session, flags: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """Each flag's subject's findings (the hour's report or the session's verdict)."""
    hours = [f.subject_id for f in flags if f.subject_kind == "hour"]
    sessions = [f.subject_id for f in flags if f.subject_kind == "session"]
    trainees = [f.subject_id for f in flags if f.subject_kind == "trainee"]
    found: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(trainees), 500):
        for trainee in db.exec(select(TraineeResult).where(TraineeResult.id.in_(trainees[start:start + 500]))).all():  # type: ignore[attr-defined]
            found[trainee.id] = trainee.findings
    for start in range(0, len(hours), 500):
        for row in db.exec(select(HourResult).where(HourResult.id.in_(hours[start:start + 500]))).all():  # type: ignore[attr-defined]
            found[row.id] = row.body.get("findings", [])
    for start in range(0, len(sessions), 500):
        for row in db.exec(select(LearnerSession).where(LearnerSession.id.in_(sessions[start:start + 500]))).all():  # type: ignore[attr-defined]
            found[row.id] = LearnerSessionPublic.model_validate(row).model_dump(mode="json").get("findings", [])
    return {f.id: found.get(f.subject_id, []) for f in flags}


def statuses(db: Session, flags: list[Any]) -> dict[str, str]:
    """Each flag's status by `conclusion`, in two reads whatever the number of flags."""
    ids = [f.id for f in flags]
    decisions: dict[str, list[Any]] = {}
    columns = (Decision.flag_id, Decision.id, Decision.outcome, Decision.finding, Decision.withdraws)
    for start in range(0, len(ids), 500):  # rows of the columns judged, not whole objects: the queue reads them all
        for d in db.exec(select(*columns).where(Decision.flag_id.in_(ids[start:start + 500]))).all():  # type: ignore[attr-defined]
            decisions.setdefault(d.flag_id, []).append(d)
    # Only flags decided finding by finding need their subject's findings (a JSON body each): a
    # decision on the whole flag stands for all of them, whatever they are.
    per_finding = [f for f in flags if any(d.finding is not None for d in decisions.get(f.id, ()))]
    findings = _findings_of(db, per_finding)
    return {f.id: conclusion(decisions[f.id], [finding_key(x) for x in findings.get(f.id, [])] if f.id in findings else [])[0]
            if f.id in decisions else "open" for f in flags}


class QueueFilters(BaseModel):
    status: str = "open"  # open | confirmed | dismissed | any
    kind: str = ""
    rule: str = ""
    organisation: str = ""
    since: datetime | None = None
    until: datetime | None = None


class Incident(BaseModel):
    """One queue row: a subject (one class hour, one learner session) with every rule it broke."""

    flag: FlagPublic
    subject: str
    priority: str
    age_s: float


class TriagePage(BaseModel):
    items: list[Incident]
    total: int
    offset: int
    per_page: int
    open_by_rule: dict[str, int]
    open_total: int


def _ordered(db: Session, filters: QueueFilters) -> tuple[list[Any], dict[str, str], dict[str, int], int]:
    """The flags matching the filters but the status, in the queue's order, their statuses, and
    the open ones per rule (over the other filters, whatever the status filter says)."""
    # The light columns of every flag (the order and the statuses need them all); whole rows only
    # for the page shown.
    query = select(Flag.id, Flag.subject_kind, Flag.subject_id, Flag.rules, Flag.raised_at,  # type: ignore[call-overload]
                   Flag.subject_start).where(Flag.cleared_at.is_(None))  # type: ignore[union-attr]
    if filters.kind:
        query = query.where(Flag.subject_kind == filters.kind)
    if filters.organisation:
        query = query.where(Flag.organisation_id == filters.organisation)
    if filters.since:
        query = query.where(Flag.subject_start >= filters.since)
    if filters.until:
        query = query.where(Flag.subject_start < filters.until)
    if filters.status == "open":
        query = query.where(_maybe_open())
    flags = list(db.exec(query).all())
    status = statuses(db, flags)
    open_by_rule: dict[str, int] = {}
    open_total = 0
    for f in flags:
        if status[f.id] == "open":
            open_total += 1
            for r in f.rules:
                open_by_rule[r] = open_by_rule.get(r, 0) + 1
    if filters.rule:
        flags = [f for f in flags if filters.rule in f.rules]
    flags.sort(key=lambda f: (PRIORITIES.index(priority_of(f.rules)), f.raised_at, f.subject_start, f.id))
    return flags, status, dict(sorted(open_by_rule.items())), open_total


def _subjects(db: Session, flags: list[Flag]) -> dict[str, str]:
    """What each flag is about, in words: class and hour, or learner, course and platform."""
    class_ids = {f.subject_key.split("#")[0] for f in flags if f.subject_kind in ("hour", "trainee")}
    refs = {c.id: c.class_ref for c in db.exec(select(TrainingClass).where(TrainingClass.id.in_(class_ids))).all()}  # type: ignore[attr-defined]
    session_ids = [f.subject_id for f in flags if f.subject_kind == "session"]
    rows = {s.id: s for s in db.exec(select(LearnerSession).where(LearnerSession.id.in_(session_ids))).all()}  # type: ignore[attr-defined]
    out = {}
    for f in flags:
        if f.subject_kind == "hour":
            klass, _, index = f.subject_key.partition("#")
            out[f.id] = f"{refs.get(klass, klass)} #{index}"
        elif f.subject_kind == "trainee":
            klass, _, trainee = f.subject_key.partition("#")
            out[f.id] = f"{refs.get(klass, klass)} · {trainee}"
        else:
            s = rows.get(f.subject_id)
            out[f.id] = f"{s.learner} · {s.course} · {s.session}" if s else f.subject_key
    return out


def triage(db: Session, filters: QueueFilters, offset: int = 0, per_page: int = 25) -> TriagePage:
    """The inspectors' queue: incidents by priority then age, the status filter applied, a page."""
    flags, status, open_by_rule, open_total = _ordered(db, filters)
    if filters.status != "any":
        flags = [f for f in flags if status[f.id] == filters.status]
    chosen = [f.id for f in flags[offset:offset + per_page]]
    rows = {f.id: f for f in db.exec(select(Flag).where(Flag.id.in_(chosen))).all()} if chosen else {}  # type: ignore[attr-defined]
    page = [rows[i] for i in chosen]
    subjects = _subjects(db, page)
    now = datetime.now(timezone.utc)
    items = [Incident(flag=FlagPublic.model_validate(f, update={"status": status[f.id]}), subject=subjects[f.id],
                      priority=priority_of(f.rules), age_s=(now - f.raised_at).total_seconds()) for f in page]
    return TriagePage(items=items, total=len(flags), offset=offset, per_page=per_page, open_by_rule=open_by_rule,
                      open_total=open_total)


def neighbours(db: Session, filters: QueueFilters, flag_id: str) -> tuple[str | None, str | None, int, int]:
    """The flags before and after this one in the queue's order (the status filter applied, this
    flag kept in place even once decided), its position (1-based, 0 if not in the queue) and the total."""
    flags, status, _, _ = _ordered(db, filters)
    ids = [f.id for f in flags if filters.status == "any" or status[f.id] == filters.status or f.id == flag_id]
    if flag_id not in ids:
        return (None, ids[0] if ids else None, 0, len(ids))
    at = ids.index(flag_id)
    return (ids[at - 1] if at > 0 else None, ids[at + 1] if at + 1 < len(ids) else None, at + 1, len(ids))


def decide_findings(db: Session, caller: Caller, flag_id: str, outcomes: dict[str, str], reason: str,
                    note: str) -> list[Decision]:
    """One decision per finding named (its key), appended; a key that is not one of the subject's
    findings, an unknown outcome or reason is a 422 and nothing is written."""
    flag = flag_of(db, flag_id)
    keys = {finding_key(f) for f in _findings_of(db, [flag])[flag.id]}
    if not outcomes:
        raise Problem(422, "decide at least one finding")
    for key, outcome in outcomes.items():
        if key not in keys:
            raise Problem(422, f"finding {key!r} is not one of this flag's findings")
        if outcome not in REASONS:
            raise Problem(422, "outcome: confirmed or dismissed")
        if reason and reason not in REASONS[outcome]:
            raise Problem(422, f"reason {reason!r} is not one for {outcome}")
    made = [Decision(flag_id=flag.id, outcome=outcome, note=note, finding=key, reason=reason, key_id=caller.key.id,
                     person=caller.key.person, organisation_id=caller.org_id) for key, outcome in sorted(outcomes.items())]
    db.add_all(made)
    audit(db, caller, "flag.decide", flag.id, outcomes=outcomes, reason=reason)
    db.commit()
    return made


def withdraw(db: Session, caller: Caller, flag_id: str, decision_ids: list[int], within_s: float) -> list[Decision]:
    """Undo: a withdrawal appended for each of the caller's own decisions on this flag made less
    than `within_s` ago and not withdrawn yet. Another's decision, an old one or one of another
    flag is a 409 and nothing is written."""
    flag = flag_of(db, flag_id)
    mine = {d.id: d for d in db.exec(select(Decision).where(Decision.flag_id == flag.id)).all()}
    taken = {d.withdraws for d in mine.values() if d.outcome == "withdrawn"}
    now = datetime.now(timezone.utc)
    for i in decision_ids:
        d = mine.get(i)
        if d is None or d.key_id != caller.key.id or d.outcome == "withdrawn" or i in taken:
            raise Problem(409, f"decision {i} cannot be withdrawn by you here", "not-withdrawable")
        if (now - d.created_at).total_seconds() > within_s:
            raise Problem(409, f"decision {i} is older than {within_s:g} s: decide again instead", "too-late")
    made = [Decision(flag_id=flag.id, outcome="withdrawn", finding=mine[i].finding, withdraws=i, key_id=caller.key.id,
                     person=caller.key.person, organisation_id=caller.org_id) for i in decision_ids]
    db.add_all(made)
    audit(db, caller, "flag.withdraw", flag.id, decisions=decision_ids)
    db.commit()
    return made


def decide_in_bulk(db: Session, caller: Caller, filters: QueueFilters, outcome: str, reason: str, note: str) -> int:
    """The same decision on every open flag of the filtered set, on the findings of the filter's
    rule only, which must need no judgement (NO_JUDGEMENT). Returns how many flags were decided."""
    if filters.rule not in NO_JUDGEMENT:
        raise Problem(422, "bulk decisions are for a rule that needs no judgement; filter by one", "needs-judgement")
    if outcome not in REASONS or (reason and reason not in REASONS[outcome]):
        raise Problem(422, "outcome: confirmed or dismissed, with one of its reasons")
    flags, status, _, _ = _ordered(db, filters)
    chosen = [f for f in flags if status[f.id] == "open"]
    findings = _findings_of(db, chosen)
    made = [Decision(flag_id=f.id, outcome=outcome, note=note, finding=finding_key(x), reason=reason, key_id=caller.key.id,
                     person=caller.key.person, organisation_id=caller.org_id)
            for f in chosen for x in findings[f.id] if x.get("rule") == filters.rule]
    db.add_all(made)
    audit(db, caller, "flag.decide_bulk", filters.rule, outcome=outcome, flags=[f.id for f in chosen])
    db.commit()
    return len({d.flag_id for d in made})
