"""The service's commands through the real executable: migrate, register, make a key; errors are
one line and exit 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sample_videos.make_sample import SHARED_FACES

MONITOR = str(Path(sys.executable).parent / "monitor")


def _run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "MONITOR_DATA_DIR": str(data_dir), **env}
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    return subprocess.run([MONITOR, *args], capture_output=True, text=True, env=environment, timeout=120)


def test_migrate_register_and_make_a_key(tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    assert (tmp_path / "monitor.db").is_file()
    made = _run(["admin", "create-org", "郑州焊接学校", "--kind", "institution"], tmp_path)
    assert made.returncode == 0, made.stderr
    key = _run(["admin", "create-key", "郑州焊接学校", "--person", "王老师"], tmp_path)
    assert key.returncode == 0, key.stderr
    assert key.stdout.strip().startswith("tm_") and "shown once" in key.stderr
    listed = _run(["admin", "list"], tmp_path)
    assert "郑州焊接学校" in listed.stdout and "王老师" in listed.stdout

    from api.core.security import find_key
    from api.core.service import Service
    from api.core.settings import ServiceSettings

    service = Service.from_settings(ServiceSettings(data_dir=tmp_path))
    with service.session() as db:
        found = find_key(db, key.stdout.strip())
        assert found is not None and found.role == "institution" and found.secret_sha256 not in key.stdout
    service.engine.dispose()


def test_errors_are_one_line(tmp_path: Path) -> None:
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    for args, words in ((["admin", "create-org", "X", "--kind", "bank"], "kind"),
                        (["admin", "create-key", "nobody", "--person", "p"], "no organisation")):
        done = _run(args, tmp_path)
        assert done.returncode == 2 and words in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    unreachable = _run(["db", "upgrade"], tmp_path, DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert unreachable.returncode == 2 and "database cannot be used" in unreachable.stderr
    assert len(unreachable.stderr.strip().splitlines()) == 1


@pytest.mark.slow  # a long run: `make test` runs it after the main suite (see the Makefile)
def test_the_demo_loads_the_samples_through_the_api(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run([MONITOR, "demo", "--out", str(tmp_path), "--no-serve", "--port", str(port)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"http://127.0.0.1:{port}" in done.stdout
    assert "footage.loop" in done.stdout and "invalid" in done.stdout
    assert "flags waiting for an inspector: " in done.stdout
    flags = int(done.stdout.split("flags waiting for an inspector: ")[1].split()[0])
    assert flags > 1  # the tampered hour and the planted online violations
    # the sample class's roster photos from ../shared/data where present (#17), else said plainly
    if SHARED_FACES.is_dir():
        assert "attendance: roster 4, present at the opening 3, subsidisable headcount 3.0" in done.stdout
        assert "absent from some hours: T-4" in done.stdout
    else:
        assert "no roster photos" in done.stderr and "attendance:" not in done.stdout
    assert (tmp_path / "service" / "monitor.db").is_file()
