"""Organisations and keys, for `monitor admin …` and the admin routes: one place that makes them."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from api.problems import Problem
from api.security import make_key
from api.store.organisations import check_jurisdiction
from models.tables import ORGANISATION_KINDS, ApiKey, AuditEntry, Organisation
from models.types import utcnow


def create_organisation(db: Session, name: str, kind: str, by: str = "admin", jurisdiction: str | None = None) -> Organisation:
    """`jurisdiction`: the city whose rules judge it (default: the service's default_jurisdiction)."""
    if kind not in ORGANISATION_KINDS:
        raise Problem(422, f"kind: one of {', '.join(ORGANISATION_KINDS)}", "validation")
    if jurisdiction is not None:
        check_jurisdiction(jurisdiction)
    organisation = Organisation(name=name, kind=kind, jurisdiction=jurisdiction)
    db.add(organisation)
    db.add(AuditEntry(person=by, action="organisation.create", target=organisation.id,
                      detail={"name": name, "kind": kind, "jurisdiction": jurisdiction}))
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Problem(409, f"an organisation named {name!r} exists already", "duplicate") from None
    return organisation


def set_jurisdiction(db: Session, organisation: Organisation, jurisdiction: str, by: str) -> Organisation:
    """Only an admin moves an organisation to another jurisdiction; verdicts already stored keep
    the values they embed, later judging uses the new jurisdiction's."""
    check_jurisdiction(jurisdiction)
    before = organisation.jurisdiction
    organisation.jurisdiction = jurisdiction
    db.add(organisation)
    db.add(AuditEntry(person=by, action="organisation.jurisdiction", target=organisation.id,
                      detail={"from": before, "to": jurisdiction}))
    db.commit()
    return organisation


def find_organisation(db: Session, name_or_id: str) -> Organisation | None:
    return db.get(Organisation, name_or_id) or db.exec(select(Organisation).where(Organisation.name == name_or_id)).first()


def create_key(db: Session, organisation: Organisation, person: str, by: str = "admin") -> tuple[ApiKey, str]:
    key, secret = make_key(db, organisation, person)
    db.add(AuditEntry(person=by, action="key.create", target=key.id,
                      detail={"organisation": organisation.id, "person": person, "role": key.role}))
    db.commit()
    return key, secret


def revoke_key(db: Session, key: ApiKey, by: str = "admin") -> None:
    key.revoked_at = utcnow()
    db.add(key)
    db.add(AuditEntry(person=by, action="key.revoke", target=key.id))
    db.commit()
