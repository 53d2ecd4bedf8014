"""A student takes practice quizzes through core events only."""

from __future__ import annotations

from sqlmodel import select

from bot.core import Core
from bot.storage.models import Answer
from bot.types import (
    AnswerReply,
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
from tests.student import Student, explanations, hints, of_type, only


async def test_full_practice_quiz_explains_each_answer_and_grades_the_end(
    core: Core, bank: Bank
) -> None:
    student = Student(core)
    replies = await student.command(
        "quiz", "DVA-C02 development security deployment troubleshooting 5"
    )
    assert "5 questions" in only(replies, TextReply).text
    question = only(replies, QuestionReply)
    assert (question.number, question.total, question.mode) == (1, 5, Mode.practice)

    verdicts = []
    for number in range(1, 6):
        item = bank.get(student.question.item_id)
        answer_right = number % 2 == 1
        text = student.right_letters(bank) if answer_right else student.wrong_letter(bank)
        replies = await student.say(text)
        explanation = only(replies, ExplanationReply)
        verdicts.append(explanation.verdict)
        assert explanation.item_id == item.id
        # every option explained, in the order shown, with the right ones marked
        assert [o.text for o in explanation.options] == list(question.options)
        assert all(o.why for o in explanation.options)
        assert {o.text for o in explanation.options if o.correct} == {
            o.text for o in item.options if o.correct
        }
        assert (explanation.trap, explanation.takeaway) == (item.trap, item.takeaway)
        follow_ups = only(replies, FollowUpsReply)
        assert [s.text for s in follow_ups.suggestions] == item.follow_ups
        if number < 5:
            question = only(replies, QuestionReply)
            assert question.number == number + 1
    assert verdicts == [
        Verdict.correct,
        Verdict.wrong,
        Verdict.correct,
        Verdict.wrong,
        Verdict.correct,
    ]

    result = only(replies, QuizResultReply)
    assert (result.score, result.total, result.reason) == (3, 5, EndReason.finished)
    assert sum(d.total for d in result.by_domain) == 5
    assert sum(d.correct for d in result.by_domain) == 3
    assert len(result.missed) == 2
    assert student.question is None
    assert hints(await student.say("A"))  # the quiz is over: no answer is taken


async def test_answers_are_stored_with_time_taken(core: Core, bank: Bank, clock) -> None:  # type: ignore[no-untyped-def]
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    clock.advance(seconds=42)
    await student.say(student.right_letters(bank))
    with core.database.session() as db:
        answers = db.exec(select(Answer)).all()
    assert len(answers) == 1
    assert answers[0].correct and answers[0].time_taken_ms == 42_000
    assert answers[0].item_id == "t-sec-1"


async def test_skip_counts_as_missed_and_still_explains(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security deployment 2")
    replies = await student.command("skip")
    assert only(replies, ExplanationReply).verdict is Verdict.skipped
    await student.say(student.right_letters(bank))
    result = of_type(student.replies, QuizResultReply)[0]
    assert (result.score, result.total) == (1, 2)
    assert result.missed[0].verdict is Verdict.skipped


async def test_stop_midway_grades_only_what_was_answered(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 5")
    await student.say(student.right_letters(bank))
    await student.say(student.wrong_letter(bank))
    replies = await student.command("stop")
    result = only(replies, QuizResultReply)
    assert result.reason is EndReason.stopped
    assert (result.score, result.total, result.unanswered) == (1, 2, 3)
    assert hints(await student.command("stop"))  # nothing left to stop


async def test_one_quiz_at_a_time_and_resume_shows_the_same_question(core: Core) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 3")
    first = student.question
    replies = await student.command("quiz", "CLF-C02 3")
    assert "question 1 of 3" in hints(replies)[0].text
    again = only(await student.command("resume"), QuestionReply)
    assert again == first


async def test_quiz_arguments_that_make_no_sense_get_a_hint(core: Core) -> None:
    student = Student(core)
    for args in ("DVA-C02 500", "DVA-C02 nonsense", "DVA-C02 5 0", "1 2 3"):
        replies = await student.command("quiz", args)
        assert hints(replies), args
        assert not of_type(replies, QuestionReply)


async def test_asking_for_more_questions_than_exist_says_so(core: Core) -> None:
    student = Student(core)
    replies = await student.command("quiz", "CLF-C02 10")
    assert "Only 1 questions match" in only(replies, TextReply).text
    assert only(replies, QuestionReply).total == 1


async def test_quiz_defaults_to_the_exam_the_student_used_last(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "CLF-C02 1")
    await student.say(student.right_letters(bank))
    replies = await student.command("quiz")
    assert only(replies, QuestionReply).exam == "CLF-C02"


async def test_two_students_in_one_group_have_separate_quizzes(core: Core, bank: Bank) -> None:
    alice = Student(core, "alice", chat="group-1")
    bob = Student(core, "bob", chat="group-1")
    await alice.command("quiz", "DVA-C02 security 1")
    await bob.command("quiz", "DVA-C02 deployment 1")
    await bob.say(bob.right_letters(bank))
    assert of_type(bob.replies, QuizResultReply)[0].score == 1
    await alice.say(alice.wrong_letter(bank))
    assert of_type(alice.replies, QuizResultReply)[0].score == 0


async def test_free_text_that_is_no_study_topic_points_to_quiz(core: Core) -> None:
    (reply,) = await Student(core).say("hello there")
    assert isinstance(reply, AnswerReply) and not reply.covered
    assert "/quiz" in reply.text and reply.disclaimer


async def test_help_lists_every_command_and_start_greets(core: Core) -> None:
    student = Student(core)
    help_text = only(await student.command("help"), TextReply).text
    for name in ("start", "help", "quiz", "skip", "stop", "resume", "exams"):
        assert f"/{name} - " in help_text
    greeting = only(await student.command("start"), TextReply).text
    assert "Alice" in greeting and "/quiz" in greeting
    assert hints(await student.command("frobnicate"))


async def test_start_during_a_quiz_shows_the_pending_question(core: Core) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 2")
    pending = student.question
    replies = await student.command("start")
    assert only(replies, QuestionReply) == pending


async def test_exams_lists_domains_with_their_keys(core: Core) -> None:
    text = only(await Student(core).command("exams"), TextReply).text
    assert "security: Security, 26% of the exam, 1 questions" in text
    assert "billing: Billing, Pricing, and Support" in text


async def test_a_suggested_follow_up_button_asks_itself(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    replies = await student.say(student.right_letters(bank))
    suggestion = only(replies, FollowUpsReply).suggestions[0]
    assert len(suggestion.data.encode()) <= 64
    answer = only(await student.press(suggestion.data), AnswerReply)
    assert answer.question == suggestion.text == "How does rotation work?"
    assert answer.covered and "rotation" in answer.text.lower()
    assert answer.sources[0].id == "t-sec-1"  # the item just answered comes first
    assert answer.disclaimer
    assert hints(await student.press("fu:no-such-item:0"))
    assert hints(await student.press("garbage"))


async def test_explanations_show_options_in_the_order_they_were_presented(
    core: Core, bank: Bank
) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 5")
    shown = student.question.options
    replies = await student.say("A")
    explanation = explanations(replies)[0]
    assert explanation.options[0].text == shown[0] and explanation.options[0].chosen
