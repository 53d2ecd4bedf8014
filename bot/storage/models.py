"""The tables. State lives here, not in memory, so a restarted process resumes every quiz."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.storage.types import UTCDateTime


class User(SQLModel, table=True):
    """One person on one platform: the same student on Telegram and Discord is two users."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    platform_user_id: str = Field(max_length=128)
    display_name: str = Field(default="", max_length=256)
    created_at: datetime = Field(sa_type=UTCDateTime)


class Chat(SQLModel, table=True):
    __tablename__ = "chats"
    __table_args__ = (UniqueConstraint("platform", "platform_chat_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    platform_chat_id: str = Field(max_length=128)
    kind: str = Field(max_length=16)
    created_at: datetime = Field(sa_type=UTCDateTime)


class QuizSession(SQLModel, table=True):
    """A practice or exam-mode test. `position` is the index of the question being asked.

    A partial unique index allows one active session per user and chat, so two processes
    sharing the database cannot both start one.
    """

    __tablename__ = "quiz_sessions"
    __table_args__ = (
        Index(
            "one_active_session_per_user_chat",
            "user_id",
            "chat_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    chat_id: int = Field(foreign_key="chats.id")
    exam: str = Field(max_length=32)
    domains: list[str] = Field(default_factory=list, sa_type=JSON)
    mode: str = Field(max_length=16)
    item_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    position: int = 0
    status: str = Field(default="active", max_length=16)
    seed: str = Field(default="", max_length=64)
    started_at: datetime = Field(sa_type=UTCDateTime)
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    current_order: list[int] | None = Field(default=None, sa_type=JSON)
    presented_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    end_reason: str | None = Field(default=None, max_length=16)


class Answer(SQLModel, table=True):
    """One answer to one question of a session; at most one per position, even across processes."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="quiz_sessions.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    item_id: str = Field(max_length=64, index=True)
    item_version: int = 1
    position: int
    chosen: list[int] = Field(default_factory=list, sa_type=JSON)
    presented_order: list[int] = Field(default_factory=list, sa_type=JSON)
    correct: bool = False
    partial: bool = False
    skipped: bool = False
    answered_at: datetime = Field(sa_type=UTCDateTime)
    time_taken_ms: int = 0


class ImportedItem(SQLModel, table=True):
    """A question a teacher or admin imported; `data` is the item in the bank format.

    `scope` is "" for the shared pool every chat sees (operators' imports), else the key of
    the one chat whose admins imported it ("telegram:-100123"). Ids are unique across scopes.
    """

    __tablename__ = "imported_items"

    id: str = Field(primary_key=True, max_length=64)
    scope: str = Field(default="", max_length=200, index=True)
    version: int = 1
    exam: str = Field(max_length=32)
    domain: str = Field(max_length=64)
    source: str = Field(max_length=256)
    content_hash: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    imported_by: str = Field(default="", max_length=160)
    imported_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class ItemHistory(SQLModel, table=True):
    """Earlier versions of imported items, so answers to an old version stay explainable."""

    __tablename__ = "item_history"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=64)
    version: int
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    replaced_at: datetime = Field(sa_type=UTCDateTime)


class Report(SQLModel, table=True):
    """A student's flag on a doubtful item, for the maintainers."""

    __tablename__ = "reports"

    id: int | None = Field(default=None, primary_key=True)
    item_id: str = Field(max_length=64, index=True)
    item_version: int = 1
    user_id: int = Field(foreign_key="users.id")
    reason: str = Field(max_length=1000)
    created_at: datetime = Field(sa_type=UTCDateTime)


class AdapterState(SQLModel, table=True):
    """Small facts an adapter must remember across restarts, such as which chat and question
    a Telegram poll belongs to (poll answers arrive without the chat)."""

    __tablename__ = "adapter_state"
    __table_args__ = (UniqueConstraint("platform", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=32)
    key: str = Field(max_length=200)
    value: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)


class ReviewCard(SQLModel, table=True):
    """One user's FSRS card for one item: when it is due again and its memory state."""

    __tablename__ = "review_cards"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    item_id: str = Field(max_length=64)
    card: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    due: datetime = Field(sa_type=UTCDateTime, index=True)
    reviews: int = 0
    lapses: int = 0


class DailySchedule(SQLModel, table=True):
    """A group's daily challenge: when (local time in an IANA zone), what, and for how long."""

    __tablename__ = "daily_schedules"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id", unique=True)
    local_time: str = Field(max_length=5)  # HH:MM
    time_zone: str = Field(max_length=64)
    exam: str = Field(max_length=32)
    domains: list[str] = Field(default_factory=list, sa_type=JSON)
    count: int = 1
    window_minutes: int = 480
    enabled: bool = True
    thread_id: str = Field(default="", max_length=64)  # a forum topic, where the platform has them
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(sa_type=UTCDateTime)


class DailyChallenge(SQLModel, table=True):
    """One day's challenge in one group. The unique (chat, local date) pair is the claim that
    makes a day's challenge exist once, whatever restarts or processes race for it; its post
    goes through `DailyOutbox`, and `shown_at` is set once the group has it. A challenge closed
    with `shown_at` still empty never reached the group: no reveal, and it counts nowhere."""

    __tablename__ = "daily_challenges"
    __table_args__ = (UniqueConstraint("chat_id", "local_date"),)

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(foreign_key="chats.id", index=True)
    local_date: date
    item_ids: list[str] = Field(default_factory=list, sa_type=JSON)
    orders: list[list[int]] = Field(default_factory=list, sa_type=JSON)
    posted_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime = Field(sa_type=UTCDateTime)
    closed: bool = False
    shown_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DailyOutbox(SQLModel, table=True):
    """A daily-challenge message to deliver: a challenge's `post` or its `results`.

    Written in the same transaction as the claim or the close. A process leases a row (`lease`,
    a random token, until `lease_until`) before sending it, and it is `delivered_at` only after
    the platform accepted it; a failed send gives the lease back and `lease_until` then says
    when to try again. Nothing is sent once `deliver_until` has passed."""

    __tablename__ = "daily_outbox"
    __table_args__ = (UniqueConstraint("challenge_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="daily_challenges.id", index=True)
    kind: str = Field(max_length=16)  # post | results
    deliver_until: datetime = Field(sa_type=UTCDateTime, index=True)
    lease: str = Field(default="", max_length=32)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DailyAnswer(SQLModel, table=True):
    """A member's answer to one question of a challenge: the first one is final."""

    __tablename__ = "daily_answers"
    __table_args__ = (UniqueConstraint("challenge_id", "user_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    challenge_id: int = Field(foreign_key="daily_challenges.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    position: int
    chosen: list[int] = Field(default_factory=list, sa_type=JSON)
    correct: bool = False
    answered_at: datetime = Field(sa_type=UTCDateTime)
    time_taken_ms: int = 0
