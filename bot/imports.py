"""Storing imported questions: all or nothing, idempotent, with a version history.

Re-importing an unchanged file changes nothing; an item whose content changed gets the next
version, and its previous version moves to `item_history` so earlier answers keep their meaning.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, func, select

from bot.storage.models import ImportedItem, ItemHistory
from knowledge.bank import Bank
from knowledge.loader import NEAR_DUPLICATE, BankError, BankProblem, Located, overlap
from knowledge.schema import Item


@dataclass
class ImportSummary:
    source: str
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def text(self) -> str:
        total = len(self.added) + len(self.updated) + len(self.unchanged)
        return (
            f"Imported {self.source}: {total} questions ({len(self.added)} new, "
            f"{len(self.updated)} updated, {len(self.unchanged)} unchanged). "
            "They are in the quiz pool now."
        )


def content_hash(item: Item) -> str:
    return hashlib.sha256(item.model_dump_json(exclude={"version"}).encode()).hexdigest()


def imported_items(db: Session) -> list[Item]:
    rows = db.exec(select(ImportedItem).order_by(ImportedItem.id)).all()
    return [
        Item.model_validate({**row.data, "version": row.version}, context={"complete": False})
        for row in rows
    ]


def imports_stamp(db: Session) -> tuple[int, int]:
    """Changes whenever an import adds or updates anything (every update bumps a version)."""
    count, versions = db.exec(select(func.count(), func.sum(ImportedItem.version))).one()
    return int(count), int(versions or 0)


def _conflicts(
    located: Sequence[Located], shipped: Bank, existing: Sequence[Item]
) -> list[BankProblem]:
    """Ids taken by our own banks, and near-duplicates of questions already in the pool."""
    problems = []
    pool = [item for item in shipped.items() if item.id in shipped.shipped_ids]
    pool += list(existing)
    for entry in located:
        if entry.item.id in shipped.shipped_ids:
            message = f"{entry.item.id!r} is the id of a shipped item; choose another"
            problems.append(BankProblem(entry.file, entry.line, "id", message))
            continue
        for other in pool:
            share = overlap(entry.item.question, other.question) if other.id != entry.item.id else 0
            if share >= NEAR_DUPLICATE:
                message = (
                    f"near-duplicate of {other.id}, already in the pool "
                    f"({share:.0%} of the words are shared)"
                )
                problems.append(BankProblem(entry.file, entry.line, "question", message))
                break
    return problems


def import_located(
    db: Session,
    located: Sequence[Located],
    *,
    source: str,
    imported_by: str,
    shipped: Bank,
    now: datetime,
) -> ImportSummary:
    """Write every item or none; raise BankError (nothing written) on any conflict."""
    existing_rows = {row.id: row for row in db.exec(select(ImportedItem)).all()}
    others = [
        Item.model_validate({**row.data, "version": row.version}, context={"complete": False})
        for row in existing_rows.values()
    ]
    problems = _conflicts(located, shipped, others)
    if problems:
        raise BankError(problems)
    summary = ImportSummary(source=source)
    try:
        for entry in located:
            item = entry.item
            digest = content_hash(item)
            row = existing_rows.get(item.id)
            if row is None:
                db.add(_new_row(item, digest, source, imported_by, now))
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


def _new_row(item: Item, digest: str, source: str, imported_by: str, now: datetime) -> ImportedItem:
    return ImportedItem(
        id=item.id,
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
