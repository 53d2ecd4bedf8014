"""The conversation core: the one door every adapter uses.

`Core.handle(event)` takes a platform-neutral event and returns platform-neutral replies.
Each event runs under a per-user lock and in one database session; nothing about a quiz is
kept in memory between events.
"""

from __future__ import annotations

import asyncio
import logging
import math
import tempfile
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot import help as helptext
from bot.admin import import_document, report_item
from bot.answers import answer_shaped, check_count, parse_answer, usage_hint
from bot.charts import progress_chart, standings_chart
from bot.clock import Clock, system_clock
from bot.commands import CommandError, QuizRequest, ascii_number, parse_quiz_args
from bot.daily import PERIODS, Daily
from bot.export import export_deck, missed_item_ids
from bot.followups import (
    answer_question,
    guard,
    last_question,
    looks_like_question,
    resolve_reference,
    why_question,
    written_reply,
)
from bot.imports import chat_scope, imported_bank, imports_stamp, scope_of_chat
from bot.llm import AnswerProgress, Composer
from bot.privacy import CONFIRM_WORD, WARNING, forget_user
from bot.progress import METHOD as READINESS_METHOD
from bot.progress import attempts, exam_progress, study_streak, weekly_accuracy
from bot.quiz import ANSWERED_AND_ENDED, Quizzes
from bot.refs import DailyRef, FollowUpRef, QuizRef, decode, names_follow_up
from bot.review import due_cards, due_count, next_due
from bot.storage import repository
from bot.storage.database import Database
from bot.storage.memory import AdapterMemory
from bot.storage.models import Chat, QuizSession, User
from bot.study import StudyIndex
from bot.types import (
    AnswerChoice,
    Audience,
    ButtonPress,
    ChatKind,
    Command,
    Delivery,
    Document,
    EndReason,
    Event,
    FileReply,
    HintReply,
    ImageReply,
    Reply,
    StatsReply,
    Text,
    TextReply,
)
from knowledge.bank import Bank
from knowledge.catalog import DEFAULT_EXAM, EXAMS

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class AfterCommit(Reply):
    """Internal: slow work (a chart, a deck) done in a worker thread once the event's database
    transaction is committed, so that it holds neither the database nor the event loop."""

    make: Callable[[], Reply]


@dataclass(frozen=True, kw_only=True)
class AskRequest(Reply):
    """Internal: a follow-up question to answer once the database session is closed."""

    question: str
    query: str
    focus: str | None = None
    exclude: str | None = None


# Telegram's own limit; nothing longer is parsed at all (a question, an answer or a command).
MAX_MESSAGE_CHARS = 4096
ASKER = Audience.asker  # notices about a button or vote only its presser needs to see
# How often an event looks for items another process imported (one count over the imports).
BANK_CHECK_SECONDS = 1.0
COMMAND_ALIASES = {"question": "resume", "where": "resume", "end": "stop", "next": "skip"}


@dataclass(frozen=True)
class CommandCall:
    """One command as its handler sees it: the event's session, the command, who and where."""

    db: Session
    event: Command
    user: User
    chat: Chat
    session: QuizSession | None  # the quiz in progress, if any


CommandHandler = Callable[[CommandCall], list[Reply]]


class Core:
    def __init__(
        self,
        database: Database,
        bank: Bank,
        clock: Clock = system_clock,
        seed: int | None = None,
        study: StudyIndex | None = None,
        composer: Composer | None = None,
        files_dir: Path | None = None,
    ) -> None:
        self.database = database
        self.memory = AdapterMemory(database, clock)
        self.study = study
        self.composer = composer
        self.files_dir = files_dir or Path(tempfile.gettempdir()) / "studybot-files"
        self.daily = Daily(bank, clock)
        self.shipped = bank
        self.clock = clock
        self.quizzes = Quizzes(bank, clock, seed)
        self._imports_stamp: tuple[int, int] | None = None
        self._bank_checked = -math.inf  # time.monotonic() of the last look at the imports
        self._bank_lock = threading.Lock()  # imports refresh the bank from a worker thread
        # One lock per user and chat while any of their events is in flight; a lock nobody
        # holds or awaits is dropped, so a bot that met a million users does not keep them.
        self._locks: weakref.WeakValueDictionary[tuple[str, str, str], asyncio.Lock]
        self._locks = weakref.WeakValueDictionary()
        self._commands = self._command_table()
        self._db_workers = database_workers(database)
        self._db_work = ThreadPoolExecutor(self._db_workers, thread_name_prefix="studybot-db")
        weakref.finalize(self, self._db_work.shutdown, wait=False)
        # Events handed to the database worker at once, per event loop: the rest wait in the
        # loop, which costs it next to nothing, instead of each holding a thread-pool future
        # (a burst of 1,000 taps would otherwise keep the loop busy for a quarter of a second).
        self._db_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._db_slots = weakref.WeakKeyDictionary()

    @property
    def bank(self) -> Bank:
        """The shipped items plus every imported one, as of the last event."""
        return self.quizzes.bank

    def refresh_bank(self, db: Session, *, now: bool = False) -> None:
        """Pick up items imported by any process since we last looked (one small query, at
        most every BANK_CHECK_SECONDS unless `now`: this process's own imports show at once)."""
        with self._bank_lock:
            checked = time.monotonic()
            if not now and checked - self._bank_checked < BANK_CHECK_SECONDS:
                return
            self._bank_checked = checked
            stamp = imports_stamp(db)
            if stamp != self._imports_stamp:
                self.quizzes.bank = imported_bank(db, self.shipped)
                self.daily.bank = self.quizzes.bank
                self._imports_stamp = stamp

    async def tick(self, platform: str) -> list[Delivery]:
        """What the core posts on its own now: daily challenges due, and their results.

        Adapters call this every minute or so; it is safe to call from several processes. Each
        Delivery is leased to this caller (see bot.daily_outbox): send it, then call
        `delivered(delivery)`, or `retry_later(delivery)` if the platform refused it. One never
        recorded either way is sent again once its lease runs out. The database work runs in
        a worker thread: with 100 groups due in one minute it takes about 0.8 s (SQLite), which
        would otherwise hold up every chat.
        """
        try:
            return await asyncio.to_thread(self._tick_in_session, platform)
        except Exception:
            log.exception("scheduled posting failed; will try again on the next tick")
            return []

    def _tick_in_session(self, platform: str) -> list[Delivery]:
        with self.database.session() as db:
            self.refresh_bank(db, now=True)
            return self.daily.tick(db, platform)

    async def delivered(self, delivery: Delivery) -> None:
        """`delivery` reached its chat: no tick sends it again."""
        try:
            await self._in_session(self.daily.delivered, delivery)
        except Exception:  # it goes out again when the lease runs out: better twice than never
            log.exception("could not record delivery %s", delivery.key)

    async def retry_later(self, delivery: Delivery) -> None:
        """The platform refused `delivery`: a later tick sends it again while it is wanted."""
        try:
            await self._in_session(self.daily.retry_later, delivery)
        except Exception:  # the lease runs out on its own; only the retry comes later
            log.exception("could not hand back delivery %s", delivery.key)

    async def _in_session(self, work: Callable[[Session, Delivery], None], arg: Delivery) -> None:
        """`work(db, arg)` in a database session, in the database worker thread."""

        def run() -> None:
            with self.database.session() as db:
                work(db, arg)

        await asyncio.get_running_loop().run_in_executor(self._db_work, run)

    async def handle(self, event: Event, progress: AnswerProgress | None = None) -> list[Reply]:
        """Answer one event. Unexpected failures become a polite message, never a traceback.

        `progress`, when given, receives a streamed answer as it grows (disclaimer included).
        """
        if oversized(event):  # checked before any parsing: no input may hang the bot
            limit = f"{MAX_MESSAGE_CHARS:,}"
            return [
                HintReply(
                    text=f"That message is too long for me; keep it under {limit} characters."
                )
            ]
        key = (event.platform, event.chat_id, event.user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:  # one user's events in one process run in order
            try:
                replies = await self._run_dispatch(event)
                # Questions are answered outside the database session: a model may take a while.
                answered: list[Reply] = []
                for reply in replies:
                    if isinstance(reply, AskRequest):
                        scope = chat_scope(event.platform, event.chat_id)
                        answered.extend(await self._answer(reply, progress, scope))
                    elif isinstance(reply, AfterCommit):  # a chart or a deck: not on the loop
                        answered.append(await asyncio.to_thread(reply.make))
                    else:
                        answered.append(reply)
                return answered
            except Exception:
                log.exception("failed to handle %r", event)
                return [
                    TextReply(
                        text="Sorry, something went wrong on my side. Your progress is saved; "
                        "try again, or /resume."
                    )
                ]

    # ------------------------------------------------------------ adapter memory

    def remember(self, platform: str, key: str, value: dict[str, Any]) -> None:
        """Keep a small fact for an adapter across restarts (see bot.storage.memory)."""
        self.memory.remember(platform, key, value)

    def recall(self, platform: str, key: str) -> dict[str, Any] | None:
        """A fact an adapter kept with `remember`, or None."""
        return self.memory.recall(platform, key)

    def now(self) -> datetime:
        """The core's time, for rendering what depends on it (a quiz's time left)."""
        return self.clock()

    def answers_ready(self) -> bool:
        """False while the first follow-up answer still has to build the study index (about a
        minute), so an adapter can say so instead of looking stuck."""
        return self.study is None or self.study.ready(self.bank)

    # ------------------------------------------------------------ follow-up questions

    def _ask(
        self, db: Session, user: User, chat: Chat, question: str, *, explicit: bool
    ) -> list[Reply]:
        """Turn a question into an AskRequest, after the guard rails; `explicit` for /ask."""
        assert user.id is not None and chat.id is not None
        context = last_question(db, user.id, chat.id, self.bank)
        query, focus = resolve_reference(question.strip(), context)
        blocked = guard(question, context, focus)
        if blocked is not None:
            return [blocked]
        exclude = context.item.id if context and context.pending else None
        return [AskRequest(question=question.strip(), query=query, focus=focus, exclude=exclude)]

    async def _answer(
        self, request: AskRequest, progress: AnswerProgress | None, scope: str
    ) -> list[Reply]:
        """Answer from the passages the chat sees (`scope`: shipped, shared and its own)."""
        if self.study is None:
            return [HintReply(text="Follow-up answers are not set up on this bot.", audience=ASKER)]
        answerer, message = await asyncio.to_thread(self.study.ensure, self.bank)
        answer = await answer_question(
            answerer,
            self.composer,
            request.question,
            query=request.query,
            focus=request.focus,
            exclude=request.exclude,
            scope=scope,
            progress=progress,
        )
        replies: list[Reply] = [TextReply(text=message)] if message else []
        return [*replies, answer]

    # ------------------------------------------------------------ dispatch

    async def _run_dispatch(self, event: Event) -> list[Reply]:
        """The event's database work, off the event loop: in the database worker (see
        database_workers), or for a file to import, whose parsing may take seconds, in a
        thread of its own so that nobody's answers queue behind it."""
        if isinstance(event, Document):
            return await asyncio.to_thread(self._dispatch_in_session, event)
        loop = asyncio.get_running_loop()
        slots = self._db_slots.setdefault(loop, asyncio.Semaphore(2 * self._db_workers))
        async with slots:
            return await loop.run_in_executor(self._db_work, self._dispatch_in_session, event)

    def _dispatch_in_session(self, event: Event) -> list[Reply]:
        """One event, one database session, one transaction committed at its end."""
        with self.database.session() as db:
            replies = self._dispatch(db, event)
            if db.in_transaction() or db.dirty or db.new or db.deleted:
                db.commit()  # (not again when the event's work committed last: an answer)
            return replies

    def _dispatch(self, db: Session, event: Event) -> list[Reply]:
        now = self.clock()
        self.refresh_bank(db)
        user, chat, session = repository.who_and_where(
            db,
            event.platform,
            event.user_id,
            event.display_name,
            event.chat_id,
            event.chat_kind,
            now,
        )
        replies: list[Reply] = []
        if session is not None and self.quizzes.expired(session):
            replies.append(TextReply(text="Time is up! Here is how you did."))
            replies.extend(self.quizzes.finish(db, session, EndReason.time_up))
            session = None
            if isinstance(event, AnswerChoice | Text):
                replies.append(
                    HintReply(text="That answer came after the time limit; not counted.")
                )
                return replies
        if isinstance(event, Command):  # adapters build commands; a text is the user's words
            replies.extend(self._command(db, event, user, chat, session))
        elif isinstance(event, Text):
            replies.extend(self._text(db, event, user, chat, session))
        elif isinstance(event, AnswerChoice):
            replies.extend(self._choice(db, event, user, chat, session))
        elif isinstance(event, ButtonPress):
            replies.extend(self._button(db, event, user, chat))
        elif isinstance(event, Document):
            # Commit the user and chat rows first: parsing a big file takes seconds, and on
            # SQLite an open write transaction would hold every other chat's answer that long.
            db.commit()
            replies.extend(import_document(db, event, self.shipped, now))
            self.refresh_bank(db, now=True)
        return replies

    # ------------------------------------------------------------ commands

    def _command(
        self, db: Session, event: Command, user: User, chat: Chat, session: QuizSession | None
    ) -> list[Reply]:
        name = event.name.lower()
        name = COMMAND_ALIASES.get(name, name)
        handler = self._commands.get(name)
        if handler is None:
            return [HintReply(text=f"I don't know /{event.name}. /help lists the commands.")]
        return handler(CommandCall(db, event, user, chat, session))

    def _command_table(self) -> dict[str, CommandHandler]:
        """Each command's handler by name; aliases are in COMMAND_ALIASES, texts in bot.help."""
        return {
            "start": self._start,
            "help": self._help,
            "exams": self._exams,
            "daily": self._daily,
            "leaderboard": self._leaderboard,
            "review": self._review,
            "stats": self._stats,
            "export": self._export,
            "forget": self._forget,
            "ask": self._ask_command,
            "why": self._why,
            "report": self._report,
            "quiz": self._start_quiz,
            "resume": self._resume,
            "skip": self._skip,
            "stop": self._stop,
        }

    def _start(self, call: CommandCall) -> list[Reply]:
        greeting = helptext.GREETING.format(name=call.event.display_name or "there")
        replies: list[Reply] = [TextReply(text=greeting)]
        if call.session is not None:
            replies.append(TextReply(text="You have a quiz in progress:"))
            replies.extend(self.quizzes.recap(call.db, call.session))
            replies.extend(self.quizzes.present(call.db, call.session))
        return replies

    def _help(self, call: CommandCall) -> list[Reply]:
        return [TextReply(text=helptext.help_text())]

    def _exams(self, call: CommandCall) -> list[Reply]:
        return [TextReply(text=self._exams_text(scope_of_chat(call.chat)))]

    def _daily(self, call: CommandCall) -> list[Reply]:
        event = call.event
        return self.daily.command(
            call.db, event.is_admin, call.user, call.chat, event.args, event.thread_id
        )

    def _forget(self, call: CommandCall) -> list[Reply]:
        event = call.event
        if event.args.strip().lower() != CONFIRM_WORD:
            return [TextReply(text=WARNING)]
        private = event.chat_id if event.chat_kind is ChatKind.private else ""
        forget_user(call.db, call.user, self.files_dir, private)
        return [TextReply(text="Done: everything I stored about you is deleted.")]

    def _ask_command(self, call: CommandCall) -> list[Reply]:
        return self._ask(call.db, call.user, call.chat, call.event.args, explicit=True)

    def _why(self, call: CommandCall) -> list[Reply]:
        db, user, chat = call.db, call.user, call.chat
        assert user.id is not None and chat.id is not None
        context = last_question(db, user.id, chat.id, self.bank)
        if context is None:
            return [HintReply(text="Answer a question first; then /why explains it.")]
        if call.event.args.strip():
            return self._ask(db, user, chat, call.event.args, explicit=True)
        blocked = guard("why", context, context.item.id)
        if blocked is not None:
            return [blocked]
        question = why_question(context)
        return [AskRequest(question=question, query=question, focus=context.item.id)]

    def _report(self, call: CommandCall) -> list[Reply]:
        scope = scope_of_chat(call.chat)
        return report_item(call.db, call.user, call.event.args, self.bank, self.clock(), scope)

    def _resume(self, call: CommandCall) -> list[Reply]:
        db, session = call.db, call.session
        if session is None:
            return [HintReply(text="No quiz in progress. Start one with /quiz.")]
        return [*self.quizzes.recap(db, session), *self.quizzes.present(db, session)]

    def _skip(self, call: CommandCall) -> list[Reply]:
        db, session = call.db, call.session
        if session is None:
            return [HintReply(text="No quiz in progress: nothing to skip.")]
        current = self._current(db, session)
        if current is None:
            return self.quizzes.present(db, session)
        return self.quizzes.answer(db, session, current, None)

    def _stop(self, call: CommandCall) -> list[Reply]:
        if call.session is None:
            return [HintReply(text="No quiz in progress: nothing to stop.")]
        finished = self.quizzes.finish(call.db, call.session, EndReason.stopped)
        return [TextReply(text="Quiz stopped."), *finished]

    def _start_quiz(self, call: CommandCall) -> list[Reply]:
        session = call.session
        if session is not None:
            number = session.position + 1
            return [
                HintReply(
                    text=f"You are on question {number} of {len(session.item_ids)} of a quiz. "
                    "Answer it, /resume to see it again, or /stop to end it first."
                )
            ]
        assert call.user.id is not None
        default_exam = repository.last_exam(call.db, call.user.id) or DEFAULT_EXAM
        try:
            request = parse_quiz_args(call.event.args, default_exam)
        except CommandError as error:
            return [HintReply(text=str(error))]
        return self.quizzes.start(call.db, call.user, call.chat, request)

    def _leaderboard(self, call: CommandCall) -> list[Reply]:
        period = (call.event.args.split() or ["week"])[0].lower()
        if period not in PERIODS:
            return [HintReply(text="Use /leaderboard day, week, month or all.")]
        if call.chat.kind != ChatKind.group:
            return [HintReply(text="Leaderboards are for group chats with a daily challenge.")]
        return [self.daily.leaderboard(call.db, call.chat, period)]

    def _review(self, call: CommandCall) -> list[Reply]:
        db, user, chat, args = call.db, call.user, call.chat, call.event.args
        if call.session is not None:
            return [HintReply(text="Finish or /stop the quiz in progress first.")]
        count = ascii_number(args.strip()) if args.strip() else 10
        if count is None or not 1 <= count <= 100:
            return [HintReply(text="Review 1 to 100 questions: /review 10")]
        assert user.id is not None
        now = self.clock()
        due = due_cards(db, user.id, now, count)
        cards = [c for c in due if self.bank.visible(c.item_id, scope_of_chat(chat))]
        if not cards:
            upcoming = next_due(db, user.id)
            if upcoming is None:
                return [HintReply(text="Nothing to review yet: answer some questions with /quiz.")]
            when = upcoming.strftime("%Y-%m-%d %H:%M UTC")
            return [TextReply(text=f"Nothing is due now. Your next review is due {when}.")]
        items = [self.bank.get(c.item_id) for c in cards]
        exams = Counter(item.exam for item in items if item)
        request = QuizRequest(exam=exams.most_common(1)[0][0], count=len(items))
        overdue = "most overdue first"
        intro = f"Review: {len(items)} question(s) due, {overdue}."
        return self.quizzes.start_items(db, user, chat, [i for i in items if i], request, intro)

    def _stats(self, call: CommandCall) -> list[Reply]:
        db, user, chat = call.db, call.user, call.chat
        now = self.clock()
        stamp = now.strftime("%Y%m%d-%H%M%S")
        if chat.kind == ChatKind.group:
            board = self.daily.leaderboard(db, chat, "all")
            path = self.files_dir / f"standings-{chat.id}-{stamp}.png"
            chart = partial(standings_chart, board.rows, board.title, path)
            return [
                board,
                AfterCommit(make=lambda: ImageReply(path=chart(), caption="Group standings")),
            ]
        assert user.id is not None
        tries = attempts(db, user.id)
        exams = tuple(
            exam_progress(code, tries, self.bank) for code in EXAMS if self.bank.select(code)
        )
        stats = StatsReply(
            exams=exams,
            streak_days=study_streak(tries, now.date()),
            due_reviews=due_count(db, user.id, now),
            next_review=next_due(db, user.id),
            method=READINESS_METHOD,
        )
        path = self.files_dir / f"progress-{user.id}-{stamp}.png"
        chart = partial(progress_chart, exams, weekly_accuracy(tries, now.date()), path)
        caption = "Accuracy per domain and per week"
        return [stats, AfterCommit(make=lambda: ImageReply(path=chart(), caption=caption))]

    def _export(self, call: CommandCall) -> list[Reply]:
        user = call.user
        assert user.id is not None
        scope = scope_of_chat(call.chat)  # only what this chat sees, wherever the deck goes
        missed = [i for i in missed_item_ids(call.db, user.id) if self.bank.visible(i, scope)]
        if not missed:
            return [HintReply(text="No missed questions to export yet. Keep practising!")]
        path = self.files_dir / f"studybot-missed-{user.id}.apkg"
        bank = self.bank

        def deck() -> FileReply:
            count = export_deck(missed, bank, "studybot: missed questions", path)
            caption = f"{count} missed question(s) as an Anki deck."
            # A member's missed questions are theirs alone: in a group the deck goes to them only.
            return FileReply(path=path, caption=caption, audience=Audience.asker)

        return [AfterCommit(make=deck)]

    # ------------------------------------------------------------ answers and buttons

    def _current(self, db: Session, session: QuizSession):  # type: ignore[no-untyped-def]
        current = self.quizzes.current(db, session)
        return current[0] if current else None

    def _text(
        self, db: Session, event: Text, user: User, chat: Chat, session: QuizSession | None
    ) -> list[Reply]:
        if session is None:
            if answer_shaped(event.text):
                return self._typed_daily_answer(db, event, user, chat)
            return self._ask(db, user, chat, event.text, explicit=False)
        current = self.quizzes.current(db, session)
        if current is None:  # never shown (a crash between start and show): show it now
            return self.quizzes.present(db, session)
        item, question = current
        parsed = parse_answer(event.text, question.options, question.choose)
        if parsed.hint and looks_like_question(event.text) and not parsed.hint.startswith("Did"):
            waiting = HintReply(
                text=f"Question {question.number} is still waiting for your answer "
                "(a letter, /skip or /stop)."
            )
            return [*self._ask(db, user, chat, event.text, explicit=False), waiting]
        if parsed.hint:
            return [HintReply(text=parsed.hint)]
        return self.quizzes.answer(db, session, item, parsed.choices)

    def _typed_daily_answer(self, db: Session, event: Text, user: User, chat: Chat) -> list[Reply]:
        """A letter typed in a group with an open daily challenge answers it."""
        ref = self.daily.next_unanswered(db, user, chat) if chat.kind == ChatKind.group else None
        found = self.daily.options_of(db, ref) if ref else None
        if ref is None or found is None:
            return [HintReply(text="No question is waiting for an answer. Start with /quiz.")]
        options, choose = found
        parsed = parse_answer(event.text, options, choose)
        if parsed.hint:
            return [HintReply(text=parsed.hint)]
        return self.daily.answer(db, user, chat, ref, parsed.choices or ())

    def _choice(
        self, db: Session, event: AnswerChoice, user: User, chat: Chat, session: QuizSession | None
    ) -> list[Reply]:
        ref = decode(event.question_ref)
        if isinstance(ref, DailyRef):
            return self.daily.answer(db, user, chat, ref, tuple(event.choices))
        if session is None:
            return [HintReply(text=self._ended(db, ref, user), audience=ASKER)]
        current = self.quizzes.current(db, session)
        if current is None or decode(current[1].ref) != ref:
            return [HintReply(text=self._not_current(ref, session), audience=ASKER)]
        item, question = current
        count = len(question.options)
        if any(not 0 <= p < count for p in event.choices):
            return [HintReply(text=usage_hint(count, question.choose), audience=ASKER)]
        parsed = check_count(sorted(set(event.choices)), count, question.choose)
        if parsed.hint:
            return [HintReply(text=parsed.hint, audience=ASKER)]
        return self.quizzes.answer(db, session, item, parsed.choices)

    def _ended(self, db: Session, ref: object, user: User) -> str:
        """Why an answer to a quiz that is over is not taken; when that very question was
        answered (another device or process was first, finishing the quiz), say so."""
        ended = "That quiz has ended. Start a new one with /quiz."
        if not isinstance(ref, QuizRef):
            return ended
        old = db.get(QuizSession, ref.session_id)
        if old is None or old.user_id != user.id or ref.position >= old.position:
            return ended
        return ANSWERED_AND_ENDED

    def _not_current(self, ref: object, session: QuizSession) -> str:
        """Why a tapped answer is not taken: a question of this quiz already answered (a
        second tap, or another device or process was first), or one from before."""
        mine = isinstance(ref, QuizRef) and ref.session_id == session.id
        if mine and ref.position < session.position:  # type: ignore[union-attr]
            return "That earlier question is already answered; /resume shows the current one."
        return "That was for an earlier question; /resume shows the current one."

    def _button(self, db: Session, event: ButtonPress, user: User, chat: Chat) -> list[Reply]:
        ref = decode(event.data)
        if not isinstance(ref, FollowUpRef):
            if names_follow_up(event.data):
                return [HintReply(text="That suggestion is no longer available.", audience=ASKER)]
            return [HintReply(text="That button is no longer active.", audience=ASKER)]
        item = self.bank.get(ref.item_id)
        if not self.bank.visible(ref.item_id, scope_of_chat(chat)):
            item = None  # another group's question
        if item is None or ref.index >= len(item.follow_ups):
            return [HintReply(text="That suggestion is no longer available.", audience=ASKER)]
        question = item.follow_ups[ref.index]
        assert user.id is not None and chat.id is not None
        context = last_question(db, user.id, chat.id, self.bank)
        blocked = guard(question, context, item.id)  # exam mode, or the item is the pending one
        if blocked is not None:
            return [replace(blocked, audience=ASKER)]
        written = written_reply(item, ref.index)
        if written is not None:  # checked text, at once: no retrieval, no model
            return [written]
        exclude = context.item.id if context and context.pending else None
        return [AskRequest(question=question, query=question, focus=item.id, exclude=exclude)]

    def _exams_text(self, scope: str) -> str:
        lines = []
        for exam in EXAMS.values():
            total = len(self.bank.select(exam.code, scope=scope))
            lines.append(f"{exam.code} - {exam.title} ({total} questions)")
            for domain in exam.domains:
                count = len(self.bank.select(exam.code, [domain.name], scope))
                share = f"{domain.weight:.0%} of the exam"
                lines.append(f"  {domain.key}: {domain.name}, {share}, {count} questions")
        return "\n".join(lines)


def oversized(event: Event) -> bool:
    """Typed input over the message limit (Telegram's own; the terminal has none)."""
    if isinstance(event, Text):
        return len(event.text) > MAX_MESSAGE_CHARS
    if isinstance(event, Command):
        return len(event.args) + len(event.name) > MAX_MESSAGE_CHARS
    if isinstance(event, ButtonPress):
        return len(event.data) > MAX_MESSAGE_CHARS
    return False


def commands() -> Sequence[tuple[str, str]]:
    """Command names and summaries, for adapters that register them (Telegram's menu)."""
    return helptext.COMMANDS


def database_workers(database: Database) -> int:
    """How many threads run events' database work, off the event loop. SQLite takes one
    writer at a time and the work is Python-bound (one GIL), so one thread serves it best: a
    second one only waits on the file lock, in sleeps of up to 100 ms. A server database
    takes several, as they mostly wait on the network."""
    return 1 if database.url.startswith("sqlite") else 8
