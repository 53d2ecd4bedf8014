"""The stories' student on Telegram: the real python-telegram-bot Application (polling) against
the fake Bot API on 127.0.0.1. Questions arrive as quiz polls (or, with `polls=False` and for
choose-N items, as messages with letter buttons); the student votes, taps or toggles."""

from __future__ import annotations

import copy
import html
import re
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

from telegram.ext import Application

from tests.fake_telegram import FakeTelegram
from tests.stories.student import Shown, World, eventually, seen_in
from tests.test_telegram import ALICE, BOB, CAROL, GROUP, running, shown_options

JSON = dict[str, Any]
TAG = re.compile(r"<[^>]+>")
HEADER = re.compile(r"^Question (\d+)/(\d+)\b")
POLL_NUMBER = re.compile(r"^(\d+)/(\d+)\. ")
MEMBERS = {"Alice": ALICE, "Bob": BOB, "Carol": CAROL}
TICK_NEVER = 3600.0  # the stories tick by hand, like the JobQueue's minute job would


def plain(text: str) -> str:
    """What the student reads in an HTML message."""
    return html.unescape(TAG.sub("", text))


def as_seen(message: JSON) -> str:
    """A message as plain text: its text, or a poll's question and options."""
    if "poll" in message:
        poll = message["poll"]
        return "\n".join([poll["question"], *(o["text"] for o in poll["options"])])
    return plain(message.get("text", ""))


def keys(message: JSON) -> list[JSON]:
    """The message's inline buttons, row by row."""
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [button for row in rows for button in row]


def as_question(message: JSON) -> Shown | None:
    """A question the bot sent, as it was when sent (its buttons kept for later presses)."""
    message = copy.deepcopy(message)
    if "poll" in message:
        poll = message["poll"]
        number = POLL_NUMBER.match(poll["question"])
        assert number is not None, f"a quiz poll says which question it is: {poll['question']}"
        options = [o["text"] for o in poll["options"]]
        first, total = int(number.group(1)), int(number.group(2))
        return Shown(first, total, poll["question"], options, message)
    header = HEADER.match(plain(message.get("text", "")))
    if header is None:
        return None
    options = shown_options(message["text"])
    return Shown(
        int(header.group(1)), int(header.group(2)), plain(message["text"]), options, message
    )


class TelegramChat:
    """The messages of one chat on the fake, and the taps and votes made in it."""

    def __init__(self, fake: FakeTelegram, chat: JSON) -> None:
        self.fake = fake
        self.chat = chat
        self.taken = 0
        self.presses: dict[str, str] = {}  # callback query id -> who pressed
        self.shown: dict[tuple[int, int], Shown | None] = {}  # each message as first seen

    def in_chat(self) -> list[JSON]:
        chat_id = self.chat["id"]
        return [m for (c, _), m in self.fake.messages.items() if c == chat_id]

    def messages(self) -> list[str]:
        return [as_seen(m) for m in self.in_chat()]

    def questions(self) -> list[Shown]:
        for message in self.in_chat():
            key = (message["chat"]["id"], message["message_id"])
            if key not in self.shown:
                self.shown[key] = as_question(message)
        return [q for q in self.shown.values() if q is not None]

    async def next_question(self) -> Shown:
        def new() -> Shown | None:
            questions = self.questions()
            return questions[self.taken] if len(questions) > self.taken else None

        shown = await eventually(new, "the next question")
        self.taken += 1
        return shown

    async def answer(self, user: JSON, question: Shown, positions: Sequence[int]) -> None:
        message = question.handle
        if "poll" in message:
            self.fake.vote(user, message["poll"], list(positions))
        elif question.choose == 1:
            (position,) = positions
            self.press(user, message, keys(message)[position]["callback_data"])
        else:
            await self.toggle_and_submit(user, message, positions)

    def press(self, user: JSON, message: JSON, data: str) -> None:
        self.fake.press(user, message, data)
        self.presses[self.fake.updates[-1]["callback_query"]["id"]] = user["first_name"]

    async def toggle_and_submit(self, user: JSON, message: JSON, positions: Sequence[int]) -> None:
        """Tap each letter (the keyboard is redrawn with a tick each time), then Submit."""
        key = (message["chat"]["id"], message["message_id"])
        for count, position in enumerate(positions, 1):
            keyboard = self.fake.messages[key]["reply_markup"]["inline_keyboard"]
            self.press(user, message, keyboard[0][position]["callback_data"])

            def ticked(count: int = count) -> bool:
                row = self.fake.messages[key]["reply_markup"]["inline_keyboard"][0]
                return sum(b["text"].startswith("✓") for b in row) == count

            await eventually(ticked, f"{count} ticked letter(s)")
        submit = self.fake.messages[key]["reply_markup"]["inline_keyboard"][-1][-1]
        assert submit["text"].startswith("Submit"), submit
        self.press(user, message, submit["callback_data"])

    def toasts(self, who: str | None = None) -> list[str]:
        """Notices shown to the presser alone (an alert over the chat)."""
        return [
            c.fields["text"]
            for c in self.fake.of("answerCallbackQuery")
            if c.fields.get("text")
            and (who is None or self.presses.get(c.fields["callback_query_id"]) == who)
        ]


class TelegramStudent:
    platform = "telegram"
    has_buttons = True

    def __init__(self, world: World, polls: bool = True) -> None:
        self.world = world
        self.clock = world.clock
        self.polls = polls
        self.fake = FakeTelegram()
        self.private = TelegramChat(self.fake, self.fake.chat(ALICE["id"]))
        self.stack = AsyncExitStack()
        self.bot = AsyncExitStack()
        self.app: Application | None = None  # type: ignore[type-arg]
        self.failed_at = 0  # how many sendMessage calls there were before the throttle

    async def __aenter__(self) -> TelegramStudent:
        await self.fake.start()
        self.stack.push_async_callback(self.fake.stop)
        self.stack.push_async_callback(self.bot.aclose)
        await self.start_bot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()

    async def start_bot(self) -> None:
        options = {"polls": self.polls, "tick_seconds": TICK_NEVER}
        self.app = await self.bot.enter_async_context(
            running(self.world.new_core(), self.fake, **options)
        )

    async def restart(self) -> None:
        await self.bot.aclose()
        await self.start_bot()

    async def tick(self) -> None:
        assert self.app is not None
        await self.app.bot_data["studybot"].tick(self.app.bot)

    # ------------------------------------------------------------ the student

    async def command(self, name: str, args: str = "") -> None:
        self.fake.say(self.private.chat, ALICE, f"/{name} {args}".strip())

    async def ask(self, text: str) -> None:
        self.fake.say(self.private.chat, ALICE, text)

    async def next_question(self) -> Shown:
        return await self.private.next_question()

    async def answer(self, question: Shown, positions: Sequence[int]) -> None:
        await self.private.answer(ALICE, question, positions)

    async def press_follow_up(self, label: str) -> None:
        def offered() -> list[tuple[JSON, str]]:
            return [
                (m, b["callback_data"])
                for m in self.private.in_chat()
                for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
                if b["text"] == label
            ]

        message, data = (await eventually(offered, f"a {label!r} button"))[-1]
        self.private.press(ALICE, message, data)

    def messages(self) -> list[str]:
        return self.private.messages() + self.private.toasts()

    async def seen(self, needle: str, count: int = 1) -> list[str]:
        return await seen_in(self.messages, needle, count)

    async def image(self) -> bytes:
        (photo, *_) = await self.fake.wait_calls("sendPhoto")
        assert int(photo.fields["chat_id"]) == ALICE["id"]
        return bytes(photo.fields["photo"])

    def throttle_once(self) -> None:
        self.failed_at = len(self.fake.of("sendMessage"))
        self.fake.fail("sendMessage", 429, retry_after=1)

    def assert_throttle_honoured(self) -> None:
        refused, again = self.fake.of("sendMessage")[self.failed_at : self.failed_at + 2]
        assert refused.result is None and again.result is not None
        assert again.fields["text"] == refused.fields["text"]
        assert again.at - refused.at >= 1.0  # waited as Telegram said

    def group(self) -> TelegramGroup:
        return TelegramGroup(self)


class TelegramGroup:
    """A supergroup where Alice is the creator and Bob and Carol are members."""

    def __init__(self, student: TelegramStudent) -> None:
        self.student = student
        fake = student.fake
        fake.members[(GROUP, ALICE["id"])] = "creator"
        self.chat = TelegramChat(fake, fake.chat(GROUP, "supergroup"))

    async def command(self, member: str, name: str, args: str = "") -> None:
        self.student.fake.say(self.chat.chat, MEMBERS[member], f"/{name} {args}".strip())

    async def tick(self) -> None:
        await self.student.tick()

    async def next_question(self) -> Shown:
        return await self.chat.next_question()

    async def answer(self, member: str, question: Shown, positions: Sequence[int]) -> None:
        await self.chat.answer(MEMBERS[member], question, positions)

    async def seen(self, needle: str, count: int = 1) -> list[str]:
        return await seen_in(self.chat.messages, needle, count)

    async def told(self, member: str, needle: str) -> list[str]:
        return await seen_in(lambda: self.chat.toasts(member), needle, 1)
