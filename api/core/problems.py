"""RFC 9457 problem details for every error, and nothing else: no stack trace reaches a client.

`type` is a relative URI naming the kind of problem (`/problems/class-shape`), or `about:blank`
where the HTTP status says it all; `errors` lists field problems where there are several."""

from __future__ import annotations

import re

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from sqlalchemy.exc import DataError, DisconnectionError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from monitor.errors import ClassShapeError, MonitorError

log = logging.getLogger("monitor.api")
MEDIA_TYPE = "application/problem+json"


class ProblemBody(BaseModel):
    """RFC 9457 problem details, as every error of this API answers."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None


def documented(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries: these statuses answer problem details."""
    return {status: {"model": ProblemBody, "description": HTTPStatus(status).phrase,
                     "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}}}
            for status in statuses}


class Problem(Exception):
    def __init__(self, status: int, detail: str, kind: str | None = None, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.kind = status, detail, kind
        self.title = title or HTTPStatus(status).phrase
        self.headers = headers
        self.extra = extra


def not_found(what: str) -> Problem:
    """The same answer whether the object does not exist or belongs to another tenant."""
    return Problem(404, f"{what} not found")


def problem_response(status: int, detail: str, kind: str | None = None, title: str | None = None,
                     headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": f"/problems/{kind}" if kind else "about:blank",
            "title": title or HTTPStatus(status).phrase, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _field_errors(exc: RequestValidationError | ValidationError) -> list[dict[str, str]]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        out.append({"field": ".".join(loc) or "body", "message": str(e.get("msg", "invalid"))})
    return out


def _page(request: Request, status: int, detail: str) -> Response | None:
    """Under /ui/ a person is reading: the error is a page in their language, not JSON."""
    render = getattr(request.app.state, "render_error", None)
    if render is not None and request.url.path.startswith("/ui/"):
        return render(request, status, detail)
    return None


def _methods_of(request: Request) -> list[str]:
    """Every method the API documents for the request's path (the OpenAPI paths are the routes)."""
    app = request.app
    patterns = getattr(app.state, "path_methods", None)
    if patterns is None:
        patterns = app.state.path_methods = [
            (re.compile("^" + re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(path)) + "$"), sorted(m.upper() for m in methods))
            for path, methods in app.openapi().get("paths", {}).items()]
    for pattern, methods in patterns:
        if pattern.match(request.url.path):
            return methods
    return []


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        page = _page(request, exc.status, exc.detail)
        if page is not None:
            page.headers.update(exc.headers or {})  # Retry-After on a page too
            return page
        return problem_response(exc.status, exc.detail, exc.kind, exc.title, exc.headers, **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
        page = _page(request, exc.status_code, detail)
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Starlette names the methods of one route; the path may have several
            headers = {**(headers or {}), "Allow": ", ".join(_methods_of(request))}
        return page or problem_response(exc.status_code, detail, headers=headers)

    @app.exception_handler(RequestValidationError)
    @app.exception_handler(ValidationError)  # a body a route reads and validates itself (a course, a batch)
    async def _invalid(_: Request, exc: RequestValidationError | ValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        first = errors[0] if errors else {"field": "body", "message": "invalid"}
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return problem_response(422, f"{first['field']}: {first['message']}{more}", "validation", errors=errors)

    @app.exception_handler(ClassShapeError)
    async def _shape(_: Request, exc: ClassShapeError) -> JSONResponse:
        return problem_response(422, str(exc), "class-shape", "Class breaks the class-shape rules (A5)",
                                rule=exc.rule, clause=exc.clause)

    @app.exception_handler(MonitorError)
    async def _monitor(_: Request, exc: MonitorError) -> JSONResponse:
        return problem_response(422, " ".join(str(exc).split()), "bad-input", "Input cannot be used")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DisconnectionError)
    async def _database_away(_: Request, exc: Exception) -> JSONResponse:
        """The database restarting or out of reach is a moment to wait, not a server fault: the
        client is told to come back; nothing of the request was committed (its transaction died)."""
        log.warning("database unavailable: %s", " ".join(str(exc).split())[:300])
        return problem_response(503, "the database is not reachable just now; try again", "database-unavailable",
                                headers={"Retry-After": "2"})

    @app.exception_handler(DataError)
    async def _unstorable(_: Request, exc: DataError) -> JSONResponse:
        """A value the database refuses (a NUL in PostgreSQL text, a number past its column) is
        the request's fault, not the server's: 422, nothing of it committed. The routes refuse
        such values themselves where they know them; this is the net under the rest."""
        log.warning("value refused by the database: %s", " ".join(str(exc.orig).split())[:300])
        nul = "NUL" in str(exc.orig)
        return problem_response(422, "a text value holds a NUL character (0x00), which cannot be stored" if nul
                                else "a value cannot be stored (out of the range or length the database allows)",
                                "validation")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return problem_response(500, "the server met an unexpected error; it has been logged")
