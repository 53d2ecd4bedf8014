"""Every accepted spelling of an answer, choose-two grading, and replies that are not answers."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from bot.core import Core
from bot.storage.models import Answer
from bot.types import ExplanationReply, QuestionReply, Verdict
from knowledge.bank import Bank
from tests.student import LETTERS, Student, hints, of_type, only


def answers_stored(core: Core) -> int:
    with core.database.session() as db:
        return db.exec(select(func.count()).select_from(Answer)).one()


def spellings(letter: str, number: int, text: str) -> list[str]:
    return [
        letter.lower(),
        letter,
        f"{letter})",
        f" {letter} ",
        f"{letter}.",
        str(number),
        text,
        text.upper(),
        text[:-1],  # a close match: the last letter missing
    ]


@pytest.mark.parametrize("spelling_index", range(9))
async def test_every_spelling_of_the_right_answer_is_accepted(
    core: Core, bank: Bank, spelling_index: int
) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    position = student.right_positions(bank)[0]
    text = student.question.options[position]
    reply = spellings(LETTERS[position], position + 1, text)[spelling_index]
    replies = await student.say(reply)
    assert only(replies, ExplanationReply).verdict is Verdict.correct, reply


@pytest.mark.parametrize("form", ["{a},{b}", "{a} {b}", "{a}{b}", "{a}, {b}", "{a} and {b}"])
async def test_choose_two_right_in_every_spelling(core: Core, bank: Bank, form: str) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 development 2")
    while student.question.choose != 2:
        await student.command("skip")
    a, b = (LETTERS[p] for p in student.right_positions(bank))
    replies = await student.say(form.format(a=a.lower(), b=b))
    assert only(replies, ExplanationReply).verdict is Verdict.correct


async def _choose_two_question(student: Student) -> None:
    await student.command("quiz", "DVA-C02 development 2")
    while student.question.choose != 2:
        await student.command("skip")


async def test_choose_two_half_right_is_partial_and_scores_nothing(core: Core, bank: Bank) -> None:
    student = Student(core)
    await _choose_two_question(student)
    right = student.right_positions(bank)[0]
    wrong = student.wrong_positions(bank)[0]
    replies = await student.say(f"{LETTERS[right]},{LETTERS[wrong]}")
    explanation = only(replies, ExplanationReply)
    assert explanation.verdict is Verdict.partial
    chosen = [o for o in explanation.options if o.chosen]
    assert [o.correct for o in chosen].count(True) == 1


async def test_choose_two_with_one_right_letter_is_graded_partial(core: Core, bank: Bank) -> None:
    student = Student(core)
    await _choose_two_question(student)
    replies = await student.say(LETTERS[student.right_positions(bank)[0]])
    assert only(replies, ExplanationReply).verdict is Verdict.partial


async def test_choose_two_wrong(core: Core, bank: Bank) -> None:
    student = Student(core)
    await _choose_two_question(student)
    wrong = student.wrong_positions(bank)
    replies = await student.say(f"{LETTERS[wrong[0]]} {LETTERS[wrong[1]]}")
    assert only(replies, ExplanationReply).verdict is Verdict.wrong


async def test_choose_two_by_button_choices(core: Core, bank: Bank) -> None:
    student = Student(core)
    await _choose_two_question(student)
    replies = await student.choose(*student.right_positions(bank))
    assert only(replies, ExplanationReply).verdict is Verdict.correct


@pytest.mark.parametrize(
    "nonsense",
    ["", "hello", "why is that?", "Z", "G", "7", "A,B,C", "🤔", "A;;", "a b c d e", "the"],
)
async def test_nonsense_gets_a_hint_and_is_never_counted(core: Core, nonsense: str) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    pending = student.question
    replies = await student.say(nonsense)
    assert hints(replies), nonsense
    assert not of_type(replies, ExplanationReply)
    assert answers_stored(core) == 0
    assert only(await student.command("resume"), QuestionReply) == pending


async def test_too_many_letters_on_single_answer_question_is_a_hint(core: Core) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    replies = await student.say("A,C")
    assert "one answer" in hints(replies)[0].text
    assert answers_stored(core) == 0


async def test_ambiguous_option_text_asks_which_one(core: Core) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 development 2")
    while student.question.item_id != "t-dev-1":
        await student.command("skip")
    before = answers_stored(core)
    # three options start with "Amazon": the bot asks instead of guessing
    hint = hints(await student.say("amazon"))[0].text
    assert hint.startswith("Did you mean") and hint.count(") Amazon") == 3
    assert answers_stored(core) == before
    assert hints(await student.say("the"))  # a word that names no option


async def test_a_stale_button_from_an_earlier_question_is_refused(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 3")
    old_ref = student.question.ref
    await student.say(student.right_letters(bank))
    replies = await student.choose(0, ref=old_ref)
    assert "earlier question" in hints(replies)[0].text
    assert answers_stored(core) == 1


async def test_button_choice_out_of_range_is_a_hint(core: Core) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    assert hints(await student.choose(9))
    assert answers_stored(core) == 0
