"""Issue #19: the attacks on the running service, each replayed. Keys revoked by route and by
command and given expiries; pages sessions that end on the server; no personal data in caches;
bodies without a key refused before they are read; the decision note limit on the page."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from api.main import create_app
from models.tables import AuditEntry
from tests.api.conftest import World, make_world, settings_for

MONITOR = str(Path(sys.executable).parent / "monitor")


def _key_id(key: str) -> str:
    return key.split("_")[1]


def _audit(w: World, action: str) -> list[AuditEntry]:
    with w.service.session() as db:
        return list(db.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


# --- 1. keys: revoked by route, by command, at once across processes; expiry -----------------

def test_an_admin_revokes_a_key_by_route_and_every_process_refuses_it_at_once(sqlite_url: str, tmp_path: Path) -> None:
    for w in make_world(sqlite_url, tmp_path / "a"):
        made = w.client.post(f"/admin/organisations/{w.orgs['inst_a']}/keys", json={"person": "leaver"}, headers=w.h("admin"))
        assert made.status_code == 201, made.text
        key = made.json()["key"]
        # A second API process on the same database, used with the key before the revocation.
        other = create_app(settings_for(sqlite_url, tmp_path / "b", online_face_checks=False), start_worker=False)
        with TestClient(other, raise_server_exceptions=False) as second:
            assert second.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
            revoked = w.client.delete(f"/admin/keys/{_key_id(key)}", headers=w.h("admin"))
            assert revoked.status_code == 200 and revoked.json()["revoked_at"], revoked.text
            assert second.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
            assert w.client.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
        # Not an admin: 403; an unknown key: 404; the revocation is audited with the admin's key.
        assert w.client.delete(f"/admin/keys/{_key_id(w.keys['inst_b'])}", headers=w.h("inst_a")).status_code == 403
        assert w.client.delete("/admin/keys/0000000000000000", headers=w.h("admin")).status_code == 404
        [entry] = _audit(w, "key.revoke")
        assert (entry.target, entry.key_id, entry.organisation_id) == (_key_id(key), _key_id(w.keys["admin"]), w.orgs["admin"])
        [made_entry] = [e for e in _audit(w, "key.create") if e.target == _key_id(key)]
        assert (made_entry.key_id, made_entry.organisation_id) == (_key_id(w.keys["admin"]), w.orgs["admin"])


def test_a_key_with_an_expiry_is_refused_after_it(sqlite_world: World) -> None:
    w = sqlite_world
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    made = w.client.post(f"/admin/organisations/{w.orgs['plat_p']}/keys", json={"person": "auditor", "expires_at": later},
                         headers=w.h("admin"))
    assert made.status_code == 201 and made.json()["expires_at"], made.text
    key = {"Authorization": f"Bearer {made.json()['key']}"}
    assert w.client.get("/me", headers=key).status_code == 200
    # The hour passes (moved in the database rather than waited for).
    from models.tables import ApiKey

    with w.service.session() as db:
        row = db.get(ApiKey, made.json()["id"])
        assert row is not None and row.expires_at is not None
        row.expires_at = datetime.now(timezone.utc) - timedelta(seconds=1)
        db.add(row)
        db.commit()
    assert w.client.get("/me", headers=key).status_code == 401
    naive = w.client.post(f"/admin/organisations/{w.orgs['plat_p']}/keys",
                          json={"person": "x", "expires_at": "2030-01-01T00:00:00"}, headers=w.h("admin"))
    assert naive.status_code == 422 and "expires_at" in naive.text


def _cli(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MONITOR_DATA_DIR": str(data_dir)}
    environment.pop("DATABASE_URL", None)
    return subprocess.run([MONITOR, *args], capture_output=True, text=True, env=environment, timeout=120)


def test_monitor_admin_revoke_key(tmp_path: Path) -> None:
    assert _cli(["db", "upgrade"], tmp_path).returncode == 0
    assert _cli(["admin", "create-org", "郑州焊接学校", "--kind", "institution"], tmp_path).returncode == 0
    made = _cli(["admin", "create-key", "郑州焊接学校", "--person", "王老师", "--expires", "2099-01-01T00:00:00+08:00"], tmp_path)
    assert made.returncode == 0 and "2099-01-01T00:00:00+08:00" in " ".join(made.stderr.split()), made.stderr
    key = made.stdout.strip()
    naive = _cli(["admin", "create-key", "郑州焊接学校", "--person", "x", "--expires", "2099-01-01"], tmp_path)
    assert naive.returncode != 0 and "offset" in naive.stderr

    from api.core.security import find_key
    from api.core.service import Service
    from api.core.settings import ServiceSettings

    service = Service.from_settings(ServiceSettings(data_dir=tmp_path))
    with service.session() as db:
        assert find_key(db, key) is not None
    revoked = _cli(["admin", "revoke-key", _key_id(key)], tmp_path)
    assert revoked.returncode == 0 and "revoked" in revoked.stderr, revoked.stderr
    with service.session() as db:
        assert find_key(db, key) is None
    assert "revoked" in _cli(["admin", "list"], tmp_path).stdout
    assert _cli(["admin", "revoke-key", "ffffffffffffffff"], tmp_path).returncode != 0
    service.engine.dispose()


# --- 2. pages sessions on the server --------------------------------------------------------

def _sign_in(client: TestClient, key: str) -> None:
    page = client.get("/ui/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    done = client.post("/ui/sign-in", data={"key": key, "csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303, done.text


def _csrf(client: TestClient) -> str:
    page = client.get("/ui/classes")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]


def _cookie_payload(cookie: str) -> dict[str, object]:
    data = cookie.split(".")[0]
    return json.loads(base64.b64decode(data + "=" * (-len(data) % 4)))


def test_a_cookie_kept_from_before_sign_out_opens_nothing(sqlite_world: World) -> None:
    w = sqlite_world
    _sign_in(w.client, w.keys["inspector"])
    kept = w.client.cookies["monitor_session"]
    assert set(_cookie_payload(kept)) == {"sid"}  # only the session's id; nothing else rides in it
    csrf = _csrf(w.client)
    assert w.client.get("/ui/queue", follow_redirects=False).status_code == 200
    out = w.client.post("/ui/sign-out", data={"csrf": csrf}, follow_redirects=False)
    assert out.status_code == 303
    [signed_in] = _audit(w, "page.sign_in")
    assert (signed_in.key_id, signed_in.organisation_id) == (_key_id(w.keys["inspector"]), w.orgs["inspector"])
    # The attacker replays the copied cookie and its CSRF token.
    replay = TestClient(w.client.app, raise_server_exceptions=False, cookies={"monitor_session": kept})
    page = replay.get("/ui/queue", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/ui/sign-in"
    decided = replay.post("/ui/flags/0/decide", data={"csrf": csrf, "outcome": "confirmed", "note": "x"},
                          follow_redirects=False)
    assert decided.status_code == 303 and decided.headers["location"] == "/ui/sign-in"


def test_revoking_the_key_and_idling_end_the_session(sqlite_world: World) -> None:
    from models.tables import PageSession

    w = sqlite_world
    _sign_in(w.client, w.keys["inspector"])
    assert w.client.get("/ui/queue", follow_redirects=False).status_code == 200
    with w.service.session() as db:  # idle longer than session_idle_s (moved in the database, not waited for)
        [row] = db.exec(select(PageSession)).all()
        row.last_seen_at = datetime.now(timezone.utc) - timedelta(seconds=w.service.settings.session_idle_s + 1)
        db.add(row)
        db.commit()
    assert w.client.get("/ui/queue", follow_redirects=False).status_code == 303
    _sign_in(w.client, w.keys["inspector"])
    assert w.client.get("/ui/queue", follow_redirects=False).status_code == 200
    assert w.client.delete(f"/admin/keys/{_key_id(w.keys['inspector'])}", headers=w.h("admin")).status_code == 200
    assert w.client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_the_page_refuses_a_note_longer_than_the_api_allows(sqlite_world: World) -> None:
    w = sqlite_world
    _sign_in(w.client, w.keys["inspector"])
    csrf = _csrf(w.client)
    long = w.client.post("/ui/flags/nothing/decide", data={"csrf": csrf, "outcome": "confirmed", "note": "x" * 4001},
                         follow_redirects=False)
    assert long.status_code == 422 and "4,000" in long.text
    fits = w.client.post("/ui/flags/nothing/decide", data={"csrf": csrf, "outcome": "confirmed", "note": "x" * 4000},
                         follow_redirects=False)
    assert fits.status_code == 404  # the note passed; the flag does not exist


# --- 3. Cache-Control ------------------------------------------------------------------------

def test_personal_data_is_never_cacheable(sqlite_world: World) -> None:
    w = sqlite_world
    for path, headers in (("/me", w.h("inst_a")), ("/classes", w.h("inst_a")), ("/audit", w.h("admin")),
                          ("/classes/x", w.h("inst_a")), ("/ui/sign-in", {})):
        assert w.client.get(path, headers=headers).headers["cache-control"] == "no-store", path
    _sign_in(w.client, w.keys["inspector"])
    for path in ("/ui/queue", "/ui/classes", "/ui/captures/nothing.jpg"):
        assert w.client.get(path).headers["cache-control"] == "no-store", path
    assert w.client.get("/ui/static/style.css").headers["cache-control"] == "private, max-age=3600"


# --- 4. bodies: refused before they are read without a key, limited while read -------------

def _raw(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def test_a_chunked_body_without_a_key_is_refused_before_it_is_read(tmp_path: Path) -> None:
    from tests.pages.conftest import start_server

    server, keys = start_server(tmp_path, (("institution", "school", "institution", "p"),))
    try:
        sock = socket.create_connection(_raw(server.url), timeout=10)
        sock.sendall(b"POST /classes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        block = b"[" + b"0," * (512 * 1024) + b"0]"  # ~1 MB of valid-looking JSON per chunk
        chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
        # The answer comes on the headers alone, before any of the body is sent.
        answer = sock.recv(65536).decode("latin-1")
        assert answer.startswith("HTTP/1.1 401") and "connection: close" in answer.lower(), answer[:300]
        sent = 0
        try:  # the attacker goes on sending 100 MB: the server has closed the connection
            while sent < 100 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        sock.close()
        assert sent < 20 * 1024 * 1024, f"{sent:,} bytes went in after the 401"
        # With a key, a chunked body over the JSON limit is cut off at the limit (413), not read whole.
        sock = socket.create_connection(_raw(server.url), timeout=30)
        sock.sendall(b"POST /classes HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     + f"Authorization: Bearer {keys['institution']}\r\n".encode()
                     + b"Transfer-Encoding: chunked\r\n\r\n")
        sent = 0
        try:
            while sent < 100 * 1024 * 1024:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        answer = sock.recv(65536).decode("latin-1")
        sock.close()
        assert answer.startswith("HTTP/1.1 413"), answer[:300]
        assert sent < 30 * 1024 * 1024, f"{sent:,} bytes were taken for a 2 MB limit"
    finally:
        server.stop()


def test_bodies_are_limited_and_refused_without_a_key(sqlite_world: World) -> None:
    w = sqlite_world
    refused = w.client.post("/flags/x/decisions", content=b"{}", headers={"Content-Type": "application/json"})
    assert refused.status_code == 401 and refused.headers["content-type"] == "application/problem+json"
    big = w.client.post("/flags/x/decisions", content=b" " * (2 * 1024**2 + 1),
                        headers={**w.h("inspector"), "Content-Type": "application/json"})
    assert big.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b" " * 1024**2

    chunked = w.client.post("/flags/x/decisions", content=chunks(), headers={**w.h("inspector"), "Content-Type": "application/json"})
    assert chunked.status_code == 413 and chunked.headers["content-type"] == "application/problem+json"


# --- 5. uploads: one writer, finish closes, the stored file is what was acknowledged --------

@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from sample_videos.make_sample import make_sample_class

    sample = make_sample_class(tmp_path_factory.mktemp("sample"))
    return min(sample.parent.glob("*.mp4"), key=lambda p: p.stat().st_size).read_bytes()


def test_one_writer_per_upload_and_finish_closes_it(tmp_path: Path, recording: bytes) -> None:
    import hashlib
    import stat
    import threading

    import httpx

    from tests.pages.conftest import start_server

    server, keys = start_server(tmp_path, (("institution", "school", "institution", "p"),))
    key = {"Authorization": f"Bearer {keys['institution']}"}
    manifest = {"class_id": "UP-1", "teachers": [{"id": "E1"}],
                "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                              "end": "2026-11-20T08:45:00+08:00"}], "roster": [{"id": "T1", "name": "张伟"}]}
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            klass = http.post("/classes", json=manifest, headers=key).json()["id"]
            upload = http.post(f"/classes/{klass}/uploads", json={"name": "a.mp4"}, headers=key).json()["id"]
            half = len(recording) // 2
            go_on = threading.Event()
            slow: dict[str, httpx.Response] = {}

            def slow_body() -> Iterator[bytes]:
                yield recording[:1024]
                go_on.wait(20)  # held open while the attacker tries the same offset and a finish
                yield recording[1024:half]

            def send_slowly() -> None:
                with httpx.Client(base_url=server.url, timeout=60) as other:
                    slow["r"] = other.patch(f"/uploads/{upload}", content=slow_body(), headers={**key, "Upload-Offset": "0"})

            writer = threading.Thread(target=send_slowly)
            writer.start()
            time.sleep(1.0)
            # The same offset at the same time: refused, not interleaved.
            same = http.patch(f"/uploads/{upload}", content=b"\x00" * 5000, headers={**key, "Upload-Offset": "0"})
            assert same.status_code == 409 and same.json()["type"] == "/problems/upload-busy", same.text
            # finish while the chunk streams: refused; the chunk's bytes cannot land in a stored file.
            early = http.post(f"/uploads/{upload}/finish", headers=key)
            assert early.status_code == 409, early.text
            go_on.set()
            writer.join(30)
            assert slow["r"].status_code == 200 and slow["r"].headers["Upload-Offset"] == str(half), slow["r"].text
            rest = http.patch(f"/uploads/{upload}", content=recording[half:], headers={**key, "Upload-Offset": str(half)})
            assert rest.status_code == 200, rest.text
            done = http.post(f"/uploads/{upload}/finish", headers=key)
            assert done.status_code == 201, done.text
            acknowledged = done.json()["sha256"]
            assert acknowledged == hashlib.sha256(recording).hexdigest()
            # After finish no chunk writes, at any offset.
            for offset in (0, len(recording)):
                late = http.patch(f"/uploads/{upload}", content=b"\xff" * 100, headers={**key, "Upload-Offset": str(offset)})
                assert late.status_code == 409 and late.json()["type"] == "/problems/upload-finished", late.text
        service = server.app.state.service
        stored = service.storage / "media" / done.json()["id"]
        assert hashlib.sha256(stored.read_bytes()).hexdigest() == acknowledged
        assert not stored.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only on disk
        with service.session() as db:
            appends = db.exec(select(AuditEntry).where(AuditEntry.action == "upload.append").order_by(AuditEntry.id)).all()
        assert [(a.detail["offset"], a.detail["size_bytes"]) for a in appends] == [(0, half), (half, len(recording) - half)]  # type: ignore[index]
        assert appends[0].detail["sha256"] == hashlib.sha256(recording[:half]).hexdigest()  # type: ignore[index]
        assert all(a.key_id == _key_id(keys["institution"]) and a.organisation_id for a in appends)
    finally:
        server.stop()


# --- 6. forwarded headers only from trusted proxies -----------------------------------------

def _sign_in_addresses(tmp_path: Path, **settings: str) -> list[str]:
    """Two failed sign-ins from 127.0.0.1 claiming other addresses by X-Forwarded-For; the
    addresses the server counted them under (the rate limit's key, audited)."""
    import httpx

    from api.demo import BackgroundServer
    from api.core.settings import ServiceSettings
    from models.migrate import upgrade
    from tests.pages.conftest import _port

    config = ServiceSettings(data_dir=tmp_path / "data", cache_dir=tmp_path / "cache", **settings)  # type: ignore[arg-type]
    upgrade(config.db_url)
    server = BackgroundServer(config, "127.0.0.1", _port())
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            page = http.get("/ui/sign-in")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            for n in (1, 2):
                r = http.post("/ui/sign-in", data={"key": "tm_0000000000000000_x", "csrf": csrf},
                              headers={"X-Forwarded-For": f"203.0.113.{n}"})
                assert r.status_code == 401, r.text
        with server.app.state.service.session() as db:
            return [e.target for e in db.exec(select(AuditEntry).where(AuditEntry.action == "page.sign_in_refused")).all()]
    finally:
        server.stop()


def test_forwarded_addresses_are_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    assert _sign_in_addresses(tmp_path / "open") == ["127.0.0.1", "127.0.0.1"]
    assert _sign_in_addresses(tmp_path / "proxied", trusted_proxies="127.0.0.1") == ["203.0.113.1", "203.0.113.2"]


# --- 7. no 500 on odd query values ------------------------------------------------------------

def test_odd_instants_and_numbers_are_422_naming_the_parameter(sqlite_world: World) -> None:
    w = sqlite_world
    for path, who, name in (("/sessions?since=2026-11-20T08:00:00", "plat_p", "since"),
                            ("/flags?since=2026-11-20T08:00:00", "inspector", "since"),
                            ("/flags?until=2026-11-20", "inspector", "until"),
                            ("/flags?since=0001-01-01T00:00:00%2B08:00", "inspector", "since"),
                            ("/flags?until=9999-12-31T23:59:59-08:00", "inspector", "until"),
                            ("/sessions?since=9999-12-31T23:59:59-08:00", "plat_p", "since")):
        r = w.client.get(path, headers=w.h(who))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == name, (path, r.text)
    for start in ("2026-11-20T08:00:00", "0001-01-01T00:00:00"):
        cursor = base64.urlsafe_b64encode(json.dumps([start, "f"]).encode()).decode()
        r = w.client.get("/flags", params={"cursor": cursor}, headers=w.h("inspector"))
        assert r.status_code == 400 and "cursor" in r.text, r.text
    for value in ("NaN", "Infinity", "-Infinity"):
        r = w.client.put("/courses/C1", content=f'{{"units": ["U1"], "total_hours": {value}}}'.encode(),
                         headers={**w.h("plat_p"), "Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "total_hours" and value in r.text, r.text
    _sign_in(w.client, w.keys["inspector"])
    for query in ("until=9999-12-31", "since=0001-01-01", "since=9999-12-31"):
        r = w.client.get(f"/ui/queue?{query}")
        assert r.status_code == 422, (query, r.status_code)


def test_a_finish_that_fails_leaves_the_upload_open(sqlite_world: World) -> None:
    """Closing is for good only when a recording is stored: unusable media (422) reopens it, so the
    client can still send the rest."""
    w = sqlite_world
    manifest = {"class_id": "UP-2", "teachers": [{"id": "E1"}],
                "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                              "end": "2026-11-20T08:45:00+08:00"}], "roster": [{"id": "T1", "name": "张伟"}]}
    klass = w.client.post("/classes", json=manifest, headers=w.h("inst_a")).json()["id"]
    upload = w.client.post(f"/classes/{klass}/uploads", json={"name": "a.mp4"}, headers=w.h("inst_a")).json()["id"]
    assert w.client.patch(f"/uploads/{upload}", content=b"\x00" * 100, headers={**w.h("inst_a"), "Upload-Offset": "0"}).status_code == 200
    assert w.client.post(f"/uploads/{upload}/finish", headers=w.h("inst_a")).status_code == 422
    more = w.client.patch(f"/uploads/{upload}", content=b"\x00" * 50, headers={**w.h("inst_a"), "Upload-Offset": "100"})
    assert more.status_code == 200 and more.headers["Upload-Offset"] == "150", more.text
    # A chunk that is done leaves no claim behind (the next one is not kept waiting).
    with w.service.session() as db:
        from models.tables import Upload

        assert db.get(Upload, upload).writer is None  # type: ignore[union-attr]


def test_the_upload_claim_is_a_compare_and_set_on_both_databases(world: World) -> None:
    """What holds across API processes is the database's update: on SQLite and PostgreSQL alike,
    one claim wins, a second at the same offset loses, a stale one is taken over, a closed
    upload is never claimed."""
    from api.deps import Caller
    from api.store.uploads import _claim, _close, _renew
    from models.tables import ApiKey, Organisation, Upload

    w = world
    manifest = {"class_id": "UP-3", "teachers": [{"id": "E1"}],
                "schedule": [{"index": 1, "kind": "practical", "start": "2026-11-20T08:00:00+08:00",
                              "end": "2026-11-20T08:45:00+08:00"}], "roster": [{"id": "T1", "name": "张伟"}]}
    klass = w.client.post("/classes", json=manifest, headers=w.h("inst_a")).json()["id"]
    upload_id = w.client.post(f"/classes/{klass}/uploads", json={"name": "a.mp4"}, headers=w.h("inst_a")).json()["id"]
    with w.service.session() as db:
        caller = Caller(db.get(ApiKey, _key_id(w.keys["inst_a"])), db.get(Organisation, w.orgs["inst_a"]))  # type: ignore[arg-type]
        first = _claim(db, caller, upload_id, 0, stale_s=60)
        assert first and _claim(db, caller, upload_id, 0, stale_s=60) is None
        assert not _close(db, caller, db.get(Upload, upload_id), stale_s=60)  # type: ignore[arg-type]  # a live writer holds it
        time.sleep(0.3)
        second = _claim(db, caller, upload_id, 0, stale_s=0.1)  # the first went silent: taken over
        assert second and second != first and not _renew(db, upload_id, first) and _renew(db, upload_id, second)
        assert _close(db, caller, db.get(Upload, upload_id), stale_s=0.0)  # type: ignore[arg-type]
        assert not _renew(db, upload_id, second) and _claim(db, caller, upload_id, 0, stale_s=0.0) is None


def test_an_admin_revokes_a_key_on_the_admin_page(sqlite_world: World) -> None:
    w = sqlite_world
    _sign_in(w.client, w.keys["admin"])
    page = w.client.get("/ui/admin/keys")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    target = _key_id(w.keys["inst_a"])
    assert f'data-key="{target}"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert w.client.post(f"/ui/admin/keys/{target}/revoke", data={}, follow_redirects=False).status_code == 403  # no CSRF token
    done = w.client.post(f"/ui/admin/keys/{target}/revoke", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert w.client.get("/me", headers=w.h("inst_a")).status_code == 401
    [entry] = _audit(w, "key.revoke")
    assert (entry.target, entry.key_id, entry.organisation_id) == (target, _key_id(w.keys["admin"]), w.orgs["admin"])
    # Not for an institution's person.
    school = TestClient(w.client.app, raise_server_exceptions=False)
    _sign_in(school, w.keys["inst_b"])
    assert school.get("/ui/admin/keys").status_code == 403
    theirs = re.search(r'name="csrf" value="([^"]+)"', school.get("/ui/classes").text).group(1)  # type: ignore[union-attr]
    assert school.post(f"/ui/admin/keys/{_key_id(w.keys['admin'])}/revoke", data={"csrf": theirs},
                       follow_redirects=False).status_code == 403
