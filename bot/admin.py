"""Admin and maintenance actions reachable from chat: importing a bank file, reporting an item."""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePath

from sqlmodel import Session, col, select

from bot.imports import import_located
from bot.storage.models import Answer, Report, User
from bot.types import Document, HintReply, Reply, TextReply
from knowledge.bank import Bank
from knowledge.catalog import find_exam
from knowledge.importers import ImportDefaults, guess_format, parse_import
from knowledge.loader import BankError

MAX_IMPORT_BYTES = 2_000_000
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


def import_document(db: Session, event: Document, shipped: Bank, now: datetime) -> list[Reply]:
    if not event.is_admin:
        return [HintReply(text="Only admins can import questions into this chat's bot.")]
    name = PurePath(event.filename).name or "upload"
    fmt = guess_format(PurePath(name))  # type: ignore[arg-type]
    if fmt is None:
        return [
            HintReply(
                text=f"I can't tell the format of {name}. Send .yaml, .json, .csv, .gift "
                "or an Aiken .txt file."
            )
        ]
    if len(event.content) > MAX_IMPORT_BYTES:
        return [HintReply(text=f"{name} is too large; split it into files under 2 MB.")]
    try:
        text = event.content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [HintReply(text=f"{name} is not UTF-8 text; save it as UTF-8 and send it again.")]
    try:
        located = parse_import(text, name, fmt, defaults_from_caption(event.caption))
        summary = import_located(
            db,
            located,
            source=name,
            imported_by=f"{event.platform}:{event.user_id}",
            shipped=shipped,
            now=now,
        )
    except BankError as error:
        return [HintReply(text=problems_text(error))]
    return [TextReply(text=summary.text())]


def report_item(db: Session, user: User, args: str, bank: Bank, now: datetime) -> list[Reply]:
    """`/report ID reason`, or `/report reason` right after answering a question."""
    first, _, rest = args.strip().partition(" ")
    item = bank.get(first)
    reason = rest.strip() if item else args.strip()
    if item is None:
        last = db.exec(
            select(Answer.item_id)
            .where(Answer.user_id == user.id)
            .order_by(col(Answer.answered_at).desc(), col(Answer.id).desc())
        ).first()
        item = bank.get(last) if last else None
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
