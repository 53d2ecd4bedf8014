"""The stories' student in the terminal chat: `adapters/cli/chat.py` in this process, with
piped-style plain output, each reply's printed text kept as one message."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from contextlib import redirect_stdout
from pathlib import Path

from adapters.cli.chat import TerminalChat
from bot.core import Core
from bot.types import Reply
from tests.stories.student import LETTERS, Group, Shown, World, seen_in

HEADER = re.compile(r"^Question (\d+)/(\d+) · ", re.MULTILINE)
OPTION = re.compile(r"^  ([A-F])\) (.*)$", re.MULTILINE)
FOLLOW_UP = re.compile(r"^  \?(\d) (.*)$", re.MULTILINE)
IMAGE = re.compile(r"^\[image: (.+?\.png)\]", re.MULTILINE)


class ScreenChat(TerminalChat):
    """The terminal chat exactly as it prints, with what it printed kept per reply."""

    def __init__(self, core: Core, user: str) -> None:
        super().__init__(core, user, rich=False)
        self.screen: list[str] = []

    def show(self, reply: Reply) -> None:
        out = io.StringIO()
        with redirect_stdout(out):
            super().show(reply)
        self.screen.append(out.getvalue().rstrip("\n"))


class TerminalStudent:
    platform = "terminal"
    has_buttons = False

    def __init__(self, world: World) -> None:
        self.world = world
        self.clock = world.clock
        self.screen: list[str] = []  # survives restarts: the same terminal window
        self.chat = self._new_chat()
        self.taken = 0

    def _new_chat(self) -> ScreenChat:
        chat = ScreenChat(self.world.new_core(), "alice")
        chat.screen = self.screen
        return chat

    async def __aenter__(self) -> TerminalStudent:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def type(self, line: str) -> None:
        await self.chat.send(line)

    async def command(self, name: str, args: str = "") -> None:
        await self.type(f"/{name} {args}".strip())

    async def ask(self, text: str) -> None:
        await self.type(text)

    def questions(self) -> list[Shown]:
        return [shown for text in self.screen if (shown := parse_question(text))]

    async def next_question(self) -> Shown:
        questions = self.questions()
        assert len(questions) > self.taken, "no new question:\n" + "\n".join(self.screen[-4:])
        self.taken += 1
        return questions[self.taken - 1]

    async def answer(self, question: Shown, positions: Sequence[int]) -> None:
        await self.type(",".join(LETTERS[p] for p in positions))

    async def press_follow_up(self, label: str) -> None:
        offered = [m for text in self.screen for m in FOLLOW_UP.finditer(text)]
        number = next(m.group(1) for m in reversed(offered) if m.group(2) == label)
        await self.type(f"?{number}")

    def messages(self) -> list[str]:
        return list(self.screen)

    async def seen(self, needle: str, count: int = 1) -> list[str]:
        return await seen_in(self.messages, needle, count)

    async def image(self) -> bytes:
        paths = [m.group(1) for text in self.screen for m in IMAGE.finditer(text)]
        assert paths, "no image was shown"
        return Path(paths[-1]).read_bytes()

    async def restart(self) -> None:
        self.chat = self._new_chat()

    def throttle_once(self) -> None:
        """A terminal has no platform that could rate-limit it."""

    def assert_throttle_honoured(self) -> None:
        """Nothing was throttled."""

    def group(self) -> Group | None:
        return None


def parse_question(text: str) -> Shown | None:
    header = HEADER.match(text)
    if header is None:
        return None
    options = [m.group(2) for m in OPTION.finditer(text)]
    return Shown(int(header.group(1)), int(header.group(2)), text, options)
