"""The `studybot` command line."""

from __future__ import annotations

import getpass
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

# Each command imports what it uses: `studybot --help` and the `run` and `bench` commands do
# not pay for the chat's database and bank libraries, nor the chat for theirs.
if TYPE_CHECKING:
    from pydantic import ValidationError

    from bot.config import Settings
    from bot.core import Core
    from bot.storage.database import Database
    from knowledge.bank import Bank
    from knowledge.loader import BankProblem, Located
    from knowledge.notes import Note

log = logging.getLogger(__name__)
app = typer.Typer(help="A study assistant for AWS certification exams.", no_args_is_help=True)
bank_app = typer.Typer(help="Check the question banks.", no_args_is_help=True)
app.add_typer(bank_app, name="bank")


def _default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "student"


def _load_bank(settings: Settings) -> Bank:
    from knowledge.bank import Bank
    from knowledge.loader import BankError

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
    from bot.config import Settings

    settings = Settings()
    bank = _load_bank(settings)  # before the database: a bad bank leaves it untouched
    database = _open_database(settings)
    core = build_core(settings, database, bank, seed=seed)
    try:
        run_chat(core, user or _default_user(), settings.data_dir / "chat_history")
    finally:
        database.dispose()


def _notes(settings: Settings) -> list[Note]:
    from knowledge.loader import BankError
    from knowledge.notes import load_notes

    try:
        return load_notes(settings.notes) if settings.notes else load_notes()
    except BankError as error:
        typer.echo("The study notes have problems:", err=True)
        _echo_problems(error.problems)
        raise typer.Exit(2) from None


def build_core(settings: Settings, database: Database, bank: Bank, seed: int | None = None) -> Core:
    """The core with the study index and, when a model is configured, the LLM composer."""
    from bot.core import Core
    from bot.followups import build_follow_up_pipeline

    follow_ups = build_follow_up_pipeline(settings, _notes(settings))
    study, composer = follow_ups.study, follow_ups.composer
    files = settings.data_dir / "files"
    return Core(database, bank, seed=seed, study=study, composer=composer, files_dir=files)


def _open_database(settings: Settings) -> Database:
    from bot.storage.database import Database

    database = Database(settings.resolved_database_url())
    database.migrate()
    return database


def _echo_problems(problems: list[BankProblem]) -> None:
    for problem in problems:
        typer.echo(str(problem), err=True)
    typer.echo(f"{len(problems)} problem(s) found.", err=True)


@bank_app.command("validate")
def bank_validate(
    paths: Annotated[list[Path] | None, typer.Argument(help="Bank files or folders")] = None,
    import_rules: Annotated[
        bool, typer.Option("--import-rules", help="Check as an import: rationales etc. optional")
    ] = False,
) -> None:
    """Check banks (default: everything shipped, notes too); exit 1 listing every problem.

    Our own banks must be complete (rationales, trap, takeaway, follow-ups, references).
    CSV, GIFT and Aiken files are checked as imports.
    """
    from knowledge.importers import guess_format, parse_import
    from knowledge.loader import (
        BANKS_DIR,
        BankError,
        BankProblem,
        bank_files,
        check_across,
        parse_located,
    )
    from knowledge.notes import load_notes, parse_note

    problems: list[BankProblem] = []
    located: list[Located] = []
    notes: list[Note] = []
    for path in bank_files(paths or [BANKS_DIR]):
        fmt = guess_format(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
            if path.suffix == ".md":
                notes.append(parse_note(text, str(path)))
            elif fmt in ("yaml", "json") and not import_rules:
                located.extend(parse_located(text, str(path)))
            elif fmt:
                located.extend(parse_import(text, str(path), fmt))
            else:
                problems.append(BankProblem(str(path), 1, "", "unknown file type"))
        except BankError as error:
            problems.extend(error.problems)
        except (OSError, UnicodeDecodeError) as error:
            problems.append(BankProblem(str(path), 1, "", f"cannot read: {error}"))
    problems.extend(p for p in check_across(located) if p not in problems)
    for folder in _notes_folders(paths):
        try:
            notes.extend(load_notes(folder))
        except BankError as error:
            problems.extend(error.problems)
    _echo_review_warnings(located, notes)
    if problems:
        _echo_problems(problems)
        raise typer.Exit(1)
    typer.echo(f"OK: {len(located)} items, {len(notes)} notes")


def _echo_review_warnings(located: list[Located], notes: list[Note]) -> None:
    """One warning line per item or note not reviewed lately; warnings never fail validation."""
    from knowledge.reviews import REVIEW_MONTHS, is_stale

    places = [(e.file, e.line, f"reviewed (item {e.item.id})", e.item.reviewed) for e in located]
    places += [(*n.source, f"reviewed (note {n.id})", n.reviewed) for n in notes]
    for file, line, field, month in places:
        if month and is_stale(month):
            typer.echo(
                f"warning: {file}:{line}: {field}: last reviewed {month}, not in the last "
                f"{REVIEW_MONTHS} months; check it against the AWS documentation",
                err=True,
            )
    unreviewed = sum(month is None for *_, month in places)
    if unreviewed:
        typer.echo(f"warning: {unreviewed} item(s) or note(s) have no reviewed month", err=True)


def _notes_folders(paths: list[Path] | None) -> list[Path]:
    """The study-note folders to check: ours by default, else any `notes` folder given or inside."""
    from knowledge.notes import NOTES_DIR

    if not paths:
        return [NOTES_DIR]
    found = {
        folder
        for path in paths
        if path.is_dir()
        for folder in [path, *path.rglob("notes")]
        if folder.is_dir() and folder.name == "notes"
    }
    return sorted(found)


@bank_app.command("list")
def bank_list(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Items per exam and domain (shipped and imported), the choose-N share, the notes count."""
    from bot.config import Settings
    from bot.imports import imported_items
    from bot.reports import bank_summary
    from knowledge.notes import load_notes
    from knowledge.reviews import oldest

    settings = Settings()
    shipped = _load_bank(settings)
    database = _open_database(settings)
    with database.session() as db:
        imported = imported_items(db)
    database.dispose()
    notes = load_notes()
    summary = bank_summary(shipped.with_imported(imported), len(notes), imported)
    summary["notes_oldest_review"] = oldest(note.reviewed for note in notes)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    for code, exam in summary["exams"].items():
        share = exam["choose_n"] / exam["items"] if exam["items"] else 0
        typer.echo(
            f"{code}: {exam['items']} items ({exam['imported']} imported), "
            f"{exam['choose_n']} choose-N ({share:.0%}), "
            f"oldest review {exam['oldest_review'] or 'not recorded'}"
        )
        for domain, count in exam["domains"].items():
            typer.echo(f"  {domain}: {count}")
    notes_oldest = summary["notes_oldest_review"] or "not recorded"
    typer.echo(f"Study notes: {summary['notes']}, oldest review {notes_oldest}")


@bank_app.command("import")
def bank_import(
    file: Annotated[Path, typer.Argument(help="The file to import", exists=True, dir_okay=False)],
    fmt: Annotated[
        str | None, typer.Option("--format", help="yaml, json, csv, gift or aiken")
    ] = None,
    exam: Annotated[str | None, typer.Option(help="Exam for formats that lack it")] = None,
    domain: Annotated[str | None, typer.Option(help="Domain for formats that lack it")] = None,
) -> None:
    """Import a teacher's questions into the shared pool every chat sees: all or nothing,
    idempotent, quizzable at once (up to 20 MB and 25,000 questions per file)."""
    from bot.clock import system_clock
    from bot.config import Settings
    from bot.imports import TERMINAL_LIMITS, ImportRefused, check_count, check_size, import_located
    from knowledge.importers import FORMATS, ImportDefaults, guess_format, parse_import
    from knowledge.loader import BankError

    fmt = fmt or guess_format(file)
    if fmt not in FORMATS:
        typer.echo(f"Give --format: one of {', '.join(FORMATS)}.", err=True)
        raise typer.Exit(2)
    settings = Settings()
    shipped = _load_bank(settings)
    try:
        check_size(file.name, file.stat().st_size, TERMINAL_LIMITS)  # before reading it in
        text = file.read_text(encoding="utf-8-sig")
        limit = TERMINAL_LIMITS.max_items
        defaults = ImportDefaults(exam=exam, domain=domain, max_items=limit)
        located = parse_import(text, str(file), fmt, defaults)
        check_count(file.name, located, TERMINAL_LIMITS)
        database = _open_database(settings)
        try:
            with database.session() as db:
                summary = import_located(
                    db,
                    located,
                    source=file.name,
                    imported_by=f"cli:{_default_user()}",
                    shipped=shipped,
                    now=system_clock(),
                )
        finally:
            database.dispose()
    except BankError as error:
        typer.echo(f"Nothing was imported from {file}:", err=True)
        _echo_problems(error.problems)
        raise typer.Exit(1) from None
    except ImportRefused as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    typer.echo(summary.text())


@bank_app.command("reports")
def bank_reports(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Students' reports on doubtful items, newest first, for the maintainers."""
    from bot.config import Settings
    from bot.reports import list_reports

    settings = Settings()
    bank = _load_bank(settings)
    database = _open_database(settings)
    with database.session() as db:
        rows = list_reports(db)
    database.dispose()
    if as_json:
        typer.echo(json.dumps([r | {"current_version": _version(bank, r)} for r in rows], indent=2))
        return
    if not rows:
        typer.echo("No reports.")
    for r in rows:
        current = _version(bank, r)
        stale = f" (item is now v{current})" if current and current != r["item_version"] else ""
        typer.echo(
            f"{r['created_at']} {r['item_id']} v{r['item_version']}{stale} "
            f"by {r['reporter']}: {r['reason']}"
        )


def _version(bank: Bank, report: dict[str, object]) -> int | None:
    item = bank.get(str(report["item_id"]))
    return item.version if item else None


UNEXPECTED = (
    "studybot stopped on an unexpected error. Run the command again with "
    "STUDYBOT_LOG_LEVEL=DEBUG to see the details (secrets are redacted), and report them if it "
    "keeps happening."
)
DATABASE_TROUBLE = (
    "studybot cannot use its database. Check DATABASE_URL (default: studybot.sqlite3 in "
    "STUDYBOT_DATA_DIR): is the server reachable, the file readable and not damaged? "
    "STUDYBOT_LOG_LEVEL=DEBUG shows the details."
)


def settings_problem(error: ValidationError) -> str:
    """One line naming each bad setting and what is wrong, never its value (it may be a key)."""
    problems = "; ".join(
        f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in error.errors()
    )
    return f"A setting is invalid ({problems}). Fix it in the environment or in .env."


def failure_message(error: Exception) -> tuple[str, int]:
    """What the user reads instead of a traceback, and the exit status."""
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    if isinstance(error, ValidationError) and error.title.endswith("Settings"):
        return settings_problem(error), 2
    if isinstance(error, SQLAlchemyError):
        return DATABASE_TROUBLE, 1
    return UNEXPECTED, 1


def main() -> None:
    """Every command: logging with secrets redacted, and one line (no traceback) on failure."""
    from adapters.cli.knowledge_commands import register
    from adapters.cli.run_commands import register as register_run
    from bot.logs import configure_logging_from_environment

    try:
        configure_logging_from_environment()
        register(app, _load_bank, _notes)
        register_run(app)
        app()
    except Exception as error:
        log.debug("studybot failed", exc_info=True)  # the details, for STUDYBOT_LOG_LEVEL=DEBUG
        message, status = failure_message(error)
        typer.echo(message, err=True)
        sys.exit(status)
