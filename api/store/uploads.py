"""Resumable uploads of recordings: one writer at a time, held in the database so it holds across
API processes; a finished upload is closed for good and its stored file is the acknowledged one.

The route only parses and answers; every claim, write and close is here, so the rules of the
aggregate (owner, offset, writer, closed) are enforced in one place."""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import or_, update
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.core.problems import Problem, not_found
from api.core.storage import Storage, sha256_of
from api.deps import Caller, audit
from api.store.classes import owned_class, probe_upload, same_recording, store_recording
from models.tables import Recording, Upload, new_id
from models.types import utcnow

_FLUSH_BYTES = 1 << 20


def owned_upload(db: Session, caller: Caller, upload_id: str) -> Upload:
    """The caller's upload, or 404 (another institution's upload does not exist for it)."""
    upload = db.get(Upload, upload_id)
    if upload is None or upload.organisation_id != caller.org_id:
        raise not_found(f"upload {upload_id}")
    return upload


def open_upload(db: Session, caller: Caller, storage: Storage, class_id: str, name: str,
                start: datetime | None, size_bytes: int | None = None, max_bytes: int | None = None) -> Upload:
    """A new upload into one of the caller's classes, with its empty part file; its declared
    size, if given, lets the institution's page show a percent (a file larger than the server
    takes is refused here, before any byte is sent)."""
    if start is not None and start.tzinfo is None:
        raise Problem(422, "start: give an offset (e.g. +08:00)", "validation")
    if size_bytes is not None and max_bytes is not None and size_bytes > max_bytes:
        raise Problem(422, f"size_bytes: {size_bytes:,} bytes; the server takes at most {max_bytes:,} bytes a recording",
                      "validation")
    klass = owned_class(db, caller, class_id)
    upload = Upload(organisation_id=caller.org_id, class_id=klass.id, original_name=name, declared_start=start,
                    size_bytes=size_bytes)
    db.add(upload)
    audit(db, caller, "upload.create", upload.id, class_id=class_id, name=name, size_bytes=size_bytes)
    db.commit()
    storage.part(upload.id).touch()
    return upload


def _offset_problem(upload: Upload) -> Problem:
    return Problem(409, f"the server holds {upload.received_bytes} bytes of this upload; send from there",
                   "upload-offset", headers={"Upload-Offset": str(upload.received_bytes)},
                   offset=upload.received_bytes)


def _refusal(upload: Upload) -> Problem:
    if upload.closed_at is not None or upload.recording_id is not None:
        return Problem(409, "this upload is finished", "upload-finished")
    return Problem(409, "another chunk of this upload is being written; ask the offset (GET) and resume from it",
                   "upload-busy", headers={"Upload-Offset": str(upload.received_bytes), "Retry-After": "1"},
                   offset=upload.received_bytes)


def _claim(db: Session, caller: Caller, upload_id: str, offset: int, stale_s: float) -> str | None:
    """Take the upload for one chunk: it must be open, at `offset`, and have no live writer (a
    writer that has not renewed for `stale_s` is taken over). Atomic in the database."""
    token, now = new_id(), utcnow()
    taken = db.execute(update(Upload).where(
        Upload.id == upload_id, Upload.organisation_id == caller.org_id, Upload.closed_at.is_(None),  # type: ignore[union-attr]
        Upload.received_bytes == offset,
        or_(Upload.writer.is_(None), Upload.writer_at < now - timedelta(seconds=stale_s)))  # type: ignore[union-attr,operator]
        .values(writer=token, writer_at=now)).rowcount
    db.commit()
    return token if taken else None


def _renew(db: Session, upload_id: str, token: str) -> bool:
    """Still ours? (Checked before every write: a writer taken over, or closed by `finish`, stops.)"""
    held = db.execute(update(Upload).where(Upload.id == upload_id, Upload.writer == token, Upload.closed_at.is_(None))  # type: ignore[union-attr]
                      .values(writer_at=utcnow())).rowcount
    db.commit()
    return bool(held)


def _release(db: Session, upload_id: str, token: str) -> None:
    db.rollback()
    db.execute(update(Upload).where(Upload.id == upload_id, Upload.writer == token).values(writer=None, writer_at=None))
    db.commit()


async def append_chunk(db: Session, caller: Caller, storage: Storage, upload_id: str, offset: int,
                       body: AsyncIterator[bytes], limit: int, stale_s: float) -> Upload:
    """Append `body` at `offset`, which must be what the server holds (else 409 with the right
    offset: a client resumes from there). One chunk at a time (409 `upload-busy`)."""
    upload = owned_upload(db, caller, upload_id)
    if upload.closed_at is not None or upload.recording_id is not None:
        raise Problem(409, "this upload is finished", "upload-finished")
    if offset != upload.received_bytes:
        raise _offset_problem(upload)
    token = await run_in_threadpool(_claim, db, caller, upload.id, offset, stale_s)
    if token is None:
        db.refresh(upload)
        if offset != upload.received_bytes and upload.closed_at is None:
            raise _offset_problem(upload)
        raise _refusal(upload)
    try:
        size, chunk_sha = await _write_chunk(body, db, upload.id, token, storage.part(upload.id), offset, limit)
        done = db.execute(update(Upload).where(Upload.id == upload.id, Upload.writer == token, Upload.closed_at.is_(None))  # type: ignore[union-attr]
                          .values(received_bytes=offset + size, writer=None, writer_at=None)).rowcount
        if not done:
            db.rollback()
            db.refresh(upload)
            raise _refusal(upload)
        # Every append in the audit log: where it went, how much, and the chunk's own sha256.
        audit(db, caller, "upload.append", upload.id, offset=offset, size_bytes=size, sha256=chunk_sha,
              received_bytes=offset + size)
        db.commit()
    except BaseException:
        # Not awaited: a cancelled request must still let go, or the client's resume would wait
        # out the stale time (one small write).
        _release(db, upload.id, token)
        raise
    db.refresh(upload)
    return upload


async def _write_chunk(body: AsyncIterator[bytes], db: Session, upload_id: str, token: str, part: Path,
                       offset: int, limit: int) -> tuple[int, str]:
    """Stream the body into the part file at `offset` (bytes past it, left by a killed server or
    a refused chunk, are dropped first), renewing the claim before every write."""
    if offset > limit:
        raise Problem(413, f"the recording is larger than the limit of {limit:,} bytes")
    handle = await run_in_threadpool(_open_at, part, offset)
    digest, size, buffer = hashlib.sha256(), 0, bytearray()

    async def flush() -> None:
        if not await run_in_threadpool(_renew, db, upload_id, token):
            raise Problem(409, "this upload was finished or taken over while the chunk was sent", "upload-finished")
        await run_in_threadpool(handle.write, bytes(buffer))
        buffer.clear()

    try:
        async for data in body:
            size += len(data)
            if offset + size > limit:
                raise Problem(413, f"the recording is larger than the limit of {limit:,} bytes")
            digest.update(data)
            buffer += data
            if len(buffer) >= _FLUSH_BYTES:
                await flush()
        if buffer:
            await flush()
        await run_in_threadpool(_sync, handle)
    finally:
        await run_in_threadpool(handle.close)
    return size, digest.hexdigest()


def _open_at(part: Path, offset: int) -> BinaryIO:
    handle = open(part, "r+b" if part.exists() else "w+b")
    handle.truncate(offset)
    handle.seek(offset)
    return handle


def _sync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _truncate(part: Path, size: int) -> None:
    with open(part, "ab") as handle:
        handle.truncate(size)


def _close(db: Session, caller: Caller, upload: Upload, stale_s: float) -> bool:
    """Close the upload for good (no chunk can take it after this), unless a live writer holds
    it. A close left by a finish that died is taken over once it is stale."""
    now = utcnow()
    stale = now - timedelta(seconds=stale_s)
    closed = db.execute(update(Upload).where(
        Upload.id == upload.id, Upload.organisation_id == caller.org_id, Upload.recording_id.is_(None),  # type: ignore[union-attr]
        or_(Upload.closed_at.is_(None), Upload.closed_at < stale),  # type: ignore[union-attr,operator]
        or_(Upload.writer.is_(None), Upload.writer_at < stale))  # type: ignore[union-attr,operator]
        .values(closed_at=now, writer=None, writer_at=None)).rowcount
    db.commit()
    return bool(closed)


def _stored(db: Session, upload: Upload) -> Recording:
    recording = db.get(Recording, upload.recording_id)
    assert recording is not None
    return recording


async def finish_upload(db: Session, caller: Caller, storage: Storage, upload_id: str,
                        stale_s: float) -> tuple[Recording, bool]:
    """Probe, hash and store: the recording and whether it is new; finished before, or the same
    bytes and name already stored in the class (a client that started again after a lost
    answer), the stored recording."""
    upload = owned_upload(db, caller, upload_id)
    if upload.recording_id is not None:
        return _stored(db, upload), False
    if not await run_in_threadpool(_close, db, caller, upload, stale_s):
        db.refresh(upload)
        if upload.recording_id is not None:  # another finish got there first
            return _stored(db, upload), False
        if upload.closed_at is not None:
            raise Problem(409, "this upload is being finished; ask again in a moment", "upload-finishing",
                          headers={"Retry-After": "2"})
        raise _refusal(upload)
    db.refresh(upload)
    try:
        part = storage.part(upload.id)
        if not part.exists():  # an earlier finish moved the file but was stopped before it committed
            part = storage.path(storage.media(upload.id))
        else:
            await run_in_threadpool(_truncate, part, upload.received_bytes)
        facts = await run_in_threadpool(probe_upload, part)
        sha256 = await run_in_threadpool(sha256_of, part)
        klass = owned_class(db, caller, upload.class_id)
        stored = same_recording(db, klass.id, upload.original_name, sha256)
        if stored is not None:
            upload.recording_id = stored.id
            db.add(upload)
            audit(db, caller, "upload.finish", upload.id, recording_id=stored.id, sha256=sha256, same_as_stored=True)
            db.commit()
            part.unlink(missing_ok=True)
            return stored, False
        recording = store_recording(db, storage, caller, klass, part, sha256, upload.received_bytes, upload.original_name,
                                    upload.declared_start, facts, recording_id=upload.id)
        # The stored file must be what is acknowledged: hashed again after the move, then read-only.
        final = storage.path(recording.stored_name)
        after = await run_in_threadpool(sha256_of, final)
        if after != sha256:
            db.rollback()
            audit(db, caller, "upload.mismatch", upload.id, sha256_before_move=sha256, sha256_after_move=after)
            db.commit()
            os.replace(final, part)
            raise Problem(409, "the file changed while it was being stored; nothing was acknowledged, finish again",
                          "upload-changed")
        await run_in_threadpool(os.chmod, final, 0o444)
        upload.recording_id = recording.id
        db.add(upload)
        db.commit()
        return recording, True
    except BaseException:
        # Not stored (unusable media, a changed file, a crash): open again, so the client can resume or finish.
        db.rollback()
        db.execute(update(Upload).where(Upload.id == upload.id, Upload.recording_id.is_(None)).values(closed_at=None))  # type: ignore[union-attr]
        db.commit()
        raise
