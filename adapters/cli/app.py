"""The `studybot` command line."""

from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from bot.config import Settings
from bot.core import Core
from bot.storage.database import Database
from knowledge.bank import Bank
from knowledge.loader import BankError, load_banks
from knowledge.notes import load_notes

app = typer.Typer(help="A study assistant for AWS certification exams.", no_args_is_help=True)
bank_app = typer.Typer(help="Check the question banks.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "student"


def _load_bank(settings: Settings) -> Bank:
    try:
        return Bank.load(settings.bank_paths() or None)
    except BankError as error:
        typer.echo("The question bank has problems; nothing was started:", err=True)
        for problem in error.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2) from None


@app.command()
def chat(
    user: Annotated[str | None, typer.Option(help="Who is studying (default: your login)")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed question order, for repeatable runs")
    ] = None,
) -> None:
    """Chat with the bot in the terminal: quizzes, answers and explanations, offline."""
    from adapters.cli.chat import run_chat

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr)
    bank = _load_bank(settings)  # before the database: a bad bank leaves it untouched
    database = Database(settings.resolved_database_url())
    database.migrate()
    core = Core(database, bank, seed=seed)
    try:
        run_chat(core, user or _default_user(), settings.data_dir / "chat_history")
    finally:
        database.dispose()


@bank_app.command("validate")
def bank_validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="Bank files or folders")] = None,
) -> None:
    """Check bank files (default: the shipped banks and notes); exit 1 listing every problem."""
    problems = []
    items = notes = 0
    try:
        items = len(load_banks(paths or None))
    except BankError as error:
        problems.extend(error.problems)
    if not paths:
        try:
            notes = len(load_notes())
        except BankError as error:
            problems.extend(error.problems)
    for problem in problems:
        typer.echo(str(problem), err=True)
    if problems:
        typer.echo(f"{len(problems)} problem(s) found.", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {items} items" + (f", {notes} notes" if not paths else ""))


def main() -> None:
    app()
