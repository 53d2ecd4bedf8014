"""Members' answers to a daily challenge: the first answer per question is final, and nobody
learns whether it was right until the challenge closes (see bot.daily_posting)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.daily_schedule import local_hhmm, schedule_of
from bot.refs import DailyRef
from bot.review import record_review
from bot.storage.models import Chat, DailyAnswer, DailyChallenge, User
from bot.storage.repository import insert_unless_taken
from bot.types import Audience, HintReply, Reply, TextReply
from knowledge.bank import Bank

# Whether a challenge is closed, read again once the answer is written (see DailyAnswers.answer).
STILL_CLOSED = select(DailyChallenge.closed).where(
    col(DailyChallenge.id) == bindparam("challenge_id")
)
ASKER = Audience.asker  # a member's answer to a group's challenge is acknowledged to them only


class DailyAnswers:
    def __init__(self, bank: Bank, clock: Clock) -> None:
        self.bank = bank
        self.clock = clock

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
        """A member's answer to question `ref`: the first one is final, no verdict yet.

        The challenge is read FOR SHARE (PostgreSQL), so a process closing it waits for the
        answers in flight and an answer waits for a close in flight: an answer counts in the
        day's results exactly when it was taken. SQLite takes its one write lock at the
        answer's INSERT, and the close is checked again under it."""
        challenge = db.get(DailyChallenge, ref.challenge_id, with_for_update={"read": True})
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
        answer = {
            "challenge_id": challenge.id,
            "user_id": user.id,
            "position": position,
            "chosen": chosen,
            "correct": correct,
            "answered_at": now,
            "time_taken_ms": milliseconds(now - (challenge.shown_at or challenge.posted_at)),
        }
        # The unique (challenge, member, position) decides, whatever process was first; the
        # answer is written before the review card is read (see record_review).
        if not insert_unless_taken(db, DailyAnswer, answer):
            again = f"{user.display_name or 'You'}: you already answered; your first answer counts."
            return [HintReply(text=again, audience=ASKER)]
        if db.exec(STILL_CLOSED, params={"challenge_id": challenge.id}).one():
            db.rollback()  # another process closed it between our read and our write
            closed = "This challenge has closed; the answer is posted in the group."
            return [HintReply(text=closed, audience=ASKER)]
        record_review(db, user.id, item.id, correct, now)
        schedule = schedule_of(db, chat)
        closes = local_hhmm(challenge.closes_at, schedule) if schedule else "the close"
        thanks = f"Got it, {user.display_name or 'thanks'}! Results at {closes}."
        return [TextReply(text=thanks, audience=ASKER)]  # the buttons stay for everyone else

    def next_unanswered(self, db: Session, user: User, chat: Chat) -> DailyRef | None:
        """The ref a typed answer in the group goes to: the first question not yet answered."""
        challenge = self.open_challenge(db, chat)
        if challenge is None:
            return None
        assert challenge.id is not None
        done = {a.position for a in answers_to(db, challenge) if a.user_id == user.id}
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


def answers_to(db: Session, challenge: DailyChallenge) -> list[DailyAnswer]:
    """Every member's answers to `challenge`."""
    return list(db.exec(select(DailyAnswer).where(DailyAnswer.challenge_id == challenge.id)).all())


def milliseconds(span: timedelta) -> int:
    return int(span.total_seconds() * 1000)
