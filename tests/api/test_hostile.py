"""Hostile input (issue #7), each named: every one is answered with a clear error (problem
details, or the record listed as rejected) and nothing accepted before is lost."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from PIL import Image
from sqlmodel import func, select

from models.tables import Event, Recording
from sample_videos.make_sample import ROSTER, as_sent, make_sample_class
from sample_videos.writer import write_video
from tests.api.conftest import World, make_world
from tests.monitor.online.builders import clean_session


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_class(tmp_path_factory.mktemp("sample"))


@pytest.fixture
def hostile_world(sqlite_url: str, tmp_path: Path) -> Iterator[World]:
    yield from make_world(sqlite_url, tmp_path / "data", max_batch_bytes=200_000)


def _video(path: Path, size: tuple[int, int], fps: int, frames: int = 4) -> bytes:
    picture = np.full((size[1], size[0], 3), 90, np.uint8)
    write_video(path, ((k, picture) for k in range(frames)), fps, size)
    return path.read_bytes()


def _bomb() -> bytes:
    """A PNG of 30,000 x 30,000 pixels (900 million) that is a few hundred kilobytes."""
    out = io.BytesIO()
    Image.new("1", (30_000, 30_000)).save(out, "PNG")
    return out.getvalue()


def _counts(w: World) -> tuple[int, int]:
    with w.service.session() as db:
        return (db.exec(select(func.count()).select_from(Event)).one(),
                db.exec(select(func.count()).select_from(Recording)).one())


def test_hostile_inputs_are_refused_clearly_and_lose_nothing(hostile_world: World, sample: Path, tmp_path: Path) -> None:
    w = hostile_world
    manifest = json.loads(sample.read_text())
    manifest["roster"] = ROSTER
    klass = w.client.post("/classes", json=as_sent(manifest), headers=w.h("inst_a")).json()
    first = sorted(sample.parent.glob("*.mp4"))[0]
    school = {**w.h("inst_a"), "Content-Type": "application/octet-stream"}

    def upload(name: str, data: bytes) -> Any:
        return w.client.post(f"/classes/{klass['id']}/recordings", params={"name": name}, content=data, headers=school)

    assert upload(first.name, first.read_bytes()).status_code == 201
    events = clean_session(platform="learn.example").events
    assert w.client.post("/events", json=events, headers=w.h("plat_p")).json()["accepted"] == len(events)
    before = _counts(w)
    now = datetime.now(timezone.utc)
    good = events[3]

    def batch(records: list[dict[str, Any]] | str) -> Any:
        body = records if isinstance(records, str) else "\n".join(json.dumps(r) for r in records)
        return w.client.post("/events", content=body, headers={**w.h("plat_p"), "Content-Type": "application/x-ndjson"})

    def rejected(field: str) -> Callable[[Any], bool]:
        return lambda r: r.status_code == 200 and [x["field"] for x in r.json()["rejected"]] == [field]

    def problem(status: int, words: str = "") -> Callable[[Any], bool]:
        return lambda r: (r.status_code == status and r.headers["content-type"].startswith("application/problem+json")
                          and words in r.json()["detail"])

    cases: dict[str, tuple[Callable[[], Any], Callable[[Any], bool]]] = {
        "truncated video": (lambda: upload("cut.mp4", first.read_bytes()[: first.stat().st_size // 3]), problem(422)),
        "not media behind a video name": (lambda: upload("video.mp4", b"MZ\x90\x00 this is no video" * 100), problem(422)),
        "absurd picture size": (lambda: upload("wide.mp4", _video(tmp_path / "wide.mp4", (8704, 32), 5)),
                                problem(422, "picture size")),
        "absurd frame rate": (lambda: upload("fast.mp4", _video(tmp_path / "fast.mp4", (64, 48), 1000, 8)),
                              problem(422, "frames a second")),
        "path tricks in a recording's name": (lambda: upload("../../../etc/cron.d/evil.mp4", first.read_bytes()),
                                              lambda r: r.status_code in (201, 422)),
        "decompression bomb as a capture": (lambda: w.client.post("/captures", content=_bomb(), headers=w.h("plat_p")),
                                            problem(422)),
        "decompression bomb as a roster photo": (
            lambda: w.client.put(f"/classes/{klass['id']}/roster/{manifest['roster'][0]['id']}/photo", content=_bomb(),
                                 headers=w.h("inst_a")), problem(422)),
        "a huge JSON batch": (lambda: batch([{**good, "id": f"huge-{n}"} for n in range(2_000)]), problem(413)),
        "deeply nested JSON": (lambda: batch("[" * 100_000 + "]" * 100_000), lambda r: r.status_code in (200, 400)
                               and "nested" in r.text),
        "an event far in the future": (lambda: batch([{**good, "id": "future", "at": (now + timedelta(days=400)).isoformat()}]),
                                       rejected("at")),
        "an event far in the past": (lambda: batch([{**good, "id": "past", "at": "1970-01-01T08:00:00+08:00"}]),
                                     rejected("at")),
        "non-UTF-8 text": (lambda: w.client.post("/events", content=b'{"id": "\xff\xfe"}',
                                                 headers={**w.h("plat_p"), "Content-Type": "application/x-ndjson"}),
                           problem(400, "UTF-8")),
        "another tenant's key on a class": (lambda: w.client.get(f"/classes/{klass['id']}", headers=w.h("inst_b")),
                                            problem(404)),
    }
    outcomes = {}
    for name, (send, expected) in cases.items():
        answer = send()
        outcomes[name] = expected(answer)
        assert answer.status_code < 500, (name, answer.status_code, answer.text[:300])
    assert outcomes == {name: True for name in cases}
    events_after, recordings_after = _counts(w)
    assert events_after == before[0]  # nothing refused was stored, nothing stored was lost
    assert recordings_after in (before[1], before[1] + 1)  # + the recording whose name was only a path trick
    with w.service.session() as db:
        for recording in db.exec(select(Recording)).all():
            stored = w.service.storage.resolve()
            assert (stored / recording.stored_name).resolve().is_relative_to(stored), recording.stored_name
