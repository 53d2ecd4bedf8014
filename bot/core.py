"""The conversation core: the one door every adapter uses.

`Core.handle(event)` takes a platform-neutral event and returns platform-neutral replies.
Each event runs under a per-user lock and in one database session; nothing about a quiz is
kept in memory between events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlmodel import Session

from bot import help as helptext
from bot.admin import import_document, report_item
from bot.answers import check_count, parse_answer, usage_hint
from bot.clock import Clock, system_clock
from bot.commands import CommandError, parse_quiz_args
from bot.imports import imported_items, imports_stamp
from bot.quiz import Quizzes
from bot.storage import repository
from bot.storage.database import Database
from bot.storage.models import Chat, QuizSession, User
from bot.types import (
    AnswerChoice,
    ButtonPress,
    Command,
    Document,
    EndReason,
    Event,
    HintReply,
    Reply,
    Text,
    TextReply,
)
from knowledge.bank import Bank
from knowledge.catalog import DEFAULT_EXAM, EXAMS

log = logging.getLogger(__name__)

COMMAND_ALIASES = {"question": "resume", "where": "resume", "end": "stop", "next": "skip"}


class Core:
    def __init__(
        self, database: Database, bank: Bank, clock: Clock = system_clock, seed: int | None = None
    ) -> None:
        self.database = database
        self.shipped = bank
        self.clock = clock
        self.quizzes = Quizzes(bank, clock, seed)
        self._imports_stamp: tuple[int, int] | None = None
        self._locks: dict[tuple[str, str, str], asyncio.Lock] = {}

    @property
    def bank(self) -> Bank:
        """The shipped items plus every imported one, as of the last event."""
        return self.quizzes.bank

    def refresh_bank(self, db: Session) -> None:
        """Pick up items imported by any process since we last looked (one small query)."""
        stamp = imports_stamp(db)
        if stamp != self._imports_stamp:
            self.quizzes.bank = self.shipped.with_imported(imported_items(db))
            self._imports_stamp = stamp

    async def handle(self, event: Event) -> list[Reply]:
        """Answer one event. Unexpected failures become a polite message, never a traceback."""
        key = (event.platform, event.chat_id, event.user_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                with self.database.session() as db:
                    return self._dispatch(db, event)
            except Exception:
                log.exception("failed to handle %r", event)
                return [
                    TextReply(
                        text="Sorry, something went wrong on my side. Your progress is saved; "
                        "try again, or /resume."
                    )
                ]

    # ------------------------------------------------------------ dispatch

    def _dispatch(self, db: Session, event: Event) -> list[Reply]:
        now = self.clock()
        self.refresh_bank(db)
        user = repository.get_or_create_user(
            db, event.platform, event.user_id, event.display_name, now
        )
        chat = repository.get_or_create_chat(
            db, event.platform, event.chat_id, event.chat_kind, now
        )
        assert user.id is not None and chat.id is not None
        session = repository.active_session(db, user.id, chat.id)
        replies: list[Reply] = []
        if session is not None and self.quizzes.expired(session):
            replies.append(TextReply(text="Time is up! Here is how you did."))
            replies.extend(self.quizzes.finish(db, session, EndReason.time_up))
            session = None
            if isinstance(event, AnswerChoice) or (
                isinstance(event, Text) and not event.text.strip().startswith("/")
            ):
                replies.append(
                    HintReply(text="That answer came after the time limit; not counted.")
                )
                return replies
        if isinstance(event, Text) and event.text.strip().startswith("/"):
            name, _, args = event.text.strip()[1:].partition(" ")
            event = Command(
                platform=event.platform,
                chat_id=event.chat_id,
                user_id=event.user_id,
                display_name=event.display_name,
                chat_kind=event.chat_kind,
                name=name,
                args=args.strip(),
            )
        if isinstance(event, Command):
            replies.extend(self._command(db, event, user, chat, session))
        elif isinstance(event, Text):
            replies.extend(self._text(db, event, session))
        elif isinstance(event, AnswerChoice):
            replies.extend(self._choice(db, event, session))
        elif isinstance(event, ButtonPress):
            replies.extend(self._button(event))
        elif isinstance(event, Document):
            replies.extend(import_document(db, event, self.shipped, now))
            self.refresh_bank(db)
        return replies

    def _command(
        self, db: Session, event: Command, user: User, chat: Chat, session: QuizSession | None
    ) -> list[Reply]:
        name = event.name.lower().split("@")[0]  # Telegram appends @BotName in groups
        name = COMMAND_ALIASES.get(name, name)
        if name == "start":
            greeting = helptext.GREETING.format(name=event.display_name or "there")
            replies: list[Reply] = [TextReply(text=greeting)]
            if session is not None:
                replies.append(TextReply(text="You have a quiz in progress:"))
                replies.extend(self.quizzes.present(db, session))
            return replies
        if name == "help":
            return [TextReply(text=helptext.help_text())]
        if name == "exams":
            return [TextReply(text=self._exams_text())]
        if name == "report":
            return report_item(db, user, event.args, self.bank, self.clock())
        if name == "quiz":
            return self._start_quiz(db, event, user, chat, session)
        if name == "resume":
            if session is None:
                return [HintReply(text="No quiz in progress. Start one with /quiz.")]
            return self.quizzes.present(db, session)
        if name == "skip":
            if session is None:
                return [HintReply(text="No quiz in progress: nothing to skip.")]
            current = self._current(db, session)
            if current is None:
                return self.quizzes.present(db, session)
            return self.quizzes.answer(db, session, current, None)
        if name == "stop":
            if session is None:
                return [HintReply(text="No quiz in progress: nothing to stop.")]
            return [TextReply(text="Quiz stopped.")] + self.quizzes.finish(
                db, session, EndReason.stopped
            )
        return [HintReply(text=f"I don't know /{event.name}. /help lists the commands.")]

    def _start_quiz(
        self, db: Session, event: Command, user: User, chat: Chat, session: QuizSession | None
    ) -> list[Reply]:
        if session is not None:
            number = session.position + 1
            return [
                HintReply(
                    text=f"You are on question {number} of {len(session.item_ids)} of a quiz. "
                    "Answer it, /resume to see it again, or /stop to end it first."
                )
            ]
        assert user.id is not None
        default_exam = repository.last_exam(db, user.id) or DEFAULT_EXAM
        try:
            request = parse_quiz_args(event.args, default_exam)
        except CommandError as error:
            return [HintReply(text=str(error))]
        return self.quizzes.start(db, user, chat, request)

    def _current(self, db: Session, session: QuizSession):  # type: ignore[no-untyped-def]
        current = self.quizzes.current(db, session)
        return current[0] if current else None

    def _text(self, db: Session, event: Text, session: QuizSession | None) -> list[Reply]:
        if session is None:
            return [HintReply(text="Start a practice test with /quiz, or see /help.")]
        current = self.quizzes.current(db, session)
        if current is None:  # never shown (a crash between start and show): show it now
            return self.quizzes.present(db, session)
        item, question = current
        parsed = parse_answer(event.text, question.options, question.choose)
        if parsed.hint:
            return [HintReply(text=parsed.hint)]
        return self.quizzes.answer(db, session, item, parsed.choices)

    def _choice(self, db: Session, event: AnswerChoice, session: QuizSession | None) -> list[Reply]:
        if session is None:
            return [HintReply(text="That quiz has ended. Start a new one with /quiz.")]
        current = self.quizzes.current(db, session)
        if current is None or current[1].ref != event.question_ref:
            return [
                HintReply(text="That was for an earlier question; /resume shows the current one.")
            ]
        item, question = current
        count = len(question.options)
        if any(not 0 <= p < count for p in event.choices):
            return [HintReply(text=usage_hint(count, question.choose))]
        parsed = check_count(sorted(set(event.choices)), count, question.choose)
        if parsed.hint:
            return [HintReply(text=parsed.hint)]
        return self.quizzes.answer(db, session, item, parsed.choices)

    def _button(self, event: ButtonPress) -> list[Reply]:
        kind, _, rest = event.data.partition(":")
        if kind == "fu":
            item_id, _, index = rest.rpartition(":")
            item = self.bank.get(item_id)
            if item is None or not index.isdigit() or int(index) >= len(item.follow_ups):
                return [HintReply(text="That suggestion is no longer available.")]
            return [
                TextReply(
                    text=f"Q: {item.follow_ups[int(index)]}\n"
                    "Answers to follow-up questions are not available in this version yet. "
                    "These documentation pages cover it:\n" + "\n".join(item.references)
                )
            ]
        return [HintReply(text="That button is no longer active.")]

    def _exams_text(self) -> str:
        lines = []
        for exam in EXAMS.values():
            total = len(self.bank.select(exam.code))
            lines.append(f"{exam.code} - {exam.title} ({total} questions)")
            for domain in exam.domains:
                count = len(self.bank.select(exam.code, [domain.name]))
                share = f"{domain.weight:.0%} of the exam"
                lines.append(f"  {domain.key}: {domain.name}, {share}, {count} questions")
        return "\n".join(lines)


def commands() -> Sequence[tuple[str, str]]:
    """Command names and summaries, for adapters that register them (Telegram's menu)."""
    return helptext.COMMANDS
