"""Two bot processes sharing one database race the same student's answers: each is counted once.

Each round, two real OS processes (multiprocessing 'spawn', each with its own Core and engine)
wait at a barrier and then handle the same answer event at the same moment. A hook pauses each
process for a moment right after its event's first database statement, so that both are inside
their events before either writes; every round records when each process began and when it
finished, and the test asserts that the two really overlapped. The database
alone (constraints, conditional updates, row locks) must then count the answer once, and the
loser must be told something sensible, never "something went wrong".
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from bot.clock import ManualClock
from bot.commands import QuizRequest
from bot.core import Core
from bot.storage.database import Database
from bot.storage.models import Answer, Chat, DailyAnswer, QuizSession, ReviewCard, User
from bot.types import (
    AnswerChoice,
    ChatKind,
    Command,
    Event,
    ExplanationReply,
    HintReply,
    LeaderboardReply,
    QuestionReply,
    QuizResultReply,
    Reply,
)
from knowledge.bank import Bank

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 6, 1, 9, 0, 30, tzinfo=UTC)  # the daily challenge below opens at 09:00 UTC
PAUSE = 0.2  # seconds each racer waits after its first statement, so the other starts too
FAILURE = "something went wrong"
GROUP = "group-1"


@dataclass(frozen=True)
class Outcome:
    """What one racer saw in one round: its replies, when its event began and finished."""

    replies: list[Reply]
    began_at: float
    done_at: float


def _racer(url: str, jobs: Any, results: Any, barrier: Any) -> None:
    """One bot process: handle each event it is given at the same moment as the other racer."""
    core = Core(Database(url), Bank.load([FIXTURES / "bank"]), clock=ManualClock(NOW), seed=7)
    seen: dict[str, float] = {}

    def note_start(*_: Any) -> None:
        seen.setdefault("began_at", time.time())

    def pause_once(*_: Any) -> None:
        if "paused" not in seen:
            seen["paused"] = time.time()
            time.sleep(PAUSE)

    event.listen(core.database.engine, "before_cursor_execute", note_start)
    event.listen(core.database.engine, "after_cursor_execute", pause_once)
    while (job := jobs.get()) is not None:
        seen.clear()
        barrier.wait(timeout=60)
        replies = asyncio.run(core.handle(job))
        results.put(Outcome(replies, seen.get("began_at", math.inf), time.time()))
    core.database.dispose()


class Racers:
    """Two racer processes on one database, fed the same event each round."""

    def __init__(self, url: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.barrier = context.Barrier(2)
        self.jobs = [context.Queue(), context.Queue()]
        self.results = context.Queue()
        self.processes = [
            context.Process(target=_racer, args=(url, jobs, self.results, self.barrier))
            for jobs in self.jobs
        ]
        for process in self.processes:
            process.start()

    def race(self, one: Event, two: Event | None = None) -> list[Outcome]:
        """Both processes handle their event at once; outcomes in the order they finished."""
        self.jobs[0].put(one)
        self.jobs[1].put(two or one)
        return [self.results.get(timeout=120) for _ in self.processes]

    def stop(self) -> None:
        for jobs in self.jobs:
            jobs.put(None)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()


@pytest.fixture
def racers(database: Database) -> Iterator[Racers]:
    racers = Racers(database.url)
    yield racers
    racers.stop()


def overlapped(outcomes: list[Outcome]) -> bool:
    """Each process began its event's database work before the other had finished its event."""
    return max(o.began_at for o in outcomes) < min(o.done_at for o in outcomes)


def texts(replies: list[Reply]) -> str:
    return " | ".join(getattr(r, "text", type(r).__name__) for r in replies)


def first_of(replies: list[Reply], kind: type) -> Any:
    return next(r for r in replies if isinstance(r, kind))


def base(user: str, chat: str, kind: ChatKind = ChatKind.private) -> dict[str, Any]:
    return {
        "platform": "test",
        "chat_id": chat,
        "user_id": user,
        "display_name": user.title(),
        "chat_kind": kind,
    }


async def open_challenge(core: Core, count: int) -> list[QuestionReply]:
    """A daily challenge of `count` questions, posted and delivered in GROUP."""
    admin = {**base("ada", GROUP, ChatKind.group), "is_admin": True}
    on = await core.handle(Command(**admin, name="daily", args=f"on 09:00 UTC DVA-C02 {count} 8h"))
    assert "Daily challenge on" in texts(on)
    (delivery,) = await core.tick("test")
    await core.delivered(delivery)
    return [r for r in delivery.replies if isinstance(r, QuestionReply)]


def review_counts(database: Database, user_id: str) -> dict[str, int]:
    with database.session() as db:
        user = db.exec(select(User).where(User.platform_user_id == user_id)).one()
        cards = db.exec(select(ReviewCard).where(ReviewCard.user_id == user.id)).all()
        return {card.item_id: card.reviews for card in cards}


async def test_the_same_quiz_answer_from_two_processes_counts_once(
    database: Database, bank: Bank, racers: Racers
) -> None:
    core = Core(database, bank, clock=ManualClock(NOW), seed=7)
    me = base("alice", "dm-alice")
    started = await core.handle(Command(**me, name="quiz", args="DVA-C02 4"))
    question = first_of(started, QuestionReply)
    overlaps = 0
    for number in range(1, 5):
        outcomes = racers.race(AnswerChoice(**me, choices=(0,), question_ref=question.ref))
        overlaps += overlapped(outcomes)
        won = [o for o in outcomes if any(isinstance(r, ExplanationReply) for r in o.replies)]
        lost = [o for o in outcomes if o not in won]
        assert len(won) == 1 and len(lost) == 1, [texts(o.replies) for o in outcomes]
        assert FAILURE not in texts(lost[0].replies)
        assert "already" in first_of(lost[0].replies, HintReply).text
        if number < 4:
            question = first_of(won[0].replies, QuestionReply)
            assert question.number == number + 1
        else:
            result = first_of(won[0].replies, QuizResultReply)
    assert overlaps == 4  # every round really raced
    with database.session() as db:
        answers = db.exec(select(Answer)).all()
        session = db.exec(select(QuizSession)).one()
    assert sorted(a.position for a in answers) == [0, 1, 2, 3]
    assert session.position == 4 and session.status == "finished"
    assert result.total == 4 and result.score == sum(a.correct for a in answers)
    assert list(review_counts(database, "alice").values()) == [1, 1, 1, 1]


async def test_the_same_challenge_answer_from_two_processes_counts_once(
    database: Database, bank: Bank, racers: Racers
) -> None:
    core = Core(database, bank, clock=ManualClock(NOW), seed=7)
    questions = await open_challenge(core, 4)
    bob = base("bob", GROUP, ChatKind.group)  # his first event: both processes create him too
    overlaps = 0
    for question in questions:
        outcomes = racers.race(AnswerChoice(**bob, choices=(0,), question_ref=question.ref))
        overlaps += overlapped(outcomes)
        replies = [texts(o.replies) for o in outcomes]
        assert sum("Got it" in r for r in replies) == 1, replies
        assert sum("already answered" in r for r in replies) == 1, replies
        assert not any(FAILURE in r for r in replies)
    assert overlaps == len(questions)
    with database.session() as db:
        answers = db.exec(select(DailyAnswer)).all()
        assert len(db.exec(select(User).where(User.platform_user_id == "bob")).all()) == 1
    assert sorted(a.position for a in answers) == [0, 1, 2, 3]
    assert list(review_counts(database, "bob").values()) == [1, 1, 1, 1]
    board = await core.handle(Command(**bob, name="leaderboard", args="day"))
    (row,) = first_of(board, LeaderboardReply).rows
    assert row.name == "Bob" and row.answered == 4


async def test_a_quiz_answer_and_a_challenge_answer_on_the_same_item_both_count(
    database: Database, bank: Bank, racers: Racers
) -> None:
    """The same student answers one item in a private quiz and in the group's challenge at
    once, from two processes: both answers count and the review card moves twice."""
    core = Core(database, bank, clock=ManualClock(NOW), seed=7)
    questions = await open_challenge(core, 3)
    me = base("carl", "dm-carl")
    await core.handle(Command(**me, name="start"))
    with database.session() as db:
        user = db.exec(select(User).where(User.platform_user_id == "carl")).one()
        chat = db.exec(select(Chat).where(Chat.platform_chat_id == "dm-carl")).one()
        items = [bank.get(q.item_id) for q in questions]
        request = QuizRequest(exam="DVA-C02", count=len(items))
        started = core.quizzes.start_items(db, user, chat, items, request, "Same items.")
    quiz_question = first_of(started, QuestionReply)
    in_group = base("carl", GROUP, ChatKind.group)
    overlaps = 0
    for daily_question in questions:
        assert quiz_question.item_id == daily_question.item_id
        outcomes = racers.race(
            AnswerChoice(**me, choices=(0,), question_ref=quiz_question.ref),
            AnswerChoice(**in_group, choices=(0,), question_ref=daily_question.ref),
        )
        overlaps += overlapped(outcomes)
        replies = [o.replies for o in outcomes]
        assert not any(FAILURE in texts(r) for r in replies)
        assert sum("Got it" in texts(r) for r in replies) == 1, [texts(r) for r in replies]
        quiz = next(r for r in replies if any(isinstance(x, ExplanationReply) for x in r))
        if daily_question is not questions[-1]:
            quiz_question = first_of(quiz, QuestionReply)
    assert overlaps == len(questions)
    with database.session() as db:
        assert len(db.exec(select(Answer)).all()) == 3
        assert len(db.exec(select(DailyAnswer)).all()) == 3
    assert list(review_counts(database, "carl").values()) == [2, 2, 2]
