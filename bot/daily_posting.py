"""Posting and closing daily challenges, through the outbox.

A group gets one challenge per local day because the challenge row is unique on (chat, local
date): whoever inserts it queues the post, every other process or restart finds it there.
Closing is claimed the same way, by flipping `closed` with a conditional update, and queues the
results. Queued messages go through `bot.daily_outbox`: sent at least once, retried while they
are still wanted, and a challenge the group never got is neither revealed nor counted.
"""

from __future__ import annotations

import logging
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.daily_outbox import (
    POST,
    RESULTS,
    RESULTS_RETRY,
    Leased,
    give_back,
    lease_waiting,
    post_in_flight,
    queue,
    record_delivered,
)
from bot.daily_schedule import challenge_on, local_today, post_instant, schedule_of
from bot.daily_standings import DailyStandings
from bot.quiz import explanation_of
from bot.refs import DailyRef, encode
from bot.storage.models import Chat, DailyChallenge, DailySchedule
from bot.types import ChatKind, Delivery, Mode, QuestionReply, Reply, TextReply
from knowledge.bank import Bank

log = logging.getLogger(__name__)
RECENT_DAYS = 60  # do not repeat an item a group saw in this many recent challenges


class DailyPosting:
    def __init__(self, bank: Bank, clock: Clock, standings: DailyStandings) -> None:
        self.bank = bank
        self.clock = clock
        self.standings = standings  # the results end with the day's leaderboard

    def tick(self, db: Session, platform: str) -> list[Delivery]:
        """Queue the posts that are due (or missed but still open), close what has run out, and
        lease what waits to be sent: the caller sends each Delivery, then records it."""
        now = self.clock()
        self._claim_due(db, platform, now)
        self._close_due(db, platform, now)
        return [self._leased_delivery(db, leased) for leased in lease_waiting(db, platform, now)]

    def delivered(self, db: Session, delivery: Delivery) -> None:
        record_delivered(db, delivery.key, self.clock())

    def retry_later(self, db: Session, delivery: Delivery) -> None:
        give_back(db, delivery.key, delivery.lease, self.clock())

    def _claim_due(self, db: Session, platform: str, now: datetime) -> None:
        schedules = db.exec(
            select(DailySchedule, Chat)
            .join(Chat)
            .where(col(DailySchedule.enabled).is_(True), Chat.platform == platform)
        ).all()
        for schedule, chat in schedules:
            today = local_today(schedule, self.clock())
            for day in (today - timedelta(days=1), today):
                start = post_instant(day, schedule.local_time, schedule.time_zone)
                end = start + timedelta(minutes=schedule.window_minutes)
                if start <= now < end and challenge_on(db, chat, day) is None:
                    self.post(db, chat, schedule, day, start)

    def _leased_delivery(self, db: Session, leased: Leased) -> Delivery:
        challenge = db.get(DailyChallenge, leased.challenge_id)
        assert challenge is not None
        chat = db.get(Chat, challenge.chat_id)
        assert chat is not None
        schedule = schedule_of(db, chat)
        if leased.kind == POST:
            replies = self._post_replies(challenge, schedule)
        else:
            replies = self._results_replies(db, challenge)
        return Delivery(
            platform=chat.platform,
            chat_id=chat.platform_chat_id,
            chat_kind=ChatKind(chat.kind),
            thread_id=schedule.thread_id if schedule else "",
            replies=tuple(replies),
            key=leased.key,
            lease=leased.lease,
        )

    def _pick(self, db: Session, chat: Chat, schedule: DailySchedule, day: date) -> list[str]:
        pool = self.bank.select(schedule.exam, schedule.domains)
        recent = db.exec(
            select(DailyChallenge.item_ids)
            .where(DailyChallenge.chat_id == chat.id, col(DailyChallenge.shown_at).is_not(None))
            .order_by(col(DailyChallenge.local_date).desc())
            .limit(RECENT_DAYS)
        ).all()
        used = {item_id for ids in recent for item_id in ids}
        fresh = [item for item in pool if item.id not in used] or pool
        rng = random.Random(f"daily:{chat.id}:{day.isoformat()}")
        return [item.id for item in rng.sample(fresh, min(schedule.count, len(fresh)))]

    def post(
        self, db: Session, chat: Chat, schedule: DailySchedule, day: date, start: datetime
    ) -> DailyChallenge | None:
        """Claim the day's challenge and queue its post in one transaction; None when another
        process (or an earlier run) has it."""
        item_ids = self._pick(db, chat, schedule, day)
        if not item_ids:
            return None
        rng = random.Random(f"daily-order:{chat.id}:{day.isoformat()}")
        orders = []
        for item_id in item_ids:
            order = list(range(len(self.bank.get(item_id).options)))  # type: ignore[union-attr]
            rng.shuffle(order)
            orders.append(order)
        challenge = DailyChallenge(
            chat_id=chat.id,
            local_date=day,
            item_ids=item_ids,
            orders=orders,
            posted_at=self.clock(),
            closes_at=start + timedelta(minutes=schedule.window_minutes),
        )
        db.add(challenge)
        try:
            db.flush()
            assert challenge.id is not None
            queue(db, challenge.id, POST, challenge.closes_at, self.clock())
            db.commit()
        except IntegrityError:
            db.rollback()
            return None
        return challenge

    def _post_replies(
        self, challenge: DailyChallenge, schedule: DailySchedule | None
    ) -> list[Reply]:
        zone = schedule.time_zone if schedule else "UTC"
        closes = challenge.closes_at.astimezone(ZoneInfo(zone)).strftime("%H:%M")
        intro = TextReply(
            text=f"Daily challenge for {challenge.local_date.isoformat()}! Answer by {closes} "
            f"({zone}). Your first answer counts; the answer and the leaderboard "
            "come when it closes."
        )
        return [intro, *self._questions(challenge)]

    def _questions(self, challenge: DailyChallenge) -> list[QuestionReply]:
        assert challenge.id is not None
        questions = []
        for position, (item_id, order) in enumerate(
            zip(challenge.item_ids, challenge.orders, strict=True)
        ):
            item = self.bank.get(item_id)
            if item is None:
                continue
            questions.append(
                QuestionReply(
                    ref=encode(DailyRef(challenge.id, position)),
                    item_id=item.id,
                    number=position + 1,
                    total=len(challenge.item_ids),
                    exam=item.exam,
                    domain=item.domain,
                    mode=Mode.daily,
                    question=item.question,
                    options=tuple(item.options[i].text for i in order),
                    choose=item.choose,
                    deadline=challenge.closes_at,
                )
            )
        return questions

    def _close_due(self, db: Session, platform: str, now: datetime) -> None:
        """Close what has run out. Results are queued only for a challenge the group got; one
        whose post never arrived closes silently (nobody could answer it), and one whose post
        is being sent right now waits for the outcome."""
        due = db.exec(
            select(DailyChallenge, Chat)
            .join(Chat)
            .where(
                col(DailyChallenge.closed).is_(False),
                DailyChallenge.closes_at <= now,
                Chat.platform == platform,
            )
        ).all()
        for challenge, chat in due:
            assert challenge.id is not None
            if challenge.shown_at is None and post_in_flight(db, challenge.id, now):
                continue
            claimed = db.exec(  # type: ignore[call-overload]
                update(DailyChallenge)
                .where(
                    col(DailyChallenge.id) == challenge.id, col(DailyChallenge.closed).is_(False)
                )
                .values(closed=True)
            )
            if claimed.rowcount != 1:
                db.rollback()
                continue  # another process closed it
            shown = db.exec(
                select(DailyChallenge.shown_at).where(DailyChallenge.id == challenge.id)
            ).one()  # read under the claim: a late delivery record cannot slip in between
            if shown is None:
                log.warning(
                    "daily challenge %s never reached chat %s; closed without a reveal",
                    challenge.local_date,
                    chat.platform_chat_id,
                )
            else:
                queue(db, challenge.id, RESULTS, now + RESULTS_RETRY, now)
            db.commit()

    def _results_replies(self, db: Session, challenge: DailyChallenge) -> list[Reply]:
        replies: list[Reply] = [
            TextReply(
                text=f"The daily challenge for {challenge.local_date.isoformat()} is closed. "
                "The answer:"
            )
        ]
        for item_id, order in zip(challenge.item_ids, challenge.orders, strict=True):
            item = self.bank.get(item_id)
            if item is not None:
                replies.append(explanation_of(item, order, [], None))
        replies.append(self.standings.day_leaderboard(db, challenge))
        return replies
