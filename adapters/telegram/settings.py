"""Telegram settings from the environment (and `.env`), through pydantic-settings."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlparse

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
BOTFATHER_HINT = "get one from @BotFather and set it in the environment or in .env"


class TelegramSettings(BaseSettings):
    """Every `TELEGRAM_*` variable; `.env.example` documents them for operators."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, validation_alias="TELEGRAM_BOT_TOKEN")
    base_url: str = Field(default=DEFAULT_BASE_URL, validation_alias="TELEGRAM_BASE_URL")
    webhook_url: str | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_URL")
    webhook_listen: str = Field(default="127.0.0.1", validation_alias="TELEGRAM_WEBHOOK_LISTEN")
    webhook_port: int | None = Field(default=None, validation_alias="TELEGRAM_WEBHOOK_PORT")
    webhook_secret: SecretStr | None = Field(
        default=None, validation_alias="TELEGRAM_WEBHOOK_SECRET"
    )
    admin_ids: str = Field(default="", validation_alias="TELEGRAM_ADMIN_IDS")

    def token(self) -> str:
        """The token as a plain string (kept secret in reprs and logs until needed)."""
        return self.bot_token.get_secret_value().strip() if self.bot_token else ""

    def admins(self) -> frozenset[str]:
        """Operator user ids: admins in private chats (bank imports) as well as in groups."""
        return frozenset(part.strip() for part in self.admin_ids.split(",") if part.strip())

    def file_url(self) -> str:
        """Where files are downloaded: Telegram serves them next to the API, under /file/bot."""
        base = self.base_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    def webhook_path(self) -> str:
        """The path the local webhook server listens on: the public URL's path, unchanged."""
        return urlparse(self.webhook_url or "").path.lstrip("/")

    def webhook_secret_token(self) -> str:
        """The secret Telegram echoes on every webhook post. Several webhook workers behind one
        URL must share it (each registers the webhook, and the last registration wins), so it
        comes from TELEGRAM_WEBHOOK_SECRET; a single process may leave it unset and get a
        random one per start."""
        if self.webhook_secret and self.webhook_secret.get_secret_value().strip():
            return self.webhook_secret.get_secret_value().strip()
        return secrets.token_urlsafe(32)

    def problem(self) -> str | None:
        """A one-line description of what is missing, naming the variable, or None."""
        if not self.token():
            return f"TELEGRAM_BOT_TOKEN is not set: {BOTFATHER_HINT}."
        if self.webhook_url:
            if not self.webhook_url.startswith("https://"):
                return "TELEGRAM_WEBHOOK_URL must be an https:// URL that reaches this machine."
            if self.webhook_secret and not WEBHOOK_SECRET.fullmatch(
                self.webhook_secret.get_secret_value().strip()
            ):
                return (
                    "TELEGRAM_WEBHOOK_SECRET may hold only letters, digits, _ and -, "
                    "1 to 256 of them (Telegram's rule)."
                )
            if self.webhook_port is None:
                return (
                    "TELEGRAM_WEBHOOK_URL is set but TELEGRAM_WEBHOOK_PORT is not: give the "
                    "local port your reverse proxy forwards to (or unset the URL for polling)."
                )
        return None
