"""Spaced review with FSRS: every answered item, anywhere, moves that user's card.

A right answer is rated Good, anything else (wrong, partly right, skipped) Again: a lapse.
Learning steps are off and fuzzing is off, so intervals are whole days and reproducible: a new
card answered right comes back in 2 days, then 11; a wrong one the next day.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler
from sqlalchemy import bindparam, update
from sqlmodel import Session, col, func, select

from bot.storage.models import ReviewCard
from bot.storage.repository import insert_unless_taken

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)

# Built once, bound per call: every answer reads and moves a card.
_cards = ReviewCard.__table__  # type: ignore[attr-defined]
LOCKED_CARD = (
    select(_cards.c.id, _cards.c.card)
    .where(_cards.c.user_id == bindparam("user_id"), _cards.c.item_id == bindparam("item_id"))
    .with_for_update()
)
MOVE_CARD = (
    update(_cards)
    .where(_cards.c.id == bindparam("card_id"))
    .values(
        card=bindparam("new_card", type_=_cards.c.card.type),
        due=bindparam("new_due", type_=_cards.c.due.type),
        reviews=_cards.c.reviews + 1,
        lapses=_cards.c.lapses + bindparam("lapse"),
    )
)


def record_review(db: Session, user_id: int, item_id: str, correct: bool, when: datetime) -> None:
    """Update (or start) the user's card for the item; the caller commits.

    Safe when two processes review the same card at once (a quiz and a daily challenge on the
    same item): the row is read FOR UPDATE (PostgreSQL; SQLite already holds its one write
    lock, as the caller wrote the answer first), and a new card is inserted only if no other
    transaction did so meanwhile, else that card is moved instead. Both reviews count.
    """
    key = {"user_id": user_id, "item_id": item_id}
    row = db.exec(LOCKED_CARD, params=key).first()
    if row is None:
        card = _reviewed(Card(card_id=0, due=when), correct, when)
        fresh = {"card": card.to_dict(), "due": card.due, "reviews": 1, "lapses": int(not correct)}
        if insert_unless_taken(db, ReviewCard, {**key, **fresh}):
            return
        row = db.exec(LOCKED_CARD, params=key).one()  # another transaction just started it
    card = _reviewed(Card.from_dict(row.card), correct, when)
    moved = {"new_card": card.to_dict(), "new_due": card.due, "lapse": int(not correct)}
    db.exec(MOVE_CARD, params={"card_id": row.id, **moved})


def _reviewed(card: Card, correct: bool, when: datetime) -> Card:
    """`card` after one review. (`card_id=0` above: fsrs otherwise sleeps 1 ms per new card
    to make its id unique, and we never use that id.)"""
    reviewed, _ = SCHEDULER.review_card(card, Rating.Good if correct else Rating.Again, when)
    return reviewed


def due_cards(db: Session, user_id: int, now: datetime, limit: int) -> list[ReviewCard]:
    """Cards due now, most overdue first."""
    query = (
        select(ReviewCard)
        .where(ReviewCard.user_id == user_id, ReviewCard.due <= now)
        .order_by(col(ReviewCard.due), col(ReviewCard.id))
        .limit(limit)
    )
    return list(db.exec(query).all())


def due_count(db: Session, user_id: int, now: datetime) -> int:
    query = select(func.count()).where(ReviewCard.user_id == user_id, ReviewCard.due <= now)
    return int(db.exec(query).one())


def next_due(db: Session, user_id: int) -> datetime | None:
    query = select(func.min(ReviewCard.due)).where(ReviewCard.user_id == user_id)
    return _aware(db.exec(query).one())


def _aware(value: datetime | None) -> datetime | None:
    """func.min may come back naive on SQLite; the column always stores UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
