"""Settings from the environment (and a `.env` file), through pydantic-settings."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default_factory=lambda: Path(user_data_dir("studybot")),
        validation_alias="STUDYBOT_DATA_DIR",
    )
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    log_level: str = Field(default="WARNING", validation_alias="STUDYBOT_LOG_LEVEL")
    banks: str = Field(default="", validation_alias="STUDYBOT_BANKS")

    def bank_paths(self) -> list[Path]:
        """`STUDYBOT_BANKS`: bank files or folders separated by the OS path separator."""
        return [Path(p) for p in self.banks.split(os.pathsep) if p.strip()]

    def resolved_database_url(self) -> str:
        """`DATABASE_URL`, or a SQLite file in the data dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'studybot.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url
