"""Admins import their own questions through the core; students report doubtful items."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlmodel import select

from bot.core import Core
from bot.storage.models import Answer, ImportedItem, ItemHistory, Report
from bot.types import Document, ExplanationReply, TextReply
from knowledge.bank import Bank
from tests.student import Student, hints, of_type, only
from tests.test_cli import studybot as run_studybot

TEACHER_BANK = """format: 1
items:
  - id: tq-lambda-1
    exam: DVA-C02
    domain: Development with AWS Services
    question: Which Lambda setting decides how long one invocation may run?
    options:
      - text: The timeout
        correct: true
      - text: The reserved concurrency
        correct: false
      - text: The ephemeral storage size
        correct: false
  - id: tq-lambda-2
    exam: DVA-C02
    domain: Development with AWS Services
    question: Where does a Lambda function write its logs by default?
    options:
      - text: Amazon CloudWatch Logs
        correct: true
        why: The execution role's permissions let Lambda send logs to CloudWatch Logs.
      - text: An S3 bucket named after the function
        correct: false
      - text: AWS CloudTrail
        correct: false
"""


def document(
    student: Student, text: str, name: str = "teacher.yaml", admin: bool = True
) -> Document:
    base = {**student.base, "is_admin": admin, "is_operator": admin}  # a private chat: operators
    return Document(**base, filename=name, content=text.encode(), caption="")


async def send(core: Core, event: Document) -> list:  # type: ignore[type-arg]
    return await core.handle(event)


def imported_rows(core: Core) -> list[ImportedItem]:
    with core.database.session() as db:
        return list(db.exec(select(ImportedItem).order_by(ImportedItem.id)).all())


async def test_an_admin_imports_a_bank_and_it_is_quizzable_at_once(core: Core) -> None:
    admin = Student(core, "teacher")
    replies = await send(core, document(admin, TEACHER_BANK))
    assert "2 questions (2 new, 0 updated, 0 unchanged)" in only(replies, TextReply).text
    rows = imported_rows(core)
    assert [(r.id, r.source, r.imported_by) for r in rows] == [
        ("tq-lambda-1", "teacher.yaml", "test:teacher"),
        ("tq-lambda-2", "teacher.yaml", "test:teacher"),
    ]
    student = Student(core, "sam")
    await student.command("quiz", "DVA-C02 development 10")
    asked = set()
    while student.question is not None:
        asked.add(student.question.item_id)
        replies = await student.say(student.right_letters(core.bank))
    assert {"tq-lambda-1", "tq-lambda-2"} <= asked


async def test_a_member_who_is_not_admin_cannot_import(core: Core) -> None:
    replies = await send(core, document(Student(core, "sam"), TEACHER_BANK, admin=False))
    assert "Only admins" in hints(replies)[0].text
    assert imported_rows(core) == []


async def test_one_broken_item_at_the_end_rejects_the_whole_file(core: Core) -> None:
    broken = (
        TEACHER_BANK
        + """  - id: tq-broken
    exam: DVA-C02
    domain: Development with AWS Services
    question: This item marks no option as correct, so it cannot be graded.
    options:
      - text: One
        correct: false
      - text: Two
        correct: false
"""
    )
    replies = await send(core, document(Student(core, "teacher"), broken))
    text = hints(replies)[0].text
    assert text.startswith("Nothing was imported.")
    assert "teacher.yaml:" in text and "names no option" in text
    assert imported_rows(core) == []


async def test_re_importing_the_same_file_changes_nothing(core: Core) -> None:
    admin = Student(core, "teacher")
    await send(core, document(admin, TEACHER_BANK))
    before = [(r.id, r.version, r.content_hash) for r in imported_rows(core)]
    replies = await send(core, document(admin, TEACHER_BANK))
    assert "(0 new, 0 updated, 2 unchanged)" in only(replies, TextReply).text
    assert [(r.id, r.version, r.content_hash) for r in imported_rows(core)] == before


async def test_a_fixed_item_gets_a_new_version_and_old_answers_stay_apart(
    core: Core, bank: Bank
) -> None:
    admin = Student(core, "teacher")
    one_item = TEACHER_BANK.split("  - id: tq-lambda-2")[0]
    await send(core, document(admin, one_item))
    student = Student(core, "sam")
    await student.command("quiz", "DVA-C02 development 10")
    while student.question.item_id != "tq-lambda-1":
        await student.command("skip")
    await student.say(student.right_letters(core.bank))
    await student.command("stop")

    rationale = "        why: Concurrency is about parallel runs.\n"
    fixed = one_item.replace(
        "correct: false\n      - text: The ephemeral",
        f"correct: false\n{rationale}      - text: The ephemeral",
    )
    assert fixed != one_item
    replies = await send(core, document(admin, fixed))
    assert "1 updated" in only(replies, TextReply).text
    (row,) = imported_rows(core)
    assert row.version == 2
    assert core.bank.get("tq-lambda-1").version == 2
    with core.database.session() as db:
        history = db.exec(select(ItemHistory)).all()
        answers = db.exec(select(Answer).where(Answer.item_id == "tq-lambda-1")).all()
    assert [(h.item_id, h.version) for h in history] == [("tq-lambda-1", 1)]
    assert history[0].data["options"][1]["why"] == ""  # the old version, kept as it was
    assert row.data["options"][1]["why"] == "Concurrency is about parallel runs."
    assert [a.item_version for a in answers] == [1]


async def test_an_import_may_not_take_a_shipped_id_or_copy_a_question(core: Core) -> None:
    admin = Student(core, "teacher")
    copied = TEACHER_BANK.replace("tq-lambda-1", "t-sec-1")
    assert "id of a shipped item" in hints(await send(core, document(admin, copied)))[0].text
    near = TEACHER_BANK.replace(
        "Which Lambda setting decides how long one invocation may run?",
        "Which service rotates database credentials on a schedule?",
    )
    assert "near-duplicate of t-sec-1" in hints(await send(core, document(admin, near)))[0].text
    assert imported_rows(core) == []


async def test_unknown_file_types_and_binary_files_get_a_hint(core: Core) -> None:
    admin = Student(core, "teacher")
    assert (
        "can't tell the format"
        in hints(await send(core, document(admin, "x", "notes.pdf")))[0].text
    )
    event = Document(
        **{**admin.base, "is_admin": True, "is_operator": True},
        filename="a.csv",
        content=b"\xff\xfe\x00",
    )
    assert "not UTF-8" in hints(await core.handle(event))[0].text


async def test_a_student_reports_the_question_just_answered(core: Core, bank: Bank) -> None:
    student = Student(core)
    await student.command("quiz", "DVA-C02 security 1")
    await student.say(student.right_letters(bank))
    replies = await student.command("report", "the explanation contradicts the docs")
    assert "report on t-sec-1 is saved" in only(replies, TextReply).text
    await student.command("report", "t-dep-1 linear is described wrongly")
    with core.database.session() as db:
        reports = db.exec(select(Report).order_by(Report.id)).all()
    assert [(r.item_id, r.item_version, r.reason) for r in reports] == [
        ("t-sec-1", 1, "the explanation contradicts the docs"),
        ("t-dep-1", 1, "linear is described wrongly"),
    ]
    assert hints(await Student(core, "new").command("report", "no idea which"))
    assert hints(await student.command("report", "t-dep-1"))  # no reason given


async def test_terminal_import_report_and_listings(tmp_path: Path) -> None:
    """The same features from the command line, against one data dir."""
    teacher = tmp_path / "teacher.yaml"
    teacher.write_text(TEACHER_BANK)

    def studybot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return run_studybot(tmp_path, *args, stdin=stdin, timeout=120)

    imported = studybot("bank", "import", str(teacher))
    assert imported.returncode == 0, imported.stderr
    assert "2 new" in imported.stdout
    assert "2 unchanged" in studybot("bank", "import", str(teacher)).stdout
    listing = json.loads(studybot("bank", "list", "--json").stdout)
    assert listing["exams"]["DVA-C02"]["imported"] == 2
    assert listing["exams"]["DVA-C02"]["items"] >= 132
    assert set(listing["exams"]["CLF-C02"]["domains"]) == {
        "Cloud Concepts",
        "Security and Compliance",
        "Cloud Technology and Services",
        "Billing, Pricing, and Support",
    }
    assert listing["notes"] >= 60
    chat = studybot(
        "chat", "--user", "ann", stdin="/report tq-lambda-2 the logs can also go elsewhere\n"
    )
    assert "report on tq-lambda-2 is saved" in chat.stdout
    reports = studybot("bank", "reports")
    assert "tq-lambda-2 v1 by cli:ann: the logs can also go elsewhere" in reports.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(TEACHER_BANK.replace("correct: true", "correct: false", 1))
    failed = studybot("bank", "import", str(bad))
    assert failed.returncode == 1 and f"{bad}:" in failed.stderr


IMPORTS = Path(__file__).parent / "fixtures" / "imports"


async def test_gift_aiken_and_csv_files_are_imported_and_quizzed(core: Core) -> None:
    """Teachers' formats go through the same door: a document sent to the bot."""
    admin = Student(core, "teacher")
    for name, caption in (
        ("sample.gift", "DVA-C02 development"),
        ("sample.txt", "CLF-C02 technology"),
        ("sample.csv", "DVA-C02 security"),
    ):
        event = Document(
            **{**admin.base, "is_admin": True, "is_operator": True},
            filename=name,
            content=(IMPORTS / name).read_bytes(),
            caption=caption,
        )
        replies = await core.handle(event)
        assert "0 updated" in only(replies, TextReply).text, replies
    rows = imported_rows(core)
    assert {row.source for row in rows} == {"sample.gift", "sample.txt", "sample.csv"}
    assert any(row.id.startswith("gift-") for row in rows)
    gift_choose_two = next(r for r in rows if r.data["question"].startswith("Which two services"))
    assert (gift_choose_two.exam, gift_choose_two.domain) == ("DVA-C02", "Security")  # category

    student = Student(core, "sam")
    await student.command("quiz", "CLF-C02 technology 10")
    aiken = [
        r for r in rows if r.id.startswith("aiken-") and r.domain == "Cloud Technology and Services"
    ]
    seen = set()
    while student.question is not None:
        seen.add(student.question.item_id)
        replies = await student.say(student.right_letters(core.bank))
        if of_type(replies, ExplanationReply):
            assert of_type(replies, ExplanationReply)[0].verdict.value == "correct"
    assert {r.id for r in aiken} <= seen
    again = Document(
        **{**admin.base, "is_admin": True, "is_operator": True},
        filename="sample.gift",
        content=(IMPORTS / "sample.gift").read_bytes(),
        caption="DVA-C02 development",
    )
    assert "0 new, 0 updated" in only(await core.handle(again), TextReply).text
