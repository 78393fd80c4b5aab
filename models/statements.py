"""xAPI statements as a platform's learning record store keeps them (issue #15).

A statement is kept as the JSON it was stored as (with `stored`, `authority` and `version` set by
the service), per platform: another platform's statement with the same id is another row, never
a conflict. `content_sha256` is the hash of the statement's meaning (what xAPI 1.0.3 compares
when an id comes again: not `stored`, `authority` or `version`), so a re-sent id with other
content is a 409 and the same content is acknowledged again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


def _when() -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime)  # type: ignore[no-any-return]


class XapiStatement(SQLModel, table=True):
    """One stored statement of one platform."""

    __tablename__ = "xapi_statement"
    # (organisation_id, voids) of voiding statements only: a batch asks which of its ids an
    # earlier statement voided (and first whether the platform ever voided anything).
    __table_args__ = (UniqueConstraint("organisation_id", "statement_id"),
                      Index("ix_xapi_statement_org_voids", "organisation_id", "voids",
                            sqlite_where=text("voids IS NOT NULL"), postgresql_where=text("voids IS NOT NULL")))

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    statement_id: str = Field(max_length=36)  # lower-case UUID
    verb_id: str = Field(max_length=2048)
    body: str = Field(sa_column=Column(Text, nullable=False))  # the statement as stored (JSON)
    content_sha256: str = Field(max_length=64)
    stored: datetime = Field(sa_type=UTCDateTime, index=True)
    key_id: str = Field(max_length=32)  # the credentials that stored it (its authority)
    voided: bool = False
    voids: str | None = Field(default=None, max_length=36)  # the statement this one voids
    learner: str | None = Field(default=None, max_length=200)  # set when it became a learning event


class XapiAttachment(SQLModel, table=True):
    """An attachment's raw data, sent with a statement in multipart/mixed, kept by its sha2."""

    __tablename__ = "xapi_attachment"
    __table_args__ = (UniqueConstraint("organisation_id", "sha2"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32)
    sha2: str = Field(max_length=128)
    content_type: str = Field(max_length=200)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _when()


class XapiOrigin(SQLModel, table=True):
    """A browser origin an admin allowed to call a platform's /xapi/ resources (CORS)."""

    __tablename__ = "xapi_origin"
    __table_args__ = (UniqueConstraint("organisation_id", "origin"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: str = Field(foreign_key="organisation.id", max_length=32, index=True)
    origin: str = Field(max_length=300, index=True)
    created_at: datetime = _when()
