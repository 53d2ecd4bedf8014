"""The terminal chat: rich on a terminal, plain lines when standard input is piped.

Piped, it reads one message per line and exits 0 at the end of input, so a whole session can
be scripted. `?1`, `?2`, `?3` pick the suggested follow-ups shown last.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel

from adapters.shared import parse_command_text
from adapters.text import render
from bot.core import Core
from bot.types import (
    AnswerReply,
    ButtonPress,
    Command,
    Document,
    ExplanationReply,
    FollowUpsReply,
    HintReply,
    QuestionReply,
    QuizResultReply,
    Reply,
    Text,
    Verdict,
)

PLATFORM = "cli"
BUILDING = "[dim]Building the study index: the first question takes about a minute…[/]"


class TerminalChat:
    def __init__(self, core: Core, user: str, *, rich: bool, history: Path | None = None) -> None:
        self.core = core
        self.user = user
        self.rich = rich
        self.history = history
        self.console = Console(highlight=False) if rich else None
        self.follow_ups: tuple[str, ...] = ()
        self.warming: threading.Thread | None = None

    def _event(self, line: str) -> Command | Text | ButtonPress | Document | HintReply:
        base = {"platform": PLATFORM, "chat_id": f"cli:{self.user}", "user_id": self.user}
        stripped = line.strip()
        if stripped.startswith("/import"):
            return self._document(stripped.removeprefix("/import").strip(), base)
        if len(stripped) == 2 and stripped[0] == "?" and stripped[1].isdigit():
            index = int(stripped[1]) - 1
            if 0 <= index < len(self.follow_ups):
                return ButtonPress(**base, display_name=self.user, data=self.follow_ups[index])
        command = parse_command_text(stripped)
        if command is not None:
            return Command(**base, display_name=self.user, name=command[0], args=command[1])
        return Text(**base, display_name=self.user, text=line)

    def _document(self, args: str, base: dict[str, str]) -> Document | HintReply:
        """`/import PATH [EXAM DOMAIN]`: the terminal's user runs the bot, so is its operator:
        the questions go into the shared pool."""
        path_text, _, caption = args.partition(" ")
        if not path_text:
            return HintReply(
                text="Usage: /import PATH [EXAM DOMAIN], e.g. /import mine.gift DVA-C02 security"
            )
        path = Path(path_text).expanduser()
        try:
            content = path.read_bytes()
        except OSError as error:
            return HintReply(text=f"Cannot read {path}: {error.strerror}.")
        return Document(
            **base,
            display_name=self.user,
            is_admin=True,
            is_operator=True,
            filename=path.name,
            content=content,
            caption=caption,
        )

    async def send(self, line: str) -> list[Reply]:
        event = self._event(line)
        if isinstance(event, HintReply):
            self.show(event)
            return [event]
        if self.console is None:
            replies = await self.core.handle(event)
        else:  # a model's answer streams into a live panel, disclaimer included throughout
            waiting = "" if self.core.answers_ready() else BUILDING
            with Live(waiting, console=self.console, transient=True, refresh_per_second=8) as live:

                async def progress(partial: str) -> None:
                    live.update(Panel(escape(partial), border_style="blue", title="Answer…"))

                replies = await self.core.handle(event, progress)
        for reply in replies:
            if isinstance(reply, FollowUpsReply):
                self.follow_ups = tuple(s.data for s in reply.suggestions)
            self.show(reply)
        if any(isinstance(reply, QuestionReply) for reply in replies):
            self.warm_follow_ups()
        return replies

    def warm_follow_ups(self) -> None:
        """Once a first question is on screen, load the model and open the study index in a
        background thread, so that the student's first follow-up does not wait for them; the
        start never does. A daemon: leaving the chat does not wait for it."""
        study = self.core.study
        if self.warming is not None or study is None or study.ready(self.core.bank):
            return
        self.warming = threading.Thread(
            target=study.warm, args=(self.core.bank,), name="warm-follow-ups", daemon=True
        )
        self.warming.start()

    def show(self, reply: Reply) -> None:
        text = render(reply, self.core.now())
        if isinstance(reply, FollowUpsReply):
            numbered = [f"  ?{n} {s.text}" for n, s in enumerate(reply.suggestions, 1)]
            text = "Ask next (type ?1, ?2 or ?3):\n" + "\n".join(numbered)
        if self.console is None:
            print(text, flush=True)
            return
        if isinstance(reply, QuestionReply):
            self.console.print(Panel(escape(text), border_style="cyan"))
        elif isinstance(reply, ExplanationReply):
            style = "green" if reply.verdict is Verdict.correct else "yellow"
            self.console.print(Panel(escape(text), border_style=style))
        elif isinstance(reply, QuizResultReply):
            self.console.print(Panel(escape(text), border_style="magenta", title="Result"))
        elif isinstance(reply, AnswerReply):
            self.console.print(Panel(escape(text), border_style="blue", title="Answer"))
        elif isinstance(reply, HintReply):
            self.console.print(f"[yellow]{escape(text)}[/]")
        else:
            self.console.print(escape(text))

    async def run(self, lines: Iterator[str], greet: bool) -> None:
        if greet:
            await self.send("/start")
        for line in lines:
            if line.strip():
                await self.send(line)


def _interactive_lines(console: Console, history: Path | None) -> Iterator[str]:
    try:
        import readline
    except ImportError:  # not on every platform
        readline = None  # type: ignore[assignment]
    if readline and history and history.exists():
        readline.read_history_file(history)
    try:
        while True:
            try:
                line = console.input("[bold cyan]you>[/] ")
            except EOFError:
                return
            if line.strip() in ("/quit", "/exit"):
                return
            yield line
    finally:
        if readline and history:
            history.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(history)


def _piped_lines(stream: TextIO) -> Iterator[str]:
    for line in stream:
        yield line.rstrip("\n")


def run_chat(core: Core, user: str, history: Path | None) -> None:
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    chat = TerminalChat(core, user, rich=interactive, history=history)
    if interactive and chat.console is not None:
        lines = _interactive_lines(chat.console, history)
    else:
        lines = _piped_lines(sys.stdin)
    asyncio.run(chat.run(lines, greet=interactive))
