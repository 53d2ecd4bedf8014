"""The Discord adapter end to end: the real discord.py client against a fake Discord (REST and
gateway) on 127.0.0.1, a real core on a SQLite file. Nothing reaches the internet."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from adapters.discord.bot import ShardedStudyClient, StudyClient, build_client
from adapters.discord.settings import DiscordSettings
from bot.clock import ManualClock
from bot.core import Core
from bot.followups import DISCLAIMER
from bot.llm import LLMComposer
from bot.storage.database import Database
from bot.storage.models import AdapterState, Answer, DailyAnswer, ImportedItem
from bot.study import StudyIndex
from knowledge.bank import Bank
from knowledge.notes import Note
from tests.fake_discord import (
    ALICE,
    APP_ID,
    BOB,
    CHANNEL_ID,
    DEFERRED_REPLY,
    EPHEMERAL,
    TOKEN,
    FakeDiscord,
)
from tests.fake_openai import FakeOpenAI, Step

JSON = dict[str, Any]
FIXTURES = Path(__file__).parent / "fixtures"
CAROL: JSON = ALICE | {"id": "930000000000000003", "username": "carol", "global_name": "Carol"}
OPTION = re.compile(r"^\*\*([A-F])\)\*\* (.*)$", re.MULTILINE)
COMMANDS = {
    "quiz", "ask", "why", "skip", "stop", "resume", "review", "stats", "leaderboard", "daily",
    "report", "export", "forget", "import", "help",
}  # fmt: skip


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    with server.pointed_at():  # restores discord.py's URLs after the test
        yield server
    await server.stop()


@pytest.fixture
def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'discord.sqlite3'}")
    db.migrate()
    yield db  # type: ignore[misc]
    db.dispose()


def new_core(database: Database, bank: Bank, notes: list[Note], **kwargs: Any) -> Core:
    """A fresh core, as a restarted process would build it."""
    return Core(database, bank, seed=7, study=StudyIndex(notes), **kwargs)


def settings_for(fake: FakeDiscord, **env: str) -> DiscordSettings:
    return DiscordSettings(
        DISCORD_BOT_TOKEN=TOKEN,
        DISCORD_API_BASE_URL=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        **env,
    )


@asynccontextmanager
async def running(
    core: Core, fake: FakeDiscord, stream_interval: float = 0.05, **env: str
) -> AsyncIterator[StudyClient]:
    """A new client connected to the fake until READY, closed afterwards."""
    settings = settings_for(fake, **env)
    options = {"stream_interval": stream_interval, "tick_seconds": 3600}
    options["guild_ready_timeout"] = 0.1
    client = build_client(core, settings, **options)  # type: ignore[arg-type]
    async with fake.running(client):
        yield client  # type: ignore[misc]


# ---------------------------------------------------------------- reading what the bot sent


async def replies_to(fake: FakeDiscord, interaction: JSON, count: int = 1) -> list[JSON]:
    """The messages the bot created for `interaction` (response and follow-ups), in order,
    once `count` of them exist and none is still "thinking"."""

    def found() -> list[JSON]:
        mine = [
            m
            for m in fake.messages.values()
            if (m.get("interaction_metadata") or {}).get("id") == interaction["id"]
        ]
        return mine if len(mine) >= count and not any(m["flags"] & 128 for m in mine) else []

    return await fake.wait_for(found, what=f"{count} repl(ies) to {interaction['data']}")


def embed_text(message: JSON) -> str:
    parts = [message.get("content") or ""]
    for embed in message.get("embeds", []):
        parts += [embed.get("title", ""), embed.get("description", "")]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields", [])]
        parts.append((embed.get("footer") or {}).get("text", ""))
    return "\n".join(parts)


def components(message: JSON) -> list[JSON]:
    return [c for row in message.get("components", []) for c in row["components"]]


def item_of(bank: Bank, message: JSON) -> Any:
    description = message["embeds"][0]["description"]
    matches = [item for item in bank.items() if item.question in description]
    assert len(matches) == 1, description
    return matches[0]


def right_positions(bank: Bank, message: JSON) -> list[int]:
    """Where the right options are shown (the test's own answer key)."""
    shown = [m.group(2) for m in OPTION.finditer(message["embeds"][0]["description"])]
    right = {o.text for o in item_of(bank, message).options if o.correct}
    return [i for i, text in enumerate(shown) if text in right]


def answers(database: Database) -> list[Answer]:
    with database.session() as db:
        return list(db.exec(select(Answer)).all())


async def next_question(fake: FakeDiscord, interaction: JSON) -> JSON:
    """The next question the bot sent in reply to `interaction`."""

    def found() -> JSON | None:
        mine = [
            m
            for m in fake.messages.values()
            if (m.get("interaction_metadata") or {}).get("id") == interaction["id"]
            and m.get("embeds")
            and m["embeds"][0].get("title", "").startswith("Question")
        ]
        return mine[-1] if mine else None

    return await fake.wait_for(found, what="the next question")


def is_ephemeral(message: JSON) -> bool:
    return bool(message["flags"] & EPHEMERAL)


# ---------------------------------------------------------------- quizzes


async def test_commands_are_synced_at_start_and_a_quiz_is_answered_with_buttons_privately(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        assert set(fake.command_names()) >= COMMANDS
        daily = next(c for c in fake.commands[None] if c["name"] == "daily")
        assert {o["name"] for o in daily["options"]} == {"on", "off", "now", "status"}
        assert all(set(c["contexts"]) == {0, 1, 2} for c in fake.commands[None])
        quiz = await fake.interact(fake.slash("quiz", {"exam": "DVA-C02", "domains": "security"}))
        intro, question = await replies_to(fake, quiz, 2)
        assert is_ephemeral(intro) and is_ephemeral(question)  # a student's own quiz, in a server
        assert question["embeds"][0]["title"].startswith("Question 1/")
        (right,) = right_positions(bank, question)
        buttons = components(question)
        assert [b["label"] for b in buttons] == ["A", "B", "C", "D"]
        press = await fake.interact(fake.button(buttons[right]["custom_id"], question))
        verdict, *_ = await replies_to(fake, press)
        assert is_ephemeral(verdict) and "Correct!" in embed_text(verdict)
        assert "Exam trap" in embed_text(verdict) and "Key takeaway" in embed_text(verdict)
        assert fake.messages[int(question["id"])]["components"] == []  # answered: buttons gone
    assert [a.correct for a in answers(database)] == [True]
    sends = [c for c in fake.calls if c.json and isinstance(c.json, dict) and "content" in c.json]
    sends += [c for c in fake.calls if c.json and isinstance(c.json, dict) and "embeds" in c.json]
    assert sends and all(c.json.get("allowed_mentions") == {"parse": []} for c in sends)


async def test_a_public_quiz_is_seen_by_all_but_answered_only_by_its_owner(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        options = {"exam": "DVA-C02", "domains": "security", "public": True}
        quiz = await fake.interact(fake.slash("quiz", options))
        _, question = await replies_to(fake, quiz, 2)
        assert not is_ephemeral(question)
        assert question["embeds"][0]["author"]["name"] == "Alice's quiz"
        (right,) = right_positions(bank, question)
        custom_id = components(question)[right]["custom_id"]
        intruder = await fake.interact(fake.button(custom_id, question, user=BOB))
        (notice,) = await replies_to(fake, intruder)
        assert is_ephemeral(notice) and notice["content"].startswith("This is Alice's quiz")
        assert not answers(database)  # nothing counted
        assert components(fake.messages[int(question["id"])])  # the owner can still answer
        press = await fake.interact(fake.button(custom_id, question))
        verdict, *_ = await replies_to(fake, press)
        assert not is_ephemeral(verdict) and verdict["embeds"][0]["title"] == "Alice: Correct!"
    assert len(answers(database)) == 1


async def test_asking_for_a_public_quiz_mid_quiz_leaves_the_running_one_private(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        quiz = await fake.interact(fake.slash("quiz", {"domains": "security"}))
        question = await next_question(fake, quiz)
        again = await fake.interact(fake.slash("quiz", {"public": True}))
        (hint,) = await replies_to(fake, again)
        assert "You are on question 1" in hint["content"]
        (right,) = right_positions(bank, question)
        press = fake.button(components(question)[right]["custom_id"], question)
        verdict, *_ = await replies_to(fake, await fake.interact(press))
    assert is_ephemeral(verdict) and "Correct!" in embed_text(verdict)


async def test_forget_also_deletes_what_the_adapter_kept_about_a_quiz(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        quiz = await fake.interact(fake.slash("quiz", {"domains": "security", "public": True}))
        await next_question(fake, quiz)
        with database.session() as db:
            assert db.exec(select(AdapterState)).all()  # this quiz is public
        forget = await fake.interact(fake.slash("forget", {"confirm": "confirm"}))
        (done,) = await replies_to(fake, forget)
        assert is_ephemeral(done) and done["content"].startswith("Done")
    with database.session() as db:
        assert not db.exec(select(AdapterState)).all()


async def test_choose_two_is_answered_with_a_select_menu_in_a_dm(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        options = {"exam": "DVA-C02", "domains": "development", "count": 2}
        quiz = await fake.interact(fake.slash("quiz", options, channel_id=None))
        messages = await replies_to(fake, quiz, 2)
        question = messages[-1]
        while components(question)[0]["type"] != 3:  # choose-one first: answer it with "A"
            press = await fake.interact(
                fake.button(components(question)[0]["custom_id"], question, channel_id=None)
            )
            question = await next_question(fake, press)
        (menu,) = components(question)
        assert (menu["min_values"], menu["max_values"]) == (2, 2)
        assert not is_ephemeral(question)  # a DM is private anyway
        values = [str(i) for i in right_positions(bank, question)]
        choice = await fake.interact(
            fake.select(menu["custom_id"], values, question, channel_id=None)
        )
        verdict, *_ = await replies_to(fake, choice)
        assert "Correct!" in embed_text(verdict)
    assert [a.correct for a in answers(database)][-1] is True


async def test_buttons_still_work_after_a_restart_and_say_why_once_the_quiz_is_over(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        quiz = await fake.interact(fake.slash("quiz", {"exam": "CLF-C02"}, channel_id=None))
        question = await next_question(fake, quiz)
    async with running(new_core(database, bank, notes), fake):  # a new process
        (right,) = right_positions(bank, question)
        custom_id = components(question)[right]["custom_id"]
        press = await fake.interact(fake.button(custom_id, question, channel_id=None))
        verdict, *_ = await replies_to(fake, press)
        assert "Correct!" in embed_text(verdict)
        again = fake.slash("quiz", {"exam": "DVA-C02", "domains": "security"}, channel_id=None)
        question = await next_question(fake, await fake.interact(again))
        stop = await fake.interact(fake.slash("stop", channel_id=None))
        await replies_to(fake, stop)
        custom_id = components(question)[0]["custom_id"]  # still on the stopped quiz's question
        press = await fake.interact(fake.button(custom_id, question, channel_id=None))
        (notice,) = await replies_to(fake, press)
        assert "ended" in notice["content"] and is_ephemeral(notice)
    assert len(answers(database)) == 1


async def test_typed_letters_in_a_dm_answer_the_question(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    dm = int(fake.dm_channel(ALICE)["id"])
    async with running(new_core(database, bank, notes), fake):
        await fake.say("/quiz DVA-C02 security 1", channel_id=dm)
        await fake.wait_for(lambda: question_in(fake, dm), what="a question in the DM")
        question = question_in(fake, dm)
        assert question is not None
        (right,) = right_positions(bank, question)
        await fake.say("ABCD"[right], channel_id=dm)
        await fake.wait_for(lambda: "Correct!" in texts_in(fake, dm), what="the verdict")
    assert [a.correct for a in answers(database)] == [True]


def question_in(fake: FakeDiscord, channel_id: int) -> JSON | None:
    found = [
        m
        for m in fake.messages_in(channel_id)
        if m.get("embeds") and m["embeds"][0].get("title", "").startswith("Question")
    ]
    return found[-1] if found else None


def texts_in(fake: FakeDiscord, channel_id: int) -> str:
    return "\n".join(embed_text(m) for m in fake.messages_in(channel_id))


async def test_stats_sends_a_chart_and_export_sends_the_anki_deck(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note], tmp_path: Path
) -> None:
    core = new_core(database, bank, notes, files_dir=tmp_path)
    async with running(core, fake):
        quiz = await fake.interact(fake.slash("quiz", {"domains": "security"}))
        question = await next_question(fake, quiz)
        (right,) = right_positions(bank, question)
        wrong = components(question)[(right + 1) % 4]["custom_id"]
        press = await fake.interact(fake.button(wrong, question))
        await replies_to(fake, press)
        stats = await fake.interact(fake.slash("stats", channel_id=None))
        messages = await replies_to(fake, stats, 2)
        (chart,) = [m for m in messages if m["attachments"]]
        assert chart["attachments"][0]["filename"].endswith(".png")
        assert fake.uploads(chart)[0].content.startswith(b"\x89PNG")
        export = await fake.interact(fake.slash("export"))  # in the server: for Alice only
        (deck,) = await replies_to(fake, export)
        assert is_ephemeral(deck) and deck["attachments"][0]["filename"].endswith(".apkg")
        assert "missed question" in deck["content"]


async def test_a_mention_in_an_echoed_question_pings_no_one(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        ask = fake.slash("ask", {"question": "@everyone what is a visibility timeout?"})
        ask = await fake.interact(ask)
        messages = await replies_to(fake, ask)
        assert "@everyone" in embed_text(messages[-1])
    route = "PATCH /webhooks/{application_id}/{token}/messages/@original"
    edits = [c for c in fake.of(route) if c.params["token"] == ask["token"]]
    assert edits and all(c.json["allowed_mentions"] == {"parse": []} for c in edits)


async def test_a_follow_up_is_deferred_and_streams_by_editing_one_message_at_a_steady_pace(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    openai = await FakeOpenAI().start()
    words = "Jitter adds randomness to each retry wait so clients spread out [note-test-backoff#2]."
    openai.script.append(Step(text=" ".join([words] * 4), chunk_delay=0.03))
    composer = LLMComposer("test-model", "sk-test", openai.base_url, 5.0, 0)
    composer.progress_every = 0.0  # the adapter, not the model, sets the pace
    core = new_core(database, bank, notes, composer=composer)
    try:
        async with running(core, fake, stream_interval=0.3):
            quiz = await fake.interact(fake.slash("quiz", {"domains": "development", "count": 1}))
            question = await next_question(fake, quiz)
            press = fake.button(components(question)[0]["custom_id"], question)
            verdict, *_ = await replies_to(fake, await fake.interact(press))
            follow_up = next(b for b in components(verdict) if b["custom_id"].startswith("sb:f:"))
            ask = await fake.interact(fake.button(follow_up["custom_id"], verdict))
            (answer,) = await replies_to(fake, ask)
            await fake.wait_for(lambda: answer.get("embeds"), what="the final answer")
    finally:
        await openai.stop()
    callback = await fake.wait_callback(ask)
    assert callback.json["type"] == DEFERRED_REPLY  # acknowledged at once, answered later
    assert is_ephemeral(answer)  # a follow-up in a server is for the asker
    route = "PATCH /webhooks/{application_id}/{token}/messages/@original"
    edits = [c for c in fake.of(route) if c.params["token"] == ask["token"]]
    assert len(edits) >= 3, "partial answers were shown while the model wrote"
    moments = [e.at for e in edits]
    assert min(b - a for a, b in zip(moments, moments[1:], strict=False)) >= 0.29
    final = embed_text(answer)
    assert DISCLAIMER in final and "Sources" in final


async def test_in_a_server_the_bot_answers_mentions_and_replies_to_its_messages(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        await fake.say("nice weather today")  # channel talk: left alone
        await fake.say(f"<@{APP_ID}> /quiz DVA-C02 security 1")
        question = await fake.wait_for(lambda: question_in(fake, CHANNEL_ID), what="a question")
        (right,) = right_positions(bank, question)
        await fake.say("ABCD"[right], reply_to=question)
        await fake.wait_for(lambda: "Correct!" in texts_in(fake, CHANNEL_ID), what="the verdict")
    assert [a.correct for a in answers(database)] == [True]
    assert "nice weather" not in texts_in(fake, CHANNEL_ID)


async def test_question_files_are_imported_by_managers_with_slash_import_or_by_operators_in_dms(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    content = (FIXTURES / "imports" / "sample.txt").read_bytes()
    dm = int(fake.dm_channel(BOB)["id"])
    async with running(new_core(database, bank, notes), fake, DISCORD_ADMIN_IDS=BOB["id"]):
        for user in (CAROL, ALICE):  # Carol lacks Manage Server; Alice has it
            upload = fake.attachment("aws.txt", content)
            option = {"name": "file", "type": 11, "value": upload["id"]}
            interaction = fake.slash("import", [option, caption()], user=user)
            interaction["data"]["resolved"] = {"attachments": {upload["id"]: upload}}
            if user is CAROL:
                as_member(interaction)
            reply, *_ = await replies_to(fake, await fake.interact(interaction))
            assert is_ephemeral(reply)
            if user is CAROL:
                assert "Only admins" in reply["content"]
        await fake.say(
            "CLF-C02 concepts", BOB, dm, attachments=[fake.attachment("aws.txt", content)]
        )
        await fake.wait_for(lambda: fake.messages_in(dm), what="the DM import's summary")
    with database.session() as db:
        scopes = sorted({item.scope for item in db.exec(select(ImportedItem)).all()})
    assert scopes == ["", f"discord:{CHANNEL_ID}"]  # the shared pool, and Alice's channel


def caption(text: str = "CLF-C02 concepts") -> JSON:
    return {"name": "caption", "type": 3, "value": text}


def long_bank() -> bytes:
    """One item as long as knowledge.schema allows, pinging everyone if anything let it."""
    words = lambda n: " ".join(["word"] * n)  # noqa: E731
    options = [
        {"text": f"Option {i} " + words(55), "correct": i == 0, "why": words(115)} for i in range(4)
    ]
    item = {
        "id": "long-1",
        "exam": "CLF-C02",
        "domain": "Cloud Concepts",
        "question": "@everyone <@&123456789012345678> " + words(190),
        "options": options,
        "explanation": words(295),
        "trap": words(75),
        "takeaway": words(75),
        "references": [f"https://docs.aws.amazon.com/{'x' * 450}/{i}" for i in range(10)],
    }
    return json.dumps({"format": 1, "items": [item]}).encode()


def counted(embed: JSON) -> int:
    """An embed's characters as Discord counts them against the 6000 per message."""
    fields = sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", []))
    parts = (embed.get("title"), embed.get("description"), (embed.get("footer") or {}).get("text"))
    author = (embed.get("author") or {}).get("name")
    return fields + sum(len(p or "") for p in (*parts, author))


async def test_the_longest_imported_question_fits_discord_and_its_mentions_ping_no_one(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    dm = int(fake.dm_channel(BOB)["id"])
    async with running(new_core(database, bank, notes), fake, DISCORD_ADMIN_IDS=BOB["id"]):
        upload = fake.attachment("long.json", long_bank())
        await fake.say("", BOB, dm, attachments=[upload])
        await fake.wait_for(lambda: "Imported" in texts_in(fake, dm), what="the import summary")
        quiz = await fake.interact(fake.slash("quiz", {"exam": "CLF-C02", "public": True}))
        question = await next_question(fake, quiz)
        while "@everyone" not in question["embeds"][0]["description"]:
            press = fake.button(components(question)[0]["custom_id"], question)
            question = await next_question(fake, await fake.interact(press))
        shown = [m.group(2) for m in OPTION.finditer(question["embeds"][0]["description"])]
        right = next(i for i, text in enumerate(shown) if text.startswith("Option 0 "))
        press = fake.button(components(question)[right]["custom_id"], question)
        messages = await replies_to(fake, await fake.interact(press), 2)
    assert "Correct!" in embed_text(messages[0])
    for message in fake.messages.values():
        embeds = message.get("embeds", [])
        assert len(message["content"]) <= 2000 and len(embeds) <= 10
        assert sum(map(counted, embeds)) <= 6000
        for embed in embeds:
            assert len(embed.get("description", "")) <= 4096
            assert all(len(f["value"]) <= 1024 for f in embed.get("fields", []))
    shown = "".join(embed_text(m) for m in fake.messages.values())
    assert "cut to fit" not in shown and shown.count("https://docs.aws.amazon.com/") >= 10
    creating = [c for c in fake.calls if c.route.startswith(("POST", "PATCH")) and c.json]
    payloads = [c.json for c in creating if isinstance(c.json, dict) and "embeds" in c.json]
    assert payloads and all(p["allowed_mentions"] == {"parse": []} for p in payloads)


# ---------------------------------------------------------------- study-group challenges


def as_member(interaction: JSON) -> JSON:
    """The same interaction from a member without Manage Server."""
    interaction["member"]["permissions"] = "0"
    return interaction


def channel_posts(fake: FakeDiscord) -> list[JSON]:
    return [m for m in fake.messages_in(CHANNEL_ID) if "interaction_metadata" not in m]


async def test_a_channel_challenge_is_set_by_managers_answered_once_each_and_revealed(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    clock = ManualClock()  # 09:00 UTC
    core = new_core(database, bank, notes, clock=clock)
    setup = {"time": "09:00", "zone": "UTC", "exam": "DVA-C02", "domains": "security"}
    async with running(core, fake) as client:
        refused = await fake.interact(as_member(daily_on(fake, setup, BOB)))
        (hint,) = await replies_to(fake, refused)
        assert "Only group admins" in hint["content"]
        accepted = await fake.interact(daily_on(fake, setup | {"window": "1h"}, ALICE))
        (on,) = await replies_to(fake, accepted)
        assert not is_ephemeral(on) and "Daily challenge on" in on["content"]
        await client.tick()
        question = next(m for m in channel_posts(fake) if m.get("embeds"))
        assert question["embeds"][0]["author"]["name"].startswith("Daily challenge")
        (right,) = right_positions(bank, question)
        ids = [b["custom_id"] for b in components(question)]
        acks = []
        for user, position in ((BOB, right), (CAROL, right + 1), (ALICE, right), (BOB, right + 1)):
            press = fake.button(ids[position % 4], question, user=user)
            (ack,) = await replies_to(fake, await fake.interact(as_member(press)))
            acks.append(ack)
        assert all(is_ephemeral(a) for a in acks)
        assert [a["content"].split(",")[0] for a in acks[:3]] == ["Got it"] * 3
        assert "already answered" in acks[3]["content"]
        assert components(fake.messages[int(question["id"])])  # the buttons stay for everyone
        clock.advance(hours=2)
        await client.tick()
        await client.tick()
    posts = [embed_text(m) for m in channel_posts(fake)]
    board = next(p for p in posts if "Leaderboard" in p)
    assert board.index("Bob") < board.index("Carol")
    assert len([p for p in posts if "Correct answer:" in p]) == 1
    with database.session() as db:
        assert len(db.exec(select(DailyAnswer)).all()) == 3


async def test_the_admin_role_may_set_up_the_challenge_without_manage_server(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    teacher = fake.role("Teacher")
    async with running(new_core(database, bank, notes), fake, DISCORD_ADMIN_ROLE="teacher"):
        setup = {"time": "09:00", "exam": "DVA-C02"}
        interaction = as_member(daily_on(fake, setup, BOB))
        interaction["member"]["roles"] = [teacher["id"]]
        (reply,) = await replies_to(fake, await fake.interact(interaction))
    assert reply["content"].startswith("Daily challenge on")


def daily_on(fake: FakeDiscord, options: JSON, user: JSON) -> JSON:
    """`/daily on` with `options`, as Discord sends a subcommand."""
    inner = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
    return fake.slash("daily", [{"name": "on", "type": 1, "options": inner}], user=user)


# ---------------------------------------------------------------- resilience


async def test_exams_and_domains_autocomplete_from_the_catalogue(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        exams = await fake.interact(fake.autocomplete("quiz", {"exam": "clf"}, focused="exam"))
        domains = fake.autocomplete(
            "quiz", {"exam": "DVA-C02", "domains": "security dep"}, "domains"
        )
        domains = await fake.interact(domains)
        exam_choices = (await fake.wait_callback(exams)).json["data"]["choices"]
        domain_choices = (await fake.wait_callback(domains)).json["data"]["choices"]
    assert [c["value"] for c in exam_choices] == ["CLF-C02"]
    assert [c["value"] for c in domain_choices] == ["security deployment"]


async def test_a_reconnect_loses_nothing_and_429s_are_waited_out(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    async with running(new_core(database, bank, notes), fake):
        await fake.drop_gateway()  # a network failure: the /quiz below waits for the RESUME
        fake.fail("POST /webhooks/{application_id}/{token}", 429, retry_after=0.05)
        quiz = await fake.interact(fake.slash("quiz", {"domains": "security"}))
        question = await next_question(fake, quiz)
    assert question["embeds"][0]["title"].startswith("Question 1/")
    assert len(fake.of("WS RESUME")) == 1 and len(fake.of("WS IDENTIFY")) == 1
    assert [c.status for c in fake.of("POST /webhooks/{application_id}/{token}")] == [429, 200]


async def test_forged_or_odd_components_and_messages_never_stop_the_client(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    dm = int(fake.dm_channel(ALICE)["id"])
    async with running(new_core(database, bank, notes), fake):
        quiz = await fake.interact(fake.slash("quiz", {"domains": "security"}))
        question = await next_question(fake, quiz)
        forged = fake.button("sb:a:930000000000000001:99999:0:5", question)
        forged["message"]["components"][0]["components"][0]["custom_id"] = forged["data"][
            "custom_id"
        ]
        (notice,) = await replies_to(fake, await fake.interact(forged))
        assert is_ephemeral(notice) and "earlier question" in notice["content"]
        await fake.say("\u0000" + "x" * 5000, channel_id=dm)  # longer than Discord allows
        await fake.say("/quiz nonsense 999", channel_id=dm)
        await fake.wait_for(lambda: len(fake.messages_in(dm)) >= 2, what="two hints in the DM")
        help_ = await fake.interact(fake.slash("help"))
        (reply,) = await replies_to(fake, help_)
    assert reply["content"].startswith("Commands:")
    hints = [m["content"] for m in fake.messages_in(dm)]
    assert any("too long" in h for h in hints) and any("nonsense" in h for h in hints)
    assert not answers(database)


# ---------------------------------------------------------------- running it


async def test_an_auto_sharded_client_runs_the_shards_it_is_given(
    fake: FakeDiscord, database: Database, bank: Bank, notes: list[Note]
) -> None:
    core = new_core(database, bank, notes)
    async with running(core, fake, DISCORD_SHARDS="2", DISCORD_SHARD_IDS="1") as client:
        assert isinstance(client, ShardedStudyClient)
        help_ = await fake.interact(fake.slash("help"))
        (reply,) = await replies_to(fake, help_)
        assert reply["content"].startswith("Commands:") and is_ephemeral(reply)
    assert [call.json["shard"] for call in fake.of("WS IDENTIFY")] == [[1, 2]]


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """No Discord or studybot settings from the caller; the fixture bank; no embeddings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "STUDYBOT_"))}
    clean |= {"STUDYBOT_DATA_DIR": str(tmp_path), "STUDYBOT_EMBEDDINGS": "none"}
    return clean | {"STUDYBOT_BANKS": str(FIXTURES / "bank")}


async def spawn_run_discord(tmp_path: Path, env: dict[str, str]) -> asyncio.subprocess.Process:
    """`python -m bot run discord` started in a clean environment, stderr captured."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "discord",
        cwd=tmp_path,
        env=clean_environment(tmp_path) | env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )


async def studybot_run_discord(tmp_path: Path, **env: str) -> tuple[int, str]:
    """`python -m bot run discord` run to its end; returns (exit status, stderr)."""
    process = await spawn_run_discord(tmp_path, env)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, stderr.decode()


async def test_a_missing_or_rejected_token_is_one_line_naming_the_variable(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    status, stderr = await studybot_run_discord(tmp_path)
    assert status == 2 and stderr.strip().startswith("DISCORD_BOT_TOKEN is not set"), stderr
    assert len(stderr.strip().splitlines()) == 1
    env = {"DISCORD_BOT_TOKEN": "MTAw.wrong", "DISCORD_API_BASE_URL": fake.api_base}
    status, stderr = await studybot_run_discord(tmp_path, **env)
    assert status == 2 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines() == [stderr.strip()]
    assert stderr.startswith("Discord rejected DISCORD_BOT_TOKEN")


async def test_studybot_run_discord_syncs_commands_and_answers_until_stopped(
    tmp_path: Path, fake: FakeDiscord
) -> None:
    env = {
        "DISCORD_BOT_TOKEN": TOKEN,
        "DISCORD_API_BASE_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
    }
    process = await spawn_run_discord(tmp_path, env)
    try:
        await fake.wait_calls("WS IDENTIFY", timeout=30)
        await fake.wait_for(lambda: fake.sessions, what="a gateway session")
        help_ = await fake.interact(fake.slash("help", channel_id=None))
        (reply,) = await replies_to(fake, help_)
        assert reply["content"].startswith("Commands:")
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "is running on Discord" in stderr.decode()
