"""The stories' student on Discord, end to end: the real discord.py client against the fake
REST server and gateway websocket on 127.0.0.1 (commands synced at start, slash commands and
component presses as INTERACTION_CREATE, replies through the interaction callbacks). The
student studies in a DM with the bot (as on Telegram, /stats in a server channel shows the
channel's standings); the group is a server channel."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

from adapters.discord.bot import StudyClient
from tests.fake_discord import (
    ALICE,
    BOB,
    CHANNEL_ID,
    EPHEMERAL,
    LOADING,
    FakeDiscord,
    option_type,
)
from tests.stories.student import Shown, World, eventually, seen_in
from tests.test_discord import CAROL, as_member, components, embed_text, running

JSON = dict[str, Any]
HEADER = re.compile(r"^Question (\d+)/(\d+) · ")
OPTION = re.compile(r"^\*\*([A-F])\)\*\* (.*)$", re.MULTILINE)
EXAM_CODE = re.compile(r"^[A-Z]{3}-C\d\d$")
MEMBERS = {"Alice": ALICE, "Bob": BOB, "Carol": CAROL}
ADMINS = {"Alice"}  # Manage Server; the others are plain members
CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"
FOLLOW_UP = "POST /webhooks/{application_id}/{token}"


def quiz_options(args: str) -> JSON:
    """`/quiz [exam] [EXAM] [DOMAIN...] [COUNT]` as the slash command's typed options."""
    options: JSON = {}
    domains = []
    for word in args.split():
        if word == "exam" and not options:
            options["mode"] = "exam"
        elif EXAM_CODE.match(word):
            options["exam"] = word
        elif word.isdigit():
            options["count"] = int(word)
        else:
            domains.append(word)
    if domains:
        options["domains"] = " ".join(domains)
    return options


def daily_options(args: str) -> JSON:
    """`on HH:MM ZONE EXAM DOMAIN COUNT WINDOW` as `/daily on`'s options."""
    words = args.split()
    assert words[0] == "on", "the stories only turn challenges on"
    options: JSON = {"time": words[1], "zone": words[2], "exam": words[3]}
    options |= {"domains": words[4], "count": int(words[5]), "window": words[6]}
    return options


def daily_on(fake: FakeDiscord, args: str, user: JSON) -> JSON:
    """`/daily on ...` as Discord sends a subcommand: its options nested, typed."""
    typed = [
        {"name": k, "type": option_type(v), "value": v} for k, v in daily_options(args).items()
    ]
    return fake.slash("daily", [{"name": "on", "type": 1, "options": typed}], user=user)


def as_question(message: JSON) -> Shown | None:
    """A question embed as sent (its components kept for later presses)."""
    embeds = message.get("embeds") or []
    header = HEADER.match(embeds[0].get("title", "")) if embeds else None
    if header is None:
        return None
    options = [m.group(2) for m in OPTION.finditer(embeds[0]["description"])]
    number, total = int(header.group(1)), int(header.group(2))
    return Shown(number, total, embed_text(message), options, copy.deepcopy(message))


class DiscordChannel:
    """A channel (the server's, or a member's DM with the bot) as the members see it, and
    their presses in it."""

    def __init__(self, fake: FakeDiscord, dm_with: JSON | None = None) -> None:
        self.fake = fake
        self.id = int(fake.dm_channel(dm_with)["id"]) if dm_with else CHANNEL_ID
        self.where = None if dm_with else CHANNEL_ID  # interactions from a DM name no channel
        self.taken = 0
        self.shown: dict[str, Shown | None] = {}  # each message as first seen

    def in_channel(self, visible_to: str | None = None) -> list[JSON]:
        """Messages done "thinking"; ephemeral ones only for the member they answer."""
        found = []
        for message in self.fake.messages_in(self.id):
            if message["flags"] & LOADING:
                continue
            if message["flags"] & EPHEMERAL:
                owner = (message.get("interaction_metadata") or {}).get("user", {}).get("id")
                if visible_to is None or owner != MEMBERS[visible_to]["id"]:
                    continue
            found.append(message)
        return found

    def messages(self, visible_to: str | None = None) -> list[str]:
        return [embed_text(m) for m in self.in_channel(visible_to)]

    def notices(self, member: str) -> list[str]:
        return [embed_text(m) for m in self.in_channel(member) if m["flags"] & EPHEMERAL]

    async def next_question(self, visible_to: str | None = None) -> Shown:
        def new() -> Shown | None:
            for message in self.in_channel(visible_to):
                self.shown.setdefault(message["id"], as_question(message))
            questions = [q for q in self.shown.values() if q is not None]
            return questions[self.taken] if len(questions) > self.taken else None

        shown = await eventually(new, "the next question")
        self.taken += 1
        return shown

    async def answer(self, member: str, question: Shown, positions: Sequence[int]) -> None:
        """A button for choose-one, the select menu (exactly N values) for choose-N."""
        message, user = question.handle, MEMBERS[member]
        controls = components(message)
        if controls[0]["type"] == 3:
            values = [str(p) for p in positions]
            press = self.fake.select(
                controls[0]["custom_id"], values, message, user=user, channel_id=self.where
            )
        else:
            (position,) = positions
            press = self.fake.button(
                controls[position]["custom_id"], message, user=user, channel_id=self.where
            )
        await self.fake.interact(press if member in ADMINS else as_member(press))


class DiscordStudent:
    platform = "discord"
    has_buttons = True

    def __init__(self, world: World) -> None:
        self.world = world
        self.clock = world.clock
        self.fake = FakeDiscord()
        self.channel = DiscordChannel(self.fake, dm_with=ALICE)
        self.stack = AsyncExitStack()
        self.bot = AsyncExitStack()
        self.client: StudyClient | None = None
        self.calls_before_throttle = 0

    async def __aenter__(self) -> DiscordStudent:
        await self.fake.start()
        self.stack.push_async_callback(self.fake.stop)
        self.stack.enter_context(self.fake.pointed_at())
        self.stack.push_async_callback(self.bot.aclose)
        await self.start_bot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stack.aclose()

    async def start_bot(self) -> None:
        """A new client: it syncs the commands before it connects, then READY."""
        syncs = len(self.fake.succeeded("PUT /applications/{application_id}/commands"))
        self.client = await self.bot.enter_async_context(running(self.world.new_core(), self.fake))
        synced = self.fake.succeeded("PUT /applications/{application_id}/commands")
        assert len(synced) == syncs + 1 and {"quiz", "ask", "stats"} <= set(
            self.fake.command_names()
        )

    async def restart(self) -> None:
        await self.bot.aclose()
        await self.start_bot()

    # ------------------------------------------------------------ the student

    async def command(self, name: str, args: str = "") -> None:
        if name == "quiz":
            options: JSON | None = quiz_options(args)
        elif name == "ask":
            options = {"question": args}
        else:
            assert not args, f"/{name} takes no options in the stories"
            options = None
        await self.fake.interact(self.fake.slash(name, options, channel_id=None))

    async def ask(self, text: str) -> None:
        await self.command("ask", text)

    async def next_question(self) -> Shown:
        return await self.channel.next_question("Alice")

    async def answer(self, question: Shown, positions: Sequence[int]) -> None:
        await self.channel.answer("Alice", question, positions)

    async def press_follow_up(self, label: str) -> None:
        def offered() -> list[tuple[JSON, str]]:
            return [
                (m, c["custom_id"])
                for m in self.channel.in_channel("Alice")
                for c in components(m)
                if c.get("label") == label
            ]

        message, custom_id = (await eventually(offered, f"a {label!r} button"))[-1]
        await self.fake.interact(self.fake.button(custom_id, message, channel_id=None))

    def messages(self) -> list[str]:
        return self.channel.messages("Alice")

    async def seen(self, needle: str, count: int = 1) -> list[str]:
        return await seen_in(self.messages, needle, count)

    async def image(self) -> bytes:
        def charts() -> list[JSON]:
            return [
                m
                for m in self.channel.in_channel("Alice")
                if any(a["filename"].endswith(".png") for a in m.get("attachments", []))
            ]

        chart = (await eventually(charts, "a chart"))[-1]
        return self.fake.uploads(chart)[0].content

    def throttle_once(self) -> None:
        """A 429 with `Via` (a real rate limit, not a Cloudflare ban) on the next interaction
        response and the next follow-up message."""
        self.calls_before_throttle = len(self.fake.calls)
        self.fake.fail(CALLBACK, 429, retry_after=0.2)
        self.fake.fail(FOLLOW_UP, 429, retry_after=0.2)

    def assert_throttle_honoured(self) -> None:
        later = self.fake.calls[self.calls_before_throttle :]
        for route in (CALLBACK, FOLLOW_UP):
            calls = [c for c in later if c.route == route]
            assert calls[0].status == 429 and 200 <= calls[1].status < 300, route
            assert calls[1].at - calls[0].at >= 0.2  # waited as told
            assert calls[1].params["token"] == calls[0].params["token"]  # the same reply

    def group(self) -> DiscordGroup:
        return DiscordGroup(self)


class DiscordGroup:
    """The server channel: Alice manages the server, Bob and Carol are members."""

    def __init__(self, student: DiscordStudent) -> None:
        self.student = student
        self.channel = DiscordChannel(student.fake)
        student.fake.users[int(CAROL["id"])] = CAROL

    async def command(self, member: str, name: str, args: str = "") -> None:
        fake = self.student.fake
        if name == "daily":
            interaction = daily_on(fake, args, MEMBERS[member])
        else:
            interaction = fake.slash(name, user=MEMBERS[member])
        await fake.interact(interaction if member in ADMINS else as_member(interaction))

    async def tick(self) -> None:
        assert self.student.client is not None
        await self.student.client.tick()

    async def next_question(self) -> Shown:
        return await self.channel.next_question()

    async def answer(self, member: str, question: Shown, positions: Sequence[int]) -> None:
        await self.channel.answer(member, question, positions)

    async def seen(self, needle: str, count: int = 1) -> list[str]:
        return await seen_in(self.channel.messages, needle, count)

    async def told(self, member: str, needle: str) -> list[str]:
        return await seen_in(lambda: self.channel.notices(member), needle, 1)
