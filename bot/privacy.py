"""`/forget`: delete everything stored about one user, in one transaction."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col, select

from bot.storage.models import (
    Answer,
    DailyAnswer,
    DailySchedule,
    QuizSession,
    Report,
    ReviewCard,
    User,
)

CONFIRM_WORD = "confirm"
WARNING = (
    "This deletes everything I store about you here: quizzes, answers, reviews, daily challenge "
    f"answers and reports. It cannot be undone. To go ahead, send /forget {CONFIRM_WORD}"
)


def forget_user(db: Session, user_id: int) -> None:
    sessions = select(QuizSession.id).where(QuizSession.user_id == user_id)
    db.exec(delete(Answer).where(col(Answer.session_id).in_(sessions)))  # type: ignore[call-overload]
    db.exec(delete(Answer).where(col(Answer.user_id) == user_id))  # type: ignore[call-overload]
    db.exec(delete(QuizSession).where(col(QuizSession.user_id) == user_id))  # type: ignore[call-overload]
    for table in (ReviewCard, DailyAnswer, Report):
        db.exec(delete(table).where(col(table.user_id) == user_id))  # type: ignore[call-overload, attr-defined]
    for schedule in db.exec(select(DailySchedule).where(DailySchedule.updated_by == user_id)).all():
        schedule.updated_by = None  # the group's schedule stays; who set it is forgotten
        db.add(schedule)
    db.exec(delete(User).where(col(User.id) == user_id))  # type: ignore[call-overload]
    db.commit()
