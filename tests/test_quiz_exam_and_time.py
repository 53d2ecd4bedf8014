"""Exam mode, the time limit (with a controllable clock), and shuffling."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.core import Core
from bot.storage.database import Database
from bot.types import (
    EndReason,
    ExplanationReply,
    FollowUpsReply,
    Mode,
    QuestionReply,
    QuizResultReply,
    TextReply,
    Verdict,
)
from knowledge.bank import Bank
from tests.student import Student, hints, of_type, only


async def test_exam_mode_gives_no_feedback_until_the_graded_review(core: Core, bank: Bank) -> None:
    student = Student(core)
    replies = await student.command("quiz", "exam DVA-C02 4")
    assert "Exam mode" in of_type(replies, TextReply)[0].text
    assert only(replies, QuestionReply).mode is Mode.exam
    asked = []
    for number in range(4):
        asked.append(student.question.item_id)
        text = student.right_letters(bank) if number < 3 else student.wrong_letter(bank)
        replies = await student.say(text)
        assert not of_type(replies, ExplanationReply)
        assert not of_type(replies, FollowUpsReply)
        assert f"Answer recorded ({number + 1}/4)" in of_type(replies, TextReply)[0].text
    result = only(replies, QuizResultReply)
    assert (result.score, result.total, result.mode) == (3, 4, Mode.exam)
    assert [entry.item_id for entry in result.review] == asked
    assert [entry.verdict for entry in result.review][-1] is Verdict.wrong
    last = result.review[-1]
    item = bank.get(last.item_id)
    assert set(last.correct) == {o.text for o in item.options if o.correct}
    assert last.chosen and not set(last.chosen) & set(last.correct)
    assert [m.item_id for m in result.missed] == [last.item_id]


async def test_time_limit_ends_the_test_and_late_answers_do_not_count(
    core: Core, bank: Bank, clock: ManualClock
) -> None:
    student = Student(core)
    replies = await student.command("quiz", "DVA-C02 5 10")
    assert "Time limit: 10 minutes" in of_type(replies, TextReply)[0].text
    assert student.question.deadline == clock.now + timedelta(minutes=10)
    await student.say(student.right_letters(bank))
    clock.advance(minutes=9, seconds=59)
    await student.say(student.right_letters(bank))
    assert student.question is not None and student.question.number == 3
    clock.advance(seconds=1)
    replies = await student.say(student.right_letters(bank))
    result = only(replies, QuizResultReply)
    assert result.reason is EndReason.time_up
    assert (result.score, result.total) == (2, 5)  # unanswered questions count as missed
    assert len(result.missed) == 3
    assert "not counted" in hints(replies)[0].text


async def test_time_limit_is_checked_on_any_command(core: Core, clock: ManualClock) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 3 1m")
    clock.advance(minutes=2)
    replies = await student.command("help")
    assert only(replies, QuizResultReply).reason is EndReason.time_up
    assert "Commands:" in of_type(replies, TextReply)[-1].text


async def test_options_are_shuffled_and_the_same_seed_repeats_the_quiz(
    database: Database, bank: Bank, clock: ManualClock
) -> None:
    async def orders(core: Core, user: str) -> list[tuple[str, ...]]:
        student = Student(core, user)
        await student.command("quiz", "DVA-C02 5")
        shown = []
        while student.question is not None:
            shown.append(student.question.options)
            await student.command("skip")
        return shown

    seeded_a = await orders(Core(database, bank, clock=clock, seed=3), "ann")
    assert len(seeded_a) == 5
    written = {
        tuple(o.text for o in bank.get(item_id).options)
        for item_id in ("t-dev-1", "t-dev-2", "t-sec-1", "t-dep-1", "t-trb-1")
    }
    assert any(options not in written for options in seeded_a), "options were not shuffled"
    unseeded = [await orders(Core(database, bank, clock=clock), f"u{n}") for n in range(3)]
    assert len({tuple(o) for o in unseeded}) > 1, "unseeded quizzes should differ"


async def test_same_seed_and_user_on_a_fresh_database_gives_the_same_quiz(
    tmp_path,
    bank: Bank,
    clock: ManualClock,  # type: ignore[no-untyped-def]
) -> None:
    shown = []
    for run in range(2):
        database = Database(f"sqlite:///{tmp_path / f'run{run}.sqlite3'}")
        database.migrate()
        student = Student(Core(database, bank, clock=clock, seed=11))
        await student.command("quiz", "DVA-C02 5")
        shown.append((student.question.item_id, student.question.options))
        database.dispose()
    assert shown[0] == shown[1]


async def test_explanations_never_name_a_letter(core: Core, bank: Bank) -> None:
    """Letters change with every shuffle, so no explanation text may contain one."""
    student = Student(core)
    await student.command("quiz", "DVA-C02 5")
    while student.question is not None:
        replies = await student.say("A")
        for explanation in of_type(replies, ExplanationReply):
            texts = [explanation.explanation, explanation.trap, explanation.takeaway]
            texts += [o.why for o in explanation.options]
            assert not any("option A" in t or "answer B" in t for t in texts)
