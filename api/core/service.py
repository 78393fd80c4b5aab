"""What every request and job shares: settings, the database engine, the storage folder and the
way jobs are handed to workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.core.limits import RateLimits
from api.core.settings import ServiceSettings
from models.db import make_engine


@dataclass
class Service:
    settings: ServiceSettings
    engine: Engine
    # Called after a job row is committed; the in-process worker wakes, Celery gets a message.
    notify_job: Callable[[str], None] = field(default=lambda job_id: None)
    limits: RateLimits = field(default=None)  # type: ignore[assignment]  # made in from_settings

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "Service":
        service = cls(settings=settings, engine=make_engine(settings.db_url), limits=RateLimits(settings))
        service.storage.mkdir(parents=True, exist_ok=True)
        return service

    @property
    def storage(self) -> Path:
        return self.settings.storage

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)
