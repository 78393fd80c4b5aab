"""Generated requests (schemathesis, from the API's own OpenAPI schema) with every role's key
against a running server, every check of schemathesis: no server error, every status, content
type, header and body as documented (errors as problem details), schema-violating requests
refused, `Allow` on 405 naming the path's methods. One check is left out: that every
schema-valid request is accepted; a schema cannot say that an upload must be a video or a
photo must show a face, so random bytes that fit it are refused (422) by design. A fixed seed
keeps CI repeatable; run `schemathesis run URL/openapi.json -H "Authorization: Bearer KEY"` with
more examples for longer. What it found is kept in test_regressions.py. Its `date-time` and
`date` values include naive, out-of-range and impossible ones (tests/api/schemathesis_hooks.py),
and a hypothesis test puts odd values (NaN, ±Infinity, 64-bit overflows, naive instants, lone
surrogates) into every field of every JSON body."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from hypothesis import strategies as st

from tests.pages.conftest import start_server

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
ROLES = (("institution", "org-institution", "institution", "p-i"), ("platform", "org-platform", "platform", "p-p"),
         ("inspector", "org-inspectorate", "inspectorate", "p-x"), ("admin", "org-admin", "admin", "p-a"))


@pytest.mark.slow  # a long run: `make test` runs it after the main suite (see the Makefile)
def test_generated_requests_never_meet_a_server_error(tmp_path: Path) -> None:
    # Generated requests come faster than the ingest rate limit allows a key (50/s); a 429 would then
    # stand in for the answer under test (schemathesis counts it a failure of its checks). The
    # limiter has its own tests (test_security.py).
    server, keys = start_server(tmp_path, ROLES, ingest_rate_limit="100000/second")
    try:
        manifest = {"class_id": "FUZZ-1", "teachers": [{"id": "E1"}],
                    "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                                  "end": "2026-11-20T08:45:00+08:00"}], "roster": [{"id": "T1", "name": "张伟"}]}
        made = httpx.post(server.url + "/classes", json=manifest, headers={"Authorization": f"Bearer {keys['institution']}"})
        assert made.status_code == 201, made.text
        generated = 0
        for role, key in keys.items():
            done = subprocess.run([SCHEMATHESIS, "run", server.url + "/openapi.json", "-H", f"Authorization: Bearer {key}",
                                   "-n", "8", "--seed", "20261124", "--checks", "all",
                                   "--exclude-checks", "positive_data_acceptance"],
                                  capture_output=True, text=True, timeout=600, cwd=ROOT,
                                  env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.api.schemathesis_hooks",
                                       "PYTHONPATH": str(ROOT)})
            counts = re.search(r"(\d+) generated, (\d+) (?:passed|found)", done.stdout)
            if done.returncode != 0 or not counts:  # pytest cuts a long assertion message: the report goes to stdout
                print(done.stdout[done.stdout.find("FAILURES"):] if "FAILURES" in done.stdout else done.stdout)
            assert done.returncode == 0 and counts, role
            generated += int(counts.group(1))
        assert generated >= 1000
    finally:
        server.stop()


# Values that broke query parameters before (issue #19: naive and out-of-range instants, cursors
# holding them, non-finite numbers) and their neighbours, for every query parameter of every route.
ODD_VALUES = ("2026-11-20T08:00:00", "2026-11-20", "0001-01-01", "0001-01-01T00:00:00+08:00", "9999-12-31",
              "9999-12-31T23:59:59-08:00", "NaN", "Infinity", "-Infinity", "1e309", "-1", "0", "99999999999999999999999",
              "", " ", "\x00", "é" * 300, "null", "[]", "WyIwMDAxLTAxLTAxIiwiZiJd", "WyIyMDI2LTExLTIwVDA4OjAwOjAwIiwiZiJd")


def test_odd_query_values_never_meet_a_server_error(world) -> None:  # type: ignore[no-untyped-def]
    """Every query parameter the OpenAPI schema names, with every odd value, with a key of a role
    the route allows: a 4xx or a success, never a 5xx."""
    from tests.api.test_access import ACCESS, KEY_OF_ROLE

    w = world
    paths = w.client.get("/openapi.json").json()["paths"]
    tried = 0
    for path, operations in paths.items():
        for method, operation in operations.items():
            names = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
            roles = ACCESS.get((method.upper(), path), set())
            if not names or not roles:
                continue
            headers = {**w.h(KEY_OF_ROLE[sorted(roles)[0]]), "X-Experience-API-Version": "1.0.3"}
            url = path.replace("{", "").replace("}", "")
            for name in names:
                for value in ODD_VALUES:
                    r = w.client.request(method.upper(), url, params={name: value}, headers=headers,
                                         json={} if method.upper() in ("POST", "PUT", "PATCH") else None)
                    assert r.status_code < 500, (method, path, name, value, r.text[:300])
                    tried += 1
    assert tried > 200


# Body fields: what a schema says is a number or an instant, given what JSON parsers let through
# (NaN, ±Infinity, 1e400, naive and out-of-range instants, integers past 64 bits, lone surrogates).
ODD_JSON = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=2**63, max_value=2**70),
                     st.sampled_from(["2026-11-20T08:00:00", "0001-01-01", "0001-01-01T00:00:00+08:00",
                                      "9999-12-31T23:59:59-08:00", "\ud800", "", "NaN", "\x00", "L\x001"]),
                     st.text(max_size=12))
# Routes that read their body themselves (raw, gzip, NDJSON) and so are not in the schema's bodies.
RAW_BODIES = {("PUT", "/courses/{course_ref}"): {"units": ["U1", "U2"], "total_hours": 10, "online_hours": 4,
                                                  "occupation": "电工"},
              ("POST", "/events"): {"id": "e1", "type": "play", "at": "2026-11-20T08:00:00+08:00", "learner": "L1",
                                    "session": "S1", "course": "C1", "unit": "U1", "position_s": 0}}


def test_odd_body_values_never_meet_a_server_error(world) -> None:  # type: ignore[no-untyped-def]
    """Every route with a JSON body: a body drawn from the route's own schema (schemathesis), one
    of its fields replaced by an odd value (hypothesis), sent with a key of a role the route
    allows, to real objects where the path names one: a 4xx or a success, never a 5xx."""
    import json

    import schemathesis
    from hypothesis import HealthCheck, given, settings

    from tests.api.test_access import ACCESS, KEY_OF_ROLE

    w = world
    manifest = {"class_id": "ODD-1", "teachers": [{"id": "E1"}], "roster": [{"id": "T1", "name": "张伟"}],
                "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                              "end": "2026-11-20T08:45:00+08:00"}]}
    made = w.client.post("/classes", json=manifest, headers=w.h("inst_a"))
    assert made.status_code == 201, made.text
    real = {"class_id": made.json()["id"], "organisation_id": w.orgs["plat_p"], "jurisdiction": "demo",
            "learner": "L1", "course_ref": "C1", "flag_id": "no-such-flag"}
    document = w.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    routes = {(m.upper(), p) for p, ops in document["paths"].items() for m, op in ops.items() if "requestBody" in op}
    assert len(routes) >= 10
    tried = [0]
    for method, path in sorted(routes | set(RAW_BODIES)):
        roles = ACCESS.get((method, path), set())
        assert roles, (method, path)  # the access table names every route
        headers = {**w.h(KEY_OF_ROLE[sorted(roles)[0]]), "Content-Type": "application/json"}
        url = path.format(**{k: v for k, v in real.items() if "{" + k + "}" in path}) if "{" in path else path
        bodies = (st.just(RAW_BODIES[(method, path)]) if (method, path) in RAW_BODIES
                  else schema[path][method].as_strategy().map(lambda case: case.body))

        @settings(max_examples=12, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(body=bodies, odd=ODD_JSON, data=st.data())
        def send(body, odd, data) -> None:  # type: ignore[no-untyped-def]
            if isinstance(body, dict) and body:
                body = {**body, data.draw(st.sampled_from(sorted(body))): odd}
            r = w.client.request(method, url, content=json.dumps(body, allow_nan=True), headers=headers)
            assert r.status_code < 500, (method, path, body, r.text[:300])
            tried[0] += 1

        send()
    assert tried[0] >= 12 * len(routes)
