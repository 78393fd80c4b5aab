"""Request dependencies: the database session, who is calling, and what their role allows.

Order of refusal on every route: no or bad key -> 401, wrong role -> 403, then the object is
looked up within the caller's organisation, so another tenant's object is a plain 404."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Iterator

from fastapi import Depends, Request
from sqlmodel import Session

from api.core.problems import Problem
from api.core.security import find_key
from api.core.service import Service
from models.tables import ApiKey, AuditEntry, Organisation


def get_service(request: Request) -> Service:
    return request.app.state.service


def get_db(service: Annotated[Service, Depends(get_service)]) -> Iterator[Session]:
    with service.session() as db:
        yield db


@dataclass(frozen=True)
class Caller:
    key: ApiKey
    organisation: Organisation

    @property
    def role(self) -> str:
        return self.key.role

    @property
    def org_id(self) -> str:
        return self.organisation.id


def _presented_key(request: Request) -> str | None:
    """Bearer <key>, X-API-Key: <key>, or HTTP Basic as xAPI clients send it: the user name is
    the key's public part `tm_<id>`, the password the secret after it (key = user + "_" + password)."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    if scheme.lower() == "basic" and token.strip():
        try:
            user, colon, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return token.strip()  # not Basic credentials: a key that matches nothing (401)
        return f"{user}_{password}" if colon and user and password else token.strip()
    return request.headers.get("x-api-key") or None


def get_caller(request: Request, db: Annotated[Session, Depends(get_db)]) -> Caller:
    presented = _presented_key(request)
    unauthorised = {"WWW-Authenticate": 'Bearer realm="training-monitor"'}
    if presented is None:
        raise Problem(401, "an API key is required (Authorization: Bearer <key>)", headers=unauthorised)
    key = find_key(db, presented)
    if key is None:
        raise Problem(401, "the API key is not valid", headers=unauthorised)
    organisation = db.get(Organisation, key.organisation_id)
    assert organisation is not None  # a foreign key
    # End the read transaction: a route that writes then starts afresh (on SQLite a read
    # transaction that later writes can find its snapshot stale under concurrent writers).
    db.commit()
    return Caller(key, organisation)


def role(*allowed: str) -> Callable[..., Caller]:
    def check(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        if caller.role not in allowed:
            raise Problem(403, f"this needs the role {' or '.join(allowed)}; the key has the role {caller.role}")
        return caller

    return check


def ingest_limit(caller: Annotated[Caller, Depends(get_caller)], svc: Annotated[Service, Depends(get_service)]) -> None:
    """Each key's ingest requests (event batches, captures, uploads), counted together (api/core/limits.py)."""
    svc.limits.hit(svc.limits.ingest, "ingest", caller.key.id)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


DB = Annotated[Session, Depends(get_db)]
Svc = Annotated[Service, Depends(get_service)]
Institution = Annotated[Caller, Depends(role("institution"))]
Platform = Annotated[Caller, Depends(role("platform"))]
Inspector = Annotated[Caller, Depends(role("inspector"))]
Admin = Annotated[Caller, Depends(role("admin"))]
InstitutionOrInspector = Annotated[Caller, Depends(role("institution", "inspector"))]
PlatformOrInspector = Annotated[Caller, Depends(role("platform", "inspector"))]
AnyCaller = Annotated[Caller, Depends(get_caller)]


def audit(db: Session, caller: Caller | None, action: str, target: str = "", **detail: Any) -> None:
    """Every write is recorded with who made it, in the same transaction as the write."""
    db.add(AuditEntry(key_id=caller.key.id if caller else None, organisation_id=caller.org_id if caller else None,
                      person=caller.key.person if caller else "system", action=action, target=target,
                      detail=detail or None))
