"""Who may import questions, where they go, the limits, and imports that never stall other chats.

A bank a group admin sends in a group belongs to that group; only operators (the terminal,
TELEGRAM_ADMIN_IDS) add to the shared pool that every chat quizzes and searches.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine
from sqlmodel import select

import bot.admin as admin_module
from bot.clock import ManualClock
from bot.core import Core
from bot.storage.database import MIGRATIONS, Database
from bot.storage.models import ImportedItem
from bot.study import StudyIndex
from bot.types import AnswerReply, ChatKind, Document, Reply, TextReply
from knowledge.bank import Bank
from knowledge.importers import ImportDefaults, ImportRefused, parse_import
from knowledge.loader import Located, check_across
from knowledge.notes import Note
from knowledge.passages import Passage
from knowledge.retrieval import RetrievalMode
from knowledge.schema import Item
from knowledge.vector_index import VectorIndex, _metadata, open_client
from tests.fake_openai import word_vector
from tests.fake_telegram import BOT, FakeTelegram
from tests.student import Student, hints, only
from tests.test_imports_and_reports import TEACHER_BANK
from tests.test_telegram import ALICE, BOB, CAROL, GROUP, fake, running, sent
from tests.test_vector_index import WordEmbedder

IMPORTS = Path(__file__).parent / "fixtures" / "imports"
_ = fake  # the Telegram stand-in fixture, used by name below

# Distinctive material: its words appear nowhere else, so a search finds it or nothing.
ZORBLAX_BANK = """format: 1
items:
  - id: grp-zorblax-1
    exam: DVA-C02
    domain: Development with AWS Services
    question: Which quillnet setting caps the zorblax quota of one function?
    options:
      - text: The zorblax quota limit
        correct: true
        why: The zorblax quota limit caps how many quillnet tokens one function may hold.
      - text: The memory size
        correct: false
      - text: The architecture
        correct: false
    explanation: A zorblax quota limit caps the quillnet tokens a single function may hold.
"""


def member(core: Core, user: str, chat: str, kind: ChatKind = ChatKind.group) -> Student:
    student = Student(core, user, chat=chat)
    student.base["chat_kind"] = kind
    return student


def document(
    sender: Student,
    content: str | bytes,
    name: str = "bank.yaml",
    *,
    admin: bool = True,
    operator: bool = False,
    caption: str = "",
) -> Document:
    data = content.encode() if isinstance(content, str) else content
    flags = {"is_admin": admin, "is_operator": operator}
    return Document(**{**sender.base, **flags}, filename=name, content=data, caption=caption)


def rows(core: Core) -> list[ImportedItem]:
    with core.database.session() as db:
        return list(db.exec(select(ImportedItem).order_by(ImportedItem.id)).all())


async def asked_in_quiz(student: Student, args: str = "DVA-C02 development 50") -> set[str]:
    """Every item id a whole quiz asks (answering each one right)."""
    await student.command("quiz", args)
    asked: set[str] = set()
    while student.question is not None:
        asked.add(student.question.item_id)
        await student.say(student.right_letters(student.core.bank))
    return asked


def summary(replies: list[Reply]) -> str:
    return only(replies, TextReply).text


# ---------------------------------------------------------------- where imports go


async def test_a_group_admins_bank_is_quizzed_in_that_group_and_nowhere_else(core: Core) -> None:
    owner = member(core, "owner", "group-1")
    replies = await core.handle(document(owner, TEACHER_BANK))
    assert "2 new" in summary(replies) and "this group" in summary(replies)
    assert {(r.id, r.scope) for r in rows(core)} == {
        ("tq-lambda-1", "test:group-1"),
        ("tq-lambda-2", "test:group-1"),
    }
    ours = {"tq-lambda-1", "tq-lambda-2"}
    assert ours <= await asked_in_quiz(member(core, "sam", "group-1"))
    assert not ours & await asked_in_quiz(member(core, "eve", "group-2"))
    assert not ours & await asked_in_quiz(member(core, "sam", "sam-dm", ChatKind.private))
    # /exams in another chat counts the shared pool only
    elsewhere = summary(await member(core, "eve", "group-2").command("exams"))
    here = summary(await member(core, "sam", "group-1").command("exams"))
    assert elsewhere != here


async def test_reviews_elsewhere_never_bring_a_groups_questions(
    core: Core, clock: ManualClock
) -> None:
    await core.handle(document(member(core, "owner", "group-1"), TEACHER_BANK))
    sam = member(core, "sam", "group-1")
    ours = {"tq-lambda-1", "tq-lambda-2"}
    assert ours <= await asked_in_quiz(sam)
    clock.advance(days=30)  # every card is due
    private = member(core, "sam", "sam-dm", ChatKind.private)
    await private.command("review", "50")
    seen: set[str] = set()
    while private.question is not None:
        seen.add(private.question.item_id)
        await private.command("skip")
    assert seen and not seen & ours
    assert ours <= await asked_in_review(sam)


async def asked_in_review(student: Student) -> set[str]:
    await student.command("review", "50")
    seen: set[str] = set()
    while student.question is not None:
        seen.add(student.question.item_id)
        await student.command("skip")
    return seen


async def test_only_operators_import_into_the_shared_pool(core: Core) -> None:
    dm = member(core, "teacher", "teacher-dm", ChatKind.private)
    refused = hints(await core.handle(document(dm, TEACHER_BANK, admin=True)))
    assert "operator" in refused[0].text and "group" in refused[0].text
    member_only = member(core, "bob", "group-1")
    assert (
        "Only admins"
        in hints(await core.handle(document(member_only, TEACHER_BANK, admin=False)))[0].text
    )
    assert rows(core) == []

    operator = member(core, "op", "op-dm", ChatKind.private)
    replies = await core.handle(document(operator, TEACHER_BANK, operator=True))
    assert "shared pool" in summary(replies)
    assert {r.scope for r in rows(core)} == {""}
    assert {"tq-lambda-1", "tq-lambda-2"} <= await asked_in_quiz(member(core, "eve", "group-9"))


async def test_an_id_taken_by_another_chat_is_refused_without_its_details(core: Core) -> None:
    await core.handle(document(member(core, "owner", "group-1"), TEACHER_BANK))
    rival = TEACHER_BANK.replace(
        "Which Lambda setting decides how long one invocation may run?",
        "Which Amazon SQS setting hides a received message from other consumers?",
    ).replace("Where does a Lambda function write its logs by default?", "What is a DLQ for?")
    for sender, operator in (
        (member(core, "other", "group-2"), False),
        (member(core, "op", "op-dm", ChatKind.private), True),
    ):
        refused = hints(await core.handle(document(sender, rival, operator=operator)))[0].text
        assert "'tq-lambda-1' is already taken; choose another id" in refused
        assert "Lambda setting" not in refused and "group-1" not in refused
    (first, _) = rows(core)
    assert first.version == 1 and first.scope == "test:group-1"
    assert "invocation may run" in first.data["question"]
    # the owner's own group may still update its item
    fixed = TEACHER_BANK.replace("The reserved concurrency", "The reserved concurrency setting")
    assert "1 updated" in summary(
        await core.handle(document(member(core, "owner", "group-1"), fixed))
    )


async def test_two_groups_import_the_same_gift_file_each_for_itself(core: Core) -> None:
    content = (IMPORTS / "sample.gift").read_bytes()
    for group in ("group-1", "group-2"):
        event = document(
            member(core, "owner", group), content, "sample.gift", caption="DVA-C02 development"
        )
        assert "0 updated" in summary(await core.handle(event))
    by_scope: dict[str, set[str]] = {}
    for row in rows(core):
        by_scope.setdefault(row.scope, set()).add(row.data["question"])
    assert set(by_scope) == {"test:group-1", "test:group-2"}
    assert by_scope["test:group-1"] == by_scope["test:group-2"]


async def test_follow_up_answers_search_a_groups_bank_only_in_that_group(core: Core) -> None:
    await core.handle(document(member(core, "owner", "group-1"), ZORBLAX_BANK))
    question = "what does the zorblax quota limit cap?"
    inside = only(await member(core, "sam", "group-1").say(question), AnswerReply)
    assert inside.covered and inside.sources[0].id == "grp-zorblax-1"
    for elsewhere in (member(core, "eve", "group-2"), member(core, "eve", "dm", ChatKind.private)):
        outside = only(await elsewhere.say(question), AnswerReply)
        assert not outside.covered and "zorblax" not in outside.text.lower()
        assert "grp-zorblax-1" not in {s.id for s in outside.sources}


async def test_the_vector_and_keyword_searches_both_filter_by_chat(
    core: Core, notes: list[Note], tmp_path: Path
) -> None:
    await core.handle(document(member(core, "owner", "group-1"), ZORBLAX_BANK))
    study = StudyIndex(notes, WordEmbedder(), lambda: open_client(tmp_path / "chroma"))
    answerer, _ = study.ensure(core.bank)
    query = "zorblax quota quillnet tokens"
    for mode in (RetrievalMode.dense, RetrievalMode.lexical):
        inside = answerer.retrieve(query, mode=mode, scope="test:group-1")
        assert "grp-zorblax-1" in {h.passage.source_id for h in inside}, mode
        for scope in ("test:group-2", ""):
            outside = answerer.retrieve(query, mode=mode, scope=scope)
            assert "grp-zorblax-1" not in {h.passage.source_id for h in outside}, (mode, scope)
        focused = answerer.retrieve(query, focus="grp-zorblax-1", mode=mode, scope="test:group-2")
        assert "grp-zorblax-1" not in {h.passage.source_id for h in focused}


async def test_answers_and_reports_to_a_groups_question_keep_working(core: Core) -> None:
    await core.handle(document(member(core, "owner", "group-1"), ZORBLAX_BANK))
    sam = member(core, "sam", "group-1")
    await sam.command("quiz", "DVA-C02 development 50")
    while sam.question is not None and sam.question.item_id != "grp-zorblax-1":
        await sam.command("skip")
    assert sam.question is not None
    await sam.say(sam.wrong_letter(core.bank))
    if sam.question is not None:
        await sam.command("stop")
    why = only(await sam.command("why"), AnswerReply)
    assert why.covered and why.sources[0].id == "grp-zorblax-1"
    saved = summary(await sam.command("report", "grp-zorblax-1 the key looks wrong"))
    assert "report on grp-zorblax-1 is saved" in saved
    eve = member(core, "eve", "group-2")
    assert hints(await eve.command("report", "grp-zorblax-1 the key looks wrong"))


# ---------------------------------------------------------------- limits


def csv_bank(count: int, seed: int = 0) -> str:
    rng = random.Random(f"{count}:{seed}")
    lines = ["exam,domain,question,option_a,option_b,answer"]
    for n in range(count):
        words = " ".join(f"w{rng.randrange(10**9)}" for _ in range(6))
        lines.append(f"DVA-C02,development,Question {n} {words}?,Yes,No,A")
    return "\n".join(lines) + "\n"


async def test_a_group_file_with_too_many_questions_is_refused_before_anything_is_written(
    core: Core,
) -> None:
    owner = member(core, "owner", "group-1")
    refused = hints(await core.handle(document(owner, csv_bank(2001), "big.csv")))[0].text
    assert "big.csv has more than 2000 questions" in refused and "at most 2000" in refused
    assert rows(core) == []
    accepted = await core.handle(document(owner, csv_bank(2000), "ok.csv"))
    assert "2000 new" in summary(accepted)


async def test_a_groups_total_is_capped(core: Core) -> None:
    owner = member(core, "owner", "group-1")
    for batch in range(2):
        await core.handle(document(owner, csv_bank(2000, seed=batch), f"b{batch}.csv"))
    refused = hints(await core.handle(document(owner, csv_bank(1001), "more.csv")))[0].text
    assert "already has 4000" in refused and "would add 1001" in refused
    assert "at most 5000 questions" in refused
    assert len(rows(core)) == 4000
    elsewhere = await core.handle(
        document(member(core, "owner", "group-2"), csv_bank(1001), "m.csv")
    )
    assert "1001 new" in summary(elsewhere)


async def test_oversized_files_and_texts_get_clear_messages(core: Core) -> None:
    owner = member(core, "owner", "group-1")
    huge = b"x" * 2_000_001
    assert "under 2 MB" in hints(await core.handle(document(owner, huge, "huge.csv")))[0].text
    long_question = TEACHER_BANK.replace(
        "Which Lambda setting decides how long one invocation may run?",
        "Which Lambda setting decides how long one invocation may run? " + "Really? " * 200,
    )
    text = hints(await core.handle(document(owner, long_question)))[0].text
    assert "bank.yaml:6: items[0].question (item tq-lambda-1)" in text
    assert "at most 1000 characters" in text
    long_option = TEACHER_BANK.replace("The timeout", "The timeout " + "setting " * 60)
    text = hints(await core.handle(document(owner, long_option)))[0].text
    assert "items[0].options[0].text" in text and "at most 300 characters" in text
    assert rows(core) == []


# ---------------------------------------------------------------- off the event loop


async def test_another_users_command_is_answered_while_a_big_import_is_parsed(
    core: Core, monkeypatch: Any
) -> None:
    inside, release = threading.Event(), threading.Event()
    real_parse = admin_module.parse_import

    def parse_and_wait(*args: Any, **kwargs: Any) -> list[Located]:
        inside.set()
        # On the event loop this wait would freeze every chat; the help below would then
        # only be answered after the import, and the test fails.
        release.wait(timeout=5)
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(admin_module, "parse_import", parse_and_wait)
    owner = member(core, "owner", "group-1")
    importing = asyncio.create_task(core.handle(document(owner, csv_bank(500), "big.csv")))
    assert await asyncio.to_thread(inside.wait, 5)
    helped = await member(core, "someone", "dm", ChatKind.private).command("help")
    import_finished_first = importing.done()
    release.set()
    imported = await importing
    assert "/quiz" in summary(helped)
    assert not import_finished_first
    assert "500 new" in summary(imported)


# ---------------------------------------------------------------- near-duplicates


def generated_questions(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    vocabulary = [f"term{n}" for n in range(20_000)]
    return [" ".join(rng.sample(vocabulary, rng.randint(8, 20))) for _ in range(count)]


def test_the_near_duplicate_among_thousands_is_found_and_nothing_else() -> None:
    questions = generated_questions(3000, seed=1)
    words = questions[1234].split()
    reworded = " ".join([*words[:-1], "different"])  # one word of many replaced
    located = [
        Located(
            Item.model_validate(item_data(f"gen-{n}", q), context={"complete": False}),
            "gen.yaml",
            n + 1,
        )
        for n, q in enumerate([*questions, reworded])
    ]
    problems = check_across(located)
    assert [(p.line, p.field) for p in problems] == [(3001, "question")]
    assert "near-duplicate of gen-1234" in problems[0].message


def test_the_index_agrees_with_comparing_every_pair() -> None:
    """Many near-duplicates (a small vocabulary): the same pairs as the exhaustive check."""
    from knowledge.duplicates import pairs_within

    rng = random.Random(5)
    vocabulary = [f"v{n}" for n in range(30)]
    questions = [" ".join(rng.sample(vocabulary, rng.randint(8, 14))) for _ in range(400)]
    questions += [
        " ".join(q.split()[: -rng.randint(1, 3)] + ["extra", "more"][: rng.randint(1, 2)])
        for q in questions[:150]
    ]
    found = {(later, earlier) for later, earlier, _ in pairs_within(questions)}
    exhaustive = {
        (i, j)
        for i in range(len(questions))
        for j in range(i)
        if share(questions[i], questions[j]) >= 0.75
    }
    assert len(exhaustive) > 50  # many of them at exactly 75%
    assert found == exhaustive


def share(a: str, b: str) -> float:
    mine, theirs = set(a.split()), set(b.split())
    return len(mine & theirs) / len(mine | theirs)


def item_data(item_id: str, question: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "exam": "DVA-C02",
        "domain": "Security",
        "question": question,
        "options": [{"text": "yes", "correct": True}, {"text": "no", "correct": False}],
    }


# ---------------------------------------------------------------- migration


def test_imports_made_before_the_upgrade_stay_in_the_shared_pool(database_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(database_url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        table = sa.Table("imported_items", sa.MetaData(), autoload_with=connection)
        when = datetime(2026, 1, 1)
        connection.execute(
            table.insert().values(
                id="old-item",
                version=1,
                exam="DVA-C02",
                domain="Security",
                source="old.yaml",
                content_hash="h",
                data={"id": "old-item"},
                imported_by="cli:op",
                imported_at=when,
                updated_at=when,
            )
        )
    engine.dispose()
    database = Database(database_url)
    database.migrate()
    with database.session() as db:
        (row,) = db.exec(select(ImportedItem)).all()
    database.dispose()
    assert (row.id, row.scope) == ("old-item", "")


# ---------------------------------------------------------------- through Telegram


async def test_telegram_operators_feed_the_shared_pool_and_group_admins_their_group(
    fake: FakeTelegram, tmp_path: Path, bank: Bank, notes: list[Note]
) -> None:
    database = Database(f"sqlite:///{tmp_path / 'telegram.sqlite3'}")
    database.migrate()
    core = Core(database, bank, seed=7, study=StudyIndex(notes))
    group = fake.chat(GROUP, "group")
    fake.members[(GROUP, BOB["id"])] = "administrator"  # made the group: not an operator
    fake.files["documents/f-csv"] = (IMPORTS / "sample.csv").read_bytes()
    fake.files["documents/f-gift"] = (IMPORTS / "sample.gift").read_bytes()
    csv_file = {"file_id": "f-csv", "file_unique_id": "u-1", "file_name": "sample.csv"}
    gift_file = {"file_id": "f-gift", "file_unique_id": "u-2", "file_name": "sample.gift"}
    async with running(core, fake, admins=str(ALICE["id"])):
        fake.say(fake.chat(CAROL["id"]), CAROL, "", document=csv_file, caption="DVA-C02 security")
        await sent(fake, "operators")
        fake.say(fake.chat(ALICE["id"]), ALICE, "", document=csv_file, caption="DVA-C02 security")
        await sent(fake, "shared pool")
        caption = f"@{BOT['username']} DVA-C02 development"
        fake.say(group, BOB, "", document=gift_file, caption=caption)
        await sent(fake, "this group's quiz pool")
    scopes = {(row.source, row.scope) for row in rows(core)}
    database.dispose()
    assert scopes == {("sample.csv", ""), ("sample.gift", f"telegram:{GROUP}")}


@pytest.mark.parametrize(
    ("name", "fmt"),
    [("sample.csv", "csv"), ("sample.gift", "gift"), ("sample.txt", "aiken"), ("b.yaml", "yaml")],
)
def test_every_format_stops_reading_past_the_limit(name: str, fmt: str) -> None:
    """A file over the limit is refused while it is read, before its questions are checked."""
    text = TEACHER_BANK if fmt == "yaml" else (IMPORTS / name).read_text(encoding="utf-8")
    defaults = ImportDefaults(exam="DVA-C02", domain="Security", max_items=1)
    with pytest.raises(ImportRefused, match=f"{name} has more than 1 questions"):
        parse_import(text, name, fmt, defaults)
    assert len(parse_import(text, name, fmt, replace(defaults, max_items=None))) >= 2


def test_an_index_built_before_scopes_is_relabelled_without_embedding_again(
    tmp_path: Path,
) -> None:
    """Passages stored without a scope would match no chat's filter: sync labels them."""
    embedder = WordEmbedder()
    index = VectorIndex(open_client(tmp_path), embedder)
    passages = [
        Passage("a#0", "a", "Queues", "queues decouple producers", ("DVA-C02",), "", "note"),
        Passage("b#0", "b", "Jitter", "jitter spreads retries", ("DVA-C02",), "", "note"),
    ]
    old_labels = [{k: v for k, v in _metadata(p).items() if k != "scope"} for p in passages]
    index.collection.upsert(
        ids=[p.id for p in passages], embeddings=embedder.embed(["x", "y"]), metadatas=old_labels
    )
    assert index.search(word_vector("jitter spreads retries"), 2) == []
    report = index.sync(passages)
    assert (report.embedded, report.unchanged) == (0, 2)
    assert {pid for pid, _ in index.search(word_vector("jitter spreads retries"), 2)} == {
        "a#0",
        "b#0",
    }
