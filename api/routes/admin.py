"""Admins: organisations (institutions, platforms, inspectorates) and their keys; the audit log,
readable by admins and inspectors and writable by no route."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.store.keys import (Actor, all_organisations, audit_entries, create_key, create_organisation, key_by_id,
                            keys_oldest_first, organisation_by_id, revoke_key, set_jurisdiction)
from api.core.bodies import Instant, Text
from api.deps import DB, Admin, AnyCaller, Caller
from api.core.problems import Problem, not_found
from models.tables import ApiKey, ApiKeyPublic, Organisation, OrganisationCreate, OrganisationPublic

router = APIRouter(tags=["admin"])


def _actor(caller: Caller) -> Actor:
    """The audit names the admin's key and organisation, not only the person's name."""
    return Actor(caller.key.person, caller.key.id, caller.org_id)


@router.post("/admin/organisations", status_code=201, response_model=OrganisationPublic)
def new_organisation(body: OrganisationCreate, db: DB, caller: Admin) -> Organisation:
    return create_organisation(db, body.name, body.kind, by=_actor(caller), jurisdiction=body.jurisdiction)


class OrganisationChange(BaseModel):
    jurisdiction: str = Field(min_length=1, max_length=50)


@router.patch("/admin/organisations/{organisation_id}", response_model=OrganisationPublic)
def change_organisation(organisation_id: str, body: OrganisationChange, db: DB, caller: Admin) -> Organisation:
    """Set the jurisdiction whose rules judge the organisation (admins only, audited)."""
    organisation = organisation_by_id(db, organisation_id)
    if organisation is None:
        raise not_found(f"organisation {organisation_id}")
    return set_jurisdiction(db, organisation, body.jurisdiction, by=_actor(caller))


@router.get("/admin/organisations", response_model=list[OrganisationPublic])
def organisations(db: DB, caller: Admin) -> list[Organisation]:
    return all_organisations(db)


class KeyCreate(BaseModel):
    person: Text = Field(min_length=1, max_length=200)
    expires_at: Instant | None = Field(default=None, description="refused after this instant (default: no expiry)")


class KeyMade(ApiKeyPublic):
    key: str = Field(description="shown this once; only its hash is kept")


@router.post("/admin/organisations/{organisation_id}/keys", status_code=201, response_model=KeyMade)
def new_key(organisation_id: str, body: KeyCreate, db: DB, caller: Admin) -> KeyMade:
    organisation = organisation_by_id(db, organisation_id)
    if organisation is None:
        raise not_found(f"organisation {organisation_id}")
    key, secret = create_key(db, organisation, body.person, by=_actor(caller), expires_at=body.expires_at)
    return KeyMade(**ApiKeyPublic.model_validate(key).model_dump(), key=secret)


@router.get("/admin/keys", response_model=list[ApiKeyPublic])
def keys(db: DB, caller: Admin) -> list[ApiKey]:
    return keys_oldest_first(db)


@router.delete("/admin/keys/{key_id}", response_model=ApiKeyPublic)
def delete_key(key_id: str, db: DB, caller: Admin) -> ApiKey:
    """Revoke a key: refused from the next request on in every API process, its pages sessions
    ended. The row stays (the audit log and decisions name it); revoking again answers the same."""
    key = key_by_id(db, key_id)
    if key is None:
        raise not_found(f"key {key_id}")
    return revoke_key(db, key, by=_actor(caller))


@router.get("/audit", response_model=list[dict[str, Any]])
def audit_log(db: DB, caller: AnyCaller, limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              before: Annotated[int | None, Query(ge=1, le=2**62, description="cursor: entries with a smaller id")] = None) -> list[dict[str, Any]]:
    """Newest first. Admins and inspectors read every entry; nobody can change one."""
    if caller.role not in ("admin", "inspector"):
        raise Problem(403, f"this needs the role admin or inspector; the key has the role {caller.role}")
    return [e.model_dump(mode="json") for e in audit_entries(db, limit, before)]


@router.get("/me")
def who_am_i(caller: AnyCaller) -> dict[str, str]:
    return {"key": caller.key.id, "person": caller.key.person, "role": caller.role,
            "organisation": caller.org_id, "organisation_name": caller.organisation.name}
