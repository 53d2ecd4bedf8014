"""The outbox of daily-challenge messages: delivered at least once, never by two at a time.

A challenge's post is queued in the transaction that claims its day, its results in the one
that closes it, so a crash cannot separate the claim from the message. Each tick leases what
is waiting with a conditional UPDATE: of several processes ticking together exactly one gets a
given message. The adapter sends it, then records it (`record_delivered`) or, if the platform
refused it, hands it back (`give_back`) for a later tick, as long as `deliver_until` allows
(a post until its window closes, results for `RESULTS_RETRY`). A process that dies holding a
lease sends nothing; `LEASE` later another tick takes the message over.

What is left: `LEASE` must outlast a send. A send takes seconds (the Telegram adapter makes
three attempts with back-off; its rate limiter may wait up to a minute in a busy group), so
five minutes leaves a wide margin. If a send outlasts it anyway, or a process crashes after the
platform accepted a message but before recording it, that message reaches the group twice,
once the lease has run out. A delivery is several messages (the intro, then each question): a
failure part-way sends all of it again. Leases compare the processes' clocks, which must agree
(NTP) to well within `LEASE`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import Session, col, select

from bot.storage.models import Chat, DailyChallenge, DailyOutbox

LEASE = timedelta(minutes=5)  # how long a sender holds a message before others may take it
RESULTS_RETRY = timedelta(hours=6)  # results not delivered by then are given up
FIRST_RETRY = timedelta(seconds=30)  # after a refused send; doubles each time
LONGEST_RETRY = timedelta(minutes=15)
POST, RESULTS = "post", "results"  # sorted this way round: a post goes before its results


@dataclass(frozen=True)
class Leased:
    """A message this caller may send now; `lease` proves it when handing it back."""

    kind: str
    challenge_id: int
    lease: str

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.challenge_id}"


def parse_key(key: str) -> tuple[str, int] | None:
    kind, _, number = key.partition(":")
    if kind not in (POST, RESULTS) or not number.isascii() or not number.isdigit():
        return None
    return kind, int(number)


def queue(
    db: Session, challenge_id: int, kind: str, deliver_until: datetime, now: datetime
) -> None:
    """Add a message to send; the caller commits it together with what it belongs to."""
    db.add(
        DailyOutbox(
            challenge_id=challenge_id, kind=kind, deliver_until=deliver_until, created_at=now
        )
    )


def _free(now: datetime) -> ColumnElement[bool]:
    """Nobody holds it, or the holder's lease (or the wait after a refusal) has run out."""
    return or_(col(DailyOutbox.lease_until).is_(None), col(DailyOutbox.lease_until) <= now)


def lease_waiting(db: Session, platform: str, now: datetime) -> list[Leased]:
    """Lease every message for `platform` that waits and is still wanted, oldest day first and a
    post before its results; what another process holds is left alone."""
    waiting = db.exec(
        select(DailyOutbox.id, DailyOutbox.challenge_id, DailyOutbox.kind)
        .join(DailyChallenge, col(DailyOutbox.challenge_id) == col(DailyChallenge.id))
        .join(Chat, col(DailyChallenge.chat_id) == col(Chat.id))
        .where(
            col(DailyOutbox.delivered_at).is_(None),
            DailyOutbox.deliver_until > now,
            _free(now),
            Chat.platform == platform,
        )
        .order_by(col(DailyChallenge.local_date), col(DailyOutbox.kind), col(DailyOutbox.id))
    ).all()
    leased = []
    for row_id, challenge_id, kind in waiting:
        token = secrets.token_hex(8)
        taken = db.exec(  # type: ignore[call-overload]
            update(DailyOutbox)
            .where(
                col(DailyOutbox.id) == row_id,
                col(DailyOutbox.delivered_at).is_(None),
                _free(now),
            )
            .values(lease=token, lease_until=now + LEASE, attempts=DailyOutbox.attempts + 1)
        )
        if taken.rowcount == 1:
            leased.append(Leased(kind, challenge_id, token))
    db.commit()  # one transaction for all: a commit per row tripled the cost of a busy minute
    return leased


def post_in_flight(db: Session, challenge_id: int, now: datetime) -> bool:
    """A sender holds the challenge's post right now: closing waits to see how it went."""
    return (
        db.exec(
            select(DailyOutbox.id).where(
                DailyOutbox.challenge_id == challenge_id,
                DailyOutbox.kind == POST,
                col(DailyOutbox.delivered_at).is_(None),
                DailyOutbox.lease != "",
                col(DailyOutbox.lease_until) > now,
            )
        ).first()
        is not None
    )


def record_delivered(db: Session, key: str, now: datetime) -> bool:
    """The platform accepted the message: no tick sends it again. A post also marks its
    challenge as shown, which is what lets it be revealed and counted."""
    parsed = parse_key(key)
    if parsed is None:
        return False
    kind, challenge_id = parsed
    recorded = db.exec(  # type: ignore[call-overload]
        update(DailyOutbox)
        .where(
            col(DailyOutbox.challenge_id) == challenge_id,
            col(DailyOutbox.kind) == kind,
            col(DailyOutbox.delivered_at).is_(None),
        )
        .values(delivered_at=now, lease="", lease_until=None)
    )
    if kind == POST:
        db.exec(  # type: ignore[call-overload]
            update(DailyChallenge)
            .where(col(DailyChallenge.id) == challenge_id, col(DailyChallenge.shown_at).is_(None))
            .values(shown_at=now)
        )
    db.commit()
    return bool(recorded.rowcount == 1)


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first refusal (the next minute's tick), doubling up to 15 minutes, so a
    chat that refuses for hours (the bot was removed) is not asked every minute."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def give_back(db: Session, key: str, lease: str, now: datetime) -> None:
    """The send failed: free the message for a later tick, unless the lease has meanwhile
    passed to another sender (then that one decides)."""
    parsed = parse_key(key)
    if parsed is None or not lease:
        return
    kind, challenge_id = parsed
    row = db.exec(
        select(DailyOutbox).where(
            DailyOutbox.challenge_id == challenge_id,
            DailyOutbox.kind == kind,
            DailyOutbox.lease == lease,
            col(DailyOutbox.delivered_at).is_(None),
        )
    ).first()
    if row is None:
        return
    db.exec(  # type: ignore[call-overload]
        update(DailyOutbox)
        .where(
            col(DailyOutbox.id) == row.id,
            col(DailyOutbox.lease) == lease,
            col(DailyOutbox.delivered_at).is_(None),
        )
        .values(lease="", lease_until=now + retry_delay(row.attempts))
    )
    db.commit()
