"""The FastAPI application. `create_app()` is what `monitor serve` runs; tests make their own
with their own settings (dependencies, not patches)."""

from __future__ import annotations

import asyncio
import secrets
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

from fastapi import FastAPI, Request, Response

from api import problems
from api.routes import admin, classes, faces, online, review, uploads, xapi
from api.service import Service
from api.storage import Storage
from api.settings import ServiceSettings

# Bodies that are streamed and limited by their own routes; every other body is small JSON.
_STREAMED = ("/recordings", "/photo", "/events", "/xapi/", "/uploads/", "/captures")


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
            from api.jobs.celery_app import sender

            service.notify_job = sender(settings)
        elif start_worker:
            from api.jobs.inprocess import InProcessWorker

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
        return response

    @app.middleware("http")
    async def limit_json_bodies(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if (length and length.isdigit() and int(length) > settings.max_json_bytes
                and not any(part in request.url.path for part in _STREAMED)):
            return problems.problem_response(413, f"the body is larger than the limit of {settings.max_json_bytes:,} bytes")
        return await call_next(request)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok"}

    # The xAPI statement resource first: it takes /xapi/* (answers carry the xAPI version header).
    app.include_router(xapi.router, responses=problems.documented(400, 401, 403, 404, 409, 413))
    app.include_router(xapi.admin_router, responses=problems.documented(401, 403, 404, 422))
    for module in (classes, uploads, online, faces, review, admin):
        # Every route may answer these as problem details (auth, role, tenant, size, validation).
        app.include_router(module.router, responses=problems.documented(400, 401, 403, 404, 409, 413, 422, 503))
    from starlette.middleware.sessions import SessionMiddleware

    from api.pages import routes as pages

    pages.install(app)
    # The pages' session: signed, HttpOnly, SameSite=Strict (a cross-site form post carries no cookie).
    app.add_middleware(SessionMiddleware, secret_key=settings.session_secret_value(), session_cookie="monitor_session",
                       max_age=8 * 3600, same_site="strict", https_only=settings.secure_cookies)
    return app
