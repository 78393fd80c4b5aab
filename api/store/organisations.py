"""Organisations, their jurisdictions, and the policy that judges them.

Authority lives here in one place: the numbers a verdict is judged by are the jurisdiction's
profile in force on the day of the hour or session, plus the overrides the authority set (an
admin, or an inspectorate for its own jurisdiction), each with its author and reason. Nothing a
supervised institution or platform sends can reach these numbers."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session, select

from api.core.problems import Problem
from models.tables import Organisation, PolicyOverride, Role
from monitor.errors import PolicyError
from monitor.policy import Policy, jurisdiction, jurisdictions, load_policy


def jurisdiction_of(organisation: Organisation, default: str) -> str:
    return organisation.jurisdiction or default


def check_jurisdiction(name: str) -> str:
    if name not in jurisdictions():
        raise Problem(422, f"jurisdiction: {name!r} is not one of {', '.join(sorted(jurisdictions()))}", "validation")
    return name


@dataclass(frozen=True)
class JudgedBy:
    """The values a verdict was judged by, embedded in every stored verdict."""

    jurisdiction: str
    profile: str
    in_force_from: date
    overrides: list[dict[str, Any]] = field(default_factory=list)

    @property
    def values(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for override in self.overrides:  # oldest first: a later override of a parameter wins
            merged.update(override["parameters"])
        return merged

    def policy(self) -> Policy:
        return load_policy(self.profile, self.values)

    def key(self) -> tuple[str, str, tuple[int, ...]]:
        return (self.jurisdiction, self.profile, tuple(o["id"] for o in self.overrides))

    def as_json(self, **more: Any) -> dict[str, Any]:
        return {"official": True, "jurisdiction": self.jurisdiction, "profile": self.profile,
                "in_force_from": self.in_force_from.isoformat(), "overrides": self.overrides, **more}


def _override_json(o: PolicyOverride) -> dict[str, Any]:
    return {"id": o.id, "scope": "class" if o.class_id else "jurisdiction", "parameters": o.parameters,
            "in_force_from": o.in_force_from.isoformat() if o.in_force_from else None, "reason": o.reason,
            "person": o.person, "organisation_id": o.organisation_id, "at": o.created_at.isoformat()}


class PolicyBook:
    """Every override read once, for judging many hours or sessions in one job."""

    def __init__(self, db: Session) -> None:
        rows = db.exec(select(PolicyOverride).order_by(PolicyOverride.created_at, PolicyOverride.id)).all()  # type: ignore[arg-type]
        self._by_jurisdiction: dict[str, list[PolicyOverride]] = {}
        self._by_class: dict[str, list[PolicyOverride]] = {}
        for row in rows:
            if row.class_id:
                self._by_class.setdefault(row.class_id, []).append(row)
            else:
                self._by_jurisdiction.setdefault(row.jurisdiction, []).append(row)

    def judged_by(self, name: str, on: date, class_id: str | None = None) -> JudgedBy:
        version = jurisdiction(name).in_force(on)
        general = [o for o in self._by_jurisdiction.get(name, []) if o.in_force_from is None or o.in_force_from <= on]
        own = self._by_class.get(class_id, []) if class_id else []
        return JudgedBy(name, version.profile, version.in_force_from, [_override_json(o) for o in general + own])


def may_override(role: str, caller_jurisdiction: str | None, target: str) -> bool:
    """Admins anywhere; an inspectorate only in its own jurisdiction; the supervised never."""
    return role == Role.ADMIN or (role == Role.INSPECTOR and caller_jurisdiction == target)


def add_override(db: Session, *, role: str, caller_jurisdiction: str | None, key_id: str, person: str,
                 organisation_id: str, target: str, parameters: dict[str, Any], reason: str,
                 in_force_from: date | None = None, class_id: str | None = None) -> PolicyOverride:
    """Check the caller's authority and the values (against every profile the jurisdiction has
    had, so an override cannot become invalid when a new profile comes into force), then add it;
    the caller commits."""
    check_jurisdiction(target)
    if not may_override(role, caller_jurisdiction, target):
        raise Problem(403, f"only an admin or the inspectorate of {target} may set its numbers")
    if not parameters:
        raise Problem(422, "parameters: name at least one policy parameter", "validation")
    try:
        for version in jurisdiction(target).versions:
            load_policy(version.profile, parameters)
    except PolicyError as exc:
        raise Problem(422, str(exc), "policy") from None
    row = PolicyOverride(jurisdiction=target, class_id=class_id, parameters=parameters, in_force_from=in_force_from,
                         reason=reason, key_id=key_id, person=person, organisation_id=organisation_id)
    db.add(row)
    return row


def person_hash(secret: bytes, person_id: str) -> str:
    """The real-name ID number as a keyed hash: the same person gives the same hash on every
    platform, and the number cannot be recovered from the hash without the server's secret
    (an ID number has too few possibilities for a plain hash to hide it). Normalised first:
    spaces dropped, the check letter of an 18-digit number upper-cased."""
    normal = "".join(person_id.split()).upper()
    return hmac.new(secret, normal.encode("utf-8"), hashlib.sha256).hexdigest()
