"""Logging for every entry point, with every configured secret redacted.

Libraries log what they send: python-telegram-bot logs the Bot API URL (which holds the token)
at DEBUG, httpx logs request URLs at INFO, a database driver may print its connection URL. Log
levels are no protection, so one filter on the root logger's handlers replaces each secret in
every record, from any logger, with `[REDACTED:NAME]`, whatever the level.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TextIO
from urllib.parse import quote, unquote, urlsplit

from dotenv import dotenv_values

FORMAT = "%(levelname)s:%(name)s:%(message)s"
SECRET_NAMES = ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "OPENAI_API_KEY")
SECRET_SUFFIXES = ("_TOKEN", "_KEY", "_SECRET", "_PASSWORD")
URL_SUFFIXES = ("_URL", "_DSN")  # a password inside, e.g. DATABASE_URL
MIN_SECRET_LENGTH = 6  # shorter values are no secret, and would garble every line
_FORMATTER = logging.Formatter(FORMAT)


def configured_environment(env_file: Path = Path(".env")) -> dict[str, str]:
    """The variables settings are read from: `.env` (when present) under the environment."""
    values = {k: v for k, v in dotenv_values(env_file).items() if v} if env_file.is_file() else {}
    return values | dict(os.environ)


def secrets_from_environment(env: Mapping[str, str]) -> dict[str, str]:
    """NAME -> secret value: tokens, keys and passwords, and the password inside any URL."""
    found: dict[str, str] = {}
    for name, value in env.items():
        value = (value or "").strip()
        if name in SECRET_NAMES or name.endswith(SECRET_SUFFIXES):
            found[name] = value
        elif name.endswith(URL_SUFFIXES) and "@" in value:
            try:
                found[name] = urlsplit(value).password or ""
            except ValueError:  # not a URL after all
                continue
    return {name: value for name, value in found.items() if len(value) >= MIN_SECRET_LENGTH}


def _variants(value: str) -> Iterable[str]:
    """The ways a secret shows up in text: as is, URL-encoded or decoded, a token's secret half."""
    yield from (value, quote(value, safe=""), unquote(value))
    _, colon, rest = value.partition(":")
    if colon and len(rest) >= MIN_SECRET_LENGTH:  # Telegram tokens: "<bot id>:<secret>"
        yield rest


class RedactSecrets(logging.Filter):
    """Replaces every known secret in a record's message, arguments, traceback and stack."""

    def __init__(self, secrets: Mapping[str, str]) -> None:
        super().__init__()
        self._marks: dict[str, str] = {}
        self._pattern: re.Pattern[str] | None = None
        self.add(secrets)

    def add(self, secrets: Mapping[str, str]) -> None:
        """Redact these too (e.g. a secret generated at run time)."""
        for name, value in secrets.items():
            for variant in _variants(value):
                if len(variant) >= MIN_SECRET_LENGTH:
                    self._marks.setdefault(variant, f"[REDACTED:{name}]")
        longest_first = sorted(self._marks, key=len, reverse=True)
        joined = "|".join(map(re.escape, longest_first))
        self._pattern = re.compile(joined) if longest_first else None

    def redact(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._marks[match.group(0)], text)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a library's bad format string: keep what we can read
            message = f"{record.msg} {record.args}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = _FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(
    level: str, secrets: Mapping[str, str], stream: TextIO | None = None
) -> RedactSecrets:
    """Log to `stream` (standard error) at `level`, every secret redacted; returns the filter.

    Every root handler gets the filter, so records from any library are covered; calling this
    again replaces the handler it installed before.
    """
    root = logging.getLogger()
    for handler in root.handlers[:]:
        if getattr(handler, "_studybot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(_FORMATTER)
    handler._studybot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    redact = RedactSecrets(secrets)
    for each in root.handlers:
        for old in [f for f in each.filters if isinstance(f, RedactSecrets)]:
            each.removeFilter(old)
        each.addFilter(redact)
    known = logging.getLevelNamesMapping()
    root.setLevel(known.get(level.strip().upper(), logging.WARNING))
    if level.strip().upper() not in known:
        logging.getLogger(__name__).warning(
            "STUDYBOT_LOG_LEVEL=%s is not a log level (DEBUG, INFO, WARNING, ERROR); using WARNING",
            level,
        )
    return redact


def configure_logging_from_environment() -> RedactSecrets:
    """What every `studybot` command calls first: level and secrets from the environment."""
    env = configured_environment()
    return configure_logging(
        env.get("STUDYBOT_LOG_LEVEL", "WARNING"), secrets_from_environment(env)
    )


def redact_also(name: str, value: str) -> None:
    """Register a secret made at run time (e.g. a webhook's secret token) with the filter."""
    for handler in logging.getLogger().handlers:
        for found in handler.filters:
            if isinstance(found, RedactSecrets):
                found.add({name: value})
