"""Daily challenges, streaks, leaderboards, spaced review, stats, export and /forget,
with a controllable clock: no test sleeps."""

from __future__ import annotations

import asyncio
import struct
import zipfile
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event
from sqlmodel import select

from bot.clock import ManualClock
from bot.core import Core
from bot.daily import post_instant
from bot.progress import Attempt, exam_progress
from bot.storage.database import Database
from bot.storage.models import (
    Answer,
    DailyAnswer,
    DailyChallenge,
    QuizSession,
    Report,
    ReviewCard,
    User,
)
from bot.study import StudyIndex
from bot.types import (
    ChatKind,
    Delivery,
    ExplanationReply,
    FileReply,
    HintReply,
    ImageReply,
    LeaderboardReply,
    QuestionReply,
    StatsReply,
    TextReply,
)
from knowledge.bank import Bank
from tests.student import Student, hints, of_type, only

GROUP = "group-1"


def member(core: Core, name: str, admin: bool = False) -> Student:
    student = Student(core, name, chat=GROUP)
    student.base = {**student.base, "chat_kind": ChatKind.group, "is_admin": admin}
    return student


def at(clock: ManualClock, moment: datetime) -> None:
    clock.now = moment.astimezone(UTC)


async def set_up_daily(core: Core, args: str = "on 09:00 Europe/Berlin DVA-C02 1 8h") -> None:
    replies = await member(core, "ada", admin=True).command("daily", args)
    assert "Daily challenge on" in only(replies, TextReply).text


async def tick(core: Core) -> list[Delivery]:
    """`Core.tick` as an adapter drives it: each delivery sent, then recorded as delivered."""
    deliveries = await core.tick("test")
    for delivery in deliveries:
        await core.delivered(delivery)
    return deliveries


def question_of(deliveries) -> QuestionReply:  # type: ignore[no-untyped-def]
    (delivery,) = deliveries
    assert delivery.chat_id == GROUP and delivery.chat_kind is ChatKind.group
    return only(list(delivery.replies), QuestionReply)


async def test_only_admins_configure_and_only_in_groups(core: Core) -> None:
    assert (
        "Only group admins" in hints(await member(core, "bob").command("daily", "on 09:00"))[0].text
    )
    assert "group chats" in hints(await Student(core).command("daily", "on 09:00"))[0].text
    bad = await member(core, "ada", admin=True).command("daily", "on 09:00 Mars/Olympus")
    assert "Unknown time zone" in hints(bad)[0].text
    await set_up_daily(core)
    status = only(await member(core, "bob").command("daily"), TextReply).text
    assert "Every day at 09:00 (Europe/Berlin)" in status and "not been posted" in status
    off = await member(core, "ada", admin=True).command("daily", "off")
    assert "turned off" in only(off, TextReply).text


async def test_posted_once_across_a_restart_at_the_posting_minute(
    database: Database, bank: Bank, clock: ManualClock, study: StudyIndex
) -> None:
    core = Core(database, bank, clock=clock, study=study)
    await set_up_daily(core)
    at(clock, datetime(2026, 6, 1, 6, 59, 59, tzinfo=UTC))  # 08:59:59 in Berlin (CEST)
    assert await tick(core) == []
    clock.advance(seconds=1)  # 09:00 Berlin (CEST)
    question = question_of(await tick(core))
    assert question.ref.startswith("d:") and question.total == 1
    restarted = Core(database, bank, clock=clock, study=study)
    clock.advance(seconds=30)
    assert await tick(restarted) == []
    with database.session() as db:
        assert len(db.exec(select(DailyChallenge)).all()) == 1


async def test_two_cores_racing_on_one_database_post_once(
    database: Database, bank: Bank, clock: ManualClock, study: StudyIndex
) -> None:
    one = Core(database, bank, clock=clock, study=study)
    two = Core(database, bank, clock=clock, study=study)
    await set_up_daily(one)
    at(clock, datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    results = await asyncio.gather(tick(one), tick(two), tick(one))
    assert sum(len(r) for r in results) == 1
    clock.advance(hours=8)
    closing = await asyncio.gather(tick(one), tick(two))
    assert sum(len(r) for r in closing) == 1  # the results are posted once too


async def test_a_missed_post_goes_out_while_its_window_is_open_and_not_after(
    core: Core, clock: ManualClock
) -> None:
    await set_up_daily(core, "on 09:00 Europe/Berlin 1 2h")
    at(clock, datetime(2026, 6, 1, 8, 30, tzinfo=UTC))  # 10:30 Berlin: down at 09:00, back now
    assert question_of(await tick(core)).deadline == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    at(clock, datetime(2026, 6, 2, 9, 5, tzinfo=UTC))  # 11:05 Berlin next day: window over
    (closing,) = await tick(core)  # only the results of the first day, no new post
    assert not of_type(list(closing.replies), QuestionReply)
    assert only(list(closing.replies), LeaderboardReply).title == "Leaderboard for 2026-06-01"


def test_nine_oclock_stays_nine_oclock_across_daylight_saving() -> None:
    berlin = [post_instant(date(2026, 3, d), "09:00", "Europe/Berlin") for d in (28, 29)]
    assert [t.hour for t in berlin] == [8, 7]  # CET (UTC+1), then CEST (UTC+2)
    autumn = [post_instant(date(2026, 10, d), "09:00", "Europe/Berlin") for d in (24, 25)]
    assert [t.hour for t in autumn] == [7, 8]
    new_york = [post_instant(date(2026, 3, d), "09:00", "America/New_York") for d in (7, 8)]
    assert [t.hour for t in new_york] == [14, 13]  # EST (UTC-5), then EDT (UTC-4)


async def test_posting_follows_the_local_clock_on_the_dst_day(
    core: Core, clock: ManualClock
) -> None:
    await set_up_daily(core, "on 09:00 America/New_York 1 8h")
    at(clock, datetime(2026, 3, 8, 12, 59, tzinfo=UTC))  # 08:59 EDT
    assert await tick(core) == []
    at(clock, datetime(2026, 3, 8, 13, 0, tzinfo=UTC))  # 09:00 EDT
    assert question_of(await tick(core)).deadline == datetime(2026, 3, 8, 21, tzinfo=UTC)


async def test_the_window_closes_with_the_answer_and_the_leaderboard_in_order(
    core: Core, bank: Bank, clock: ManualClock
) -> None:
    await set_up_daily(core)
    at(clock, datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    question = question_of(await tick(core))
    item = bank.get(question.item_id)
    right = [
        i
        for i, text in enumerate(question.options)
        if text in {o.text for o in item.options if o.correct}
    ]
    wrong = [i for i in range(len(question.options)) if i not in right]
    plan = [
        ("eve", False, 10),
        ("dan", True, 300),
        ("cat", True, 60),
        ("bob", False, 5),
        ("amy", True, 120),
    ]
    for name, correct, seconds in plan:
        at(clock, datetime(2026, 6, 1, 7, 0, tzinfo=UTC) + timedelta(seconds=seconds))
        student = member(core, name)
        student.question = question
        replies = await student.choose(*(right if correct else wrong[:1]))
        assert "Got it" in only(replies, TextReply).text
        assert not of_type(replies, ExplanationReply)  # no verdict before the reveal
    again = member(core, "cat")
    again.question = question
    assert "first answer counts" in hints(await again.choose(*wrong[:1]))[0].text
    at(clock, datetime(2026, 6, 1, 15, 0, tzinfo=UTC))  # 17:00 Berlin: closes
    (delivery,) = await tick(core)
    reveal = only(list(delivery.replies), ExplanationReply)
    assert reveal.verdict is None and any(o.correct for o in reveal.options)
    board = only(list(delivery.replies), LeaderboardReply)
    assert [row.name for row in board.rows] == ["Cat", "Amy", "Dan", "Bob", "Eve"]
    assert [row.correct for row in board.rows] == [1, 1, 1, 0, 0]
    late = member(core, "fay")
    late.question = question
    assert "closed" in hints(await late.choose(*right))[0].text


async def test_a_typed_letter_in_the_group_answers_the_open_challenge(
    core: Core, clock: ManualClock
) -> None:
    await set_up_daily(core)
    at(clock, datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    await tick(core)
    assert "Got it" in only(await member(core, "bob").say("B"), TextReply).text
    with core.database.session() as db:
        assert len(db.exec(select(DailyAnswer)).all()) == 1


async def test_a_streak_breaks_on_a_missed_day_and_starts_again(
    core: Core, clock: ManualClock
) -> None:
    await set_up_daily(core)
    bob = member(core, "bob")

    async def day(number: int, answer: bool) -> None:
        at(clock, datetime(2026, 6, number, 7, 0, tzinfo=UTC))
        bob.question = question_of(await tick(core))
        if answer:
            await bob.choose(0)
        at(clock, datetime(2026, 6, number, 15, 0, tzinfo=UTC))
        await tick(core)

    await day(1, True)
    await day(2, True)
    board = only(await bob.command("leaderboard", "all"), LeaderboardReply)
    assert board.rows[0].streak == 2
    await day(3, False)
    at(clock, datetime(2026, 6, 4, 7, 0, tzinfo=UTC))
    bob.question = question_of(await tick(core))
    board = only(await bob.command("leaderboard", "all"), LeaderboardReply)
    assert board.rows[0].streak == 0  # today's still open: yesterday's miss counts
    await bob.choose(0)
    board = only(await bob.command("leaderboard", "all"), LeaderboardReply)
    assert board.rows[0].streak == 1 and board.rows[0].answered == 3


async def test_a_bigger_group_costs_the_leaderboard_no_more_queries(
    core: Core, clock: ManualClock
) -> None:
    """Streaks for all rows come together: a group of 30 must not mean 60 more queries."""
    await set_up_daily(core)
    at(clock, datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    question = question_of(await tick(core))
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    async def queries_for_the_leaderboard() -> int:
        statements.clear()
        event.listen(core.database.engine, "before_cursor_execute", count)
        try:
            board = only(await member(core, "bob").command("leaderboard"), LeaderboardReply)
        finally:
            event.remove(core.database.engine, "before_cursor_execute", count)
        assert all(row.streak == 1 for row in board.rows)
        return len(statements)

    for name in ("bob", "cy"):
        student = member(core, name)
        student.question = question
        await student.choose(0)
    few = await queries_for_the_leaderboard()
    for name in ("di", "ed", "flo", "gus"):
        student = member(core, name)
        student.question = question
        await student.choose(0)
    assert await queries_for_the_leaderboard() == few


async def test_review_due_dates_move_with_right_and_wrong_answers(
    core: Core, bank: Bank, clock: ManualClock
) -> None:
    student = Student(core)
    start = clock.now
    await student.command("quiz", "DVA-C02 security deployment 2")
    first = student.question.item_id
    await student.say(student.right_letters(bank))
    second = student.question.item_id
    await student.say(student.wrong_letter(bank))
    with core.database.session() as db:
        due = {c.item_id: c.due for c in db.exec(select(ReviewCard)).all()}
    assert due[first] == start + timedelta(days=2)
    assert due[second] == start + timedelta(days=1)
    nothing = only(await student.command("review"), TextReply).text
    assert (
        "Nothing is due now" in nothing
        and (start + timedelta(days=1)).strftime("%Y-%m-%d") in nothing
    )
    clock.advance(days=3)
    replies = await student.command("review")
    assert student.question.item_id == second  # most overdue first
    assert only(replies, QuestionReply).total == 2
    await student.say(student.right_letters(bank))
    with core.database.session() as db:
        card = db.exec(select(ReviewCard).where(ReviewCard.item_id == second)).one()
    assert card.due > clock.now + timedelta(days=1) and card.lapses == 1 and card.reviews == 2


def test_readiness_on_a_known_history(bank: Bank) -> None:
    when = datetime(2026, 1, 5, tzinfo=UTC)
    tries = [Attempt("t-sec-1", True, when), Attempt("t-dep-1", False, when)]
    progress = exam_progress("DVA-C02", tries, bank)
    # security (1 right) -> 3.5/6; deployment (1 wrong) -> 2.5/6; others 0.5
    expected = 0.32 * 0.5 + 0.26 * 3.5 / 6 + 0.24 * 2.5 / 6 + 0.18 * 0.5
    assert progress.readiness == round(expected, 3)
    assert progress.low < progress.readiness < progress.high
    assert (progress.answered, progress.seen, progress.bank_size) == (2, 2, 5)
    many = [Attempt("t-sec-1", True, when)] * 200
    sure = exam_progress("DVA-C02", many, bank)
    assert sure.high - sure.low < progress.high - progress.low  # more answers, narrower range


def png_size(path) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


async def test_stats_show_readiness_and_a_chart_of_the_expected_size(
    core: Core, bank: Bank
) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    await student.say(student.right_letters(bank))
    replies = await student.command("stats")
    stats = only(replies, StatsReply)
    dva = next(e for e in stats.exams if e.exam == "DVA-C02")
    assert dva.answered == 1 and dva.seen == 1 and stats.streak_days == 1
    assert "exam guide's weights" in stats.method
    chart = only(replies, ImageReply)
    assert chart.path.exists() and png_size(chart.path) == (800, 600)
    group = await member(core, "bob").command("stats")
    assert png_size(only(group, ImageReply).path) == (800, 600)
    assert only(group, LeaderboardReply)


async def test_export_writes_an_anki_deck_of_missed_items(core: Core, bank: Bank) -> None:
    student = Student(core)
    assert hints(await student.command("export"))
    await student.command("quiz", "DVA-C02 security deployment 2")
    await student.say(student.wrong_letter(bank))
    await student.say(student.right_letters(bank))
    deck = only(await student.command("export"), FileReply)
    assert deck.path.suffix == ".apkg" and "1 missed" in deck.caption
    assert "collection.anki2" in zipfile.ZipFile(deck.path).namelist()


async def test_forget_leaves_no_row_behind(core: Core, bank: Bank, clock: ManualClock) -> None:
    await set_up_daily(core)
    at(clock, datetime(2026, 6, 1, 7, 0, tzinfo=UTC))
    question = question_of(await tick(core))
    ada = member(core, "ada", admin=True)
    ada.question = question
    await ada.choose(0)
    await ada.command("quiz", "DVA-C02 2")
    await ada.say("A")
    await ada.command("report", "t-sec-1 wrong key")
    assert "send /forget confirm" in only(await ada.command("forget"), TextReply).text
    assert "deleted" in only(await ada.command("forget", "confirm"), TextReply).text
    with core.database.session() as db:
        assert db.exec(select(User).where(User.platform_user_id == "ada")).first() is None
        for table in (Answer, QuizSession, ReviewCard, DailyAnswer, Report):
            assert db.exec(select(table)).all() == [], table.__name__
        assert len(db.exec(select(DailyChallenge)).all()) == 1  # the group's day stays
    bob_stats = await member(core, "bob").command("leaderboard", "all")
    assert only(bob_stats, LeaderboardReply).rows == ()


async def test_unknown_periods_and_private_leaderboards_get_hints(core: Core) -> None:
    assert isinstance((await member(core, "bob").command("leaderboard", "year"))[0], HintReply)
    assert isinstance((await Student(core).command("leaderboard"))[0], HintReply)


async def test_commands_are_built_by_adapters_never_parsed_from_text(core: Core) -> None:
    """Adapters read `/name args` (Telegram strips @BotName, Discord's arrive parsed) and say
    who is admin; a text that starts with a slash is the user's words, not a command."""
    ada = member(core, "ada", admin=True)
    typed = await ada.say("/daily on 09:00 Europe/Berlin")
    assert not any("Daily challenge on" in getattr(r, "text", "") for r in typed)
    replies = await ada.command("daily", "on 09:00 Europe/Berlin")
    assert "Daily challenge on" in only(replies, TextReply).text
