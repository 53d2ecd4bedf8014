"""`studybot bench core|challenge|quizzes`: the conversation core under load.

Every figure comes from the real `Core.handle`, fed the events an adapter sends: a tapped answer
button is an `AnswerChoice` carrying the question's ref (a quiz's "12:3", a daily challenge's
"d:7:0"), and a daily challenge is set up with `/daily on`, posted by `Core.tick` and marked
delivered, as the Telegram and Discord adapters do. Each run starts from an empty database (a
SQLite file in a temporary folder, or a new PostgreSQL database created next to the given one
and dropped afterwards), and every figure is the median over the runs.

What the figures mean:
- `handle_ms`: how long each `await core.handle(event)` took, as its caller saw it;
- `reply_ms` (challenge): from the moment the whole burst arrived to each member's reply, which
  is what a member waits when everybody taps at once;
- `one_at_a_time_ms` (challenge): more members answering one after another, so nobody waits
  behind anybody: what one event costs;
- `loop_stall_ms`: how late the event loop woke a coroutine sleeping beside the load, i.e. the
  longest time every other chat of the bot had to wait;
- `slow_chart` (quizzes): while one student's /stats chart is drawn, a few others keep
  answering on a fixed schedule (20 answers/s in all, well below what the core handles), and
  their latency counts from when each answer was due: `others_during_chart_ms` against
  `others_before_chart_ms`, side by side in the same run;
- `lost` and `counted_twice` are read back from the database, never from the replies: answers
  expected but not stored, and answers stored (or review cards moved) more than once.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlmodel import Session, col, select

from bot.clock import ManualClock
from bot.core import Core
from bot.refs import DailyRef, decode
from bot.storage.database import Database
from bot.storage.models import Answer, DailyAnswer, QuizSession, ReviewCard, User
from bot.types import (
    AnswerChoice,
    ChatKind,
    Command,
    ExplanationReply,
    ImageReply,
    QuestionReply,
    Reply,
    TextReply,
)
from knowledge.bank import Bank

PLATFORM = "telegram"
EXAM = "DVA-C02"
START = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)  # the daily challenge is due at this instant
GROUP_ID = "-1001234567890"
FAILURE = "Sorry, something went wrong"  # the core's polite message for an unexpected error
Figures = dict[str, Any]
CoreFactory = Callable[..., Core]
Log = Callable[[str], None]


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is; `QUICK` keeps every figure but takes well under two minutes."""

    answers: int = 300  # core: one student's answers, one after another
    members: int = 1000  # challenge: members answering one daily challenge at once
    double_taps: int = 50  # ... of whom this many tap their answer twice
    sequential: int = 100  # ... and this many more answer one at a time afterwards
    students: int = 200  # quizzes: students taking a quiz at the same time
    questions: int = 20  # ... questions in each quiz (and in the core scenario's quizzes)
    chart_students: int = 5  # slow chart: students answering while one asks for /stats
    chart_period: float = 0.25  # ... each answers every this many seconds
    chart_lead: float = 0.75  # ... for this long before /stats, and again after it


FULL = Sizes()
QUICK = Sizes(
    answers=60,
    members=150,
    double_taps=10,
    sequential=20,
    students=30,
    questions=8,
    chart_students=4,
    chart_lead=0.5,
)


# ---------------------------------------------------------------- measuring


def percentiles(samples: list[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max by nearest rank, in milliseconds (samples are in seconds)."""
    if not samples:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(samples)

    def rank(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)] * 1000, 2)

    return {"p50": rank(0.5), "p95": rank(0.95), "p99": rank(0.99), "max": rank(1.0)}


class StallMeter:
    """Sleeps `interval` over and over beside the load and keeps the worst oversleep: while one
    event holds the event loop, nothing else in the process (no other chat) runs."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.worst = max(self.worst, time.perf_counter() - before - self.interval)

    async def __aenter__(self) -> StallMeter:
        self._task = asyncio.create_task(self._watch())
        await asyncio.sleep(0)  # let it take its first reading before the load starts
        return self

    async def __aexit__(self, *_: object) -> None:
        await asyncio.sleep(self.interval * 2)  # see the tail of the last stall
        assert self._task is not None
        self._task.cancel()

    @property
    def worst_ms(self) -> float:
        return round(self.worst * 1000, 2)


def median_of(runs: list[Figures]) -> Figures:
    """Each number the median of its value over the runs (nested dicts alike)."""
    merged: Figures = {}
    for key, first in runs[0].items():
        values = [run[key] for run in runs]
        if isinstance(first, dict):
            merged[key] = median_of(values)
        elif isinstance(first, int | float | type(None)) and not isinstance(first, bool):
            numbers = [v for v in values if v is not None]
            merged[key] = round(statistics.median(numbers), 2) if numbers else None
        else:
            merged[key] = first
    return merged


# ---------------------------------------------------------------- databases


@contextmanager
def fresh_database(postgres_url: str | None) -> Iterator[tuple[Database, Path]]:
    """An empty, migrated database and a scratch folder: a SQLite file when `postgres_url` is
    None, else a new database on that server, dropped afterwards (nothing else is touched)."""
    with tempfile.TemporaryDirectory(prefix="studybot-bench-") as scratch:
        folder = Path(scratch)
        if postgres_url is None:
            database = _migrated(f"sqlite:///{folder / 'bench.sqlite3'}")
            try:
                yield database, folder
            finally:
                database.dispose()
            return
        name = f"studybot_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            database = _migrated(postgres_url.rsplit("/", 1)[0] + f"/{name}")
            try:
                yield database, folder
            finally:
                database.dispose()
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


def _migrated(url: str) -> Database:
    database = Database(url)
    database.migrate()
    return database


# ---------------------------------------------------------------- talking to the core


@dataclass(frozen=True)
class Person:
    """Someone talking to the bot in one chat, with the fields every adapter event carries."""

    user_id: str
    chat_id: str
    kind: ChatKind = ChatKind.private
    name: str = ""
    admin: bool = False

    def fields(self) -> dict[str, Any]:
        return {
            "platform": PLATFORM,
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "display_name": self.name or f"Student {self.user_id}",
            "chat_kind": self.kind,
            "is_admin": self.admin,
        }

    def command(self, name: str, args: str = "") -> Command:
        return Command(**self.fields(), name=name, args=args)

    def tap(self, question: QuestionReply, positions: tuple[int, ...]) -> AnswerChoice:
        """An answer button (or a poll vote): positions as presented, and the question's ref."""
        return AnswerChoice(**self.fields(), choices=positions, question_ref=question.ref)


def student(number: int) -> Person:
    """A student in their private chat with the bot (Telegram: chat id = user id)."""
    return Person(user_id=str(100_000 + number), chat_id=str(100_000 + number))


def question_in(replies: list[Reply]) -> QuestionReply | None:
    return next((r for r in replies if isinstance(r, QuestionReply)), None)


def failed(replies: list[Reply]) -> bool:
    """The core's apology for an unexpected error (it logged the traceback)."""
    return any(isinstance(r, TextReply) and r.text.startswith(FAILURE) for r in replies)


def positions_for(question: QuestionReply, bank: Bank, right: bool) -> tuple[int, ...]:
    """The right options as presented, or one wrong one; from the bank, as a student would."""
    item = bank.get(question.item_id)
    assert item is not None
    correct = {o.text for o in item.options if o.correct}
    shown = list(question.options)
    if right:
        return tuple(i for i, option in enumerate(shown) if option in correct)
    return (next(i for i, option in enumerate(shown) if option not in correct),)


async def start_quiz(core: Core, person: Person, questions: int) -> QuestionReply:
    replies = await core.handle(person.command("quiz", f"{EXAM} {questions}"))
    question = question_in(replies)
    assert question is not None, f"/quiz did not start: {replies}"
    return question


@dataclass
class QuizLog:
    """One student's timed answers."""

    latencies: list[float]
    verdicts: int = 0
    failures: int = 0


async def answer_quiz(
    core: Core, bank: Bank, person: Person, question: QuestionReply | None, limit: int
) -> QuizLog:
    """Answer until the quiz ends or `limit` answers: right, wrong, right, ..."""
    log = QuizLog([])
    while question is not None and len(log.latencies) < limit:
        event = person.tap(question, positions_for(question, bank, len(log.latencies) % 2 == 0))
        began = time.perf_counter()
        replies = await core.handle(event)
        log.latencies.append(time.perf_counter() - began)
        log.verdicts += any(isinstance(r, ExplanationReply) for r in replies)
        log.failures += failed(replies)
        question = question_in(replies)
    return log


def bench_user_ids(db: Session, user_ids: list[str]) -> list[int]:
    """The database ids of the bench's simulated students (platform user ids `user_ids`)."""
    query = select(User.id).where(
        User.platform == PLATFORM, col(User.platform_user_id).in_(user_ids)
    )
    return [user_id for user_id in db.exec(query).all() if user_id is not None]


def quiz_counts(database: Database, user_ids: list[str], expected: int) -> dict[str, int]:
    """`lost` and `counted_twice` for quiz answers, from the answers table and review cards."""
    with database.session() as db:
        users = bench_user_ids(db, user_ids)
        rows = db.exec(
            select(Answer.session_id, Answer.position).where(col(Answer.user_id).in_(users))
        ).all()
        reviews = db.exec(
            select(ReviewCard.reviews).where(col(ReviewCard.user_id).in_(users))
        ).all()
    stored = len(set(rows))
    return {
        "lost": max(0, expected - stored),
        "counted_twice": (len(rows) - stored) + max(0, sum(reviews) - stored),
    }


def quiz_sessions_left_open(database: Database) -> int:
    with database.session() as db:
        return len(db.exec(select(QuizSession.id).where(QuizSession.status == "active")).all())


# ---------------------------------------------------------------- core: one student


async def core_scenario(core: Core, database: Database, bank: Bank, sizes: Sizes) -> Figures:
    """One student answers `sizes.answers` questions one after another, quiz after quiz."""
    person = student(1)
    logs: list[QuizLog] = []
    async with StallMeter() as meter:
        while sum(len(entry.latencies) for entry in logs) < sizes.answers:
            question = await start_quiz(core, person, sizes.questions)
            left = sizes.answers - sum(len(entry.latencies) for entry in logs)
            logs.append(await answer_quiz(core, bank, person, question, left))
    latencies = [t for entry in logs for t in entry.latencies]
    answered = len(latencies)
    return {
        "answers": answered,
        "handle_ms": percentiles(latencies),
        "answers_per_s": round(answered / sum(latencies), 1),
        "verdicts": sum(entry.verdicts for entry in logs),
        "errors": sum(entry.failures for entry in logs),
        **quiz_counts(database, [person.user_id], answered),
        "loop_stall_ms": meter.worst_ms,
    }


# ---------------------------------------------------------------- challenge: a burst


ADMIN = Person(user_id="999", chat_id=GROUP_ID, kind=ChatKind.group, name="Ada", admin=True)


def member(number: int) -> Person:
    return Person(
        user_id=str(200_000 + number), chat_id=GROUP_ID, kind=ChatKind.group, name=f"M{number}"
    )


async def post_challenge(core: Core) -> QuestionReply:
    """An admin turns the daily challenge on; the next tick posts it and the adapter reports
    it delivered (from then on the group has it)."""
    await core.handle(ADMIN.command("daily", f"on 09:00 UTC {EXAM} 1 8h"))
    deliveries = await core.tick(PLATFORM)
    for delivery in deliveries:
        await core.delivered(delivery)
    posted = [q for d in deliveries if (q := question_in(list(d.replies))) is not None]
    assert len(posted) == 1, f"expected one posted challenge, got {deliveries}"
    return posted[0]


def challenge_counts(
    database: Database, question: QuestionReply, user_ids: list[str], expected: int
) -> dict[str, int]:
    """`lost` and `counted_twice` for one challenge question, from the answers it stored and
    the members' review cards for its item."""
    ref = decode(question.ref)
    assert isinstance(ref, DailyRef)
    with database.session() as db:
        users = bench_user_ids(db, user_ids)
        rows = db.exec(
            select(DailyAnswer.user_id, DailyAnswer.position).where(
                DailyAnswer.challenge_id == ref.challenge_id, col(DailyAnswer.user_id).in_(users)
            )
        ).all()
        reviews = db.exec(
            select(ReviewCard.reviews).where(
                ReviewCard.item_id == question.item_id, col(ReviewCard.user_id).in_(users)
            )
        ).all()
    stored = len(set(rows))
    return {
        "lost": max(0, expected - stored),
        "counted_twice": (len(rows) - stored) + max(0, sum(reviews) - stored),
    }


@dataclass(frozen=True)
class Timed:
    handle: float  # seconds inside `await core.handle(event)`
    reply: float  # seconds from the burst's arrival to the reply
    failed: bool


async def timed(core: Core, event: AnswerChoice, arrived: float) -> Timed:
    began = time.perf_counter()
    replies = await core.handle(event)
    done = time.perf_counter()
    return Timed(done - began, done - arrived, failed(replies))


async def challenge_scenario(core: Core, database: Database, bank: Bank, sizes: Sizes) -> Figures:
    """`sizes.members` members answer one daily challenge at once (some tap twice), then
    `sizes.sequential` more answer one at a time."""
    question = await post_challenge(core)
    members = [member(n) for n in range(sizes.members)]
    events: list[AnswerChoice] = []
    for n, person in enumerate(members):
        tap = person.tap(question, positions_for(question, bank, n % 3 != 0))
        events.extend([tap, tap] if n < sizes.double_taps else [tap])
    async with StallMeter() as meter:
        arrived = time.perf_counter()
        burst = await asyncio.gather(*(timed(core, event, arrived) for event in events))
        wall = time.perf_counter() - arrived
    later = [member(sizes.members + n) for n in range(sizes.sequential)]
    one_by_one = [
        await timed(core, person.tap(question, positions_for(question, bank, True)), 0.0)
        for person in later
    ]
    everyone = [p.user_id for p in members + later]
    return {
        "members": sizes.members,
        "events": len(events),
        "answers_per_s": round(sizes.members / wall, 1),
        "burst_s": round(wall, 3),
        "handle_ms": percentiles([t.handle for t in burst]),
        "reply_ms": percentiles([t.reply for t in burst]),
        "one_at_a_time_ms": percentiles([t.handle for t in one_by_one]),
        "errors": sum(t.failed for t in burst + one_by_one),
        **challenge_counts(database, question, everyone, len(everyone)),
        "loop_stall_ms": meter.worst_ms,
    }


# ---------------------------------------------------------------- quizzes at once, a slow chart


async def quizzes_scenario(core: Core, database: Database, bank: Bank, sizes: Sizes) -> Figures:
    """`sizes.students` students each take a quiz at the same time, each answering as soon as
    the previous verdict arrives; then the slow-chart figure on the same bot."""
    people = [student(1000 + n) for n in range(sizes.students)]

    async def take(person: Person) -> QuizLog:
        question = await start_quiz(core, person, sizes.questions)
        return await answer_quiz(core, bank, person, question, sizes.questions)

    async with StallMeter() as meter:
        began = time.perf_counter()
        logs = await asyncio.gather(*(take(person) for person in people))
        wall = time.perf_counter() - began
    latencies = [t for entry in logs for t in entry.latencies]
    expected = sizes.students * min(sizes.questions, len(bank.select(EXAM)))
    return {
        "students": sizes.students,
        "answers": len(latencies),
        "answers_per_s": round(len(latencies) / wall, 1),
        "wall_s": round(wall, 3),
        "handle_ms": percentiles(latencies),
        "errors": sum(entry.failures for entry in logs),
        **quiz_counts(database, [p.user_id for p in people], expected),
        "unfinished_quizzes": quiz_sessions_left_open(database),
        "loop_stall_ms": meter.worst_ms,
        "slow_chart": await chart_scenario(core, bank, people[0], sizes),
    }


@dataclass
class ChartWindow:
    start: float = math.inf
    end: float = math.inf
    drawn: bool = False


async def chart_scenario(core: Core, bank: Bank, viewer: Person, sizes: Sizes) -> Figures:
    """While `viewer` (who has just answered a quiz) asks for /stats and its chart, other
    students keep answering on a fixed schedule; their latency is counted from when each
    answer was due, so an answer held up behind the chart shows the whole wait."""
    await core.handle(viewer.command("stats"))  # the first chart also loads the plotting library
    others = [student(5000 + n) for n in range(sizes.chart_students)]
    firsts = [await start_quiz(core, person, 100) for person in others]
    window = ChartWindow()
    samples: list[tuple[float, float]] = []  # (due, replied)
    began = time.perf_counter()

    async def ask_for_chart() -> None:
        await asyncio.sleep(sizes.chart_lead)
        window.start = time.perf_counter()
        replies = await core.handle(viewer.command("stats"))
        window.end = time.perf_counter()
        window.drawn = any(isinstance(r, ImageReply) for r in replies)

    async def keep_answering(person: Person, question: QuestionReply | None, due: float) -> None:
        right = True
        while question is not None and due < window.end + sizes.chart_lead:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            replies = await core.handle(person.tap(question, positions_for(question, bank, right)))
            samples.append((due, time.perf_counter()))
            question, due, right = question_in(replies), due + sizes.chart_period, not right

    stagger = sizes.chart_period / len(others)
    async with StallMeter() as meter:
        await asyncio.gather(
            ask_for_chart(),
            *(
                keep_answering(p, q, began + n * stagger)
                for n, (p, q) in enumerate(zip(others, firsts, strict=True))
            ),
        )
    during = [done - due for due, done in samples if due < window.end and done > window.start]
    before = [done - due for due, done in samples if done <= window.start]
    return {
        "chart_ms": round((window.end - window.start) * 1000, 2),
        "chart_drawn": window.drawn,
        "others_answers_during_chart": len(during),
        "others_during_chart_ms": percentiles(during),
        "others_before_chart_ms": percentiles(before),
        "loop_stall_ms": meter.worst_ms,
    }


# ---------------------------------------------------------------- running


Scenario = Callable[[Core, Database, Bank, Sizes], Any]
SCENARIOS: dict[str, Scenario] = {
    "core": core_scenario,
    "challenge": challenge_scenario,
    "quizzes": quizzes_scenario,
}


def run_bench(
    scenario: str,
    bank: Bank,
    *,
    runs: int = 3,
    quick: bool = False,
    postgres_url: str | None = None,
    sizes: Sizes | None = None,
    core_factory: CoreFactory = Core,
    log: Log = lambda _line: None,
) -> Figures:
    """Run `scenario` `runs` times on SQLite (and on PostgreSQL when `postgres_url` is given),
    each time on an empty database and a new core; the medians, as a JSON-ready dict."""
    chosen = sizes or (QUICK if quick else FULL)
    engines: dict[str, str | None] = {"sqlite": None}
    if postgres_url:
        engines["postgresql"] = postgres_url
    result: Figures = {"scenario": scenario, "quick": quick, "runs": runs, "sizes": asdict(chosen)}
    for engine, url in engines.items():
        figures = []
        for number in range(1, runs + 1):
            log(f"{scenario} on {engine}: run {number} of {runs}")
            figures.append(_one_run(SCENARIOS[scenario], bank, chosen, url, core_factory))
        result[engine] = median_of(figures)
    return result


def _one_run(
    scenario: Scenario, bank: Bank, sizes: Sizes, url: str | None, core_factory: CoreFactory
) -> Figures:
    with fresh_database(url) as (database, scratch):
        core = core_factory(
            database, bank, clock=ManualClock(START), seed=7, files_dir=scratch / "files"
        )
        return asyncio.run(scenario(core, database, bank, sizes))
