"""What generated requests (schemathesis) found, kept as plain tests."""

from __future__ import annotations

from tests.api.conftest import World


def test_paging_numbers_too_large_for_the_database_are_a_422(sqlite_world: World) -> None:
    # Found by schemathesis: offset=2**64 reached SQLite and failed there ("Python int too large").
    w = sqlite_world
    for path, who in ((f"/classes?offset={2**64}", "inst_a"), (f"/audit?before={2**64}", "admin")):
        r = w.client.get(path, headers=w.h(who))
        assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", (path, r.text)
