"""Input that once hung or broke the bot: long whitespace runs, odd digits, invisible marks.

Property-based tests (hypothesis) cover answer parsing, command arguments and button data;
they are bounded so the suite stays fast.
"""

from __future__ import annotations

import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.telegram.render import parse_pick
from bot.answers import answer_shaped, parse_answer
from bot.commands import CommandError, parse_quiz_args
from bot.core import MAX_MESSAGE_CHARS, Core
from bot.types import ExplanationReply, HintReply, QuestionReply, TextReply, Verdict
from knowledge.bank import Bank
from knowledge.importers import ImportDefaults, parse_import
from knowledge.loader import BankError
from tests.student import LETTERS, Student, hints, of_type, only

OPTIONS = ("Amazon S3", "Amazon EBS", "Amazon EFS", "AWS Backup")
# FUZZ_EXAMPLES=3000 for a longer hunt; the suite stays fast with the default.
BOUNDED = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
SORRY = "something went wrong"


def finishes(call, seconds: float = 10.0) -> bool:  # type: ignore[no-untyped-def]
    """Run `call` in a thread; False when it is still running after `seconds` (a hang).

    The inputs below took minutes with the old quadratic patterns and take milliseconds now, so
    the bound is generous and the test fails only on a real hang.
    """
    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive()


# ---------------------------------------------------------------- long messages


@pytest.mark.parametrize("spaces", [16_000, 200_000])
def test_a_long_run_of_spaces_is_parsed_without_hanging(spaces: int) -> None:
    text = "a" + " " * spaces + "x"
    assert finishes(lambda: parse_answer(text, OPTIONS, 1))
    assert finishes(lambda: answer_shaped(text))
    assert finishes(lambda: parse_answer("a" + " ," * spaces + "x", OPTIONS, 2))


async def test_a_huge_message_mid_quiz_gets_a_hint_and_the_question_still_waits(
    core: Core,
) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 2")
    waiting = student.question
    assert waiting is not None
    replies = await student.say("a" + " " * 200_000 + "x")
    assert "too long" in hints(replies)[0].text
    assert f"{MAX_MESSAGE_CHARS:,}" in hints(replies)[0].text
    replies = await student.command("resume")
    assert only(replies, QuestionReply).ref == waiting.ref  # nothing was counted


async def test_a_long_message_between_quizzes_is_refused_without_parsing(core: Core) -> None:
    student = Student(core)
    replies = await student.say("b " * (MAX_MESSAGE_CHARS // 2 + 1))
    assert "too long" in hints(replies)[0].text


# ---------------------------------------------------------------- odd digits and marks


@pytest.mark.parametrize("args", ["DVA-C02 ²", "DVA-C02 ٣", "DVA-C02 ½", "DVA-C02 5 ²"])
async def test_odd_digits_in_quiz_arguments_get_a_usage_hint(core: Core, args: str) -> None:
    student = Student(core)
    replies = await student.command("quiz", args)
    assert hints(replies), replies
    assert "Example: /quiz" in hints(replies)[0].text or "numbers" in hints(replies)[0].text
    assert not of_type(replies, QuestionReply)


@pytest.mark.parametrize("args", ["²", "٣", "-1", "ten"])
async def test_odd_counts_for_review_get_a_usage_hint(core: Core, args: str) -> None:
    replies = await Student(core).command("review", args)
    assert hints(replies) and "/review 10" in hints(replies)[0].text
    assert all(SORRY not in getattr(r, "text", "") for r in replies)


@pytest.mark.parametrize("data", ["fu:dva-sec-001:²", "fu:dva-sec-001:٣", "fu::", "fu:x:-1"])
async def test_a_follow_up_button_with_odd_digits_is_no_longer_available(
    core: Core, data: str
) -> None:
    replies = await Student(core).press(data)
    assert hints(replies) and "no longer available" in hints(replies)[0].text


@pytest.mark.parametrize("data", ["a:123:4:5:²", "s:²:4:5:3", "t:123:4:5:٣"])
def test_telegram_button_data_with_odd_digits_is_not_a_pick(data: str) -> None:
    assert parse_pick(data) is None


@pytest.mark.parametrize("disguise", ["\u200b{}", "{}\u200f", "\u2066{}\u2069", "{}\ufeff"])
async def test_invisible_marks_around_a_letter_are_ignored(
    core: Core, bank: Bank, disguise: str
) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    right = LETTERS[student.right_positions(bank)[0]]
    replies = await student.say(disguise.format(right))
    assert only(replies, ExplanationReply).verdict is Verdict.correct


async def test_a_fullwidth_letter_is_read_as_that_letter(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    right = LETTERS[student.right_positions(bank)[0]]
    fullwidth = chr(ord("Ａ") + "ABCDEF".index(right))
    replies = await student.say(fullwidth)
    assert only(replies, ExplanationReply).verdict is Verdict.correct


# ---------------------------------------------------------------- properties


@BOUNDED
@given(text=st.text(max_size=300), choose=st.integers(min_value=1, max_value=3))
def test_any_text_is_either_valid_choices_or_a_hint(text: str, choose: int) -> None:
    parsed = parse_answer(text, OPTIONS, choose)
    assert (parsed.choices is None) != (parsed.hint is None)
    if parsed.choices is not None:
        assert 1 <= len(parsed.choices) <= choose
        assert all(0 <= p < len(OPTIONS) for p in parsed.choices)


@BOUNDED
@given(
    letters=st.lists(st.sampled_from("abcd"), min_size=1, max_size=1),
    noise=st.lists(st.sampled_from(["\u200b", "\u200e", "\u200f", "\ufeff", " "]), max_size=4),
)
def test_a_letter_wrapped_in_invisible_marks_is_that_letter(
    letters: list[str], noise: list[str]
) -> None:
    text = "".join(noise) + letters[0] + "".join(reversed(noise))
    assert parse_answer(text, OPTIONS, 1).choices == ("abcd".index(letters[0]),)


@BOUNDED
@given(args=st.text(max_size=80))
def test_quiz_arguments_give_a_request_or_a_usage_error(args: str) -> None:
    try:
        request = parse_quiz_args(args)
    except CommandError as error:
        assert str(error)
        return
    assert 1 <= request.count <= 100
    assert request.minutes is None or 1 <= request.minutes <= 300


@BOUNDED
@given(data=st.text(max_size=70))
def test_any_button_data_is_a_pick_or_nothing(data: str) -> None:
    pick = parse_pick(data)
    if pick is not None:
        assert pick.value >= 0 and pick.ref


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=st.text(max_size=200))
async def test_any_text_mid_quiz_never_breaks_the_chat(core: Core, text: str) -> None:
    student = Student(core, user="fuzz")
    if student.question is None:
        await student.command("stop")
        await student.command("quiz", "DVA-C02 security 3")
    replies = await student.say(text)
    assert replies
    assert all(SORRY not in r.text for r in replies if isinstance(r, TextReply | HintReply))


# ---------------------------------------------------------------- the four import formats

FORMAT_PIECES = {
    "yaml": ["format: 1\n", "items:\n", "  - id: x\n", "    options:\n", "      - text: a\n", ":"],
    "csv": ["question,a,b,c,d,answer\n", "Q?,w,x,y,z,A\n", '"', ",", "\n"],
    "gift": ["::T:: Q? {", "=right ~wrong}", "\n\n", "#", "{", "}", "//c\n"],
    "aiken": ["What?\n", "A. one\n", "B) two\n", "ANSWER: A\n", "ANSWER: Z\n", "\n"],
}


@BOUNDED
@given(
    fmt=st.sampled_from(sorted(FORMAT_PIECES)),
    data=st.data(),
)
def test_any_import_is_items_or_problems_with_lines(fmt: str, data: st.DataObject) -> None:
    """Shaped noise in every format: a list of items or a BankError naming file and line,
    never another exception (a traceback in the chat)."""
    pieces = data.draw(
        st.lists(st.sampled_from(FORMAT_PIECES[fmt]) | st.text(max_size=12), max_size=25)
    )
    text = "".join(pieces)
    try:
        located = parse_import(text, f"upload.{fmt}", fmt, ImportDefaults("DVA-C02"))
    except BankError as error:
        assert error.problems
        assert all(p.file == f"upload.{fmt}" and p.line >= 1 for p in error.problems)
        return
    assert all(entry.item.question for entry in located)
