"""Resumable uploads for large recordings over poor links: create, send chunks at the offset the
server holds (Upload-Offset, as in the tus protocol), ask the offset after a break, finish. Only
`finish` (probe, hash, move into place) makes a recording; finishing twice gives the same one.

One writer at a time and the acknowledged file never changed afterwards (issue #19): enforced in
`api.store.uploads`; this module only parses and answers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from api.core.bodies import Instant
from api.core.problems import documented
from api.core.storage import Storage
from api.deps import DB, Institution, Svc, ingest_limit
from api.store import uploads
from models.tables import Recording, RecordingPublic, Upload, UploadPublic

router = APIRouter(tags=["uploads"])


class UploadCreate(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    start: Instant | None = None
    size_bytes: int | None = Field(default=None, ge=0, le=2**53,
                                   description="the whole file's size, if known: the institution's page shows a percent")


@router.post("/classes/{class_id}/uploads", status_code=201, response_model=UploadPublic,
             dependencies=[Depends(ingest_limit)], responses=documented(429))
def create_upload(class_id: str, body: UploadCreate, db: DB, caller: Institution, svc: Svc) -> Upload:
    return uploads.open_upload(db, caller, Storage(svc.storage), class_id, body.name, body.start, body.size_bytes,
                               svc.settings.max_upload_bytes)


@router.get("/uploads/{upload_id}", response_model=UploadPublic)
def read_upload(upload_id: str, db: DB, caller: Institution, response: Response) -> Upload:
    upload = uploads.owned_upload(db, caller, upload_id)
    response.headers["Upload-Offset"] = str(upload.received_bytes)
    return upload


@router.patch("/uploads/{upload_id}", response_model=UploadPublic,
              dependencies=[Depends(ingest_limit)], responses=documented(429))
async def append_chunk(upload_id: str, request: Request, db: DB, caller: Institution, svc: Svc,
                       upload_offset: Annotated[int, Header(ge=0)], response: Response) -> Upload:
    """Append the body at `Upload-Offset`, which must be what the server holds (else 409 with the
    right offset: a client resumes from there). One chunk at a time (409 `upload-busy`)."""
    upload = await uploads.append_chunk(db, caller, Storage(svc.storage), upload_id, upload_offset, request.stream(),
                                        svc.settings.max_upload_bytes, svc.settings.upload_writer_stale_s)
    response.headers["Upload-Offset"] = str(upload.received_bytes)
    return upload


@router.post("/uploads/{upload_id}/finish", status_code=201, response_model=RecordingPublic)
async def finish_upload(upload_id: str, db: DB, caller: Institution, svc: Svc, response: Response) -> Recording:
    """Probe, hash and store (201); finished before, or the same bytes and name already stored in
    the class (a client that started again after a lost answer), the stored recording (200)."""
    recording, new = await uploads.finish_upload(db, caller, Storage(svc.storage), upload_id,
                                                 svc.settings.upload_writer_stale_s)
    if not new:
        response.status_code = 200
    return recording
