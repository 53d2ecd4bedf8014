"""/forget deletes everything about a user: every table, adapter memory and their files.

The check does not trust a list of tables: it reads every row of every table and every file in
the data folder afterwards and looks for the user's platform id and name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import MetaData, select

from bot.clock import ManualClock
from bot.core import Core
from bot.storage.database import Database
from bot.study import StudyIndex
from bot.types import ChatKind, Document, FileReply, ImageReply, TextReply
from knowledge.bank import Bank
from tests.student import Student, of_type, only

ZED_ID = "7781234599"  # a Telegram-like user id, which is also their private chat's id
ZED_NAME = "Zebediah Quokka"
GROUP = "-1009988776655"
GROUP_BANK = """\
format: 1
items:
  - id: zed-group-001
    exam: DVA-C02
    domain: Development with AWS Services
    question: Which setting controls how long a message stays hidden after a consumer receives it?
    options:
      - text: The visibility timeout
        correct: true
        why: It hides a received message from other consumers for that long.
      - text: The retention period
        correct: false
        why: That is how long an unconsumed message is kept.
      - text: The delivery delay
        correct: false
        why: That hides a message when it is first sent, not after it is received.
      - text: The receive wait time
        correct: false
        why: That is how long a receive call waits for messages (long polling).
    explanation: The visibility timeout starts when a consumer receives the message.
    trap: Delivery delay applies before the first receive, not after it.
    takeaway: Extend the visibility timeout while a message is still being worked on.
    references:
      - https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-visibility-timeout.html
"""


def zed(core: Core, where: str = "private") -> Student:
    if where == "private":
        student = Student(core, ZED_ID, chat=ZED_ID)
    else:
        student = Student(core, ZED_ID, chat=GROUP)
        student.base |= {"chat_kind": ChatKind.group, "is_admin": True}
    student.base |= {"platform": "telegram", "display_name": ZED_NAME}
    return student


def olga(core: Core) -> Student:
    student = Student(core, "31337", chat=GROUP)
    student.base |= {"platform": "telegram", "chat_kind": ChatKind.group, "display_name": "Olga"}
    return student


def rows_mentioning(database: Database, *needles: str) -> list[str]:
    """Every row of every table, as text, that contains one of `needles`."""
    metadata = MetaData()
    metadata.reflect(database.engine)
    found = []
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                text = " ".join(str(value) for value in row)
                if any(needle in text for needle in needles):
                    found.append(f"{table.name}: {text[:200]}")
    return found


def files_mentioning(folder: Path, *needles: str) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file()
        and any(n in path.name or n.encode() in path.read_bytes() for n in needles)
    ]


async def leave_traces_everywhere(core: Core, bank: Bank, clock: ManualClock) -> list[Path]:
    """Zed studies privately and in a group, as a Telegram user would; returns Zed's files."""
    private, in_group = zed(core), zed(core, "group")
    await private.command("quiz", "DVA-C02 2")
    await private.say(private.wrong_letter(bank))
    await private.command("report", "the second option reads oddly")
    files = [only(await private.command("stats"), ImageReply).path]
    files.append(only(await private.command("export"), FileReply).path)
    assert "Daily challenge on" in (await in_group.command("daily", "on 09:00 UTC 1 8h"))[0].text
    upload = Document(**in_group.base, filename="zed.yaml", content=GROUP_BANK.encode())
    assert "Imported zed.yaml" in only(await core.handle(upload), TextReply).text
    clock.now = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    (post,) = await core.tick("telegram")
    await core.delivered(post)
    await in_group.say("A")  # the daily challenge, typed
    await olga(core).say("B")
    # what the Telegram adapter keeps: a poll sent to Zed, and that Zed was told something
    poll = {"chat_id": ZED_ID, "user_id": ZED_ID, "user_name": ZED_NAME, "ref": "9:0"}
    core.remember("telegram", "poll:5566778899", poll)
    core.remember("telegram", f"told:{GROUP}:{ZED_ID}", {"at": 1.0})
    core.remember("telegram", f"told:{GROUP}:31337", {"at": 1.0})  # Olga's: stays
    return files


async def test_forget_deletes_every_trace_of_the_user(
    database: Database, bank: Bank, clock: ManualClock, study: StudyIndex, tmp_path: Path
) -> None:
    files_dir = tmp_path / "files"
    core = Core(database, bank, clock=clock, seed=3, study=study, files_dir=files_dir)
    files = await leave_traces_everywhere(core, bank, clock)
    assert all(path.exists() for path in files)
    assert rows_mentioning(database, ZED_ID, ZED_NAME)  # the search does find them before

    replies = await zed(core).command("forget", "confirm")
    assert "deleted" in only(replies, TextReply).text

    assert rows_mentioning(database, ZED_ID, ZED_NAME) == []
    assert files_mentioning(tmp_path, ZED_ID, ZED_NAME) == []
    assert not any(path.exists() for path in files)
    # the group keeps its challenge, its imported question and Olga's answer and memory
    assert rows_mentioning(database, "zed-group-001")
    assert rows_mentioning(database, f"told:{GROUP}:31337")
    board = await olga(core).command("leaderboard", "all")
    assert "Olga" in str(board) and ZED_NAME not in str(board)


async def test_forget_from_a_group_also_removes_the_private_chat(
    database: Database, bank: Bank, clock: ManualClock, study: StudyIndex, tmp_path: Path
) -> None:
    core = Core(database, bank, clock=clock, seed=3, study=study, files_dir=tmp_path)
    private = zed(core)
    await private.command("quiz", "DVA-C02 1")
    await private.say("A")
    replies = await zed(core, "group").command("forget", "confirm")
    assert of_type(replies, TextReply)
    assert rows_mentioning(database, ZED_ID, ZED_NAME) == []
