"""`/forget`: delete everything stored about one user, in one transaction, and their files.

"Everything" is every row that names them: their quizzes, answers, reviews, daily answers and
reports; their own private chat; adapter memory that mentions their platform id (a poll sent
to them, a note that they were told something); who imported or configured something is
forgotten while the group's questions and schedule stay. Their charts and decks are deleted.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import delete, text, update
from sqlmodel import Session, col, select

from bot.storage.models import (
    AdapterState,
    Answer,
    Chat,
    DailyAnswer,
    DailySchedule,
    ImportedItem,
    QuizSession,
    Report,
    ReviewCard,
    User,
)
from bot.types import ChatKind

log = logging.getLogger(__name__)

CONFIRM_WORD = "confirm"
WARNING = (
    "This deletes everything I store about you here: quizzes, answers, reviews, daily challenge "
    "answers, reports, your charts and exported decks, and our private chat's record. It cannot "
    f"be undone. To go ahead, send /forget {CONFIRM_WORD}"
)


def personal_files(files_dir: Path, user_id: int) -> list[Path]:
    """The charts and decks made for this user (their names carry the user's row id)."""
    if not files_dir.is_dir():
        return []
    patterns = (f"progress-{user_id}-*.png", f"studybot-missed-{user_id}.apkg")
    return [path for pattern in patterns for path in files_dir.glob(pattern)]


def forget_user(db: Session, user: User, files_dir: Path, private_chat_id: str = "") -> None:
    """Delete the user's rows (one commit) and then their files.

    `private_chat_id` is the platform id of the private chat the request came from, when it
    did; the chat whose platform id is the user's own (Telegram's private chats) goes too.
    """
    assert user.id is not None
    _delete_rows(db, user, private_chat_id)
    db.commit()
    _flush_deleted_pages(db)
    for path in personal_files(files_dir, user.id):
        try:
            path.unlink()
        except OSError:  # already gone, or another process is deleting it too
            log.info("could not delete %s", path.name)


def _flush_deleted_pages(db: Session) -> None:
    """SQLite keeps old page images in its write-ahead log until a checkpoint: copy them into
    the (securely deleting) database file and truncate the log, so no file holds the rows."""
    if db.get_bind().dialect.name == "sqlite":
        db.exec(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # type: ignore[call-overload]
        db.commit()


def _delete_rows(db: Session, user: User, private_chat_id: str) -> None:
    user_id = user.id
    private_chats = _private_chats(db, user, private_chat_id)
    sessions = select(QuizSession.id).where(QuizSession.user_id == user_id)
    db.exec(delete(Answer).where(col(Answer.session_id).in_(sessions)))  # type: ignore[call-overload]
    db.exec(delete(Answer).where(col(Answer.user_id) == user_id))  # type: ignore[call-overload]
    db.exec(delete(QuizSession).where(col(QuizSession.user_id) == user_id))  # type: ignore[call-overload]
    for table in (ReviewCard, DailyAnswer, Report):
        db.exec(delete(table).where(col(table.user_id) == user_id))  # type: ignore[call-overload, attr-defined]
    db.exec(
        update(DailySchedule)  # type: ignore[call-overload]
        .where(col(DailySchedule.updated_by) == user_id)
        .values(updated_by=None)  # the group's schedule stays; who set it is forgotten
    )
    db.exec(
        update(ImportedItem)  # type: ignore[call-overload]
        .where(col(ImportedItem.imported_by) == f"{user.platform}:{user.platform_user_id}")
        .values(imported_by="")  # the questions stay in their pool; who sent them is forgotten
    )
    _forget_adapter_memory(db, user)
    db.exec(delete(User).where(col(User.id) == user_id))  # type: ignore[call-overload]
    _delete_private_chats(db, private_chats)


def _private_chats(db: Session, user: User, private_chat_id: str) -> list[int]:
    """Private chats that are this user's alone: the one asked from, the one named by their
    id, and any private chat they took a quiz in."""
    ids = {user.platform_user_id} | ({private_chat_id} if private_chat_id else set())
    named = select(Chat.id).where(
        Chat.platform == user.platform,
        Chat.kind == ChatKind.private.value,
        col(Chat.platform_chat_id).in_(ids),
    )
    quizzed = (
        select(Chat.id)
        .join(QuizSession, col(QuizSession.chat_id) == col(Chat.id))
        .where(QuizSession.user_id == user.id, Chat.kind == ChatKind.private.value)
    )
    return sorted(set(db.exec(named).all()) | set(db.exec(quizzed).all()))  # type: ignore[arg-type]


def _delete_private_chats(db: Session, chat_ids: list[int]) -> None:
    """A private chat row goes once nothing of anyone else's refers to it."""
    for chat_id in chat_ids:
        others = db.exec(select(QuizSession.id).where(QuizSession.chat_id == chat_id)).first()
        scheduled = db.exec(
            select(DailySchedule.id).where(DailySchedule.chat_id == chat_id)
        ).first()
        if others is None and scheduled is None:
            chat = db.get(Chat, chat_id)
            if chat is not None:
                db.exec(
                    delete(ImportedItem).where(  # type: ignore[call-overload]
                        col(ImportedItem.scope) == f"{chat.platform}:{chat.platform_chat_id}"
                    )
                )
                db.delete(chat)


def _forget_adapter_memory(db: Session, user: User) -> None:
    """Rows whose key has the user's platform id as one of its `:` parts, or whose value
    names it (a poll sent to them keeps `user_id`); matched exactly, never as a substring."""
    uid = user.platform_user_id
    rows = db.exec(select(AdapterState).where(AdapterState.platform == user.platform)).all()
    for row in rows:
        if uid in row.key.split(":") or _names(row.value, uid):
            db.delete(row)


def _names(value: object, uid: str) -> bool:
    if isinstance(value, dict):
        return any(_names(v, uid) for v in value.values())
    if isinstance(value, list):
        return any(_names(v, uid) for v in value)
    return str(value) == uid
