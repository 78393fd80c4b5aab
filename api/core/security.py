"""API keys: `tm_<id>_<secret>`, 256 random bits of secret, only its sha256 stored, compared in
constant time. Shown once, when made."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

from sqlmodel import Session

from models.tables import ROLE_OF_KIND, ApiKey, Organisation
from models.types import utcnow


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def make_key(db: Session, organisation: Organisation, person: str,
             expires_at: datetime | None = None) -> tuple[ApiKey, str]:
    """A new key for a person of an organisation; its role follows the organisation's kind.
    `expires_at`: a key handed to a contractor or an auditor stops by itself."""
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    row = ApiKey(id=key_id, organisation_id=organisation.id, role=ROLE_OF_KIND[organisation.kind],
                 person=person, secret_sha256=_digest(secret), expires_at=expires_at)
    db.add(row)
    return row, f"tm_{key_id}_{secret}"


def is_live(key: ApiKey) -> bool:
    """Neither revoked nor expired. Read from the database on every request (never cached in a
    process), so a revocation holds at once in every API process."""
    return key.revoked_at is None and (key.expires_at is None or key.expires_at > utcnow())


def find_key(db: Session, presented: str) -> ApiKey | None:
    """The live key matching a presented one, or None (unknown, malformed, wrong secret, revoked,
    expired)."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != "tm" or not key_id or not secret or len(presented) > 200:
        return None
    row = db.get(ApiKey, key_id)
    expected = row.secret_sha256 if row is not None else _digest("")
    matches = hmac.compare_digest(expected, _digest(secret))  # same work whether or not the id exists
    if row is None or not matches or not is_live(row):
        return None
    return row
