"""The replay index (issue #20): every capture's and enrolment photo's face hash, kept in the
database and searched by multi-index hashing instead of by comparing a capture with every capture
ever taken.

The 64-bit perceptual hash is cut into four 16-bit blocks, each an indexed column. Two hashes
within d bits of each other differ, for any radii r_i with sum(r_i + 1) > d, in at most r_i bits
in some block i (pigeonhole: otherwise they differ in at least sum(r_i + 1) bits), so the
candidates of a lookup are the rows whose block i is within r_i bits of the query's block i, for
some i. The radii are split as evenly as that allows, larger first: (2, 1, 1, 1) for d = 8, 188
index probes (137 + 3 x 17) and about 2,900 candidates at a million random rows, where radius
d // 4 on every block gave 548 probes and 8,400 candidates (measured 5x slower on SQLite).
Whatever the number of rows, the probes stay the same. Each candidate's Hamming distance is
then verified. It is plain SQL (IN lists on integer
columns), alike on SQLite and PostgreSQL; `scan=True` runs the same question over every row (the
tests' oracle and the benchmark's baseline).

Rows: a capture event's row is made when the event is stored, its faces still to be found
(`face_px` NULL); the judging job finds them (once per image, kept in image_face) before it
judges. An enrolment photo version's row is made when it is added. Nothing here reads an image
but `find_pending`'s caller."""

from __future__ import annotations

import math

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any, Iterable, Sequence

import imagehash
import numpy as np
from sqlalchemy import text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from models.tables import FaceHash, ImageFace, Learner, LearnerPhoto
from models.types import utcnow
from monitor.faces.detect import Face
from monitor.online.events import TYPE_ORDER, LearningEvent
from monitor.online.faces import CAPTURE_TYPES

BLOCKS = 4
BLOCK_BITS = 16
_MASK = (1 << BLOCK_BITS) - 1
_MAX_PROBES = 2000  # values a block: past it (d of 16 bits or more), a lookup scans instead
_CHUNK = 500


def as_int(hash_: imagehash.ImageHash | str) -> int:
    """The hash as an unsigned 64-bit integer (its hex form read as a number)."""
    return int(str(hash_), 16)


def signed(value: int) -> int:
    """Unsigned 64-bit to the signed value a BIGINT column holds, and back (`unsigned`)."""
    return value - (1 << 64) if value >= 1 << 63 else value


def unsigned(value: int) -> int:
    return value + (1 << 64) if value < 0 else value


def blocks(value: int) -> list[int]:
    """The four 16-bit blocks of an unsigned hash, most significant first."""
    return [(value >> (BLOCK_BITS * (BLOCKS - 1 - i))) & _MASK for i in range(BLOCKS)]


@lru_cache(maxsize=8)
def _flips(radius: int) -> tuple[int, ...]:
    """Every 16-bit mask of at most `radius` bits."""
    out = [0]
    for r in range(1, radius + 1):
        out.extend(sum(1 << b for b in bits) for bits in combinations(range(BLOCK_BITS), r))
    return tuple(out)


def neighbourhood(block: int, radius: int) -> list[int]:
    return [block ^ m for m in _flips(radius)]


def radii(max_bits: int) -> list[int]:
    """The smallest radii a block with sum(r_i + 1) > max_bits (see the module's docstring): the
    fewest probes and candidates that still find every hash within `max_bits`."""
    total = max(0, max_bits + 1 - BLOCKS)
    return [total // BLOCKS + (1 if i < total % BLOCKS else 0) for i in range(BLOCKS)]


def hash_columns(value: int | None) -> dict[str, Any]:
    if value is None:
        return {"hash": None, "b0": None, "b1": None, "b2": None, "b3": None}
    b = blocks(value)
    return {"hash": signed(value), "b0": b[0], "b1": b[1], "b2": b[2], "b3": b[3]}


# --- rows in -----------------------------------------------------------------------------

def capture_rows(organisation_id: str, learner: Learner, events: Iterable[LearningEvent]) -> list[dict[str, Any]]:
    """The index rows of a platform's capture events (the engine's names: `<platform>:<event id>`,
    `<learner id>:<session>`), faces not yet found."""
    rows = []
    for e in events:
        if e.type not in CAPTURE_TYPES or not (e.image or e.images):
            continue
        image = (e.images or [e.image])[0]
        rows.append({"kind": "capture", "ref": f"{organisation_id}:{e.id}", "organisation_id": organisation_id,
                     "learner_id": learner.id, "session": f"{learner.id}:{e.session}", "image": f"captures/{image}",
                     "source": image, "at_s": e.at.timestamp(), "rank": TYPE_ORDER[e.type], "nonce": e.nonce,
                     "face_px": None, "second_px": None, **hash_columns(None)})
    return rows


def photo_row(photo: LearnerPhoto) -> dict[str, Any]:
    return {"kind": "photo", "ref": photo.id, "organisation_id": photo.organisation_id, "learner_id": photo.learner_id,
            "session": None, "image": photo.stored_name, "source": f"enrolment photo of {photo.learner_id}#{photo.version}",
            "at_s": None, "rank": None, "nonce": None, "face_px": None, "second_px": None, **hash_columns(None)}


def _insert_new(db: Session, table: Any, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING on either database (events.insert_ignoring_conflicts's
    form; that module imports this one)."""
    if rows:
        dialect = postgresql if db.get_bind().dialect.name == "postgresql" else sqlite
        db.connection().execute(dialect.insert(table).on_conflict_do_nothing(index_elements=keys), list(rows))


def add_rows(db: Session, rows: Sequence[dict[str, Any]]) -> None:
    now = utcnow()
    _insert_new(db, FaceHash.__table__, [{**r, "created_at": now} for r in rows], ["kind", "ref"])


# --- faces found once per image ---------------------------------------------------------------

def face_json(face: Face) -> dict[str, Any]:
    return {"box": list(face.box), "encoding": face.encoding.tolist(), "hash": str(face.face_hash), "px": face.height_px}


def face_of(data: dict[str, Any]) -> Face:
    box = tuple(data["box"]) if data.get("box") else (0, 0, int(data["px"]), 0)
    encoding = np.asarray(data["encoding"], dtype=np.float64) if data.get("encoding") is not None else np.full(128, np.nan)
    return Face(box, encoding, imagehash.hex_to_hash(data["hash"]))  # type: ignore[arg-type]


@dataclass
class Pending:
    id: int
    kind: str
    image: str
    ref: str


def pending(db: Session, limit: int = 200) -> list[Pending]:
    """Rows whose faces were not looked for yet, oldest first."""
    rows = db.exec(select(FaceHash.id, FaceHash.kind, FaceHash.image, FaceHash.ref)
                   .where(FaceHash.face_px.is_(None)).order_by(FaceHash.id).limit(limit)).all()  # type: ignore[union-attr]
    return [Pending(*r) for r in rows]


def known_faces(db: Session, images: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    listed = sorted(set(images))
    out: dict[str, list[dict[str, Any]]] = {}
    for start in range(0, len(listed), _CHUNK):
        for image, faces in db.exec(select(ImageFace.image, ImageFace.faces)
                                    .where(ImageFace.image.in_(listed[start:start + _CHUNK]))).all():  # type: ignore[attr-defined]
            out[image] = faces
    return out


def deleted_images(db: Session, images: Iterable[str]) -> set[str]:
    """Which of these images were deleted past their retention period (api/store/retention.py)."""
    listed = sorted(set(images))
    out: set[str] = set()
    for start in range(0, len(listed), _CHUNK):
        out.update(db.exec(select(ImageFace.image).where(ImageFace.image.in_(listed[start:start + _CHUNK]),  # type: ignore[attr-defined]
                                                         ImageFace.deleted_at.is_not(None))).all())  # type: ignore[union-attr]
    return out


def record_faces(db: Session, found: dict[str, list[dict[str, Any]]], rows: Sequence[Pending]) -> None:
    """Keep each image's faces (tallest first) and fill its rows' heights and hash. A photo's hash
    counts only when it shows one face (an enrolment photo must)."""
    _insert_new(db, ImageFace.__table__, [
        {"image": image, "faces": faces, "found_at": utcnow(), "deleted_at": None} for image, faces in found.items()], ["image"])
    faces_of = known_faces(db, [r.image for r in rows])
    for r in rows:
        faces = sorted(faces_of.get(r.image, []), key=lambda f: -int(f["px"]))
        tallest = int(faces[0]["px"]) if faces else 0
        second = int(faces[1]["px"]) if len(faces) > 1 else 0
        value = as_int(faces[0]["hash"]) if faces and (r.kind == "capture" or len(faces) == 1) else None
        db.exec(update(FaceHash).where(FaceHash.id == r.id).values(  # type: ignore[call-overload,arg-type]
            face_px=tallest, second_px=second, **hash_columns(value)))


# --- lookups ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Stored:
    id: int
    kind: str
    ref: str
    source: str
    at_s: float | None
    rank: int | None
    hash: int  # unsigned
    face_px: int | None
    second_px: int | None


_PROBE = "SELECT id, hash FROM face_hash WHERE hash IS NOT NULL"
_DETAILS = "SELECT id, kind, ref, source, at_s, rank, hash, face_px, second_px FROM face_hash WHERE id IN ({})"


def _literal_bound(at_most_s: float) -> float:
    """A bound written into SQL must be a number SQL reads: infinities clamped, and NaN (which
    no capture time is at most, as when it was bound) a bound below every capture."""
    return -1e300 if math.isnan(at_most_s) else min(max(at_most_s, -1e300), 1e300)


def candidates(db: Session, value: int, max_bits: int, *, at_most_s: float | None = None, scan: bool = False) -> list[Stored]:
    """Rows within `max_bits` of `value`, photos always, captures only up to `at_most_s` when it
    is given. Two reads: the candidates' ids and hashes from the block indexes alone (they hold
    both), verified here; then the few within the distance, whole. The probes are integers
    written into the statement (a few hundred bound parameters cost more to bind than to run),
    and the candidates, thousands at a million rows, are fetched by the driver's own cursor in the
    session's transaction: through SQLAlchemy's result rows they cost twice the query (measured
    at 1 M rows: 8 ms p50 -> 4 ms on SQLite, 6 -> 3 ms on PostgreSQL)."""
    spread = radii(max_bits)
    bound = None if at_most_s is None else _literal_bound(float(at_most_s))
    when = "" if bound is None else f" AND (kind = 'photo' OR at_s <= {bound!r})"
    if scan or len(_flips(spread[0])) > _MAX_PROBES:
        statement = _PROBE + when
    else:
        statement = " UNION ALL ".join(
            f"{_PROBE} AND b{i} IN ({','.join(map(str, neighbourhood(block, radius)))}){when}"
            for i, (block, radius) in enumerate(zip(blocks(value), spread)))
    cursor = db.connection().connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
        near = {row_id for row_id, stored in cursor.fetchall() if (unsigned(stored) ^ value).bit_count() <= max_bits}
    finally:
        cursor.close()
    if not near:
        return []
    rows = db.connection().execute(text(_DETAILS.format(",".join(str(int(i)) for i in sorted(near)))))
    return [Stored(r[0], r[1], r[2], r[3], r[4], r[5], unsigned(r[6]), r[7], r[8]) for r in rows]


def within(db: Session, value: int, max_bits: int, *, scan: bool = False) -> dict[int, int]:
    """Every row within `max_bits` of `value`: row id -> distance."""
    return {s.id: (s.hash ^ value).bit_count() for s in candidates(db, value, max_bits, scan=scan)}


class StoredReplay:
    """The face checks' replay question asked of the index (monitor.online.faces.ReplayLookup):
    the nearest stored hash, within the profile's distance, among every enrolment photo and every
    usable capture taken before a capture (in the engine's event order), ties to the photos, then
    the earliest."""

    def __init__(self, db: Session, min_face_px: int, scan: bool = False) -> None:
        self._db, self._min_px, self._scan = db, min_face_px, scan

    def nearest_before(self, hash_: imagehash.ImageHash, e: LearningEvent, max_bits: int) -> tuple[str, int] | None:
        value = as_int(hash_)
        best: tuple[tuple[Any, ...], str, int] | None = None
        for s in candidates(self._db, value, max_bits, at_most_s=e.epoch_s, scan=self._scan):
            if s.kind == "capture":
                if not (s.face_px is not None and s.face_px >= self._min_px and (s.second_px or 0) < self._min_px):
                    continue
                order: tuple[Any, ...] = (s.at_s, s.rank, s.ref)
                if not order < e.order_key:
                    continue
                rank: tuple[Any, ...] = (1, order)
            else:
                rank = (0, s.id)
            distance = (s.hash ^ value).bit_count()
            if distance > max_bits:
                continue
            key = (distance, rank)
            if best is None or key < best[0]:
                best = (key, s.source, distance)
        return None if best is None else (best[1], best[2])

    def first_answer(self, nonce: str) -> str | None:
        """The engine's id of the first capture event (in event order) that carried a nonce."""
        rows = self._db.exec(select(FaceHash.at_s, FaceHash.rank, FaceHash.ref).where(
            FaceHash.kind == "capture", FaceHash.nonce == nonce)).all()
        return min(rows)[2] if rows else None
