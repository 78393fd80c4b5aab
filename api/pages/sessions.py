"""Pages sessions kept on the server (issue #19).

Why: a signed cookie that carries the key's id is valid until it runs out, whatever happens on
the server; a cookie copied before sign-out kept recording decisions for its remaining hours. Now
the cookie (still signed, HttpOnly, SameSite=Strict) holds only a random session id; the session
is a row (`page_session`, keyed by the id's sha256 so a database reader cannot take sessions
over) that sign-out, the key's revocation or an idle timeout end. Every page request reads it.

Before sign-in the cookie holds only the sign-in form's CSRF token (no row is made for an
anonymous visitor, so nobody can fill the table without a key)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from fastapi import Request
from sqlmodel import Session

from api.core.security import is_live
from api.core.settings import ServiceSettings
from models.tables import ApiKey, PageSession
from models.types import utcnow

# last_seen_at is written at most this often per session: the idle timeout is minutes, so a page
# view need not be a database write.
_TOUCH_EVERY = timedelta(seconds=30)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(db: Session, request: Request, key: ApiKey) -> PageSession:
    """A new session for a key that signed in; any session the cookie held before ends (a
    session id is never reused across sign-ins: no fixation)."""
    end(db, request)
    session_id = secrets.token_urlsafe(32)
    row = PageSession(id_sha256=_digest(session_id), key_id=key.id, csrf=secrets.token_urlsafe(24))
    db.add(row)
    request.session.clear()
    request.session["sid"] = session_id
    request.state.page_session = row
    return row


def current(db: Session, request: Request, settings: ServiceSettings) -> tuple[PageSession, ApiKey] | None:
    """The live session of the request's cookie and its key, or None (no cookie, signed out,
    idle too long, too old, the key revoked or expired). A session found dead is ended for good."""
    session_id = request.session.get("sid")
    if not isinstance(session_id, str) or not session_id:
        return None
    row = db.get(PageSession, _digest(session_id))
    if row is None or row.ended_at is not None:
        request.session.pop("sid", None)
        return None
    now = utcnow()
    key = db.get(ApiKey, row.key_id)
    idle = now - row.last_seen_at > timedelta(seconds=settings.session_idle_s)
    old = now - row.created_at > timedelta(seconds=settings.session_max_s)
    if key is None or not is_live(key) or idle or old:
        row.ended_at = now
        db.add(row)
        db.commit()
        request.session.pop("sid", None)
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        db.add(row)
        db.commit()
    request.state.page_session = row
    return row, key


def end(db: Session, request: Request) -> PageSession | None:
    """Sign-out: the row is ended (the cookie, kept or copied, opens nothing after this)."""
    session_id = request.session.get("sid")
    row = db.get(PageSession, _digest(session_id)) if isinstance(session_id, str) and session_id else None
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        db.add(row)
    request.session.clear()
    return row


def expected_csrf(request: Request, make: bool = True) -> str:
    """The CSRF token forms must carry: the signed-in session's (server-side), or before sign-in
    the one the cookie holds for the sign-in form (made when a form is rendered, `make`)."""
    row: PageSession | None = getattr(request.state, "page_session", None)
    if row is not None:
        return row.csrf
    if request.session.get("sid"):
        return ""  # a session cookie whose row was not read (or is dead): no form may pass
    token = request.session.get("csrf")
    if not token and make:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return str(token or "")
