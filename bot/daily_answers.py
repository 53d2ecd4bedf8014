"""Members' answers to a daily challenge: the first answer per question is final, and nobody
learns whether it was right until the challenge closes (see bot.daily_posting)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
STILL_CLOSED = (
    select(DailyChallenge.closed)
    .where(col(DailyChallenge.id) == bindparam("challenge_id"))
    .with_for_update(read=True)
)
KNOWN_CHALLENGES = 256  # challenges whose facts an answer finds in memory
CLOSED = "This challenge has closed; the answer is posted in the group."
ASKER = Audience.asker  # a member's answer to a group's challenge is acknowledged to them only


@dataclass(frozen=True)
class ChallengeFacts:
    """A challenge as an answer sees it; `closes` is its closing time in the group's zone."""

    id: int
    chat_id: int
    item_ids: tuple[str, ...]
    orders: tuple[tuple[int, ...], ...]
    closes_at: datetime
    shown_at: datetime
    closed: bool
    closes: str


class DailyAnswers:
    def __init__(self, bank: Bank, clock: Clock) -> None:
        self.bank = bank
        self.clock = clock
        self._known: dict[int, ChallengeFacts] = {}

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

        Once the answer is written, the challenge is read again FOR SHARE: a process closing
        it waits for the answers in flight (PostgreSQL; SQLite holds its one write lock from
        the INSERT on), and an answer that finds it closed is undone, so an answer counts in
        the day's results exactly when it was taken."""
        challenge = self._challenge(db, ref.challenge_id)
        position = ref.position
        if challenge is None or challenge.chat_id != chat.id or position >= len(challenge.item_ids):
            return [HintReply(text="That challenge is not from this chat.", audience=ASKER)]
        now = self.clock()
        if challenge.closed or now >= challenge.closes_at:
            return [HintReply(text=CLOSED, audience=ASKER)]
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
            "time_taken_ms": milliseconds(now - challenge.shown_at),
        }
        # The unique (challenge, member, position) decides, whatever process was first; the
        # answer is written before the review card is read (see record_review).
        if not insert_unless_taken(db, DailyAnswer, answer):
            again = f"{user.display_name or 'You'}: you already answered; your first answer counts."
            return [HintReply(text=again, audience=ASKER)]
        if db.exec(STILL_CLOSED, params={"challenge_id": challenge.id}).one():
            db.rollback()  # another process closed it between our read and our write
            return [HintReply(text=CLOSED, audience=ASKER)]
        record_review(db, user.id, item.id, correct, now)
        thanks = f"Got it, {user.display_name or 'thanks'}! Results at {challenge.closes}."
        return [TextReply(text=thanks, audience=ASKER)]  # the buttons stay for everyone else

    def _challenge(self, db: Session, challenge_id: int) -> ChallengeFacts | None:
        """What an answer needs of a challenge, kept in memory once the group has it (none of
        it changes but `closed`, which every answer reads again under the write lock)."""
        known = self._known.get(challenge_id)
        if known is not None:
            return known
        row = db.get(DailyChallenge, challenge_id)
        if row is None or row.id is None:
            return None
        chat = db.get(Chat, row.chat_id)
        schedule = schedule_of(db, chat) if chat else None
        facts = ChallengeFacts(
            id=row.id,
            chat_id=row.chat_id,
            item_ids=tuple(row.item_ids),
            orders=tuple(tuple(order) for order in row.orders),
            closes_at=row.closes_at,
            shown_at=row.shown_at or row.posted_at,
            closed=row.closed,
            closes=local_hhmm(row.closes_at, schedule) if schedule else "the close",
        )
        if row.shown_at is not None and not row.closed:
            if len(self._known) >= KNOWN_CHALLENGES:
                self._known.clear()
            self._known[challenge_id] = facts
        return facts

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
