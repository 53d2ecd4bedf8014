"""Small queries the core needs, each in the caller's database session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.storage.models import Answer, Chat, QuizSession, User


def get_or_create_user(
    db: Session, platform: str, platform_user_id: str, display_name: str, now: datetime
) -> User:
    query = select(User).where(User.platform == platform, User.platform_user_id == platform_user_id)
    user = db.exec(query).first()
    if user is None:
        user = User(
            platform=platform,
            platform_user_id=platform_user_id,
            display_name=display_name,
            created_at=now,
        )
        db.add(user)
        try:
            db.commit()
        except IntegrityError:  # another process created it a moment ago
            db.rollback()
            return db.exec(query).one()
    elif display_name and user.display_name != display_name:
        user.display_name = display_name
        db.add(user)
        db.commit()
    return user


def get_or_create_chat(
    db: Session, platform: str, platform_chat_id: str, kind: str, now: datetime
) -> Chat:
    query = select(Chat).where(Chat.platform == platform, Chat.platform_chat_id == platform_chat_id)
    chat = db.exec(query).first()
    if chat is None:
        chat = Chat(platform=platform, platform_chat_id=platform_chat_id, kind=kind, created_at=now)
        db.add(chat)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            return db.exec(query).one()
    return chat


def active_session(db: Session, user_id: int, chat_id: int) -> QuizSession | None:
    query = select(QuizSession).where(
        QuizSession.user_id == user_id,
        QuizSession.chat_id == chat_id,
        QuizSession.status == "active",
    )
    return db.exec(query).first()


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
