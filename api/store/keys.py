"""Organisations and keys, for `monitor admin …` and the admin routes: one place that makes them.

Every change is audited with who made it: from a route, the admin's key id and organisation
(`Actor`); from the command line, `by` alone (whoever runs it has the database already)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.core.problems import Problem
from api.core.security import make_key
from api.store.organisations import check_jurisdiction
from models.tables import ORGANISATION_KINDS, ApiKey, AuditEntry, Organisation, PageSession
from models.types import utcnow


@dataclass(frozen=True)
class Actor:
    """Who makes an admin change: a person, and the key and organisation when it came by a route."""

    person: str
    key_id: str | None = None
    organisation_id: str | None = None


def _entry(by: str | Actor, action: str, target: str, detail: dict[str, Any] | None = None) -> AuditEntry:
    actor = by if isinstance(by, Actor) else Actor(by)
    return AuditEntry(person=actor.person, key_id=actor.key_id, organisation_id=actor.organisation_id,
                      action=action, target=target, detail=detail)


def create_organisation(db: Session, name: str, kind: str, by: str | Actor = "admin",
                        jurisdiction: str | None = None) -> Organisation:
    """`jurisdiction`: the city whose rules judge it (default: the service's default_jurisdiction)."""
    if kind not in ORGANISATION_KINDS:
        raise Problem(422, f"kind: one of {', '.join(ORGANISATION_KINDS)}", "validation")
    if jurisdiction is not None:
        check_jurisdiction(jurisdiction)
    organisation = Organisation(name=name, kind=kind, jurisdiction=jurisdiction)
    db.add(organisation)
    db.add(_entry(by, "organisation.create", organisation.id, {"name": name, "kind": kind, "jurisdiction": jurisdiction}))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Problem(409, f"an organisation named {name!r} exists already", "duplicate") from None
    return organisation


def set_jurisdiction(db: Session, organisation: Organisation, jurisdiction: str, by: str | Actor) -> Organisation:
    """Only an admin moves an organisation to another jurisdiction; verdicts already stored keep
    the values they embed, later judging uses the new jurisdiction's."""
    check_jurisdiction(jurisdiction)
    before = organisation.jurisdiction
    organisation.jurisdiction = jurisdiction
    db.add(organisation)
    db.add(_entry(by, "organisation.jurisdiction", organisation.id, {"from": before, "to": jurisdiction}))
    db.commit()
    return organisation


def find_organisation(db: Session, name_or_id: str) -> Organisation | None:
    return db.get(Organisation, name_or_id) or db.exec(select(Organisation).where(Organisation.name == name_or_id)).first()


def create_key(db: Session, organisation: Organisation, person: str, by: str | Actor = "admin",
               expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    if expires_at is not None and expires_at.tzinfo is None:
        raise Problem(422, "expires_at: give an offset (e.g. +08:00)", "validation")
    key, secret = make_key(db, organisation, person, expires_at=expires_at)
    db.add(_entry(by, "key.create", key.id, {"organisation": organisation.id, "person": person, "role": key.role,
                                             "expires_at": expires_at.isoformat() if expires_at else None}))
    db.commit()
    return key, secret


def revoke_key(db: Session, key: ApiKey, by: str | Actor = "admin") -> ApiKey:
    """Refused from the next request on, in every API process (keys are read from the database
    per request), and every pages session signed in with it ends in the same transaction."""
    now = utcnow()
    if key.revoked_at is None:
        key.revoked_at = now
        db.add(key)
    ended = db.execute(update(PageSession).where(PageSession.key_id == key.id, PageSession.ended_at.is_(None))  # type: ignore[union-attr]
                       .values(ended_at=now)).rowcount
    db.add(_entry(by, "key.revoke", key.id, {"organisation": key.organisation_id, "sessions_ended": ended}))
    db.commit()
    return key


# Reads for the admins' pages.

def all_keys(db: Session) -> list[ApiKey]:
    """Every key, newest first."""
    return list(db.exec(select(ApiKey).order_by(ApiKey.created_at.desc())).all())  # type: ignore[attr-defined]


def key_by_id(db: Session, key_id: str) -> ApiKey | None:
    return db.get(ApiKey, key_id)


def organisation_names(db: Session, kinds: tuple[str, ...] = ()) -> dict[str, str]:
    """Organisation id -> name, by name (only of these kinds when given)."""
    query = select(Organisation).order_by(Organisation.name)
    if kinds:
        query = query.where(Organisation.kind.in_(kinds))  # type: ignore[attr-defined]
    return {o.id: o.name for o in db.exec(query).all()}


def organisation_by_id(db: Session, organisation_id: str) -> Organisation | None:
    return db.get(Organisation, organisation_id)


# Reads for the admin routes.

def all_organisations(db: Session) -> list[Organisation]:
    """Every organisation, by name."""
    return list(db.exec(select(Organisation).order_by(Organisation.name)).all())


def keys_oldest_first(db: Session) -> list[ApiKey]:
    return list(db.exec(select(ApiKey).order_by(ApiKey.created_at)).all())


def audit_entries(db: Session, limit: int, before: int | None = None) -> list[AuditEntry]:
    """Newest first; `before`: the cursor, entries with a smaller id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc())  # type: ignore[union-attr]
    if before:
        query = query.where(AuditEntry.id < before)  # type: ignore[operator]
    return list(db.exec(query.limit(limit)).all())
