"""Files on disk, named only by server-made ids. A body is streamed to a part file while its
sha256 is computed; only a finished, probed file is moved (atomically) to its final name, so a
server killed mid-upload leaves a part file and never a half recording."""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from starlette.concurrency import run_in_threadpool

from api.core.problems import Problem

_FLUSH_BYTES = 1 << 20


@dataclass(frozen=True)
class Received:
    size: int
    sha256: str


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root
        for folder in ("media", "photos", "parts", "evidence"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    def part(self, upload_id: str) -> Path:
        return self.root / "parts" / f"{upload_id}.part"

    def media(self, recording_id: str) -> str:
        """A recording's path relative to the storage root (what the analysis is given)."""
        return f"media/{recording_id}"

    def photo(self, photo_id: str) -> str:
        return f"photos/{photo_id}"

    def path(self, relative: str) -> Path:
        return self.root / relative

    def evidence(self, report_id: str) -> Path:
        return self.root / "evidence" / report_id

    def commit(self, part: Path, relative: str) -> Path:
        final = self.path(relative)
        os.replace(part, final)
        return final

    def sweep_parts(self, older_than_s: float) -> int:
        """Part files of one-shot uploads that a killed server left behind."""
        removed = 0
        cutoff = time.time() - older_than_s
        for part in (self.root / "parts").glob("oneshot-*.part"):
            if part.stat().st_mtime < cutoff:
                part.unlink(missing_ok=True)
                removed += 1
        return removed


async def receive(stream: AsyncIterator[bytes], part: Path, limit: int, what: str, append: bool = False) -> Received:
    """Stream a request body into `part` (appending when resuming) without holding it in memory."""
    digest = hashlib.sha256()
    size = part.stat().st_size if append and part.exists() else 0
    if size > limit:
        raise Problem(413, f"{what} is larger than the limit of {limit:,} bytes")
    handle = await run_in_threadpool(open, part, "ab" if append else "wb")
    try:
        buffer = bytearray()
        async for chunk in stream:
            size += len(chunk)
            if size > limit:
                raise Problem(413, f"{what} is larger than the limit of {limit:,} bytes")
            digest.update(chunk)
            buffer += chunk
            if len(buffer) >= _FLUSH_BYTES:
                await run_in_threadpool(handle.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await run_in_threadpool(handle.write, bytes(buffer))
        await run_in_threadpool(_sync, handle)
    finally:
        await run_in_threadpool(handle.close)
    return Received(size, digest.hexdigest())


def _sync(handle) -> None:  # type: ignore[no-untyped-def]
    handle.flush()
    os.fsync(handle.fileno())


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_FLUSH_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()
