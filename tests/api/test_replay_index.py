"""The replay index (issue #20): multi-index hashing over the stored face hashes finds exactly
what comparing with every stored hash finds, on SQLite and PostgreSQL alike; the face checks'
question (the nearest photo, or usable capture taken before, within the profile's distance) gets
the same answer from the index as from a full scan."""

from __future__ import annotations

import random
from itertools import product
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import imagehash
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import delete
from sqlmodel import Session

from api.store.replay import BLOCK_BITS, BLOCKS, StoredReplay, add_rows, as_int, hash_columns, within
from models.db import make_engine
from models.tables import FaceHash, Learner, Organisation
from monitor.online.events import TYPE_ORDER, LearningEvent
from monitor.policy import load_policy

D = load_policy("zhengzhou-2022").face_replay_max_bits  # the policy's distance (8)
ORG, LEARNER = "a" * 32, "b" * 32
T0 = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)


@pytest.fixture
def db(db_url: str) -> Iterator[Session]:
    engine = make_engine(db_url)
    with Session(engine) as session:
        session.add(Organisation(id=ORG, name="learn.example", kind="platform"))
        session.flush()
        session.add(Learner(id=LEARNER, organisation_id=ORG, learner_ref="L1"))
        session.commit()
        yield session
    engine.dispose()


def _flip(value: int, bits: list[int]) -> int:
    for b in bits:
        value ^= 1 << b
    return value


def _store(db: Session, hashes: list[int], *, photos: int = 0, px: list[tuple[int, int]] | None = None) -> None:
    """Rows for the hashes: the first `photos` enrolment photos, the rest captures an hour apart."""
    db.exec(delete(FaceHash))  # type: ignore[call-overload]
    rows: list[dict[str, Any]] = []
    for k, value in enumerate(hashes):
        face_px, second_px = (px[k] if px else (120, 0))
        common = {"organisation_id": ORG, "learner_id": LEARNER, "face_px": face_px, "second_px": second_px,
                  "nonce": None, **hash_columns(value)}
        if k < photos:
            rows.append({**common, "kind": "photo", "ref": f"photo{k}", "session": None, "image": f"p/{k}",
                         "source": f"enrolment photo of x#{k}", "at_s": None, "rank": None})
        else:
            rows.append({**common, "kind": "capture", "ref": f"{ORG}:e{k:05d}", "session": f"{LEARNER}:S",
                         "image": f"captures/c{k}", "source": f"c{k}", "at_s": (T0 + timedelta(hours=k)).timestamp(),
                         "rank": TYPE_ORDER["face_capture"]})
    add_rows(db, rows)
    db.flush()


bits64 = st.integers(min_value=0, max_value=(1 << 64) - 1)
flips = st.lists(st.integers(min_value=0, max_value=63), max_size=D + 3, unique=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(centre=bits64, near=st.lists(flips, min_size=1, max_size=25), far=st.lists(bits64, max_size=25),
       query_flips=flips, d=st.integers(min_value=0, max_value=D))
def test_the_index_finds_exactly_what_a_full_scan_finds(db: Session, centre: int, near: list[list[int]], far: list[int],
                                                         query_flips: list[int], d: int) -> None:
    """Stored: hashes within a few bits of a centre (some within d of the query, some just past
    it) and random ones; the query near the centre. Both ways give the same rows and distances."""
    stored = [_flip(centre, f) for f in near] + far
    _store(db, stored)
    query = _flip(centre, query_flips)
    expected = within(db, query, d, scan=True)
    assert within(db, query, d) == expected
    assert set(expected.values()) <= set(range(d + 1))
    assert sorted(expected.values()) == sorted(
        (v ^ query).bit_count() for v in stored if (v ^ query).bit_count() <= d)


def _spread(d: int) -> list[tuple[int, ...]]:
    """Every way of putting d flipped bits into the four 16-bit blocks (at most 16 a block)."""
    return [c for c in product(range(min(d, 16) + 1), repeat=BLOCKS) if sum(c) == d]


@pytest.mark.parametrize("d", range(0, 13))
def test_a_hash_d_bits_away_is_found_however_its_bits_fall_in_the_blocks(db: Session, d: int) -> None:
    """The worst cases of the pigeonhole the uneven radii rely on: for each way d differing bits
    can fall into the blocks, a stored hash exactly that far, in each block's lowest bits, is
    found at distance d and not at d - 1 (random hashes rarely hit these corners)."""
    centre = 0x0123_4567_89AB_CDEF
    stored = [_flip(centre, [b + BLOCK_BITS * (BLOCKS - 1 - i) for i, n in enumerate(c) for b in range(n)])
              for c in _spread(d)]
    _store(db, stored)
    found = within(db, centre, d)
    assert sorted(found.values()) == [d] * len(stored)
    if d:
        assert within(db, centre, d - 1) == {}


def test_hashes_with_the_top_bit_set_round_trip(db: Session) -> None:
    """A 64-bit hash over 2^63 is kept as a signed BIGINT and found again."""
    top = (1 << 64) - 1
    _store(db, [top, 1 << 63, 0])
    assert sorted(within(db, top, 0).values()) == [0]
    assert sorted(within(db, 1 << 63, 1).values()) == [0, 1]  # itself, and 0 one bit away


def _event(k: int, image: str = "q") -> LearningEvent:
    return LearningEvent(f"{ORG}:e{k:05d}", "face_capture", T0 + timedelta(hours=k), "l", "S", ORG, "C", image=image)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(min_value=0, max_value=2 ** 32), when=st.integers(min_value=0, max_value=40),
       photos=st.integers(min_value=0, max_value=3))
def test_the_replay_question_gets_the_full_scans_answer(db: Session, seed: int, when: int, photos: int) -> None:
    """Captures near one face over 40 hours (some unusable: two faces, a face too small), a few
    photos; a capture at hour `when`: the nearest photo or earlier usable capture within the
    profile's distance, by the index and by a scan, is the same (ties to photos, then earliest)."""
    rng = random.Random(seed)
    centre = rng.getrandbits(64)
    stored = [_flip(centre, rng.sample(range(64), rng.randint(0, D + 2))) for _ in range(40)]
    px = [rng.choice([(120, 0), (120, 0), (120, 90), (40, 0)]) for _ in stored]
    _store(db, stored, photos=photos, px=px)
    query = imagehash.hex_to_hash(f"{_flip(centre, rng.sample(range(64), rng.randint(0, D))):016x}")
    e = _event(when)
    indexed = StoredReplay(db, min_face_px=60).nearest_before(query, e, D)
    scanned = StoredReplay(db, min_face_px=60, scan=True).nearest_before(query, e, D)
    assert indexed == scanned
    # and by hand: the earlier usable captures and the photos, nearest first
    value = as_int(query)
    pool = [((v ^ value).bit_count(), 0 if k < photos else 1, k) for k, v in enumerate(stored)
            if k < photos or (k < when and px[k][0] >= 60 and px[k][1] < 60)]
    pool = [p for p in pool if p[0] <= D]
    if not pool:
        assert indexed is None
    else:
        distance, _, k = min(pool)
        assert indexed == ((f"enrolment photo of x#{k}" if k < photos else f"c{k}"), distance)
