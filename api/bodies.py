"""Reading request bodies within limits: JSON bodies are read whole only up to a size, and gzip
is undone with a cap on what it may grow to (a small gzip bomb cannot fill the memory)."""

from __future__ import annotations

import json
import re
import zlib
from typing import Annotated, Any

from fastapi import Request
from datetime import datetime

from pydantic import AwareDatetime, BeforeValidator

from api.problems import Problem


async def read_limited(request: Request, limit: int, what: str) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Problem(413, f"{what} is larger than the limit of {limit:,} bytes")
    gzipped = request.headers.get("content-encoding", "").lower() == "gzip"
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if gzipped else None
    out = bytearray()
    async for chunk in request.stream():
        if inflater is not None:
            try:
                chunk = inflater.decompress(chunk, limit + 1 - len(out))
            except zlib.error:
                raise Problem(400, f"{what} is not valid gzip") from None
        out += chunk
        if len(out) > limit:
            raise Problem(413, f"{what} is larger than the limit of {limit:,} bytes")
    return bytes(out)


def parse_json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise Problem(400, f"{what} is not UTF-8 text") from None
    except RecursionError:
        raise Problem(400, f"{what} is nested too deeply") from None
    except ValueError as exc:
        raise Problem(400, f"{what} is not JSON: {exc}") from None


async def json_body(request: Request, limit: int, what: str) -> Any:
    return parse_json(await read_limited(request, limit, what), what)


def _iso_text(value: Any) -> Any:
    if isinstance(value, (int, float)) or (isinstance(value, str) and _NUMBER.fullmatch(value.strip())):
        raise ValueError("an ISO-8601 date and time is needed, not a number")
    return value


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
# A moment in a request: ISO-8601 text (with a UTC offset in bodies), and only that; pydantic
# would read a number, or a number in a query string, as seconds since 1970, which no caller
# means (schemathesis found it).
Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text)]
QueryInstant = Annotated[datetime, BeforeValidator(_iso_text)]
