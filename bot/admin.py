"""Admin and maintenance actions reachable from chat: importing a bank file, reporting an item."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import PurePath

from sqlmodel import Session, col, select

from bot.imports import (
    GROUP_LIMITS,
    OPERATOR_LIMITS,
    ImportLimits,
    ImportRefused,
    chat_scope,
    check_count,
    check_size,
    import_located,
)
from bot.storage.models import Answer, Report, User
from bot.types import ChatKind, Document, HintReply, Reply, TextReply
from knowledge.bank import SHARED, Bank
from knowledge.catalog import find_exam
from knowledge.importers import ImportDefaults, guess_format, parse_import
from knowledge.loader import BankError

MAX_PROBLEMS_SHOWN = 10
MAX_REASON = 1000


def defaults_from_caption(caption: str) -> ImportDefaults:
    """'DVA-C02 security' in a document's caption: the exam and domain for formats without them."""
    exam = domain = None
    words = caption.split()
    for word in words:
        found = find_exam(word)
        if found:
            exam = found
    if exam:
        for word in words:
            matched = exam.find_domain(word)
            if matched:
                domain = matched.name
    return ImportDefaults(exam=exam.code if exam else None, domain=domain)


def problems_text(error: BankError) -> str:
    shown = [f"- {problem}" for problem in error.problems[:MAX_PROBLEMS_SHOWN]]
    more = len(error.problems) - len(shown)
    tail = [f"... and {more} more."] if more > 0 else []
    header = "Nothing was imported. Fix these and send the file again:"
    return "\n".join([header, *shown, *tail])


def import_target(event: Document) -> tuple[str, ImportLimits] | HintReply:
    """Where a file from this sender goes and under which limits, or why it is refused.

    In a group, its admins (operators too) import into that group's own pool. The shared pool
    that every chat quizzes and searches takes files from operators only, in a private chat.
    """
    if event.chat_kind is ChatKind.group:
        if not (event.is_admin or event.is_operator):
            return HintReply(text="Only admins can import questions into this group.")
        return chat_scope(event.platform, event.chat_id), GROUP_LIMITS
    if event.is_operator:
        return SHARED, OPERATOR_LIMITS
    return HintReply(
        text="Only admins can import questions. In a private chat that means the bot's "
        "operators, who add to the pool every chat shares; to quiz a group on your own "
        "questions, send the file in that group as one of its admins."
    )


def import_document(db: Session, event: Document, shipped: Bank, now: datetime) -> list[Reply]:
    """Import a bank file sent in chat. Slow for big files: adapters' cores run it off the
    event loop."""
    target = import_target(event)
    if isinstance(target, HintReply):
        return [target]
    scope, limits = target
    name = PurePath(event.filename).name or "upload"
    fmt = guess_format(PurePath(name))  # type: ignore[arg-type]
    if fmt is None:
        return [
            HintReply(
                text=f"I can't tell the format of {name}. Send .yaml, .json, .csv, .gift "
                "or an Aiken .txt file."
            )
        ]
    try:
        check_size(name, len(event.content), limits)
        text = event.content.decode("utf-8-sig")
    except ImportRefused as refused:
        return [HintReply(text=str(refused))]
    except UnicodeDecodeError:
        return [HintReply(text=f"{name} is not UTF-8 text; save it as UTF-8 and send it again.")]
    defaults = replace(
        defaults_from_caption(event.caption), id_space=scope, max_items=limits.max_items
    )
    try:
        located = parse_import(text, name, fmt, defaults)
        check_count(name, located, limits)
        summary = import_located(
            db,
            located,
            source=name,
            imported_by=f"{event.platform}:{event.user_id}",
            shipped=shipped,
            now=now,
            scope=scope,
            max_in_scope=limits.max_in_scope,
        )
    except BankError as error:
        return [HintReply(text=problems_text(error))]
    except ImportRefused as refused:
        return [HintReply(text=str(refused))]
    return [TextReply(text=summary.text())]


def report_item(
    db: Session, user: User, args: str, bank: Bank, now: datetime, scope: str = SHARED
) -> list[Reply]:
    """`/report ID reason`, or `/report reason` right after answering a question; only on
    questions this chat sees (`scope`)."""
    first, _, rest = args.strip().partition(" ")
    item = bank.get(first) if bank.visible(first, scope) else None
    reason = rest.strip() if item else args.strip()
    if item is None:
        last = db.exec(
            select(Answer.item_id)
            .where(Answer.user_id == user.id)
            .order_by(col(Answer.answered_at).desc(), col(Answer.id).desc())
        ).first()
        item = bank.get(last) if last and bank.visible(last, scope) else None
    if item is None:
        example = "/report dva-sec-001 the key looks wrong"
        return [HintReply(text=f"Which question? Use /report ID what is wrong, e.g. {example}.")]
    if len(reason) < 3:
        return [HintReply(text=f"Tell me what is wrong with {item.id}: /report {item.id} REASON")]
    assert user.id is not None
    db.add(
        Report(
            item_id=item.id,
            item_version=item.version,
            user_id=user.id,
            reason=reason[:MAX_REASON],
            created_at=now,
        )
    )
    db.commit()
    return [TextReply(text=f"Thanks! Your report on {item.id} is saved for the maintainers.")]
