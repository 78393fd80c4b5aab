"""Receiving face pictures: enrolment photos (a class's trainees, a platform's learners) must show
one usable face; captures must be readable images within the size and pixel limits. Either way
the body is streamed to a part file first and moved into place only once it is accepted."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.core.problems import Problem
from api.core.service import Service
from api.core.storage import Received, Storage, receive
from models.tables import new_id
from monitor.errors import MonitorError
from monitor.faces.enrol import EncodingCache, enrol, load_rgb


async def accept_enrolment_photo(request: Request, svc: Service, folder: str, person: str, name: str,
                                 min_face_px: int) -> tuple[str, Received]:
    """Store a photo with one usable face; its path relative to the storage root, and what came."""
    storage = Storage(svc.storage)
    photo_id = new_id()
    part = storage.part(f"photo-{photo_id}")
    try:
        received = await receive(request.stream(), part, svc.settings.max_photo_bytes, "the photo")
        try:
            await run_in_threadpool(enrol, person, name, part, EncodingCache(svc.settings.cache_dir), min_face_px)
        except MonitorError as exc:  # the message names the person; the server's file name is no one's business
            raise Problem(422, str(exc).replace(str(part), "the uploaded photo"), "bad-photo",
                          "Enrolment photo cannot be used") from None
        relative = f"{folder}/{photo_id}"
        storage.path(relative).parent.mkdir(parents=True, exist_ok=True)
        storage.commit(part, relative)
        return relative, received
    finally:
        part.unlink(missing_ok=True)


async def accept_capture(request: Request, svc: Service, capture_id: str) -> Received:
    """Store a capture as captures/<id> once it reads as an image (a decompression bomb does not)."""
    storage = Storage(svc.storage)
    part = storage.part(f"capture-{capture_id}")
    try:
        received = await receive(request.stream(), part, svc.settings.max_photo_bytes, "the capture")
        try:
            await run_in_threadpool(load_rgb, part, "the capture")
        except MonitorError as exc:
            raise Problem(422, str(exc).replace(str(part), "the uploaded image"), "bad-image",
                          "Capture is not a usable image") from None
        target = storage.path(f"captures/{capture_id}")
        target.parent.mkdir(parents=True, exist_ok=True)
        storage.commit(part, f"captures/{capture_id}")
        return received
    finally:
        part.unlink(missing_ok=True)
