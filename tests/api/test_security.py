"""The security review of issue #7, as tests: rate limits per key on ingest and per address on
sign-in (429 with Retry-After, problem details), CORS closed, security headers on the pages, and
no route that edits the audit log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pytest

from tests.api.conftest import World, make_world
from tests.monitor.online.builders import clean_session


@pytest.fixture
def tight_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    yield from make_world(sqlite_url, tmp_path / "data", ingest_rate_limit="3/minute", sign_in_rate_limit="3/minute")


def test_ingest_is_limited_per_key(tight_world: World) -> None:
    w = tight_world
    events = clean_session(platform="learn.example").events
    answers = [w.client.post("/events", json=events, headers=w.h("plat_p")) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["status"] == 429 and int(refused.headers["retry-after"]) >= 1
    # another platform's key has its own count; reading is not ingest
    other = clean_session(platform="study.example", session="Q1").events
    assert w.client.post("/events", json=other, headers=w.h("plat_q")).status_code == 200
    assert w.client.get("/sessions", headers=w.h("plat_p")).status_code == 200
    # what was accepted before stays stored, once
    assert w.client.post("/events", json=events, headers=w.h("plat_p")).status_code == 429


def test_failed_sign_ins_are_limited_per_address_even_for_a_good_key_after(tight_world: World) -> None:
    w = tight_world
    page = w.client.get("/ui/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    wrong = [w.client.post("/ui/sign-in", data={"key": f"tm_nobody_{n}", "csrf": csrf}, follow_redirects=False)
             for n in range(3)]
    assert [r.status_code for r in wrong] == [401, 401, 401]
    right = w.client.post("/ui/sign-in", data={"key": w.keys["inspector"], "csrf": csrf}, follow_redirects=False)
    assert right.status_code == 429 and int(right.headers["retry-after"]) >= 1


def test_cors_is_closed_by_default(sqlite_world: World) -> None:
    w = sqlite_world
    origin = {"Origin": "https://elsewhere.example"}
    preflight = w.client.options("/events", headers={**origin, "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "authorization"})
    assert "access-control-allow-origin" not in preflight.headers
    read = w.client.get("/sessions", headers={**origin, **w.h("plat_p")})
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


def test_the_pages_carry_the_security_headers(sqlite_world: World) -> None:
    page = sqlite_world.client.get("/ui/sign-in")
    headers = page.headers
    assert "default-src" in headers["content-security-policy"] and "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "referrer-policy" in headers


def test_no_route_edits_the_audit_log(sqlite_world: World) -> None:
    w = sqlite_world
    paths = w.client.get("/openapi.json").json()["paths"]  # every route the service has
    audit_routes = {path: sorted(methods) for path, methods in paths.items() if "audit" in path}
    assert audit_routes == {"/audit": ["get"]}
    before = w.client.get("/audit", headers=w.h("admin")).json()
    assert before, "creating the test organisations and keys was audited"
    for who in w.keys:
        for method in ("PUT", "PATCH", "DELETE", "POST"):
            for path in ("/audit", f"/audit/{before[0].get('id', 1)}"):
                answer = w.client.request(method, path, headers=w.h(who), json={"action": "nothing happened"})
                assert answer.status_code in (404, 405), (who, method, path, answer.status_code)
    assert w.client.get("/audit", headers=w.h("admin")).json() == before


def test_api_processes_share_rate_limits_through_redis(sqlite_url: str, tmp_path: Path) -> None:
    """Two services (as two API processes would be) counting in the same real Redis: what one
    spent, the other cannot spend again."""
    import redis

    from tests.api.conftest import REDIS_HOST, REDIS_PORT, need_server

    need_server("Redis", REDIS_HOST, REDIS_PORT)
    redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=8).flushdb()
    shared = {"ingest_rate_limit": "2/minute", "rate_limit_storage": f"redis://{REDIS_HOST}:{REDIS_PORT}/8"}
    first = make_world(sqlite_url, tmp_path / "data", **shared)
    w = next(first)
    try:
        from api.main import create_app
        from fastapi.testclient import TestClient

        from tests.api.conftest import settings_for

        events = clean_session(platform="learn.example").events
        with TestClient(create_app(settings_for(sqlite_url, tmp_path / "data", **shared))) as other:
            assert w.client.post("/events", json=events, headers=w.h("plat_p")).status_code == 200
            assert other.post("/events", json=events, headers=w.h("plat_p")).status_code == 200
            assert other.post("/events", json=events, headers=w.h("plat_p")).status_code == 429
            assert w.client.post("/events", json=events, headers=w.h("plat_p")).status_code == 429
    finally:
        first.close()
