"""The Telegram adapter end to end: the real python-telegram-bot Application against a fake Bot
API server on 127.0.0.1, a real core on a SQLite file. Nothing reaches the internet."""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import select
from telegram.ext import Application

from adapters.telegram.bot import (
    ALLOWED_UPDATES,
    UNREADABLE,
    build_application,
    prepare,
)
from adapters.telegram.render import (
    CALLBACK_LIMIT,
    MESSAGE_LIMIT,
    POLL_EXPLANATION_LIMIT,
    parse_pick,
    pick_data,
    poll_spec,
    split_html,
    units,
)
from adapters.telegram.settings import TelegramSettings
from bot.clock import ManualClock
from bot.core import Core
from bot.followups import DISCLAIMER
from bot.llm import LLMComposer
from bot.storage.database import Database
from bot.storage.models import Answer, DailyOutbox
from bot.study import StudyIndex
from bot.types import Mode, QuestionReply
from knowledge.bank import Bank
from knowledge.notes import Note
from tests.fake_openai import FakeOpenAI, Step
from tests.fake_telegram import BOT, TOKEN, Call, FakeTelegram

FIXTURES = Path(__file__).parent / "fixtures"
ALICE = {"id": 501, "is_bot": False, "first_name": "Alice"}
BOB = {"id": 502, "is_bot": False, "first_name": "Bob"}
CAROL = {"id": 503, "is_bot": False, "first_name": "Carol"}
GROUP = -1001234
OPTION = re.compile(r"^<b>([A-F])\)</b> (.*)$", re.MULTILINE)


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.stop()


@pytest.fixture
def database(tmp_path: Path) -> AsyncIterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'telegram.sqlite3'}")
    db.migrate()
    yield db  # type: ignore[misc]
    db.dispose()


def new_core(database: Database, bank: Bank, notes: list[Note], **kwargs: Any) -> Core:
    """A fresh core, as a restarted process would build it."""
    return Core(database, bank, seed=7, study=StudyIndex(notes), **kwargs)


@asynccontextmanager
async def running(
    core: Core, fake: FakeTelegram, admins: str = "", **options: Any
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """A new Application polling the fake server, stopped in reverse order afterwards."""
    settings = TelegramSettings(
        TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_BASE_URL=fake.base_url, TELEGRAM_ADMIN_IDS=admins
    )
    options.setdefault("retry_delay", 0.05)
    app = build_application(core, settings, **options)
    async with app:
        assert app.post_init is prepare  # run_polling() calls it; tests drive start() instead
        await prepare(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=0, allowed_updates=ALLOWED_UPDATES
        )
        try:
            yield app
        finally:
            try:
                await app.updater.stop()
            finally:
                await app.stop()


# ---------------------------------------------------------------- reading what the bot sent


async def sent(fake: FakeTelegram, needle: str, count: int = 1) -> list[Call]:
    """The first `count` sendMessage calls whose text contains `needle`."""

    def found() -> list[Call]:
        return [c for c in fake.of("sendMessage") if needle in c.fields["text"]]

    await fake.wait_for(lambda: len(found()) >= count, what=f"{count} message(s) with {needle!r}")
    return found()[:count]


def item_of(bank: Bank, question: str) -> Any:
    """The bank item a rendered question shows (the test's own answer key)."""
    text = html.unescape(question)
    matches = [item for item in bank.items() if item.question in text]
    assert len(matches) == 1, question
    return matches[0]


def right_positions(bank: Bank, question: str, options: list[str]) -> list[int]:
    right = {o.text for o in item_of(bank, question).options if o.correct}
    return [i for i, text in enumerate(options) if text in right]


def shown_options(text: str) -> list[str]:
    return [html.unescape(m.group(2)) for m in OPTION.finditer(text)]


def buttons(call: Call) -> list[dict[str, str]]:
    return [b for row in call.fields["reply_markup"]["inline_keyboard"] for b in row]


async def next_poll(
    fake: FakeTelegram, bank: Bank, number: int
) -> tuple[dict[str, Any], int, Call]:
    """The `number`th poll sent, and where its right option is."""
    call = (await fake.wait_calls("sendPoll", number))[number - 1]
    return call.result["poll"], poll_right(bank, call), call


def poll_right(bank: Bank, call: Call) -> int:
    poll = call.result["poll"]
    (right,) = right_positions(bank, poll["question"], [o["text"] for o in poll["options"]])
    return right


def assert_data_short(fake: FakeTelegram) -> None:
    """Every button the bot ever sent fits Telegram's 64-byte callback data."""
    for call in fake.calls:
        markup = call.fields.get("reply_markup")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                assert len(button["callback_data"].encode()) <= CALLBACK_LIMIT


# ---------------------------------------------------------------- private quizzes


async def test_a_private_quiz_by_quiz_polls_reaches_the_score_line(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake):
        (menu,) = await fake.wait_calls("setMyCommands")
        assert {"quiz", "help", "skip", "stop", "ask"} <= {
            c["command"] for c in menu.fields["commands"]
        }
        fake.say(chat, ALICE, "/quiz DVA-C02 security deployment 2")
        poll, right, call = await next_poll(fake, bank, 1)
        assert call.fields["type"] == "quiz" and call.fields["is_anonymous"] in ("false", "False")
        assert call.fields["correct_option_ids"] == [right]
        assert 0 < len(call.fields["explanation"]) <= POLL_EXPLANATION_LIMIT
        assert call.fields["question"].startswith("1/2. ")
        fake.vote(ALICE, poll, [right])
        (explanation,) = await sent(fake, "Correct!")
        assert explanation.fields["parse_mode"] == "HTML"
        assert [b["callback_data"][:3] for b in buttons(explanation)] == ["fu:"] * 3
        poll2, right2, _ = await next_poll(fake, bank, 2)
        fake.vote(ALICE, poll2, [(right2 + 1) % 4])
        await sent(fake, "Not quite.")
        (result,) = await sent(fake, "Score: 1/2")
        assert "<b>Score: 1/2</b>" in result.fields["text"]
    assert_data_short(fake)


async def test_a_private_quiz_by_letter_buttons(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake, polls=False):
        fake.say(chat, ALICE, "/quiz DVA-C02 security deployment 2")
        verdicts = []
        for number in (1, 2):
            question = (await sent(fake, f"Question {number}/2"))[0]
            options = shown_options(question.fields["text"])
            assert [b["text"] for b in buttons(question)] == ["A", "B", "C", "D"]
            (right,) = right_positions(bank, question.fields["text"], options)
            pick = right if number == 1 else (right + 1) % 4
            fake.press(ALICE, question.result, buttons(question)[pick]["callback_data"])
            verdicts.append(await sent(fake, "Correct answer:", number))
        await sent(fake, "Score: 1/2")
        assert "Correct!" in verdicts[0][0].fields["text"]
        assert "Not quite." in verdicts[1][1].fields["text"]
        removed = await fake.wait_calls("editMessageReplyMarkup", 2)
        assert all("reply_markup" not in c.fields for c in removed)  # answered: buttons gone
        answered = await fake.wait_calls("answerCallbackQuery", 2)
        assert all(len(c.fields.get("text", "")) == 1 for c in answered)  # the letter picked
    assert_data_short(fake)


async def test_a_private_quiz_by_typed_letters(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake):
        fake.say(chat, ALICE, "/quiz DVA-C02 security deployment 2")
        _, right, _ = await next_poll(fake, bank, 1)
        fake.say(chat, ALICE, "abcd"[right])  # lower case works
        await sent(fake, "Correct!")
        _, right, _ = await next_poll(fake, bank, 2)
        fake.say(chat, ALICE, "ABCD"[(right + 1) % 4])
        await sent(fake, "Score: 1/2")


async def test_a_choose_two_by_toggles_and_submit(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake, polls=False):
        fake.say(chat, ALICE, "/quiz DVA-C02 development 2")
        toggled = False
        for number in (1, 2):
            question = (await sent(fake, f"Question {number}/2"))[0]
            options = shown_options(question.fields["text"])
            right = right_positions(bank, question.fields["text"], options)
            data = [b["callback_data"] for b in buttons(question)]
            if len(right) == 1:
                fake.press(ALICE, question.result, data[right[0]])
            else:
                await choose_two(fake, question, right)
                toggled = True
            await sent(fake, "Correct!", number)
        assert toggled, "the fixture bank's choose-two item was asked"
        await sent(fake, "Score: 2/2")


async def choose_two(fake: FakeTelegram, question: Call, right: list[int]) -> None:
    """Submit with nothing chosen (a toast), toggle both right options, then Submit."""
    submit = buttons(question)[-1]
    assert submit["text"] == "Submit" and submit["callback_data"].startswith("s:")
    toasts = len(fake.of("answerCallbackQuery"))
    fake.press(ALICE, question.result, submit["callback_data"])
    await fake.wait_for(lambda: len(fake.of("answerCallbackQuery")) > toasts)
    assert "first" in fake.of("answerCallbackQuery")[-1].fields["text"]
    before = len(fake.of("editMessageReplyMarkup"))
    for count, position in enumerate(right, 1):
        current = fake.messages[(question.result["chat"]["id"], question.result["message_id"])]
        toggle = current["reply_markup"]["inline_keyboard"][0][position]["callback_data"]
        fake.press(ALICE, question.result, toggle)
        edits = await fake.wait_calls("editMessageReplyMarkup", before + count)
        labels = [b["text"] for b in edits[-1].fields["reply_markup"]["inline_keyboard"][0]]
        assert sum(label.startswith("✓") for label in labels) == count
    keyboard = fake.messages[(question.result["chat"]["id"], question.result["message_id"])]
    final_submit = keyboard["reply_markup"]["inline_keyboard"][1][0]
    assert final_submit["text"] == "Submit " + ",".join("ABCDE"[p] for p in right)
    fake.press(ALICE, question.result, final_submit["callback_data"])


async def test_a_suggested_follow_up_button_answers_with_the_disclaimer(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake):
        fake.say(chat, ALICE, "/quiz DVA-C02 troubleshooting 1")
        poll, right, _ = await next_poll(fake, bank, 1)
        fake.vote(ALICE, poll, [right])
        (explanation,) = await sent(fake, "Correct!")
        jitter = next(b for b in buttons(explanation) if b["text"] == "What is jitter?")
        assert jitter["callback_data"] == "fu:t-trb-1:0"  # short data, never the text
        fake.press(ALICE, explanation.result, jitter["callback_data"])
        (answer,) = await sent(fake, DISCLAIMER)
        assert "jitter" in answer.fields["text"].lower()
        assert "Sources:" in answer.fields["text"]
        await fake.wait_for(lambda: fake.of("answerCallbackQuery"))


async def test_a_free_text_question_streams_by_editing_one_message_at_a_steady_pace(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    openai = await FakeOpenAI().start()
    words = "Jitter adds randomness to each retry wait so clients spread out [note-test-backoff#2]."
    openai.script.append(Step(text=" ".join([words] * 4), chunk_delay=0.03))
    composer = LLMComposer("test-model", "sk-test", openai.base_url, 5.0, 0)
    composer.progress_every = 0.0  # the adapter, not the model, sets the pace
    core = new_core(database, bank, notes, composer=composer)
    chat = fake.chat(ALICE["id"])
    try:
        async with running(core, fake, stream_interval=0.3):
            fake.say(chat, ALICE, "What is jitter?")
            final = await fake.wait_for(
                lambda: [c for c in fake.of("editMessageText") if "Sources:" in c.fields["text"]],
                what="the final edit",
            )
    finally:
        await openai.stop()
    (first,) = fake.of("sendMessage")
    assert DISCLAIMER in first.fields["text"]  # the disclaimer shows from the first word
    edits = fake.of("editMessageText")
    assert len(edits) >= 3, "partial answers were shown while the model wrote"
    assert all(e.fields["message_id"] == str(first.result["message_id"]) for e in edits)
    moments = [first.at] + [e.at for e in edits]
    assert min(b - a for a, b in zip(moments, moments[1:], strict=False)) >= 0.29
    assert DISCLAIMER in final[0].fields["text"] and "note-test-backoff" in final[0].fields["text"]


async def test_stats_arrive_as_a_photo_and_export_as_an_anki_document(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake):
        fake.say(chat, ALICE, "/quiz DVA-C02 security 1")
        poll, right, _ = await next_poll(fake, bank, 1)
        fake.vote(ALICE, poll, [(right + 1) % 4])
        await sent(fake, "Score: 0/1")
        fake.say(chat, ALICE, "/stats")
        (photo,) = await fake.wait_calls("sendPhoto")
        assert photo.fields["photo"][:8] == b"\x89PNG\r\n\x1a\n"
        assert int(photo.fields["chat_id"]) == ALICE["id"]
        await sent(fake, "Readiness")
        fake.say(chat, ALICE, "/export")
        (deck,) = await fake.wait_calls("sendDocument")
        assert bytes(deck.fields["document"][:2]) == b"PK"  # a zip: the .apkg
        assert "1" in (deck.fields.get("caption") or "")  # says how many cards


@pytest.mark.parametrize("can_write_privately", [True, False])
async def test_export_in_a_group_goes_to_the_member_privately_never_to_the_group(
    fake: FakeTelegram,
    database: Database,
    bank: Bank,
    notes: list[Note],
    can_write_privately: bool,
) -> None:
    group = fake.chat(GROUP, "supergroup")
    async with running(new_core(database, bank, notes), fake):
        fake.say(group, ALICE, "/quiz DVA-C02 security 1")
        poll, right, _ = await next_poll(fake, bank, 1)
        fake.vote(ALICE, poll, [(right + 1) % 4])
        await sent(fake, "Score: 0/1")
        if not can_write_privately:  # Alice never pressed Start in a private chat with the bot
            fake.fail("sendDocument", 403)
        fake.say(group, ALICE, "/export")
        (deck,) = await fake.wait_calls("sendDocument")
        note = "sent it to you in a private message" if can_write_privately else "privately yet"
        (told,) = await sent(fake, note)
    assert int(deck.fields["chat_id"]) == ALICE["id"]  # never the group's id
    assert int(told.fields["chat_id"]) == GROUP and "Alice" in told.fields["text"]
    assert all(int(c.fields["chat_id"]) != GROUP for c in fake.of("sendDocument"))


# ---------------------------------------------------------------- groups


async def test_a_group_with_three_members_answering_their_own_questions(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    group = fake.chat(GROUP, "supergroup", is_forum=True)
    fake.members[(GROUP, ALICE["id"])] = "creator"
    core = new_core(database, bank, notes)
    async with running(core, fake):
        fake.say(group, ALICE, "/quiz@OtherBot DVA-C02 security 1")  # not for us: ignored
        asks = {
            "Alice": fake.say(group, ALICE, "/quiz DVA-C02 security 1", thread=7),
            "Bob": fake.say(group, BOB, f"/quiz@{BOT['username']} DVA-C02 security 1"),
            "Carol": fake.say(group, CAROL, "/quiz DVA-C02 security 1"),
        }
        await fake.wait_calls("sendPoll", 3)
        polls = {}
        for call in fake.of("sendPoll"):
            quoted = call.fields["reply_parameters"]["message_id"]
            polls[next(n for n, m in asks.items() if m["message_id"] == quoted)] = call
        assert polls["Alice"].fields["message_thread_id"] == "7"  # kept in the topic
        assert "message_thread_id" not in polls["Bob"].fields
        right = {name: poll_right(bank, call) for name, call in polls.items()}
        fake.vote(BOB, polls["Alice"].result["poll"], [right["Alice"]])  # someone else's poll
        (note,) = await sent(fake, "your vote is not counted")
        assert note.fields["text"].startswith("Bob, that poll is Alice's quiz")
        fake.vote(ALICE, polls["Alice"].result["poll"], [right["Alice"]])
        fake.vote(BOB, polls["Bob"].result["poll"], [(right["Bob"] + 1) % 4])
        fake.say(group, CAROL, "ABCD"[right["Carol"]], reply_to=polls["Carol"].result)  # typed
        results = await sent(fake, "Score:", 3)
    by_name = {c.fields["text"].split("</b>")[0].removeprefix("<b>"): c for c in results}
    assert "Score: 1/1" in by_name["Alice"].fields["text"]
    assert "Score: 0/1" in by_name["Bob"].fields["text"]
    assert "Score: 1/1" in by_name["Carol"].fields["text"]
    assert by_name["Alice"].fields["message_thread_id"] == "7"
    asked = sorted(int(c.fields["user_id"]) for c in fake.of("getChatMember"))
    assert asked == [ALICE["id"], BOB["id"], CAROL["id"]]  # admin checks, one per member
    with database.session() as db:
        assert len(db.exec(select(Answer)).all()) == 3  # Bob's stray vote counted for no one


async def test_a_command_after_a_mention_is_a_command_with_the_senders_rights(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    """The adapter reads `/name args` (the core parses no text): after "@bot" too."""
    group = fake.chat(GROUP, "supergroup")
    fake.members[(GROUP, ALICE["id"])] = "administrator"
    mention = f"@{BOT['username']}"
    async with running(new_core(database, bank, notes), fake):
        fake.say(group, ALICE, f"{mention} /daily on 09:00 UTC DVA-C02 security 1 1h")
        await sent(fake, "Daily challenge on")
        fake.say(group, BOB, f"{mention} /quiz@OtherBot DVA-C02")  # another bot's command
        fake.say(group, BOB, f"{mention} /help")
        await sent(fake, "Commands:")
    texts = [c.fields["text"] for c in fake.of("sendMessage")]
    assert len(texts) == 2 and not any("Only group admins" in t for t in texts)


async def test_group_admins_import_questions_and_members_cannot(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    group = fake.chat(GROUP, "group")
    fake.members[(GROUP, ALICE["id"])] = "administrator"
    content = (FIXTURES / "imports" / "sample.csv").read_bytes()
    fake.files["documents/f-1"] = content
    document = {"file_id": "f-1", "file_unique_id": "u-1", "file_name": "sample.csv"}
    caption = f"@{BOT['username']} DVA-C02 development"
    async with running(new_core(database, bank, notes), fake):
        fake.say(group, BOB, "", document=document, caption=caption)
        await sent(fake, "Only admins")
        assert fake.of("getFile") == []  # a member's file is not even downloaded
        fake.say(group, ALICE, "", document=document | {"file_size": len(content)}, caption=caption)
        fake.say(group, CAROL, "", document=document)  # not addressed to the bot: left alone
        fake.say(group, ALICE, "/help")
        await sent(fake, "Commands:")
    texts = [c.fields["text"] for c in fake.of("sendMessage")]
    assert len(texts) == 3 and "import" in texts[1].lower() and "Only admins" not in texts[1]


async def test_a_daily_challenge_is_set_by_admins_posted_answered_once_and_revealed(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    group = fake.chat(GROUP, "supergroup", is_forum=True)
    fake.members[(GROUP, ALICE["id"])] = "creator"
    clock = ManualClock()  # 09:00 UTC
    core = new_core(database, bank, notes, clock=clock)
    async with running(core, fake, tick_seconds=0.1):
        fake.say(group, BOB, "/daily on 09:00 UTC DVA-C02 security 1 1h", thread=9)
        await sent(fake, "Only group admins")
        fake.say(group, ALICE, "/daily on 09:00 UTC DVA-C02 security 1 1h", thread=9)
        (question,) = await sent(fake, "Question 1/1")  # posted by the minute job
        assert question.fields["message_thread_id"] == "9"  # in the topic it was set up from
        assert not fake.of("sendPoll")  # a quiz poll would reveal the answer to each voter
        options = shown_options(question.fields["text"])
        (right,) = right_positions(bank, question.fields["text"], options)
        data = [b["callback_data"] for b in buttons(question)]
        fake.press(BOB, question.result, data[right])
        fake.press(CAROL, question.result, data[(right + 1) % 4])
        await fake.wait_calls("answerCallbackQuery", 2)
        fake.press(BOB, question.result, data[(right + 1) % 4])  # a second try does not count
        await fake.wait_calls("answerCallbackQuery", 3)
        clock.advance(hours=2)
        (board,) = await sent(fake, "Leaderboard for")
    toasts = [c.fields["text"] for c in fake.of("answerCallbackQuery")]
    assert sorted(t.split(",")[0] for t in toasts[:2]) == ["Got it", "Got it"]
    assert "your first answer counts" in toasts[2]
    reveal = [c for c in fake.of("sendMessage") if "Correct answer:" in c.fields["text"]]
    assert len(reveal) == 1 and board.fields["message_thread_id"] == "9"
    assert board.fields["text"].index("Bob") < board.fields["text"].index("Carol")
    assert not fake.of("editMessageReplyMarkup")  # everyone's buttons stay until the close


async def test_a_daily_post_refused_during_an_outage_arrives_once_on_a_later_tick(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    group = fake.chat(GROUP, "supergroup")
    fake.members[(GROUP, ALICE["id"])] = "creator"
    clock = ManualClock()  # 09:00 UTC
    core = new_core(database, bank, notes, clock=clock)

    def retry_recorded() -> bool:
        with database.session() as db:
            row = db.exec(select(DailyOutbox)).first()
            return row is not None and row.attempts == 1 and not row.lease

    def intros(accepted: bool) -> list[Call]:
        return [
            c
            for c in fake.of("sendMessage")
            if "Daily challenge for" in c.fields["text"] and (c.result is not None) == accepted
        ]

    async with running(core, fake, tick_seconds=0.1):
        fake.say(group, ALICE, "/daily on 09:05 UTC DVA-C02 security 1 1h")
        await sent(fake, "Daily challenge on")
        fake.fail("sendMessage", 500, times=3)  # a 2-second outage: every retry refused
        clock.advance(minutes=5)
        await fake.wait_for(lambda: len(intros(accepted=False)) == 3, what="three refusals")
        await fake.wait_for(retry_recorded, what="the post handed back for a later tick")
        assert not [c for c in fake.of("sendMessage") if "Question 1/1" in c.fields["text"]]
        clock.advance(minutes=1)  # the next minute's tick
        await sent(fake, "Question 1/1")
        clock.advance(hours=1)
        await sent(fake, "Leaderboard for")  # many ticks later: the window has closed
    assert len(intros(accepted=True)) == 1
    assert len([c for c in fake.of("sendMessage") if "Question 1/1" in c.fields["text"]]) == 1
    assert len([c for c in fake.of("sendMessage") if "Correct answer:" in c.fields["text"]]) == 1


# ---------------------------------------------------------------- resilience


async def test_a_429_is_honoured_and_network_errors_are_retried(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake):
        fake.fail("sendMessage", 429, retry_after=1)
        fake.say(chat, ALICE, "/help")
        first, second = await fake.wait_calls("sendMessage", 2)
        assert second.at - first.at >= 1.0  # waited as told
        fake.fail("sendMessage", 502)
        fake.say(chat, ALICE, "/exams")
        third, fourth = (await fake.wait_calls("sendMessage", 4))[2:]
        assert third.fields["text"] == fourth.fields["text"]
    assert first.fields["text"] == second.fields["text"]


async def test_odd_updates_are_answered_gracefully_or_ignored(
    fake: FakeTelegram,
    database: Database,
    bank: Bank,
    notes: list[Note],
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = fake.chat(ALICE["id"])
    group = fake.chat(GROUP, "supergroup")
    sticker = {"file_id": "s", "file_unique_id": "s", "type": "regular", "width": 1, "height": 1}
    sticker |= {"is_animated": False, "is_video": False}
    caplog.set_level(logging.ERROR)
    async with running(new_core(database, bank, notes), fake, polls=False):
        fake.say(chat, ALICE, "/quiz DVA-C02 security 1")
        (question,) = await sent(fake, "Question 1/1")
        fake.say(chat, ALICE, "/stop")
        await sent(fake, "Quiz stopped.")
        fake.press(ALICE, question.result, buttons(question)[0]["callback_data"])  # quiz ended
        fake.press(BOB, question.result, buttons(question)[0]["callback_data"])  # not Bob's
        fake.press(ALICE, question.result, "zz:nonsense")  # data we never sent
        fake.push(message=fake.message(chat, ALICE, "", sticker=sticker))
        fake.push(edited_message=fake.message(chat, ALICE, "B", edit_date=1))
        fake.vote(ALICE, {"id": "not-ours", "options": [{"persistent_id": "x"}]}, [0])
        fake.push(my_chat_member=chat_member_update(group))
        fake.say(group, BOB, "just chatting, not to the bot")
        await fake.wait_calls("answerCallbackQuery", 3)
        fake.say(chat, ALICE, "/help")
        await sent(fake, "Commands:")
    toasts = sorted(c.fields.get("text", "") for c in fake.of("answerCallbackQuery"))
    assert toasts[0] == "That button is no longer active."
    assert toasts[1].startswith("That quiz has ended")
    assert toasts[2].startswith("This question is for another member")
    texts = [c.fields["text"] for c in fake.of("sendMessage")]
    assert texts[-2] == UNREADABLE  # the sticker got a hint, nothing else odd got anything
    assert len(texts) == 6  # intro, question, "Quiz stopped.", result, sticker hint, help
    assert not [r for r in caplog.records if r.name.startswith(("adapters", "telegram"))]


def chat_member_update(chat: dict[str, Any]) -> dict[str, Any]:
    member = {"status": "member", "user": BOT}
    return {
        "chat": chat,
        "from": BOB,
        "date": 1,
        "old_chat_member": {"status": "left", "user": BOT},
        "new_chat_member": member,
    }


async def test_a_restart_loses_no_quiz_and_old_buttons_still_work(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    chat = fake.chat(ALICE["id"])
    async with running(new_core(database, bank, notes), fake):
        fake.say(chat, ALICE, "/quiz DVA-C02 security deployment 2")
        poll, right, _ = await next_poll(fake, bank, 1)
    async with running(new_core(database, bank, notes), fake, polls=False):  # a new process
        fake.vote(ALICE, poll, [right])
        await sent(fake, "Correct!")
        (question,) = await sent(fake, "Question 2/2")
    async with running(new_core(database, bank, notes), fake):
        options = shown_options(question.fields["text"])
        (right,) = right_positions(bank, question.fields["text"], options)
        fake.press(ALICE, question.result, buttons(question)[right]["callback_data"])
        await sent(fake, "Score: 2/2")
        fake.press(ALICE, question.result, buttons(question)[right]["callback_data"])
        await fake.wait_for(
            lambda: [
                c
                for c in fake.of("answerCallbackQuery")
                if c.fields.get("text", "").startswith("That quiz has ended")
            ],
            what="a toast saying why the old button cannot answer",
        )


# ---------------------------------------------------------------- rendering limits


def question(text: str, options: tuple[str, ...], choose: int = 1, **kw: Any) -> QuestionReply:
    fields: dict[str, Any] = dict(ref="1:0", item_id="t-dev-1", number=1, total=1)
    fields |= dict(exam="DVA-C02", domain="Security", mode=Mode.practice, choose=choose)
    return QuestionReply(question=text, options=options, **(fields | kw))


def test_polls_are_used_only_within_telegram_limits(bank: Bank) -> None:
    item = bank.get("t-dev-1")
    options = tuple(o.text for o in item.options)
    key = {"correct": (0,), "takeaway": item.takeaway}  # the core's answer key, practice only
    spec = poll_spec(question(item.question, options, **key))
    assert spec is not None and spec.quiz and spec.correct == (0,)
    assert poll_spec(question("x" * 301, options, **key)) is None  # question over 300
    assert poll_spec(question(item.question, ("y" * 101, *options[1:]), **key)) is None
    assert poll_spec(question(item.question, options, choose=2, **key)) is None
    exam = poll_spec(question(item.question, options, mode=Mode.exam))
    assert exam is not None and not exam.quiz and not exam.correct  # no feedback in exam mode


def test_long_texts_split_below_the_limit_without_breaking_html() -> None:
    lines = [f"<b>{n}</b> {'&lt;tag&gt; ' * 30}" for n in range(200)]
    lines.append("word&amp; " * 2000)  # one enormous line
    pieces = split_html("\n".join(lines))
    assert len(pieces) > 3
    for piece in pieces:
        assert units(piece) <= MESSAGE_LIMIT < 4096
        assert piece.count("<b>") == piece.count("</b>")
        assert not re.search(r"&[a-z]*$", piece)  # no entity cut in two
    assert html.unescape(re.sub("<[^>]+>", "", "".join(pieces))).count("<tag>") == 200 * 30


def test_callback_data_stays_within_64_bytes() -> None:
    data = pick_data("t", "9" * 16, "123456789:99", 63)
    assert len(data.encode()) <= CALLBACK_LIMIT
    pick = parse_pick(data)
    assert pick is not None and pick.ref == "123456789:99" and pick.positions() == tuple(range(6))
    with pytest.raises(ValueError):
        pick_data("a", "1", "x" * 64, 0)
    assert parse_pick("fu:t-dev-1:0") is None


# ---------------------------------------------------------------- running it


def test_settings_explain_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    assert "TELEGRAM_BOT_TOKEN" in (TelegramSettings(_env_file=None).problem() or "")
    hook = TelegramSettings(
        _env_file=None, TELEGRAM_BOT_TOKEN="1:x", TELEGRAM_WEBHOOK_URL="https://h.example/tg/hook"
    )
    assert "TELEGRAM_WEBHOOK_PORT" in (hook.problem() or "")
    assert hook.webhook_path() == "tg/hook"
    assert TelegramSettings(_env_file=None, TELEGRAM_ADMIN_IDS=" 1, 2 ,").admins() == {"1", "2"}
    assert hook.file_url() == "https://api.telegram.org/file/bot"


def test_webhook_workers_share_the_configured_secret() -> None:
    """Several workers behind one webhook URL each register it: they must send Telegram the
    same secret, or every worker but the last rejects Telegram's posts with 403."""
    env = {
        "TELEGRAM_BOT_TOKEN": "1:x",
        "TELEGRAM_WEBHOOK_URL": "https://h.example/tg/hook",
        "TELEGRAM_WEBHOOK_PORT": "8443",
    }
    shared = {**env, "TELEGRAM_WEBHOOK_SECRET": "team-secret_1"}
    workers = [TelegramSettings(_env_file=None, **shared) for _ in range(2)]
    assert {w.webhook_secret_token() for w in workers} == {"team-secret_1"}
    assert "team-secret_1" not in repr(workers[0])
    alone = TelegramSettings(_env_file=None, **env)
    assert alone.webhook_secret_token() != alone.webhook_secret_token()  # random per start
    bad = TelegramSettings(_env_file=None, **env, TELEGRAM_WEBHOOK_SECRET="not allowed!")
    assert "TELEGRAM_WEBHOOK_SECRET" in (bad.problem() or "")


async def test_webhook_mode_receives_updates_posted_to_it(
    fake: FakeTelegram, database: Database, bank: Bank, notes: list[Note]
) -> None:
    """Telegram POSTs updates to our listener with the secret; we answer through the API."""
    port = _free_port()
    settings = TelegramSettings(
        TELEGRAM_BOT_TOKEN=TOKEN,
        TELEGRAM_BASE_URL=fake.base_url,
        TELEGRAM_WEBHOOK_URL="https://bot.example/tg/hook",
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
    )
    app = build_application(new_core(database, bank, notes), settings, retry_delay=0.05)
    async with app:
        await prepare(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path=settings.webhook_path(),
            webhook_url=settings.webhook_url,
            secret_token="s3cret",
            allowed_updates=ALLOWED_UPDATES,
        )
        try:
            (registered,) = await fake.wait_calls("setWebhook")
            assert registered.fields["url"] == "https://bot.example/tg/hook"
            update = {
                "update_id": 1,
                "message": fake.message(fake.chat(ALICE["id"]), ALICE, "/help"),
            }
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{port}/tg/hook"
                wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
                async with session.post(url, json=update, headers=wrong) as refused:
                    assert refused.status == 403
                headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
                async with session.post(url, json=update, headers=headers) as accepted:
                    assert accepted.status == 200
            await sent(fake, "/quiz")
        finally:
            await app.updater.stop()
            await app.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(tmp_path: Path) -> dict[str, str]:
    """No Telegram or studybot settings from the caller; the fixture bank; no embeddings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "STUDYBOT_"))}
    clean |= {"STUDYBOT_DATA_DIR": str(tmp_path), "STUDYBOT_EMBEDDINGS": "none"}
    return clean | {"STUDYBOT_BANKS": str(FIXTURES / "bank")}


async def studybot_run(tmp_path: Path, **env: str) -> tuple[int, str]:
    """`python -m bot run telegram` in a clean environment; returns (exit status, stderr)."""
    clean = clean_environment(tmp_path) | env
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "telegram",
        cwd=tmp_path,
        env=clean,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, stderr.decode()


async def test_a_missing_or_rejected_token_is_one_line_naming_the_variable(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    status, stderr = await studybot_run(tmp_path)
    assert status == 2 and stderr.strip().startswith("TELEGRAM_BOT_TOKEN is not set")
    assert len(stderr.strip().splitlines()) == 1
    status, stderr = await studybot_run(
        tmp_path, TELEGRAM_BOT_TOKEN="999:wrong", TELEGRAM_BASE_URL=fake.base_url
    )
    assert status == 2 and "Traceback" not in stderr, stderr
    assert stderr.strip().splitlines()[-1].startswith("Telegram rejected TELEGRAM_BOT_TOKEN")


async def test_studybot_run_telegram_registers_the_menu_and_answers_until_stopped(
    tmp_path: Path, fake: FakeTelegram
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_BASE_URL": fake.base_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "telegram",
        cwd=tmp_path,
        env=clean_environment(tmp_path) | env,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )
    try:
        await fake.wait_calls("setMyCommands", timeout=30)  # post_init ran under run_polling
        fake.say(fake.chat(ALICE["id"]), ALICE, "/help")
        await sent(fake, "Commands:")
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    assert "running with long polling" in stderr.decode()
