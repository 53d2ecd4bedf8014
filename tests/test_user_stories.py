"""The main user stories, written once and run against every adapter: the terminal chat,
Telegram (quiz polls, and letter buttons) and Discord, each through its real client library
against a stand-in on 127.0.0.1 (tests/stories/ has the drivers). Each story asserts what a
student sees; the answer key comes from the fixture bank, never from the bot."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.followups import DISCLAIMER
from bot.storage.database import Database
from knowledge.bank import Bank
from knowledge.notes import Note
from tests.stories.on_discord import DiscordStudent
from tests.stories.on_telegram import TelegramStudent
from tests.stories.on_terminal import TerminalStudent
from tests.stories.student import Student, World, item_of, right_positions, wrong_positions

DRIVERS: dict[str, Callable[[World], Student]] = {
    "terminal": TerminalStudent,
    "telegram": TelegramStudent,  # quiz polls where an item fits one
    "telegram-buttons": partial(TelegramStudent, polls=False),
    "discord": DiscordStudent,
}
RANK = re.compile(r"^\s*\d+\. (\w+):", re.MULTILINE)


@pytest.fixture(params=list(DRIVERS))
async def student(
    request: pytest.FixtureRequest, tmp_path: Path, bank: Bank, notes: list[Note]
) -> AsyncIterator[Student]:
    database = Database(f"sqlite:///{tmp_path / 'stories.sqlite3'}")
    database.migrate()
    world = World(database, bank, notes, ManualClock(), tmp_path / "files")
    try:
        async with DRIVERS[request.param](world) as driver:
            yield driver
    finally:
        database.dispose()


def count(student: Student, needle: str) -> int:
    return sum(needle in message for message in student.messages())


async def test_a_practice_quiz_is_explained_answer_by_answer_and_scored(
    student: Student, bank: Bank
) -> None:
    await student.command("quiz", "DVA-C02 security deployment 2")
    first = await student.next_question()
    assert (first.number, first.total, len(first.options)) == (1, 2, 4)
    student.throttle_once()  # the platform rate-limits the replies to the first answer
    await student.answer(first, right_positions(bank, first))
    (verdict,) = await student.seen("Correct!")
    assert "Key takeaway" in verdict and item_of(bank, first).takeaway in verdict
    second = await student.next_question()
    assert second.number == 2 and item_of(bank, second).id != item_of(bank, first).id
    await student.answer(second, wrong_positions(bank, second))
    (wrong,) = await student.seen("Not quite.")
    assert item_of(bank, second).trap in wrong  # the exam trap is explained too
    await student.seen("Score: 1/2")
    assert count(student, "Correct!") == 1  # nothing was sent twice after the 429
    student.assert_throttle_honoured()


async def test_a_choose_two_item_is_answered_with_both_options(
    student: Student, bank: Bank
) -> None:
    await student.command("quiz", "DVA-C02 development 2")
    chosen = []
    for number in (1, 2):
        question = await student.next_question()
        right = right_positions(bank, question)
        chosen.append((question.choose, len(right)))
        await student.answer(question, right)
        await student.seen("Correct!", number)
    assert sorted(chosen) == [(1, 1), (2, 2)]  # the choose-two item came, and said so
    await student.seen("Score: 2/2")


async def test_a_suggested_and_a_typed_follow_up_are_answered_with_the_disclaimer(
    student: Student, bank: Bank
) -> None:
    await student.command("quiz", "DVA-C02 troubleshooting 1")
    question = await student.next_question()
    await student.answer(question, right_positions(bank, question))
    await student.seen("Correct!")
    await student.press_follow_up("What is jitter?")
    (answer,) = await student.seen(DISCLAIMER)
    assert "jitter" in answer.lower() and "Sources" in answer
    await student.ask("What is a visibility timeout?")
    answers = await student.seen(DISCLAIMER, 2)
    assert "visibility timeout" in answers[1].lower() and "Sources" in answers[1]


async def test_exam_mode_says_nothing_until_the_end_then_grades_and_reviews(
    student: Student, bank: Bank
) -> None:
    await student.command("quiz", "exam DVA-C02 security deployment 2")
    first = await student.next_question()
    await student.answer(first, right_positions(bank, first))
    second = await student.next_question()
    assert second.number == 2
    await student.answer(second, wrong_positions(bank, second))
    (result,) = await student.seen("Score: 1/2")
    assert "Test complete." in result and "Review" in result
    assert item_of(bank, second).takeaway in result  # the review teaches the missed one
    assert count(student, "Correct!") == count(student, "Not quite.") == 0  # no feedback


async def test_stats_show_progress_per_domain_with_a_chart(student: Student, bank: Bank) -> None:
    await student.command("quiz", "DVA-C02 security 1")
    question = await student.next_question()
    await student.answer(question, wrong_positions(bank, question))
    await student.seen("Score: 0/1")
    await student.command("stats")
    assert (await student.image()).startswith(b"\x89PNG\r\n\x1a\n")
    (progress,) = await student.seen("readiness")
    assert "DVA-C02" in progress and "Security: 0% (0/1)" in progress


async def test_a_daily_challenge_with_three_members_ends_in_the_days_leaderboard(
    student: Student, bank: Bank
) -> None:
    group = student.group()
    if group is None:
        pytest.skip("the terminal has no groups")
    await group.command("Alice", "daily", "on 09:00 UTC DVA-C02 security 1 1h")
    await group.seen("Daily challenge on")
    await group.tick()  # 09:00: today's challenge is posted
    question = await group.next_question()
    right, wrong = right_positions(bank, question), wrong_positions(bank, question)
    for member, pick in (("Bob", right), ("Carol", wrong), ("Alice", right)):
        await group.answer(member, question, pick)
        await group.told(member, "Got it")
    student.clock.advance(hours=2)  # the window has closed
    await group.tick()
    await group.tick()
    (reveal,) = await group.seen("Correct answer:")
    assert item_of(bank, question).takeaway in reveal
    (board,) = await group.seen("Leaderboard")
    ranked = RANK.findall(board)
    assert sorted(ranked) == ["Alice", "Bob", "Carol"] and ranked[-1] == "Carol"


async def test_a_stale_button_after_a_restart_says_why_it_no_longer_answers(
    student: Student, bank: Bank
) -> None:
    if not student.has_buttons:
        pytest.skip("the terminal has no buttons (its restart story is the /resume one)")
    await student.command("quiz", "DVA-C02 security deployment 2")
    first = await student.next_question()
    await student.restart()
    await student.answer(first, right_positions(bank, first))  # sent before the restart
    await student.seen("Correct!")
    second = await student.next_question()
    await student.command("stop")
    await student.seen("Score: 1/")
    await student.restart()
    await student.answer(second, right_positions(bank, second))  # its quiz is over
    (notice,) = await student.seen("That quiz has ended")
    assert "/quiz" in notice
    assert count(student, "Correct!") == 1  # the stale press counted for nothing


async def test_a_restart_mid_quiz_then_resume_shows_the_same_question(
    student: Student, bank: Bank
) -> None:
    await student.command("quiz", "DVA-C02 security deployment 2")
    first = await student.next_question()
    await student.answer(first, right_positions(bank, first))
    second = await student.next_question()
    await student.restart()
    await student.command("resume")
    again = await student.next_question()
    assert (again.number, again.options) == (2, second.options)
    assert item_of(bank, again).id == item_of(bank, second).id
    await student.answer(again, right_positions(bank, again))
    await student.seen("Score: 2/2")
