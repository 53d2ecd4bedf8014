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
    notes: Path | None = Field(default=None, validation_alias="STUDYBOT_NOTES")
    embeddings: str = Field(default="local", validation_alias="STUDYBOT_EMBEDDINGS")
    embedding_model: str = Field(
        default="text-embedding-3-small", validation_alias="STUDYBOT_EMBEDDING_MODEL"
    )
    chroma_host: str | None = Field(default=None, validation_alias="CHROMA_HOST")
    chroma_port: int = Field(default=8000, validation_alias="CHROMA_PORT")
    openai_api_key: str | None = Field(default=None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(default="gpt-4o-mini", validation_alias="STUDYBOT_LLM_MODEL")
    llm_timeout: float = Field(default=20.0, validation_alias="STUDYBOT_LLM_TIMEOUT")
    llm_retries: int = Field(default=2, validation_alias="STUDYBOT_LLM_RETRIES")
    # One bound on a model answer, retries and streaming included; then the offline answer.
    llm_deadline: float = Field(default=15.0, gt=0, validation_alias="STUDYBOT_LLM_DEADLINE")

    def llm_configured(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

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
