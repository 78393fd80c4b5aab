"""Reading request bodies within limits: JSON bodies are read whole only up to a size, and gzip
is undone with a cap on what it may grow to (a small gzip bomb cannot fill the memory). At the
edge, `BodyGuard` refuses a body without a key before reading it and limits every body while it
is read."""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Annotated, Any, Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fastapi import Request
from datetime import datetime, timezone

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from api.core.problems import Problem, problem_response


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"{what} is larger than the limit of {limit:,} bytes")
    gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    out = bytearray()
    async for chunk in request.stream():
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk, limit + 1 - len(out))
            except zlib.error:
                raise Problem(400, f"{what} is not valid gzip") from None
        out += chunk
        if len(out) > limit:
            raise Problem(413, f"{what} is larger than the limit of {limit:,} bytes")
    return bytes(out)


class _NonFinite(str):
    """Where the JSON said NaN, Infinity or -Infinity (kept to name the field, then refused)."""


def _where_non_finite(value: Any, path: str = "") -> tuple[str, str] | None:
    if isinstance(value, _NonFinite):
        return path or "body", str(value)
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _where_non_finite(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def parse_json(raw: bytes, what: str) -> Any:
    """JSON as RFC 8259 has it: NaN and Infinity (which Python's reader accepts) are refused with
    a 422 naming the field, so no non-finite number reaches a rule or a database column (issue
    #19: `total_hours: NaN` was a 500)."""
    seen: list[str] = []

    def constant(name: str) -> _NonFinite:
        seen.append(name)
        return _NonFinite(name)

    try:
        value = json.loads(raw, parse_constant=constant)
    except UnicodeDecodeError:
        raise Problem(400, f"{what} is not UTF-8 text") from None
    except RecursionError:
        raise Problem(400, f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise Problem(400, f"{what} is not JSON: {exc}") from None
    if seen:  # walked only when there is something to find
        field, name = _where_non_finite(value) or ("body", seen[0])
        message = f"{name} is not a number (only finite numbers are)"
        raise Problem(422, f"{field}: {message}", "validation", errors=[{"field": field, "message": message}])
    return value


async def json_body(request: Request, limit: int, what: str) -> Any:
    return parse_json(await read_limited(request, limit, what), what)


def _iso_text(value: Any) -> Any:
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("an ISO-8601 date and time is needed, not a number")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# A moment in a request: ISO-8601 text (with a UTC offset in bodies), and only that; pydantic
# would read a number, or a number in a query string, as seconds since 1970, which no caller
# means (schemathesis found it).
# Instants a request may name: far enough either way for any real training or query, and far
# from the ends of datetime (0001-01-01 or 9999-12-31 at another offset cannot be made UTC, and a
# day added to them overflows: issue #19 found 500s there).
EARLIEST, LATEST = datetime(1900, 1, 1, tzinfo=timezone.utc), datetime(9000, 1, 1, tzinfo=timezone.utc)


def _in_range(value: datetime) -> datetime:
    if value.tzinfo is None:
        # Read in no one's time zone: which midnight a naive time means is the caller's to say.
        raise ValueError("give an offset (e.g. 2026-11-20T08:00:00+08:00): a time without one is ambiguous")
    try:
        utc = value.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("out of range") from None
    if not EARLIEST <= utc < LATEST:
        raise ValueError(f"out of range: between {EARLIEST.year} and {LATEST.year}")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(_in_range)]
# In a query string too an instant needs its offset (422 naming the parameter, not a 500 when a
# naive one meets the database's aware ones).
QueryInstant = Annotated[datetime, BeforeValidator(_iso_text), AfterValidator(_in_range)]


# --- the edge: refuse bodies early ------------------------------------------------------------

_KEY_SHAPE = re.compile(r"tm_[0-9a-f]{1,32}_[A-Za-z0-9_\-]{1,160}")


def _looks_like_credentials(headers: Headers, path: str, query: str) -> bool:
    """Whether the request carries something that could be a key (its real check is in deps,
    against the database). Only shape is looked at: no database, no body."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() == "bearer" and _KEY_SHAPE.fullmatch(token):
        return True
    if scheme.lower() == "basic" and token:
        try:
            user, colon, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return bool(colon) and _KEY_SHAPE.fullmatch(f"{user}_{password}") is not None
    if _KEY_SHAPE.fullmatch(headers.get("x-api-key", "").strip()):
        return True
    if path.startswith("/ui/") and "monitor_session=" in headers.get("cookie", ""):
        return True  # a pages form: the session (or the sign-in form's CSRF token) is in the cookie
    # xAPI's alternate request syntax (Communication 1.3) sends its Authorization inside the form.
    return path.startswith("/xapi/") and "method=" in query


class BodyGuard:
    """A pure ASGI middleware in front of everything (issue #19: a 100 MB body without a key was
    read whole before the 401, because FastAPI reads a JSON body before any dependency runs).

    - A request with a body and no credentials of a key's shape is refused (401) before one byte
      of the body is read, with `Connection: close` so the server stops reading the socket.
    - Every body is limited while it is read, chunked or not: `Content-Length` over the limit is
      refused at once, and the bytes are counted as they arrive (413 as soon as they pass the
      limit). The limit is the route's own (uploads, photos, batches) or `max_json_bytes`.
    """

    def __init__(self, app: ASGIApp, limit_of: Callable[[str], int]) -> None:
        self.app = app
        self.limit_of = limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path, query = scope["path"], scope.get("query_string", b"").decode("latin-1")
        if "\x00" in path or "%00" in query:
            # No route's path or query may name a NUL: PostgreSQL's text cannot hold one (a lookup by
            # it was a 500 there, a silent miss on SQLite); refused alike on both, before any route.
            await _refuse(scope, receive, send, 422, "the path or query string holds a NUL character (%00)")
            return
        declared = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if not chunked and (declared is None or declared.strip() in ("", "0")):
            await self.app(scope, receive, send)  # no body
            return
        if not _looks_like_credentials(headers, path, query):
            extra = {"X-Experience-API-Version": "1.0.3"} if path.startswith("/xapi/") else {}
            await _refuse(scope, receive, send, 401, "an API key is required (Authorization: Bearer <key>); "
                          "a body is not read without one",
                          {"WWW-Authenticate": 'Bearer realm="training-monitor"', **extra})
            return
        limit = self.limit_of(path)
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await _refuse(scope, receive, send, 413, f"the body is larger than the limit of {limit:,} bytes")
            return
        seen, started, refused = 0, False, False

        async def counted() -> Message:
            # Not an exception: the app reads bodies inside anyio task groups (BaseHTTPMiddleware),
            # which would wrap it. The guard answers 413 itself, and the app sees a disconnect.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        await _refuse(scope, receive, send, 413, f"the body is larger than the limit of {limit:,} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the guard has answered; what the app makes of the disconnect goes nowhere
            started = True
            await send(message)

        await self.app(scope, counted, guarded_send)


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str,
                  headers: dict[str, str] | None = None) -> None:
    """A problem-details answer that closes the connection: the unread body is never read."""
    response = problem_response(status, detail, headers={
        **(headers or {}), "Connection": "close", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'", "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY"})
    await response(scope, receive, send)


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (a lone surrogate is not)") from None
    return value


# Text a request may name and the database can store: PostgreSQL's text holds no NUL, and no
# driver encodes a lone surrogate (both were 500s on a blended course's names, #17). A path
# segment takes NO_NUL as its pattern.
Text = Annotated[str, AfterValidator(_storable)]
NO_NUL = r"^[^\x00]*$"


def refuse_unstorable(value: Any, what: str) -> None:
    """A 422 for a parsed body holding a NUL or a lone surrogate anywhere (a model of plain `str`
    fields, such as the library's, lets them through to the database)."""
    def walk(item: Any) -> None:
        if isinstance(item, str):
            _storable(item)
        elif isinstance(item, dict):
            for key, inner in item.items():
                walk(key)
                walk(inner)
        elif isinstance(item, (list, tuple)):
            for inner in item:
                walk(inner)

    try:
        walk(value)
    except ValueError as exc:
        raise Problem(422, f"{what}: {exc}", "validation") from None
