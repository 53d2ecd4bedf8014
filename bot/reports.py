"""Read-only views for maintainers: bank counts and students' reports."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from bot.storage.models import Report, User
from knowledge.bank import Bank
from knowledge.catalog import EXAMS
from knowledge.reviews import oldest
from knowledge.schema import Item


def bank_summary(bank: Bank, notes: int, imported: Sequence[Item] = ()) -> dict[str, Any]:
    """The shape `studybot bank list --json` prints."""
    imported_ids = {item.id for item in imported}
    exams: dict[str, Any] = {}
    for code, exam in EXAMS.items():
        items = bank.select(code)
        per_domain = Counter(item.domain for item in items)
        exams[code] = {
            "items": len(items),
            "choose_n": sum(item.choose > 1 for item in items),
            "imported": sum(item.id in imported_ids for item in items),
            "domains": {name: per_domain[name] for name in exam.domain_names()},
            "oldest_review": oldest(item.reviewed for item in items),
        }
    return {"exams": exams, "notes": notes}


def list_reports(db: Session) -> list[dict[str, Any]]:
    rows = db.exec(
        select(Report, User)
        .join(User)
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
    ).all()
    return [
        {
            "id": report.id,
            "item_id": report.item_id,
            "item_version": report.item_version,
            "reason": report.reason,
            "reporter": f"{user.platform}:{user.display_name or user.platform_user_id}",
            "created_at": report.created_at.isoformat(timespec="seconds"),
        }
        for report, user in rows
    ]
