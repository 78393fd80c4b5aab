"""Settings from the environment (prefix MONITOR_), with defaults that need no set-up."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MONITOR_")

    # Face encodings of enrolment photos, by the photo's sha256: computed once, reused by every run.
    cache_dir: Path = Path.home() / ".cache" / "training-monitor"
