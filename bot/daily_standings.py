"""Daily challenge standings: leaderboards per day, week, month or all time, and streaks.

Correct answers rank first, then less total time to answer. A day whose challenge never
reached the group did not happen: it neither counts nor breaks a streak.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.daily_schedule import schedule_of
from bot.storage.models import Chat, DailyAnswer, DailyChallenge, User
from bot.types import LeaderboardReply, LeaderboardRow

PERIODS = ("day", "week", "month", "all")


class DailyStandings:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def day_leaderboard(self, db: Session, challenge: DailyChallenge) -> LeaderboardReply:
        chat = db.get(Chat, challenge.chat_id)
        rows = self._standings(db, [challenge], chat)
        return LeaderboardReply(
            title=f"Leaderboard for {challenge.local_date.isoformat()}", rows=rows
        )

    def leaderboard(self, db: Session, chat: Chat, period: str) -> LeaderboardReply:
        schedule = schedule_of(db, chat)
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
