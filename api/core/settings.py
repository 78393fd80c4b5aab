"""Service settings from the environment (prefix MONITOR_, and DATABASE_URL as is customary).

The defaults are the embedded deployment: a SQLite file and a storage folder under one data
folder, and the in-process worker; nothing to install or start."""

from __future__ import annotations

from datetime import date

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MONITOR_", extra="ignore")

    data_dir: Path = Path.home() / ".local" / "share" / "training-monitor"
    database_url: str | None = Field(default=None, validation_alias=AliasChoices("DATABASE_URL", "MONITOR_DATABASE_URL"))
    storage_dir: Path | None = None  # uploaded media and photos; default <data_dir>/storage
    cache_dir: Path = Path.home() / ".cache" / "training-monitor"  # face encodings by photo sha256

    queue: Literal["inprocess", "celery"] = "inprocess"
    # The in-process worker runs jobs in a child process of the server (see api/jobs/inprocess.py).
    worker_process: bool = True
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The jurisdiction of an organisation made without one (an admin sets each one's).
    default_jurisdiction: str = "zhengzhou"
    # Judge face captures (B4, B6) against enrolment photos the platforms give (PUT
    # /learners/{id}/photo); a session without a matching capture at its start is invalid, and so
    # is one whose learner has no enrolment photo (B4: a live face comparison that is impossible
    # voids the training). On by default: B4 is not optional. Off only for a deployment that
    # judges faces elsewhere; every verdict then says that face checks were off.
    online_face_checks: bool = True

    max_upload_bytes: int = 8 * 1024**3  # one recording
    max_photo_bytes: int = 20 * 1024**2
    max_batch_bytes: int = 32 * 1024**2  # one events batch, after gunzip
    max_batch_events: int = 10_000
    max_json_bytes: int = 2 * 1024**2  # any other JSON body (manifests, courses, decisions)
    # Rate limits (api/core/limits.py): "N/second|minute|hour"; storage memory:// or redis://host:port
    ingest_rate_limit: str = "50/second"  # per API key: event batches, captures, uploads
    sign_in_rate_limit: str = "10/minute"  # failed sign-ins per client address
    rate_limit_storage: str = "memory://"
    max_event_future_s: float = 86_400.0  # events later than this ahead of the server's clock are refused
    events_not_before: date = date(2000, 1, 1)  # and events before this day
    # Judging waits this long after the first new events, so that a stream of batches is judged
    # together rather than once per batch (verdicts lag the events by about this much).
    judge_delay_s: float = 2.0
    job_lease_s: float = 120.0  # a job not renewed for this long is taken by another worker
    # Celery workers look this often for jobs whose message the broker lost (a Redis restart
    # keeps nothing) or never got (the broker was down when the job was queued).
    job_sweep_s: float = 30.0
    # The retention job (issue #20: face images past their jurisdiction's period deleted) is
    # queued once a day, from this hour (UTC) on, by the workers themselves. Off: no timer (run
    # `monitor admin retention` from cron instead; the tests turn it off, tests/conftest.py).
    retention_timer: bool = True
    retention_at_utc_hour: int = Field(default=2, ge=0, le=23)
    worker_max_memory_mb: int = 512  # a Celery pool child is replaced after a task once it holds more
    request_timeout_s: float = 60.0  # every request but uploads and event batches
    # A resumable upload's chunk holds the upload while it streams, renewing its claim at every
    # MiB written; a claim not renewed this long (a client gone silent) may be taken over.
    upload_writer_stale_s: float = 60.0

    # Keys the hash of the real-name ID numbers (person ids); by default a random secret kept in
    # <data_dir>/person.key. Every server of a deployment must share it (hashes are compared).
    person_secret: str | None = None
    # Signs the pages' session cookie; by default a random secret kept in <data_dir>/session.key.
    session_secret: str | None = None
    secure_cookies: bool = False  # set true behind HTTPS
    # Pages sessions (issue #19): kept on the server; one unused this long ends (a kiosk left
    # signed in), and none outlives session_max_s whatever its use.
    session_idle_s: float = 30 * 60
    session_max_s: float = 8 * 3600
    # Addresses of reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed,
    # comma-separated (uvicorn's forwarded_allow_ips syntax: IPs or CIDR networks). Empty by
    # default: the client address is the TCP peer's, so a client cannot pick its own address to
    # dodge the sign-in rate limit (uvicorn would otherwise trust the headers from 127.0.0.1).
    trusted_proxies: str = ""

    def session_secret_value(self) -> str:
        return self.session_secret or self._kept_secret("session.key")

    def person_secret_value(self) -> bytes:
        return (self.person_secret or self._kept_secret("person.key")).encode()

    def _kept_secret(self, name: str) -> str:
        path = self.data_dir / name
        if not path.is_file():
            import secrets

            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    @cached_property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'monitor.db'}"

    @cached_property
    def storage(self) -> Path:
        return self.storage_dir or self.data_dir / "storage"
