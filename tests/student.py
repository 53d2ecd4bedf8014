"""A student who talks to the core through events only, the way every adapter does."""

from __future__ import annotations

from typing import TypeVar

from bot.core import Core
from bot.types import (
    AnswerChoice,
    ButtonPress,
    ChatKind,
    Command,
    ExplanationReply,
    HintReply,
    QuestionReply,
    QuizResultReply,
    Reply,
    Text,
)
from knowledge.bank import Bank

LETTERS = "ABCDEF"
T = TypeVar("T")


class Student:
    def __init__(self, core: Core, user: str = "alice", chat: str = "chat-1") -> None:
        self.core = core
        self.base = {
            "platform": "test",
            "chat_id": chat,
            "user_id": user,
            "display_name": user.title(),
            "chat_kind": ChatKind.private,
        }
        self.question: QuestionReply | None = None
        self.replies: list[Reply] = []

    async def _send(self, event) -> list[Reply]:  # type: ignore[no-untyped-def]
        self.replies = await self.core.handle(event)
        for reply in self.replies:
            if isinstance(reply, QuestionReply):
                self.question = reply
            if isinstance(reply, QuizResultReply):
                self.question = None
        return self.replies

    async def command(self, name: str, args: str = "") -> list[Reply]:
        return await self._send(Command(**self.base, name=name, args=args))

    async def say(self, text: str) -> list[Reply]:
        return await self._send(Text(**self.base, text=text))

    async def choose(self, *positions: int, ref: str | None = None) -> list[Reply]:
        assert self.question is not None
        return await self._send(
            AnswerChoice(**self.base, choices=positions, question_ref=ref or self.question.ref)
        )

    async def press(self, data: str) -> list[Reply]:
        return await self._send(ButtonPress(**self.base, data=data))

    # ------------------------------------------------------------ reading the question

    def right_positions(self, bank: Bank) -> list[int]:
        """Where the correct options of the current question were shown."""
        assert self.question is not None
        item = bank.get(self.question.item_id)
        assert item is not None
        correct = {o.text for o in item.options if o.correct}
        return [i for i, text in enumerate(self.question.options) if text in correct]

    def wrong_positions(self, bank: Bank) -> list[int]:
        right = set(self.right_positions(bank))
        assert self.question is not None
        return [i for i in range(len(self.question.options)) if i not in right]

    def right_letters(self, bank: Bank) -> str:
        return ",".join(LETTERS[i] for i in self.right_positions(bank))

    def wrong_letter(self, bank: Bank) -> str:
        return LETTERS[self.wrong_positions(bank)[0]]


def of_type(replies: list[Reply], kind: type[T]) -> list[T]:
    return [r for r in replies if isinstance(r, kind)]


def only(replies: list[Reply], kind: type) -> Reply:  # type: ignore[type-arg]
    found = of_type(replies, kind)
    assert len(found) == 1, f"expected one {kind.__name__} in {replies}"
    return found[0]


def hints(replies: list[Reply]) -> list[HintReply]:
    return of_type(replies, HintReply)


def explanations(replies: list[Reply]) -> list[ExplanationReply]:
    return of_type(replies, ExplanationReply)
