"""What a story may do and read, whatever the platform: the driver protocols, the question
as shown, and the answer key the stories take from the bank (never from the bot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.clock import ManualClock
from bot.core import Core
from bot.storage.database import Database
from bot.study import StudyIndex
from knowledge.bank import Bank
from knowledge.notes import Note
from knowledge.schema import Item

T = TypeVar("T")
LETTERS = "ABCDEF"
CHOOSE_WORDS = {"Choose two": 2, "Choose three": 3, "Choose four": 4}


@dataclass
class World:
    """What every driver builds its bot from: one database, the fixture bank, lexical
    retrieval (fast), a clock the story moves, and a new core at each (re)start."""

    database: Database
    bank: Bank
    notes: list[Note]
    clock: ManualClock
    files: Path

    def new_core(self) -> Core:
        study = StudyIndex(self.notes)
        return Core(
            self.database, self.bank, clock=self.clock, seed=7, study=study, files_dir=self.files
        )


@dataclass
class Shown:
    """A question as the student sees it: its plain text, the options in the order shown,
    and the platform's own handle on it (a poll, a message with buttons, nothing)."""

    number: int
    total: int
    text: str
    options: list[str]
    handle: Any = field(default=None, repr=False)

    @property
    def choose(self) -> int:
        """How many options to pick, as the question says ("Choose two")."""
        return next((n for words, n in CHOOSE_WORDS.items() if words in self.text), 1)


def item_of(bank: Bank, question: Shown) -> Item:
    """The bank item a shown question is (the story's own answer key)."""
    matches = [item for item in bank.items() if item.question in question.text]
    assert len(matches) == 1, question.text
    return matches[0]


def right_positions(bank: Bank, question: Shown) -> list[int]:
    right = {o.text for o in item_of(bank, question).options if o.correct}
    return [i for i, text in enumerate(question.options) if text in right]


def wrong_positions(bank: Bank, question: Shown) -> list[int]:
    """As many wrong options as the question wants picked."""
    right = set(right_positions(bank, question))
    wrong = [i for i in range(len(question.options)) if i not in right]
    return wrong[: len(right)]


async def eventually(condition: Callable[[], T | None], what: str, timeout: float = 10.0) -> T:
    """Poll `condition` until it is truthy (bounded): no fixed sleeps in the stories."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


class Student(Protocol):
    """One student in a private conversation with the bot, on one platform."""

    platform: str
    has_buttons: bool  # answer buttons that outlive their question (not in the terminal)
    clock: ManualClock

    async def __aenter__(self) -> Student:
        """Start the platform's stand-in and the bot."""

    async def __aexit__(self, *exc: object) -> None:
        """Stop the bot, then the stand-in."""

    async def command(self, name: str, args: str = "") -> None:
        """`/name args`, the platform's way (typed, or a slash command with options)."""

    async def ask(self, text: str) -> None:
        """A question about the study material, in the student's own words."""

    async def next_question(self) -> Shown:
        """The next question shown that this story has not taken yet (waits for it)."""

    async def answer(self, question: Shown, positions: Sequence[int]) -> None:
        """Pick these options the platform's way (typed letters, a poll, buttons, a menu)."""

    async def press_follow_up(self, label: str) -> None:
        """Pick the last suggested follow-up question with this text."""

    def messages(self) -> list[str]:
        """Everything the student was shown so far, one plain text per message, in order."""

    async def seen(self, needle: str, count: int = 1) -> list[str]:
        """The messages containing `needle`, once there are `count` of them (waits)."""

    async def image(self) -> bytes:
        """The last image the student received."""

    async def restart(self) -> None:
        """Stop the bot and start a new one (a new core) on the same database."""

    def throttle_once(self) -> None:
        """The platform rate-limits the bot's next replies once (nothing in the terminal)."""

    def assert_throttle_honoured(self) -> None:
        """The bot waited and sent again after being rate-limited."""

    def group(self) -> Group | None:
        """The study group this student's platform has, or None (the terminal)."""


class Group(Protocol):
    """A group chat (Telegram) or server channel (Discord) with Alice (an admin), Bob and
    Carol, and the bot's scheduled posts."""

    async def command(self, member: str, name: str, args: str = "") -> None: ...

    async def tick(self) -> None:
        """The bot's minute job: scheduled posts go out."""

    async def next_question(self) -> Shown: ...

    async def answer(self, member: str, question: Shown, positions: Sequence[int]) -> None: ...

    async def seen(self, needle: str, count: int = 1) -> list[str]:
        """Posts everyone in the group sees that contain `needle`."""

    async def told(self, member: str, needle: str) -> list[str]:
        """Notices only `member` sees (a toast, an ephemeral reply) containing `needle`."""


async def seen_in(messages: Callable[[], list[str]], needle: str, count: int) -> list[str]:
    """The shared `seen`: wait until `count` messages contain `needle`."""

    def found() -> list[str] | None:
        hits = [m for m in messages() if needle in m]
        return hits if len(hits) >= count else None

    try:
        return await eventually(found, f"{count} message(s) with {needle!r}")
    except AssertionError:
        shown = "\n---\n".join(messages()[-8:])
        raise AssertionError(f"never saw {count}x {needle!r}; last messages:\n{shown}") from None
