"""Small queries the core needs, each in the caller's database session."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, and_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel, col, select

from bot.storage.models import Answer, Chat, QuizSession, User

# The lookups every event makes, built once and bound per call (building a statement and its
# cache key costs about as much as running it on SQLite).
USER = select(User).where(
    col(User.platform) == bindparam("platform"),
    col(User.platform_user_id) == bindparam("platform_user_id"),
)
CHAT = select(Chat).where(
    col(Chat.platform) == bindparam("platform"),
    col(Chat.platform_chat_id) == bindparam("platform_chat_id"),
)
EVENT_ROWS = (
    select(User, Chat, QuizSession)
    .select_from(User)
    .join(
        Chat,
        and_(
            col(Chat.platform) == bindparam("platform"),
            col(Chat.platform_chat_id) == bindparam("platform_chat_id"),
        ),
    )
    .outerjoin(
        QuizSession,
        and_(
            col(QuizSession.user_id) == User.id,
            col(QuizSession.chat_id) == Chat.id,
            col(QuizSession.status) == "active",
        ),
    )
    .where(
        col(User.platform) == bindparam("platform"),
        col(User.platform_user_id) == bindparam("platform_user_id"),
    )
)
ACTIVE_SESSION = select(QuizSession).where(
    col(QuizSession.user_id) == bindparam("user_id"),
    col(QuizSession.chat_id) == bindparam("chat_id"),
    col(QuizSession.status) == "active",
)


def insert_unless_taken(db: Session, model: type[SQLModel], values: dict[str, Any]) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING in the event's transaction; False when a unique
    constraint already holds such a row (another event or process wrote it first). Unlike a
    failed INSERT, nothing else in the transaction is lost, and no savepoint is needed."""
    table = model.__table__  # type: ignore[attr-defined]
    statement = _insert_ignoring(db.get_bind().dialect.name, table)
    return db.exec(statement, params=values).first() is not None


@cache
def _insert_ignoring(dialect_name: str, table: Table) -> Insert:
    """Built once per table: building it and its cache key on every call cost more than
    running it. RETURNING, not rowcount: with psycopg, rowcount says 1 even when nothing was
    inserted."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing().returning(table.c.id)


def who_and_where(
    db: Session,
    platform: str,
    platform_user_id: str,
    display_name: str,
    platform_chat_id: str,
    kind: str,
    now: datetime,
) -> tuple[User, Chat, QuizSession | None]:
    """An event's user, chat and active quiz, in one query when both are known (nearly every
    event), else created as needed (see get_or_create_user)."""
    keys = {"platform": platform, "platform_user_id": platform_user_id}
    where = {**keys, "platform_chat_id": platform_chat_id}
    found = db.exec(EVENT_ROWS, params=where).first()
    if found is None:  # a new user or chat (a new member's first answer, say): add either
        insert_unless_taken(db, User, {**keys, "display_name": display_name, "created_at": now})
        place = {"platform": platform, "platform_chat_id": platform_chat_id, "kind": kind}
        insert_unless_taken(db, Chat, {**place, "created_at": now})
        found = db.exec(EVENT_ROWS, params=where).one()
    user, chat, session = found
    if display_name and user.display_name != display_name:
        user.display_name = display_name
        db.add(user)
    return user, chat, session


def get_or_create_user(
    db: Session, platform: str, platform_user_id: str, display_name: str, now: datetime
) -> User:
    """The user, created if new (safely, when two processes see a new user at once); nothing
    is committed here: the event's one transaction does that."""
    values = {"platform": platform, "platform_user_id": platform_user_id}
    user = db.exec(USER, params=values).first()
    if user is None:
        insert_unless_taken(db, User, {**values, "display_name": display_name, "created_at": now})
        return db.exec(USER, params=values).one()
    if display_name and user.display_name != display_name:
        user.display_name = display_name
        db.add(user)
    return user


def get_or_create_chat(
    db: Session, platform: str, platform_chat_id: str, kind: str, now: datetime
) -> Chat:
    """The chat, created if new; see get_or_create_user."""
    values = {"platform": platform, "platform_chat_id": platform_chat_id}
    chat = db.exec(CHAT, params=values).first()
    if chat is None:
        insert_unless_taken(db, Chat, {**values, "kind": kind, "created_at": now})
        return db.exec(CHAT, params=values).one()
    return chat


def active_session(db: Session, user_id: int, chat_id: int) -> QuizSession | None:
    return db.exec(ACTIVE_SESSION, params={"user_id": user_id, "chat_id": chat_id}).first()


def last_exam(db: Session, user_id: int) -> str | None:
    query = (
        select(QuizSession.exam)
        .where(QuizSession.user_id == user_id)
        .order_by(col(QuizSession.id).desc())
    )
    return db.exec(query).first()


def count_sessions(db: Session, user_id: int) -> int:
    return len(db.exec(select(QuizSession.id).where(QuizSession.user_id == user_id)).all())


def answers_of(db: Session, session_id: int) -> list[Answer]:
    query = select(Answer).where(Answer.session_id == session_id).order_by(col(Answer.position))
    return list(db.exec(query).all())


def last_answer(db: Session, session_id: int) -> Answer | None:
    query = select(Answer).where(Answer.session_id == session_id)
    return db.exec(query.order_by(col(Answer.position).desc())).first()
