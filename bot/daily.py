"""Daily challenges in group chats: the /daily command, and the one door the core uses.

The work lives in four modules, each readable on its own: `bot.daily_schedule` (the /daily on
arguments, the schedule, local days), `bot.daily_posting` (posting and closing through the
outbox in `bot.daily_outbox`), `bot.daily_answers` (members' answers) and
`bot.daily_standings` (leaderboards and streaks).
"""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from bot.clock import Clock
from bot.commands import CommandError
from bot.daily_answers import DailyAnswers, answers_to
from bot.daily_posting import DailyPosting
from bot.daily_schedule import (
    DailyRequest,
    challenge_on,
    local_hhmm,
    local_today,
    parse_daily_on,
    post_instant,
    schedule_of,
)
from bot.daily_standings import PERIODS, DailyStandings
from bot.refs import DailyRef
from bot.storage.models import Chat, DailySchedule, User
from bot.types import ChatKind, Delivery, HintReply, LeaderboardReply, Reply, TextReply
from knowledge.bank import Bank

__all__ = ["PERIODS", "Daily", "DailyRequest", "parse_daily_on", "post_instant"]


class Daily:
    """What the core asks of daily challenges; each question goes to the module that knows."""

    def __init__(self, bank: Bank, clock: Clock) -> None:
        self.clock = clock
        self.standings = DailyStandings(clock)
        self.posting = DailyPosting(bank, clock, self.standings)
        self.answers = DailyAnswers(bank, clock)

    @property
    def bank(self) -> Bank:
        return self.posting.bank

    @bank.setter
    def bank(self, bank: Bank) -> None:
        """Imports change the bank (see Core.refresh_bank): posting and answers share it."""
        self.posting.bank = self.answers.bank = bank

    # ------------------------------------------------------------ the /daily command

    def command(
        self, db: Session, event_is_admin: bool, user: User, chat: Chat, args: str, thread: str
    ) -> list[Reply]:
        words = args.split()
        action = words[0].lower() if words else ""
        if chat.kind != ChatKind.group:
            return [
                HintReply(
                    text="The daily challenge is for group chats: add me to your study group."
                )
            ]
        if action in ("on", "off", "now") and not event_is_admin:
            return [HintReply(text="Only group admins can change the daily challenge.")]
        if action == "on":
            try:
                request = parse_daily_on(words[1:])
            except CommandError as error:
                return [HintReply(text=str(error))]
            return self._turn_on(db, user, chat, request, thread)
        if action == "off":
            schedule = schedule_of(db, chat)
            if schedule is None or not schedule.enabled:
                return [HintReply(text="The daily challenge is already off here.")]
            schedule.enabled = False
            schedule.updated_at = self.clock()
            db.add(schedule)
            db.commit()
            return [TextReply(text="Daily challenge turned off. /daily on HH:MM brings it back.")]
        if action == "now":
            schedule = schedule_of(db, chat)
            if schedule is None:
                return [
                    HintReply(text="Set the challenge up first: /daily on HH:MM [TIME_ZONE] ...")
                ]
            if self.posting.post(db, chat, schedule, self._today(schedule), self.clock()) is None:
                return [HintReply(text="Today's challenge is already out.")]
            return [TextReply(text="Today's challenge is on its way: it appears within a minute.")]
        if action:
            return [HintReply(text="Use /daily, /daily on HH:MM ..., /daily off or /daily now.")]
        return [TextReply(text=self._status(db, chat))]

    def _turn_on(
        self, db: Session, user: User, chat: Chat, request: DailyRequest, thread: str
    ) -> list[Reply]:
        if not self.bank.select(request.exam, request.domains):
            return [HintReply(text=f"There are no {request.exam} questions for that choice.")]
        schedule = schedule_of(db, chat) or DailySchedule(
            chat_id=chat.id, local_time="", time_zone="", exam="", updated_at=self.clock()
        )
        schedule.local_time, schedule.time_zone = request.local_time, request.time_zone
        schedule.exam, schedule.domains = request.exam, list(request.domains)
        schedule.count, schedule.window_minutes = request.count, request.window_minutes
        schedule.enabled, schedule.thread_id = True, thread
        schedule.updated_by, schedule.updated_at = user.id, self.clock()
        db.add(schedule)
        db.commit()
        return [TextReply(text="Daily challenge on. " + self._status(db, chat))]

    def _status(self, db: Session, chat: Chat) -> str:
        schedule = schedule_of(db, chat)
        if schedule is None or not schedule.enabled:
            return "No daily challenge here. An admin can start one: /daily on 09:00 Europe/Berlin"
        scope = ", ".join(schedule.domains) or "all domains"
        hours = f"{schedule.window_minutes // 60}h{schedule.window_minutes % 60:02d}"
        lines = [
            f"Every day at {schedule.local_time} ({schedule.time_zone}): {schedule.count} "
            f"{schedule.exam} question(s) from {scope}, open for {hours}."
        ]
        today = challenge_on(db, chat, self._today(schedule))
        if today is None:
            lines.append("Today's challenge has not been posted yet.")
        elif today.shown_at is None and today.closed:
            lines.append("Today's challenge could not be posted: the chat was unreachable.")
        elif today.shown_at is None:
            lines.append("Today's challenge is waiting to be posted.")
        else:
            answered = len({a.user_id for a in answers_to(db, today)})
            state = (
                "closed" if today.closed else f"open until {local_hhmm(today.closes_at, schedule)}"
            )
            lines.append(f"Today's challenge is {state}; {answered} member(s) answered.")
        return "\n".join(lines)

    def _today(self, schedule: DailySchedule) -> date:
        return local_today(schedule, self.clock())

    # ------------------------------------------------------------ the rest, by module

    def tick(self, db: Session, platform: str) -> list[Delivery]:
        """See DailyPosting.tick: the caller sends each Delivery, then records it."""
        return self.posting.tick(db, platform)

    def delivered(self, db: Session, delivery: Delivery) -> None:
        self.posting.delivered(db, delivery)

    def retry_later(self, db: Session, delivery: Delivery) -> None:
        self.posting.retry_later(db, delivery)

    def answer(
        self, db: Session, user: User, chat: Chat, ref: DailyRef, positions: tuple[int, ...]
    ) -> list[Reply]:
        return self.answers.answer(db, user, chat, ref, positions)

    def next_unanswered(self, db: Session, user: User, chat: Chat) -> DailyRef | None:
        return self.answers.next_unanswered(db, user, chat)

    def options_of(self, db: Session, ref: DailyRef) -> tuple[tuple[str, ...], int] | None:
        return self.answers.options_of(db, ref)

    def leaderboard(self, db: Session, chat: Chat, period: str) -> LeaderboardReply:
        return self.standings.leaderboard(db, chat, period)
