"""Secrets never reach the logs, at any level, whichever library logs them."""

from __future__ import annotations

import asyncio
import io
import logging
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.logs import RedactSecrets, configure_logging, secrets_from_environment
from tests.fake_telegram import TOKEN, FakeTelegram
from tests.test_telegram import ALICE, clean_environment, sent


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.stop()


async def test_run_telegram_at_debug_never_logs_the_token(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    """python-telegram-bot logs the Bot API URL at DEBUG, and the URL holds the token."""
    env = {
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake.base_url,
        "STUDYBOT_LOG_LEVEL": "DEBUG",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "telegram",
        cwd=tmp_path,
        env=clean_environment(tmp_path) | env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        await fake.wait_calls("setMyCommands", timeout=30)
        fake.say(fake.chat(ALICE["id"]), ALICE, "/help")
        await sent(fake, "Commands:")
    finally:
        process.send_signal(signal.SIGINT)
        _, raw = await asyncio.wait_for(process.communicate(), 30)
    stderr = raw.decode()
    assert process.returncode == 0, stderr
    assert "sendMessage" in stderr  # the libraries did log the requests at DEBUG
    secret_part = TOKEN.split(":", 1)[1]
    assert TOKEN not in stderr and secret_part not in stderr
    assert "[REDACTED:TELEGRAM_BOT_TOKEN]" in stderr


@pytest.fixture
def captured_root_logging() -> Iterator[io.StringIO]:
    """Whatever configure_logging installs on the root logger, removed afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    yield stream
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
        for added in [f for f in handler.filters if isinstance(f, RedactSecrets)]:
            handler.removeFilter(added)
    root.setLevel(level)


def test_every_configured_secret_is_redacted_from_messages_args_and_tracebacks(
    captured_root_logging: io.StringIO,
) -> None:
    environment = {
        "OPENAI_API_KEY": "sk-live-abcdefghijklmnop",
        "DISCORD_BOT_TOKEN": "discord.token.value-1234",
        "DATABASE_URL": "postgresql://studybot:pa55w0rd-secret@db.internal:5432/studybot",
        "TELEGRAM_BOT_TOKEN": "42:telegram-secret-part",
        "STUDYBOT_LOG_LEVEL": "DEBUG",
    }
    configure_logging("DEBUG", secrets_from_environment(environment), captured_root_logging)
    library = logging.getLogger("openai._base_client")  # a library's logger, not ours
    library.debug("Authorization: Bearer %s", environment["OPENAI_API_KEY"])
    logging.getLogger("discord.http").info(f"token {environment['DISCORD_BOT_TOKEN']}")
    logging.getLogger("sqlalchemy.engine").warning("connect %s", environment["DATABASE_URL"])
    try:
        raise ConnectionError(
            f"GET https://api.telegram.org/bot{environment['TELEGRAM_BOT_TOKEN']}"
        )
    except ConnectionError:
        logging.getLogger("telegram.ext").exception("polling failed")
    logging.getLogger("httpx").info("encoded %s", "42%3Atelegram-secret-part")
    output = captured_root_logging.getvalue()
    for secret in ("sk-live-abcdefghijklmnop", "discord.token.value-1234", "pa55w0rd-secret"):
        assert secret not in output
    assert "telegram-secret-part" not in output
    for name in ("OPENAI_API_KEY", "DISCORD_BOT_TOKEN", "DATABASE_URL", "TELEGRAM_BOT_TOKEN"):
        assert f"[REDACTED:{name}]" in output
    assert "polling failed" in output and "ConnectionError" in output
