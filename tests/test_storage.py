"""The schema comes from alembic migrations, and state survives a new process."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel, select

import bot.storage.models  # noqa: F401  (registers the tables)
from bot.clock import ManualClock
from bot.core import Core
from bot.storage.database import Database
from bot.storage.models import Answer, QuizSession, User
from bot.types import ExplanationReply, HintReply, QuestionReply, TextReply
from knowledge.bank import Bank
from tests.student import LETTERS, Student, of_type, only


def test_migrations_create_exactly_the_models_schema(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []
    tables = set(inspect(database.engine).get_table_names())
    assert {"users", "chats", "quiz_sessions", "answers", "alembic_version"} <= tables


def test_migrating_twice_is_harmless(database: Database) -> None:
    database.migrate()
    with database.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0006"


async def test_a_new_core_resumes_the_quiz_at_the_same_question(
    database_url: str, bank: Bank, clock: ManualClock
) -> None:
    first = Database(database_url)
    first.migrate()
    student = Student(Core(first, bank, clock=clock, seed=5))
    await student.command("quiz", "DVA-C02 4")
    await student.say(student.right_letters(bank))
    pending = student.question
    first.dispose()  # the process goes away

    second = Database(database_url)
    second.migrate()
    again = Student(Core(second, bank, clock=clock, seed=99))
    resumed = only(await again.command("resume"), QuestionReply)
    assert resumed == pending  # same question, same option order, same number
    again.question = resumed
    replies = await again.say(again.right_letters(bank))
    assert only(replies, ExplanationReply).item_id == pending.item_id
    second.dispose()


@pytest.mark.parametrize("mode", ["", "exam "])
async def test_after_a_crash_resume_first_says_what_was_recorded(
    database_url: str, bank: Bank, clock: ManualClock, mode: str
) -> None:
    first = Database(database_url)
    first.migrate()
    student = Student(Core(first, bank, clock=clock, seed=5))
    await student.command("quiz", f"{mode}DVA-C02 3")
    assert student.question is not None
    wrong = student.wrong_positions(bank)[0]
    chosen = f"{LETTERS[wrong]}) {student.question.options[wrong]}"
    await student.say(LETTERS[wrong])  # stored; the process dies before the verdict is shown
    first.dispose()

    second = Database(database_url)
    second.migrate()
    replies = await Student(Core(second, bank, clock=clock, seed=99)).command("resume")
    recap = replies[0]
    assert isinstance(recap, TextReply), replies
    assert f"question 1 of 3 you chose {chosen}" in recap.text
    assert ("not quite" in recap.text) == (mode == "")  # exam mode reveals nothing
    assert only(replies, QuestionReply).number == 2
    second.dispose()


async def test_a_button_pressed_on_two_devices_counts_once(
    database: Database, bank: Bank, clock: ManualClock
) -> None:
    one = Student(Core(database, bank, clock=clock, seed=1))
    await one.command("quiz", "DVA-C02 3")
    two = Student(Core(database, bank, clock=clock, seed=1))
    two.question = one.question
    replies = await asyncio.gather(one.choose(0), two.choose(1))
    assert len([r for batch in replies for r in of_type(batch, ExplanationReply)]) == 1
    assert len([r for batch in replies for r in of_type(batch, HintReply)]) == 1
    with database.session() as db:
        assert [a.position for a in db.exec(select(Answer)).all()] == [0]


async def test_the_database_refuses_a_second_answer_to_one_question(
    database: Database, bank: Bank, clock: ManualClock
) -> None:
    """Two processes that both read the session before either writes: one answer wins."""
    core = Core(database, bank, clock=clock, seed=1)
    student = Student(core)
    await student.command("quiz", "DVA-C02 3")
    with database.session() as db_one, database.session() as db_two:
        seen = [
            db.exec(select(QuizSession).where(QuizSession.status == "active")).one()
            for db in (db_one, db_two)
        ]
        item = bank.get(seen[0].item_ids[0])
        first = core.quizzes.answer(db_one, seen[0], item, (0,))
        second = core.quizzes.answer(db_two, seen[1], item, (1,))
    assert of_type(first, ExplanationReply)
    assert "already answered" in of_type(second, HintReply)[0].text
    with database.session() as db:
        answers = db.exec(select(Answer)).all()
        session = db.exec(select(QuizSession)).one()
    assert [a.position for a in answers] == [0] and session.position == 1


async def test_only_one_active_quiz_per_user_and_chat_even_across_cores(
    database: Database, bank: Bank, clock: ManualClock
) -> None:
    one = Student(Core(database, bank, clock=clock))
    two = Student(Core(database, bank, clock=clock))
    await asyncio.gather(one.command("quiz", "DVA-C02 3"), two.command("quiz", "DVA-C02 3"))
    with database.session() as db:
        active = db.exec(select(QuizSession).where(QuizSession.status == "active")).all()
        users = db.exec(select(User)).all()
    assert len(active) == 1 and len(users) == 1


async def test_timestamps_come_back_timezone_aware(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 1")
    await student.say(student.right_letters(bank))
    with core.database.session() as db:
        answer = db.exec(select(Answer)).one()
        session = db.exec(select(QuizSession)).one()
    assert answer.answered_at.tzinfo is not None
    assert session.finished_at is not None and session.status == "finished"


async def test_adapter_memory_survives_a_new_core(
    database_url: str, bank: Bank, clock: ManualClock
) -> None:
    first = Database(database_url)
    first.migrate()
    Core(first, bank, clock=clock).remember(
        "telegram", "poll:42", {"chat_id": "-100", "ref": "1:0"}
    )
    Core(first, bank, clock=clock).remember(
        "telegram", "poll:42", {"chat_id": "-100", "ref": "1:1"}
    )
    first.dispose()
    second = Database(database_url)
    core = Core(second, bank, clock=clock)
    assert core.recall("telegram", "poll:42") == {"chat_id": "-100", "ref": "1:1"}
    assert core.recall("telegram", "poll:43") is None
    assert core.recall("discord", "poll:42") is None
    second.dispose()


def test_processes_starting_together_on_an_empty_database_all_start(database_url: str) -> None:
    """Several bot processes (webhook workers, shards) started at once each create or upgrade
    the schema; none may fail because another is migrating the same empty database."""
    script = (
        "import sys\n"
        "from bot.storage.database import Database\n"
        "db = Database(sys.argv[1])\n"
        "db.migrate()\n"
        "print('at head' if db.at_head() else 'not at head')\n"
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script, database_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    for worker, (out, err) in zip(workers, results, strict=True):
        assert worker.returncode == 0, err[-2000:]
        assert out.strip() == "at head"


async def test_a_bot_keeps_no_per_user_state_after_their_events(
    database: Database, bank: Bank
) -> None:
    """Per-user ordering needs a lock only while a user's events are in flight: a bot that
    has served many students holds none of them afterwards (memory stays flat)."""
    core = Core(database, bank, clock=ManualClock(), seed=1)
    students = [Student(core, f"u{n}", f"c{n}") for n in range(40)]
    await asyncio.gather(*(student.command("quiz", "DVA-C02 1") for student in students))
    assert len(core._locks) == 0
