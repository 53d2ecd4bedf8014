"""Daily challenges in group chats: scheduling, members' answers, the reveal and standings.

A group gets one challenge per local day because the challenge row is unique on (chat, local
date): whoever inserts it queues the post, every other process or restart finds it there.
Closing is claimed the same way, by flipping `closed` with a conditional update, and queues the
results. Queued messages go through `bot.daily_outbox`: sent at least once, retried while they
are still wanted, and a challenge the group never got is neither revealed nor counted. Times are
kept as a local time in an IANA zone and converted each day, so 09:00 stays 09:00 across DST.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.commands import CommandError, ascii_number
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
from bot.quiz import explanation_of
from bot.refs import DailyRef, encode
from bot.review import record_review
from bot.storage.models import Chat, DailyAnswer, DailyChallenge, DailySchedule, User
from bot.types import (
    Audience,
    ChatKind,
    Delivery,
    HintReply,
    LeaderboardReply,
    LeaderboardRow,
    Mode,
    QuestionReply,
    Reply,
    TextReply,
)
from knowledge.bank import Bank
from knowledge.catalog import DEFAULT_EXAM, EXAMS, find_exam

log = logging.getLogger(__name__)
ASKER = Audience.asker  # a member's answer to a group's challenge is acknowledged to them only
DEFAULT_WINDOW_MINUTES = 8 * 60
MAX_COUNT = 5
RECENT_DAYS = 60  # do not repeat an item a group saw in this many recent challenges
HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
DURATION = re.compile(r"^([0-9]+)\s*(m|min|h)$")
PERIODS = ("day", "week", "month", "all")


@dataclass(frozen=True)
class DailyRequest:
    local_time: str
    time_zone: str
    exam: str
    domains: tuple[str, ...]
    count: int
    window_minutes: int


def parse_daily_on(args: list[str]) -> DailyRequest:
    """`HH:MM [TIME_ZONE] [EXAM] [DOMAIN...] [COUNT] [WINDOW]`, WINDOW like 90m or 8h."""
    if not args or not HHMM.match(args[0]):
        raise CommandError(
            "Give the time first: /daily on HH:MM [TIME_ZONE] [EXAM] [DOMAIN...] [COUNT] "
            "[WINDOW], e.g. /daily on 09:00 Europe/Berlin DVA-C02 security 1 8h"
        )
    hours, minutes = HHMM.match(args[0]).groups()  # type: ignore[union-attr]
    zone, exam_code, count, window = "UTC", DEFAULT_EXAM, 1, DEFAULT_WINDOW_MINUTES
    domains: list[str] = []
    rest = args[1:]
    for token in rest:
        if exam := find_exam(token):
            exam_code = exam.code
    for token in rest:
        lowered = token.lower()
        if find_exam(token):
            continue
        if "/" in token or token.upper() == "UTC":
            zone = _zone(token)
        elif (number := ascii_number(lowered)) is not None:
            count = number
        elif match := DURATION.match(lowered):
            amount, unit = int(match.group(1)), match.group(2)
            window = amount * 60 if unit == "h" else amount
        elif domain := EXAMS[exam_code].find_domain(lowered):
            domains.append(domain.name)
        else:
            raise CommandError(f"I don't understand '{token}' in /daily on.")
    if not 1 <= count <= MAX_COUNT:
        raise CommandError(f"A daily challenge has 1 to {MAX_COUNT} questions.")
    if not 5 <= window <= 23 * 60:
        raise CommandError("The answer window is 5 minutes to 23 hours, e.g. 90m or 8h.")
    return DailyRequest(
        f"{int(hours):02d}:{minutes}", zone, exam_code, tuple(domains), count, window
    )


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError(
            f"Unknown time zone '{name}'. Use an IANA name such as Europe/Berlin or "
            "America/New_York."
        ) from None
    return name


def post_instant(day: date, local_time: str, zone: str) -> datetime:
    """The UTC instant of `local_time` on `day` in `zone` (a time skipped by DST moves on)."""
    hours, minutes = map(int, local_time.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def milliseconds(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)


class Daily:
    def __init__(self, bank: Bank, clock: Clock) -> None:
        self.bank = bank
        self.clock = clock

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
            schedule = self._schedule(db, chat)
            if schedule is None or not schedule.enabled:
                return [HintReply(text="The daily challenge is already off here.")]
            schedule.enabled = False
            schedule.updated_at = self.clock()
            db.add(schedule)
            db.commit()
            return [TextReply(text="Daily challenge turned off. /daily on HH:MM brings it back.")]
        if action == "now":
            schedule = self._schedule(db, chat)
            if schedule is None:
                return [
                    HintReply(text="Set the challenge up first: /daily on HH:MM [TIME_ZONE] ...")
                ]
            if self._post(db, chat, schedule, self._local_today(schedule), self.clock()) is None:
                return [HintReply(text="Today's challenge is already out.")]
            return [TextReply(text="Today's challenge is on its way: it appears within a minute.")]
        if action:
            return [HintReply(text="Use /daily, /daily on HH:MM ..., /daily off or /daily now.")]
        return [TextReply(text=self._status(db, chat))]

    def _schedule(self, db: Session, chat: Chat) -> DailySchedule | None:
        return db.exec(select(DailySchedule).where(DailySchedule.chat_id == chat.id)).first()

    def _turn_on(
        self, db: Session, user: User, chat: Chat, request: DailyRequest, thread: str
    ) -> list[Reply]:
        if not self.bank.select(request.exam, request.domains):
            return [HintReply(text=f"There are no {request.exam} questions for that choice.")]
        schedule = self._schedule(db, chat) or DailySchedule(
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
        schedule = self._schedule(db, chat)
        if schedule is None or not schedule.enabled:
            return "No daily challenge here. An admin can start one: /daily on 09:00 Europe/Berlin"
        scope = ", ".join(schedule.domains) or "all domains"
        hours = f"{schedule.window_minutes // 60}h{schedule.window_minutes % 60:02d}"
        lines = [
            f"Every day at {schedule.local_time} ({schedule.time_zone}): {schedule.count} "
            f"{schedule.exam} question(s) from {scope}, open for {hours}."
        ]
        today = self._challenge(db, chat, self._local_today(schedule))
        if today is None:
            lines.append("Today's challenge has not been posted yet.")
        elif today.shown_at is None and today.closed:
            lines.append("Today's challenge could not be posted: the chat was unreachable.")
        elif today.shown_at is None:
            lines.append("Today's challenge is waiting to be posted.")
        else:
            answered = len({a.user_id for a in self._answers(db, today)})
            state = (
                "closed" if today.closed else f"open until {self._local(today.closes_at, schedule)}"
            )
            lines.append(f"Today's challenge is {state}; {answered} member(s) answered.")
        return "\n".join(lines)

    # ------------------------------------------------------------ posting and closing

    def _local_today(self, schedule: DailySchedule) -> date:
        return self.clock().astimezone(ZoneInfo(schedule.time_zone)).date()

    def _local(self, moment: datetime, schedule: DailySchedule) -> str:
        return moment.astimezone(ZoneInfo(schedule.time_zone)).strftime("%H:%M")

    def _challenge(self, db: Session, chat: Chat, day: date) -> DailyChallenge | None:
        return db.exec(
            select(DailyChallenge).where(
                DailyChallenge.chat_id == chat.id, DailyChallenge.local_date == day
            )
        ).first()

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
            today = self._local_today(schedule)
            for day in (today - timedelta(days=1), today):
                start = post_instant(day, schedule.local_time, schedule.time_zone)
                end = start + timedelta(minutes=schedule.window_minutes)
                if start <= now < end and self._challenge(db, chat, day) is None:
                    self._post(db, chat, schedule, day, start)

    def _leased_delivery(self, db: Session, leased: Leased) -> Delivery:
        challenge = db.get(DailyChallenge, leased.challenge_id)
        assert challenge is not None
        chat = db.get(Chat, challenge.chat_id)
        assert chat is not None
        schedule = self._schedule(db, chat)
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

    def _post(
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
        replies.append(self.day_leaderboard(db, challenge))
        return replies

    # ------------------------------------------------------------ members' answers

    def open_challenge(self, db: Session, chat: Chat) -> DailyChallenge | None:
        """The challenge a typed answer goes to: one the group has been shown and still open."""
        now = self.clock()
        return db.exec(
            select(DailyChallenge)
            .where(
                DailyChallenge.chat_id == chat.id,
                col(DailyChallenge.shown_at).is_not(None),
                col(DailyChallenge.closed).is_(False),
                DailyChallenge.closes_at > now,
            )
            .order_by(col(DailyChallenge.local_date).desc())
        ).first()

    def answer(
        self, db: Session, user: User, chat: Chat, ref: DailyRef, positions: tuple[int, ...]
    ) -> list[Reply]:
        """A member's answer to question `ref`: the first one is final, no verdict yet."""
        challenge = db.get(DailyChallenge, ref.challenge_id)
        position = ref.position
        if challenge is None or challenge.chat_id != chat.id or position >= len(challenge.item_ids):
            return [HintReply(text="That challenge is not from this chat.", audience=ASKER)]
        now = self.clock()
        if challenge.closed or now >= challenge.closes_at:
            closed = "This challenge has closed; the answer is posted in the group."
            return [HintReply(text=closed, audience=ASKER)]
        item = self.bank.get(challenge.item_ids[position])
        order = challenge.orders[position]
        if item is None or any(not 0 <= p < len(order) for p in positions) or not positions:
            return [HintReply(text="That answer doesn't fit this question.", audience=ASKER)]
        if len(positions) > item.choose:
            takes = f"This question takes {item.choose} answer(s)."
            return [HintReply(text=takes, audience=ASKER)]
        chosen = sorted(order[p] for p in positions)
        correct = set(chosen) == set(item.correct_indices())
        assert user.id is not None
        db.add(
            DailyAnswer(
                challenge_id=challenge.id,
                user_id=user.id,
                position=position,
                chosen=chosen,
                correct=correct,
                answered_at=now,
                time_taken_ms=milliseconds(now - (challenge.shown_at or challenge.posted_at)),
            )
        )
        try:  # the review card's lookup flushes the answer: a second answer fails right here
            record_review(db, user.id, item.id, correct, now)
            db.commit()
        except IntegrityError:
            db.rollback()
            again = f"{user.display_name or 'You'}: you already answered; your first answer counts."
            return [HintReply(text=again, audience=ASKER)]
        schedule = self._schedule(db, chat)
        closes = self._local(challenge.closes_at, schedule) if schedule else "the close"
        thanks = f"Got it, {user.display_name or 'thanks'}! Results at {closes}."
        return [TextReply(text=thanks, audience=ASKER)]  # the buttons stay for everyone else

    def next_unanswered(self, db: Session, user: User, chat: Chat) -> DailyRef | None:
        """The ref a typed answer in the group goes to: the first question not yet answered."""
        challenge = self.open_challenge(db, chat)
        if challenge is None:
            return None
        assert challenge.id is not None
        done = {a.position for a in self._answers(db, challenge) if a.user_id == user.id}
        for position in range(len(challenge.item_ids)):
            if position not in done:
                return DailyRef(challenge.id, position)
        return None

    def options_of(self, db: Session, ref: DailyRef) -> tuple[tuple[str, ...], int] | None:
        challenge = db.get(DailyChallenge, ref.challenge_id)
        if challenge is None or ref.position >= len(challenge.item_ids):
            return None
        item = self.bank.get(challenge.item_ids[ref.position])
        if item is None:
            return None
        order = challenge.orders[ref.position]
        return tuple(item.options[i].text for i in order), item.choose

    def _answers(self, db: Session, challenge: DailyChallenge) -> list[DailyAnswer]:
        return list(
            db.exec(select(DailyAnswer).where(DailyAnswer.challenge_id == challenge.id)).all()
        )

    # ------------------------------------------------------------ standings

    def day_leaderboard(self, db: Session, challenge: DailyChallenge) -> LeaderboardReply:
        chat = db.get(Chat, challenge.chat_id)
        rows = self._standings(db, [challenge], chat)
        return LeaderboardReply(
            title=f"Leaderboard for {challenge.local_date.isoformat()}", rows=rows
        )

    def leaderboard(self, db: Session, chat: Chat, period: str) -> LeaderboardReply:
        schedule = self._schedule(db, chat)
        zone = schedule.time_zone if schedule else "UTC"
        today = self.clock().astimezone(ZoneInfo(zone)).date()
        start = {
            "day": today,
            "week": today - timedelta(days=today.weekday()),
            "month": today.replace(day=1),
            "all": date.min,
        }[period]
        challenges = db.exec(
            select(DailyChallenge).where(
                DailyChallenge.chat_id == chat.id,
                DailyChallenge.local_date >= start,
                col(DailyChallenge.shown_at).is_not(None),  # a day nobody saw did not happen
            )
        ).all()
        titles = {"day": "today", "week": "this week", "month": "this month", "all": "all time"}
        return LeaderboardReply(
            title=f"Leaderboard, {titles[period]}", rows=self._standings(db, list(challenges), chat)
        )

    def _standings(
        self, db: Session, challenges: list[DailyChallenge], chat: Chat | None
    ) -> tuple[LeaderboardRow, ...]:
        """Correct answers first, then less total time to answer."""
        ids = [c.id for c in challenges]
        if not ids:
            return ()
        rows = db.exec(
            select(DailyAnswer, User).join(User).where(col(DailyAnswer.challenge_id).in_(ids))
        ).all()
        totals: dict[int, list] = {}  # type: ignore[type-arg]
        for answer, user in rows:
            entry = totals.setdefault(
                user.id, [user.display_name or user.platform_user_id, 0, 0, 0]
            )
            entry[1] += answer.correct
            entry[2] += 1
            entry[3] += answer.time_taken_ms
        ranked = sorted(totals.items(), key=lambda kv: (-kv[1][1], kv[1][3], kv[1][0]))
        streaks = self.streaks(db, chat, list(totals)) if chat else {}
        return tuple(
            LeaderboardRow(
                rank=rank,
                name=name,
                correct=correct,
                answered=answered,
                time_ms=time_ms,
                streak=streaks.get(user_id, 0),
            )
            for rank, (user_id, (name, correct, answered, time_ms)) in enumerate(ranked, 1)
        )

    def streaks(self, db: Session, chat: Chat, user_ids: list[int]) -> dict[int, int]:
        """Each member's consecutive challenge days answered in this group, counting back from
        the latest; today's challenge, while still open and unanswered, does not break it, and a
        day whose challenge never reached the group is not a day at all. One query for them all:
        every challenge shown here, newest first, with who of `user_ids` answered it."""
        rows = db.exec(
            select(DailyChallenge, DailyAnswer.user_id)
            .outerjoin(
                DailyAnswer,
                and_(
                    col(DailyAnswer.challenge_id) == DailyChallenge.id,
                    col(DailyAnswer.user_id).in_(user_ids),
                ),
            )
            .where(DailyChallenge.chat_id == chat.id, col(DailyChallenge.shown_at).is_not(None))
            .order_by(col(DailyChallenge.local_date).desc())
        ).all()
        challenges: dict[int, DailyChallenge] = {}  # newest first
        answered: dict[int, set[int]] = {user_id: set() for user_id in user_ids}
        for challenge, user_id in rows:
            assert challenge.id is not None
            challenges.setdefault(challenge.id, challenge)
            if user_id is not None:
                answered[user_id].add(challenge.id)
        days, now = list(challenges.values()), self.clock()
        return {user_id: _streak(days, answered[user_id], now) for user_id in user_ids}


def _streak(days: list[DailyChallenge], answered: set[int], now: datetime) -> int:
    """Consecutive `days` (newest first) whose challenge is in `answered`; see `streaks`."""
    streak = 0
    for index, challenge in enumerate(days):
        if challenge.id in answered:
            streak += 1
        elif index == 0 and not challenge.closed and now < challenge.closes_at:
            continue
        else:
            break
    return streak
