"""`studybot run telegram|discord`: the bot on a chat platform, over the terminal's core."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bot.core import Core

run_app = typer.Typer(help="Run the bot on a chat platform.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    """One line on standard error and exit status 2: the operator has something to fix."""
    typer.echo(message, err=True)
    return typer.Exit(2)


def _warm_follow_ups(core: Core) -> None:
    """Load the embedding model and open the study index while the bot connects, so that the
    first member's follow-up question does not wait for them (seconds on a small machine)."""
    if core.study is not None:
        threading.Thread(
            target=core.study.warm, args=(core.bank,), name="warm-follow-ups", daemon=True
        ).start()


@run_app.command("telegram")
def telegram() -> None:
    """Run the Telegram bot: long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set."""
    from telegram.error import InvalidToken, NetworkError

    from adapters.cli.app import _load_bank, _open_database, build_core
    from adapters.telegram.bot import WebhookUnavailable, build_application, check_token, run
    from adapters.telegram.settings import BOTFATHER_HINT, TelegramSettings
    from bot.config import Settings

    settings, telegram_settings = Settings(), TelegramSettings()
    problem = telegram_settings.problem()
    if problem:  # before loading anything: the fix is in the environment
        raise _fail(problem)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per long poll is noise
    rejected = f"Telegram rejected TELEGRAM_BOT_TOKEN: {BOTFATHER_HINT}."
    unreachable = (
        f"Cannot reach the Bot API at TELEGRAM_BASE_URL={telegram_settings.base_url}: "
        "check the network, or the URL if you set it."
    )
    try:
        username = asyncio.run(check_token(telegram_settings))
    except InvalidToken:
        raise _fail(rejected) from None
    except NetworkError:
        raise _fail(unreachable) from None
    bank = _load_bank(settings)
    database = _open_database(settings)
    try:
        core = build_core(settings, database, bank)
        _warm_follow_ups(core)
        app = build_application(core, telegram_settings)
        mode = "a webhook" if telegram_settings.webhook_url else "long polling"
        typer.echo(f"@{username} is running with {mode}; Ctrl+C stops it.", err=True)
        run(app, telegram_settings)
    except InvalidToken:  # revoked between the check and the start
        raise _fail(rejected) from None
    except NetworkError:
        raise _fail(unreachable) from None
    except WebhookUnavailable as error:
        raise _fail(str(error)) from None
    finally:
        database.dispose()


@run_app.command("discord")
def discord_bot() -> None:
    """Run the Discord bot: slash commands, buttons and DMs over the gateway."""
    import aiohttp
    import discord

    from adapters.cli.app import _load_bank, _open_database, build_core
    from adapters.discord.bot import build_client, check_token
    from adapters.discord.settings import PORTAL_HINT, DiscordSettings
    from bot.config import Settings

    settings, discord_settings = Settings(), DiscordSettings()
    problem = discord_settings.problem()
    if problem:  # before loading anything: the fix is in the environment
        raise _fail(problem)
    rejected = f"Discord rejected DISCORD_BOT_TOKEN: {PORTAL_HINT}."
    unreachable = (
        f"Cannot reach Discord at DISCORD_API_BASE_URL={discord_settings.api_base_url}: "
        "check the network, or the URL if you set it."
    )
    try:
        name = asyncio.run(check_token(discord_settings))
    except discord.LoginFailure:
        raise _fail(rejected) from None
    except (aiohttp.ClientError, OSError, discord.HTTPException):
        raise _fail(unreachable) from None
    bank = _load_bank(settings)
    database = _open_database(settings)
    try:
        core = build_core(settings, database, bank)
        _warm_follow_ups(core)
        client = build_client(core, discord_settings)
        typer.echo(f"{name} is running on Discord; Ctrl+C stops it.", err=True)
        client.run(discord_settings.token(), log_handler=None)
    except discord.LoginFailure:  # revoked between the check and the start
        raise _fail(rejected) from None
    except (aiohttp.ClientError, OSError):
        raise _fail(unreachable) from None
    finally:
        database.dispose()


def register(app: typer.Typer) -> None:
    """Add the `run` group to the `studybot` command."""
    app.add_typer(run_app, name="run")
