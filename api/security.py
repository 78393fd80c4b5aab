"""API keys: `tm_<id>_<secret>`, 256 random bits of secret, only its sha256 stored, compared in
constant time. Shown once, when made."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session

from models.tables import ROLE_OF_KIND, ApiKey, Organisation


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def make_key(db: Session, organisation: Organisation, person: str) -> tuple[ApiKey, str]:
    """A new key for a person of an organisation; its role follows the organisation's kind."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = ApiKey(id=key_id, organisation_id=organisation.id, role=ROLE_OF_KIND[organisation.kind],
                 person=person, secret_sha256=_digest(secret))
    db.add(row)
    return row, f"tm_{key_id}_{secret}"


def find_key(db: Session, presented: str) -> ApiKey | None:
    """The live key matching a presented one, or None (unknown, malformed, wrong secret, revoked)."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "tm" or not key_id or not secret or len(presented) > 200:
        return None
    row = db.get(ApiKey, key_id)
    expected = row.secret_sha256 if row is not None else _digest("")
    matches = hmac.compare_digest(expected, _digest(secret))  # same work whether or not the id exists
    if row is None or not matches or row.revoked_at is not None:
        return None
    return row
