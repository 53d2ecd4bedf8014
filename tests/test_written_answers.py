"""Answers written for the suggested follow-ups: shown at once when tapped, found when typed,
validated like every other field, and kept by imports."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.core import Core
from bot.followups import DISCLAIMER
from bot.study import StudyIndex
from bot.types import AnswerReply, Document, HintReply
from knowledge.bank import Bank
from knowledge.loader import BankError, parse_located
from knowledge.notes import Note
from knowledge.passages import item_passages
from knowledge.vector_index import VectorIndex, open_client
from tests.student import Student, hints, of_type, only
from tests.test_vector_index import WordEmbedder

FIXTURE_BANK = Path(__file__).parent / "fixtures" / "bank" / "sample.yaml"
ROLLBACK = "How does automatic rollback work?"
DOCS = "https://docs.aws.amazon.com/codedeploy/latest/userguide/"


class UnreachableStudy(StudyIndex):
    """A study index that fails if anything tries to retrieve from it."""

    def ensure(self, bank, progress=None):  # type: ignore[no-untyped-def]
        raise AssertionError("a written answer must not need retrieval")


async def answered_deployment_question(core: Core, bank: Bank) -> Student:
    student = Student(core)
    await student.command("quiz", "DVA-C02 deployment 1")
    assert student.question is not None and student.question.item_id == "t-dep-1"
    await student.say(student.right_letters(bank))
    return student


async def test_a_tapped_follow_up_gets_its_written_answer_at_once_with_sources_and_disclaimer(
    database, bank: Bank, clock: ManualClock, notes: list[Note]
) -> None:
    core = Core(database, bank, clock=clock, seed=7, study=UnreachableStudy(notes))
    student = await answered_deployment_question(core, bank)
    reply = only(await student.press("fu:t-dep-1:1"), AnswerReply)
    written = bank.get("t-dep-1").follow_up_answers[1]
    assert reply.question == ROLLBACK
    assert reply.text == written.answer
    assert [s.id for s in reply.sources] == [
        f"{DOCS}deployments-rollback-and-redeploy.html",
        f"{DOCS}monitoring-create-alarms.html",
    ]
    assert reply.disclaimer == DISCLAIMER
    assert reply.covered and reply.mode == "written"


async def test_a_follow_up_without_a_written_answer_still_goes_through_retrieval(
    database, bank: Bank, clock: ManualClock, study: StudyIndex
) -> None:
    without = Core(database, bank, clock=clock, seed=7, study=None)
    student = await answered_deployment_question(without, bank)
    assert of_type(await student.press("fu:t-dep-1:0"), AnswerReply)  # written: no index needed
    assert "not set up" in hints(await student.press("fu:t-dep-1:2"))[0].text
    core = Core(database, bank, clock=clock, seed=7, study=study)
    reply = only(await Student(core).press("fu:t-dep-1:2"), AnswerReply)
    assert reply.mode == "extractive" and reply.disclaimer == DISCLAIMER
    assert reply.sources[0].id == "t-dep-1"


async def test_exam_mode_and_a_pending_question_keep_their_rules_for_written_answers(
    core: Core, bank: Bank
) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 deployment 1")  # t-dep-1 waits for an answer
    replies = await student.press("fu:t-dep-1:1")
    assert "Answer the question first" in hints(replies)[0].text
    assert not of_type(replies, AnswerReply)
    await student.command("stop")
    await student.command("quiz", "exam DVA-C02 2")
    replies = await student.press("fu:t-dep-1:1")
    assert "exam mode" in hints(replies)[0].text.lower()
    assert not of_type(replies, AnswerReply)


async def test_a_typed_question_like_a_written_one_finds_the_written_answer(
    core: Core, bank: Bank, study: StudyIndex
) -> None:
    answerer, _ = study.ensure(bank)
    hits = answerer.retrieve("how does automatic rollback work in CodeDeploy?")
    assert hits[0].passage.id == "t-dep-1#fu1"
    reply = only(await Student(core).say("How does an automatic rollback work?"), AnswerReply)
    assert reply.text == bank.get("t-dep-1").follow_up_answers[1].answer
    assert reply.sources[0].id.startswith(DOCS) and reply.disclaimer == DISCLAIMER


async def test_a_question_only_near_a_written_one_is_answered_from_broader_passages(
    core: Core, bank: Bank
) -> None:
    """A written answer is quoted whole or not at all: its sentences answer a narrower question."""
    replies = await Student(core).say("When does a CodeDeploy deployment roll back?")
    reply = only(replies, AnswerReply)
    assert reply.mode == "extractive" and reply.covered
    assert not any(s.id.startswith("https://") for s in reply.sources)
    written = " ".join(w.answer for w in bank.get("t-dep-1").follow_up_answers)
    assert not any(sentence in written for sentence in reply.text.split(". "))


def test_written_answers_are_passages_with_the_items_metadata(bank: Bank) -> None:
    item = bank.get("t-dep-1")
    answers = [p for p in item_passages(item, scope="test:g1") if p.kind == "answer"]
    assert [(p.id, p.title) for p in answers] == [
        ("t-dep-1#fu0", "What is a linear deployment?"),
        ("t-dep-1#fu1", ROLLBACK),
    ]
    assert all(p.exams == ("DVA-C02",) and p.domain == "Deployment" for p in answers)
    assert all(p.scope == "test:g1" and p.source_id == "t-dep-1" for p in answers)


def broken(old: str, new: str) -> str:
    text = FIXTURE_BANK.read_text()
    assert text.count(old) == 1
    return text.replace(old, new)


THIRTY_WORDS = " ".join(["CodeDeploy redeploys the last good revision."] * 5)


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            f"- question: {ROLLBACK}",
            "- question: How does rollback work?",
            "items[3].follow_up_answers (item t-dep-1)",
            "keep them in the same order",
        ),
        (
            f"          - {DOCS}monitoring-create-alarms.html",
            "          - http://docs.aws.amazon.com/codedeploy/",
            "items[3].follow_up_answers[1].sources (item t-dep-1)",
            "must be an https URL",
        ),
    ],
)
def test_a_bad_written_answer_is_rejected_with_file_line_and_field(
    old: str, new: str, field: str, message: str
) -> None:
    with pytest.raises(BankError) as caught:
        parse_located(broken(old, new), "sample.yaml")
    (problem,) = caught.value.problems
    written_block = FIXTURE_BANK.read_text().splitlines().index("    follow_up_answers:") + 1
    assert problem.file == "sample.yaml" and written_block < problem.line < written_block + 20
    assert problem.field == field and message in problem.message


def test_thirty_words_is_too_short_for_a_written_answer() -> None:
    text = FIXTURE_BANK.read_text()
    start = text.index("          When a deployment fails")
    end = text.index("        sources:", start)
    text = text[:start] + f"          {THIRTY_WORDS}\n" + text[end:]
    with pytest.raises(BankError) as caught:
        parse_located(text, "sample.yaml")
    (problem,) = caught.value.problems
    assert (problem.file, problem.line) == ("sample.yaml", text[:start].count("\n"))
    assert problem.field == "items[3].follow_up_answers[1].answer (item t-dep-1)"
    assert problem.message.endswith("40 to 120 words, this one has 30")


IMPORTED = """format: 1
items:
  - id: tq-deploy-1
    exam: DVA-C02
    domain: Deployment
    question: Which file tells CodeDeploy what to run at each step of an EC2 deployment?
    options:
      - text: The AppSpec file
        correct: true
      - text: The buildspec file
        correct: false
      - text: The CloudFormation template
        correct: false
    follow_ups:
      - What goes in the hooks section?
    follow_up_answers:
      - question: What goes in the hooks section?
        answer: >-
          The hooks section names scripts for the deployment's lifecycle events, such as
          BeforeInstall, AfterInstall, ApplicationStart and ValidateService. CodeDeploy runs
          each script on the instance when its event comes, in the order of the lifecycle, and
          stops the deployment when a script fails or runs past its timeout, so a check placed
          in ValidateService can stop a bad release before it takes traffic.
        sources:
          - https://docs.aws.amazon.com/codedeploy/latest/userguide/reference-appspec-file-structure-hooks.html
"""


async def test_an_imported_yaml_bank_keeps_its_written_answers(
    database, bank: Bank, clock: ManualClock
) -> None:
    core = Core(database, bank, clock=clock, seed=7, study=None)
    teacher = Student(core, "teacher")
    flags = {"is_admin": True, "is_operator": True}
    upload = Document(**{**teacher.base, **flags}, filename="t.yaml", content=IMPORTED.encode())
    assert not of_type(await core.handle(upload), HintReply)
    restarted = Core(database, bank, clock=clock, seed=7, study=None)
    reply = only(await Student(restarted).press("fu:tq-deploy-1:0"), AnswerReply)
    assert reply.text.startswith("The hooks section names scripts")
    assert reply.sources[0].id.endswith("reference-appspec-file-structure-hooks.html")


def test_adding_written_answers_embeds_only_the_new_passages(bank: Bank, tmp_path: Path) -> None:
    item = bank.get("t-dep-1")
    before = item.model_copy(update={"follow_up_answers": []})
    embedder = WordEmbedder()
    VectorIndex(open_client(tmp_path), embedder).sync(item_passages(before))
    report = VectorIndex(open_client(tmp_path), embedder).sync(item_passages(item))
    assert (report.embedded, report.removed) == (2, 0)
    assert report.unchanged == len(item_passages(before))
