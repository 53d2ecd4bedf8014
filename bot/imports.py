"""Storing imported questions: all or nothing, idempotent, with a version history.

Re-importing an unchanged file changes nothing; an item whose content changed gets the next
version, and its previous version moves to `item_history` so earlier answers keep their meaning.
Each item lands in a scope: the shared pool (operators) or the chat it was sent in (group
admins); an id belongs to one scope for good.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, func, select

from bot.storage.models import Chat, ImportedItem, ItemHistory
from knowledge.bank import SHARED, Bank
from knowledge.duplicates import matches_against
from knowledge.importers import ImportRefused
from knowledge.loader import BankError, BankProblem, Located
from knowledge.schema import Item

ID_CHUNK = 500
SHARED_TEXT = "They are in the shared pool now: every chat is quizzed on them."
SCOPED_TEXT = "They are in this group's quiz pool now; no other chat sees them."


def chat_scope(platform: str, chat_id: str) -> str:
    """The scope of one chat's own imports: the platform and the platform's chat id."""
    return f"{platform}:{chat_id}"


def scope_of_chat(chat: Chat) -> str:
    return chat_scope(chat.platform, chat.platform_chat_id)


@dataclass(frozen=True)
class ImportLimits:
    """How much one import may bring, checked before anything is written."""

    max_bytes: int
    max_items: int  # questions in one file
    max_in_scope: int | None = None  # questions one chat may hold in all; None: no cap


# A group admin is anyone who made a group; an operator is configured by whoever runs the bot.
GROUP_LIMITS = ImportLimits(max_bytes=2_000_000, max_items=2_000, max_in_scope=5_000)
OPERATOR_LIMITS = ImportLimits(max_bytes=2_000_000, max_items=25_000)  # a file sent in chat
TERMINAL_LIMITS = ImportLimits(max_bytes=20_000_000, max_items=25_000)  # `studybot bank import`


def megabytes(count: int) -> str:
    return f"{count / 1_000_000:g} MB"


def check_size(name: str, size: int, limits: ImportLimits) -> None:
    if size > limits.max_bytes:
        raise ImportRefused(
            f"{name} is too large; split it into files under {megabytes(limits.max_bytes)}."
        )


def check_count(name: str, located: Sequence[Located], limits: ImportLimits) -> None:
    if len(located) > limits.max_items:
        raise ImportRefused(
            f"{name} has {len(located)} questions; one file may have at most "
            f"{limits.max_items}. Nothing was imported: split it into smaller files."
        )


@dataclass
class ImportSummary:
    source: str
    scope: str = SHARED
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def text(self) -> str:
        total = len(self.added) + len(self.updated) + len(self.unchanged)
        where = SHARED_TEXT if self.scope == SHARED else SCOPED_TEXT
        return (
            f"Imported {self.source}: {total} questions ({len(self.added)} new, "
            f"{len(self.updated)} updated, {len(self.unchanged)} unchanged). {where}"
        )


def content_hash(item: Item) -> str:
    return hashlib.sha256(item.model_dump_json(exclude={"version"}).encode()).hexdigest()


def _item_of(row: ImportedItem) -> Item:
    return Item.model_validate({**row.data, "version": row.version}, context={"complete": False})


def imported_items(db: Session) -> list[Item]:
    """Every imported item, whatever its scope (maintainers' listings)."""
    rows = db.exec(select(ImportedItem).order_by(ImportedItem.id)).all()
    return [_item_of(row) for row in rows]


def imported_bank(db: Session, shipped: Bank) -> Bank:
    """The shipped items plus every imported one, each in its scope."""
    rows = db.exec(select(ImportedItem).order_by(ImportedItem.id)).all()
    return shipped.with_imported([_item_of(row) for row in rows], {r.id: r.scope for r in rows})


def imports_stamp(db: Session) -> tuple[int, int]:
    """Changes whenever an import adds or updates anything (every update bumps a version)."""
    count, versions = db.exec(select(func.count(), func.sum(ImportedItem.version))).one()
    return int(count), int(versions or 0)


def _conflicts(
    located: Sequence[Located],
    shipped: Bank,
    owners: Mapping[str, str],
    visible: Sequence[tuple[str, str]],
    scope: str,
) -> list[BankProblem]:
    """Ids taken by our banks or by another chat's imports (`owners`: id to scope), and
    near-duplicates of the questions this chat sees (`visible`: imported ids and questions).
    Another chat's questions are never named or compared."""
    problems: list[BankProblem] = []
    ours = [(i.id, i.question) for i in shipped.items() if i.id in shipped.shipped_ids]
    pool = [*ours, *visible]
    matches = matches_against([entry.item.question for entry in located], [q for _, q in pool])
    for entry, found in zip(located, matches, strict=True):
        item_id = entry.item.id
        if item_id in shipped.shipped_ids:
            message = f"{item_id!r} is the id of a shipped item; choose another"
            problems.append(BankProblem(entry.file, entry.line, "id", message))
            continue
        if owners.get(item_id, scope) != scope:
            message = f"{item_id!r} is already taken; choose another id"
            problems.append(BankProblem(entry.file, entry.line, "id", message))
            continue
        for position, share in found:
            other_id = pool[position][0]
            if other_id != item_id:
                message = (
                    f"near-duplicate of {other_id}, already in the pool "
                    f"({share:.0%} of the words are shared)"
                )
                problems.append(BankProblem(entry.file, entry.line, "question", message))
                break
    return problems


def _rows_with_ids(db: Session, ids: Sequence[str]) -> dict[str, ImportedItem]:
    """The stored rows of these ids, whatever their scope (in chunks: databases cap IN lists)."""
    found: dict[str, ImportedItem] = {}
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        for row in db.exec(select(ImportedItem).where(col(ImportedItem.id).in_(chunk))).all():
            found[row.id] = row
    return found


def _visible_questions(db: Session, scope: str) -> list[tuple[str, str]]:
    """(id, question) of every imported item a chat with `scope` sees."""
    query = select(ImportedItem.id, ImportedItem.data).where(
        col(ImportedItem.scope).in_({SHARED, scope})
    )
    return [(item_id, str(data.get("question", ""))) for item_id, data in db.exec(query).all()]


def _check_room(
    db: Session,
    located: Sequence[Located],
    known: Mapping[str, ImportedItem],
    scope: str,
    cap: int | None,
) -> None:
    """A chat may hold at most `cap` imported questions in all."""
    if cap is None:
        return
    held = db.exec(select(func.count()).where(ImportedItem.scope == scope)).one()
    new = sum(entry.item.id not in known for entry in located)
    if held + new > cap:
        raise ImportRefused(
            f"This chat already has {held} imported questions and this file would add {new}; "
            f"a chat may have at most {cap} questions in all. Nothing was imported."
        )


def import_located(
    db: Session,
    located: Sequence[Located],
    *,
    source: str,
    imported_by: str,
    shipped: Bank,
    now: datetime,
    scope: str = SHARED,
    max_in_scope: int | None = None,
) -> ImportSummary:
    """Write every item into `scope`, or none: raise BankError (every conflict listed) or
    ImportRefused (over the chat's cap), with nothing written."""
    existing_rows = _rows_with_ids(db, [entry.item.id for entry in located])
    owners = {item_id: row.scope for item_id, row in existing_rows.items()}
    problems = _conflicts(located, shipped, owners, _visible_questions(db, scope), scope)
    if problems:
        raise BankError(problems)
    _check_room(db, located, existing_rows, scope, max_in_scope)
    summary = ImportSummary(source=source, scope=scope)
    try:
        for entry in located:
            item = entry.item
            digest = content_hash(item)
            row = existing_rows.get(item.id)
            if row is None:
                db.add(_new_row(item, digest, source, imported_by, now, scope))
                summary.added.append(item.id)
            elif row.content_hash == digest:
                summary.unchanged.append(item.id)
            else:
                history = ItemHistory(
                    item_id=row.id, version=row.version, data=row.data, replaced_at=now
                )
                db.add(history)
                row.version += 1
                row.data = item.model_dump(mode="json", exclude={"version"})
                row.exam, row.domain, row.content_hash = item.exam, item.domain, digest
                row.source, row.imported_by, row.updated_at = source, imported_by, now
                db.add(row)
                summary.updated.append(item.id)
        db.commit()
    except Exception:
        db.rollback()
        raise
    return summary


def _new_row(
    item: Item, digest: str, source: str, imported_by: str, now: datetime, scope: str
) -> ImportedItem:
    return ImportedItem(
        id=item.id,
        scope=scope,
        version=1,
        exam=item.exam,
        domain=item.domain,
        source=source,
        content_hash=digest,
        data=item.model_dump(mode="json", exclude={"version"}),
        imported_by=imported_by,
        imported_at=now,
        updated_at=now,
    )
