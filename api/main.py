"""The FastAPI application. `create_app()` is what `monitor serve` runs; tests make their own
with their own settings (dependencies, not patches)."""

from __future__ import annotations

import asyncio
import secrets
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.middleware.sessions import SessionMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api.core import problems
from api.core.bodies import BodyGuard
from api.routes import admin, classes, faces, online, periods, review, uploads, xapi
from api.core.service import Service
from api.core.storage import Storage
from api.core.settings import ServiceSettings
from api.jobs.celery_app import sender
from api.jobs.inprocess import InProcessWorker
from api.pages import routes as pages

# Bodies that are streamed and limited by their own routes; every other body is small JSON.
_STREAMED = ("/recordings", "/photo", "/events", "/xapi/", "/uploads/", "/captures")


def body_limit(settings: ServiceSettings, path: str) -> int:
    """The most a request body to `path` may be, enforced while it is read (BodyGuard): the
    route's own limit for streamed bodies, max_json_bytes for every other."""
    if "/recordings" in path or "/uploads/" in path:
        return settings.max_upload_bytes
    if "/photo" in path or "/captures" in path:
        return settings.max_photo_bytes
    if "/events" in path or path.startswith("/xapi/"):
        return settings.max_batch_bytes
    return settings.max_json_bytes


def cache_control(path: str) -> str:
    """Almost every answer carries personal data (names, faces, verdicts, keys' owners): none may
    stay in a browser's or a proxy's cache after sign-out (issue #19; PIPL treats face images as
    sensitive). Only the pages' own static files (CSS, scripts) may be kept, privately."""
    return "private, max-age=3600" if path.startswith("/ui/static/") else "no-store"


def create_app(settings: ServiceSettings | None = None, start_worker: bool = True) -> FastAPI:
    settings = settings or ServiceSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service = Service.from_settings(settings)
        app.state.service = service
        # One-shot uploads a killed server left half-written (resumable ones stay resumable).
        Storage(service.storage).sweep_parts(older_than_s=24 * 3600)
        worker = None
        if settings.queue == "celery":
            service.notify_job = sender(settings)
        elif start_worker:
            worker = InProcessWorker(service)
            service.notify_job = worker.notify
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            service.engine.dispose()

    app = FastAPI(title="Training monitor", version="0.1.0", lifespan=lifespan,
                  description="Decides, from evidence, whether government-subsidised vocational training really "
                              "happened. Every route but /health and the docs needs an API key "
                              "(Authorization: Bearer tm_…). Errors are RFC 9457 problem details.")
    problems.install(app)

    @app.middleware("http")
    async def time_limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Small requests get an answer in time or a 503 (uploads and batches stream, unlimited)."""
        if any(part in request.url.path for part in _STREAMED):
            return await call_next(request)
        try:
            return await asyncio.wait_for(call_next(request), settings.request_timeout_s)
        except asyncio.TimeoutError:
            return problems.problem_response(503, f"the request took longer than {settings.request_timeout_s:g} s; "
                                                  "try again", headers={"Retry-After": "5"})

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # Pages run only their own scripts: files of /ui/static and inline scripts carrying this
        # request's nonce (templates write it); everything else answers JSON and runs nothing.
        nonce = request.state.csp_nonce = secrets.token_urlsafe(16)
        response = await call_next(request)
        if request.url.path.startswith("/ui/"):
            policy = (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
                      "img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; "
                      "frame-ancestors 'none'")
        else:
            policy = "default-src 'none'; frame-ancestors 'none'"
        response.headers.setdefault("Content-Security-Policy", policy)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers["Cache-Control"] = cache_control(request.url.path)
        return response

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # The xAPI statement resource first: it takes /xapi/* (answers carry the xAPI version header).
    app.include_router(xapi.router, responses=problems.documented(400, 401, 403, 404, 409, 413))
    app.include_router(xapi.admin_router, responses=problems.documented(401, 403, 404, 422))
    for module in (classes, periods, uploads, online, faces, review, admin):
        # Every route may answer these as problem details (auth, role, tenant, size, validation).
        app.include_router(module.router, responses=problems.documented(400, 401, 403, 404, 409, 413, 422, 503))
    pages.install(app)
    # The pages' session: signed, HttpOnly, SameSite=Strict (a cross-site form post carries no cookie).
    # Its cookie holds only the server-side session's id (api/pages/sessions.py).
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret_value(), session_cookie="monitor_session",
                       max_age=int(settings.session_max_s), same_site="strict", https_only=settings.secure_cookies)
    # Outermost: a body without a key is refused before anything reads it; every body is limited.
    app.add_middleware(BodyGuard, limit_of=lambda path: body_limit(settings, path))
    if settings.trusted_proxies.strip():
        # X-Forwarded-For / -Proto believed only from the named proxies (uvicorn's own handling is
        # off in `monitor serve`, which would trust them from 127.0.0.1 by default).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    return app
