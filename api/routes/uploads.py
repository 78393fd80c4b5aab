"""Resumable uploads for large recordings over poor links: create, send chunks at the offset the
server holds (Upload-Offset, as in the tus protocol), ask the offset after a break, finish. Only
`finish` (probe, hash, move into place) makes a recording; finishing twice gives the same one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.bodies import Instant
from api.deps import DB, Caller, Institution, Svc, audit, ingest_limit

from api.problems import Problem, documented, not_found
from api.store.classes import owned_class, probe_upload, same_recording, store_recording
from api.storage import Storage, receive, sha256_of
from models.tables import Recording, RecordingPublic, Upload, UploadPublic

router = APIRouter(tags=["uploads"])


class UploadCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    start: Instant | None = None


def _owned(db: Session, caller: Caller, upload_id: str) -> Upload:
    upload = db.get(Upload, upload_id)
    if upload is None or upload.organisation_id != caller.org_id:
        raise not_found(f"upload {upload_id}")
    return upload


@router.post("/classes/{class_id}/uploads", status_code=201, response_model=UploadPublic,
             dependencies=[Depends(ingest_limit)], responses=documented(429))
def create_upload(class_id: str, body: UploadCreate, db: DB, caller: Institution, svc: Svc) -> Upload:
    if body.start is not None and body.start.tzinfo is None:
        raise Problem(422, "start: give an offset (e.g. +08:00)", "validation")
    klass = owned_class(db, caller, class_id)
    upload = Upload(organisation_id=caller.org_id, class_id=klass.id, original_name=body.name, declared_start=body.start)
    db.add(upload)
    audit(db, caller, "upload.create", upload.id, class_id=class_id, name=body.name)
    db.commit()
    Storage(svc.storage).part(upload.id).touch()
    return upload


@router.get("/uploads/{upload_id}", response_model=UploadPublic)
def read_upload(upload_id: str, db: DB, caller: Institution, response: Response) -> Upload:
    upload = _owned(db, caller, upload_id)
    response.headers["Upload-Offset"] = str(upload.received_bytes)
    return upload


@router.patch("/uploads/{upload_id}", response_model=UploadPublic,
             dependencies=[Depends(ingest_limit)], responses=documented(429))
async def append_chunk(upload_id: str, request: Request, db: DB, caller: Institution, svc: Svc,
                       upload_offset: Annotated[int, Header(ge=0)], response: Response) -> Upload:
    """Append the body at `Upload-Offset`, which must be what the server holds (else 409 with the
    right offset: a client resumes from there)."""
    upload = _owned(db, caller, upload_id)
    if upload.recording_id is not None:
        raise Problem(409, "this upload is finished", "upload-finished")
    if upload_offset != upload.received_bytes:
        raise Problem(409, f"the server holds {upload.received_bytes} bytes of this upload; send from there",
                      "upload-offset", headers={"Upload-Offset": str(upload.received_bytes)},
                      offset=upload.received_bytes)
    part = Storage(svc.storage).part(upload.id)
    # A server killed after writing but before recording the offset leaves extra bytes: drop them.
    await run_in_threadpool(_truncate, part, upload.received_bytes)
    received = await receive(request.stream(), part, svc.settings.max_upload_bytes, "the recording", append=True)
    upload.received_bytes = received.size
    db.add(upload)
    db.commit()
    response.headers["Upload-Offset"] = str(upload.received_bytes)
    return upload


def _truncate(part, size: int) -> None:  # type: ignore[no-untyped-def]
    with open(part, "ab") as handle:
        handle.truncate(size)


@router.post("/uploads/{upload_id}/finish", status_code=201, response_model=RecordingPublic)
async def finish_upload(upload_id: str, db: DB, caller: Institution, svc: Svc, response: Response) -> Recording:
    """Probe, hash and store (201); finished before, or the same bytes and name already stored in
    the class (a client that started again after a lost answer), the stored recording (200)."""
    upload = _owned(db, caller, upload_id)
    if upload.recording_id is not None:
        recording = db.get(Recording, upload.recording_id)
        assert recording is not None
        response.status_code = 200
        return recording
    storage = Storage(svc.storage)
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
        db.commit()
        part.unlink(missing_ok=True)
        response.status_code = 200
        return stored
    recording = store_recording(db, storage, caller, klass, part, sha256, upload.received_bytes, upload.original_name,
                                upload.declared_start, facts, recording_id=upload.id)
    upload.recording_id = recording.id
    db.add(upload)
    db.commit()
    return recording
