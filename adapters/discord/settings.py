"""Discord settings from the environment (and `.env`), through pydantic-settings."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.commands import ascii_number

DEFAULT_API_BASE_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
PORTAL_HINT = (
    "create an application at https://discord.com/developers/applications, copy its bot "
    "token and set it in the environment or in .env"
)


class DiscordSettings(BaseSettings):
    """Every `DISCORD_*` variable; `.env.example` documents them for operators."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_BOT_TOKEN")
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL, validation_alias="DISCORD_API_BASE_URL")
    gateway_url: str = Field(default=DEFAULT_GATEWAY_URL, validation_alias="DISCORD_GATEWAY_URL")
    admin_role: str = Field(default="", validation_alias="DISCORD_ADMIN_ROLE")
    admin_ids: str = Field(default="", validation_alias="DISCORD_ADMIN_IDS")
    shards: str = Field(default="", validation_alias="DISCORD_SHARDS")
    shard_ids: str = Field(default="", validation_alias="DISCORD_SHARD_IDS")
    guild_ids: str = Field(default="", validation_alias="DISCORD_GUILD_IDS")

    def token(self) -> str:
        """The token as a plain string (kept secret in reprs and logs until needed)."""
        return self.bot_token.get_secret_value().strip() if self.bot_token else ""

    def admins(self) -> frozenset[str]:
        """Operator user ids: they may import into the shared pool and configure anywhere."""
        return _ids(self.admin_ids)

    def guilds(self) -> tuple[int, ...]:
        """Servers whose commands are synced directly (instantly) instead of globally."""
        return tuple(int(part) for part in sorted(_ids(self.guild_ids)))

    def sharded(self) -> bool:
        """Whether to run an AutoShardedClient (DISCORD_SHARDS set to a number or "auto")."""
        return bool(self.shards.strip())

    def shard_count(self) -> int | None:
        """A fixed shard count, or None to ask Discord for the recommended one ("auto")."""
        return ascii_number(self.shards.strip())

    def own_shards(self) -> list[int] | None:
        """The shards this process runs (DISCORD_SHARD_IDS), or None for all of them: several
        processes on one database each run their own, so no event is answered twice."""
        ids = sorted(int(part) for part in _ids(self.shard_ids))
        return ids or None

    def problem(self) -> str | None:
        """A one-line description of what is missing or malformed, naming the variable."""
        if not self.token():
            return f"DISCORD_BOT_TOKEN is not set: {PORTAL_HINT}."
        shards = self.shards.strip()
        if shards and shards.lower() != "auto" and not (self.shard_count() or 0) >= 1:
            return "DISCORD_SHARDS must be a number of shards (1 or more) or 'auto'."
        count, own = self.shard_count(), self.own_shards()
        if own is not None and (count is None or own[-1] >= count):
            return (
                "DISCORD_SHARD_IDS needs DISCORD_SHARDS set to the total number of shards, "
                "and every id below it (0 to DISCORD_SHARDS - 1)."
            )
        for name, value in (
            ("DISCORD_ADMIN_IDS", self.admin_ids),
            ("DISCORD_GUILD_IDS", self.guild_ids),
            ("DISCORD_SHARD_IDS", self.shard_ids),
        ):
            if any(ascii_number(part) is None for part in _parts(value)):
                return f"{name} must be Discord ids (digits) separated by commas."
        return None


def _parts(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _ids(value: str) -> frozenset[str]:
    return frozenset(part for part in _parts(value) if ascii_number(part) is not None)
