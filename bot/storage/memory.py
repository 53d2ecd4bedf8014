"""Adapter memory: small facts an adapter keeps across restarts, in the core's database.

Telegram, for one, must know which chat and question a poll belongs to, because a poll answer
arrives without its chat. Keys are per platform, so adapters cannot read each other's facts.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from bot.clock import Clock
from bot.storage.database import Database
from bot.storage.models import AdapterState


class AdapterMemory:
    """Key-value facts per platform, each read and written in its own short session."""

    def __init__(self, database: Database, clock: Clock) -> None:
        self.database = database
        self.clock = clock

    def remember(self, platform: str, key: str, value: dict[str, Any]) -> None:
        """Keep `value` under (`platform`, `key`), replacing what was there."""
        with self.database.session() as db:
            row = _row(db, platform, key)
            row = row or AdapterState(platform=platform, key=key, created_at=self.clock())
            row.value = value
            db.add(row)
            db.commit()

    def recall(self, platform: str, key: str) -> dict[str, Any] | None:
        """What was kept under (`platform`, `key`), or None."""
        with self.database.session() as db:
            row = _row(db, platform, key)
            return dict(row.value) if row else None


def _row(db: Session, platform: str, key: str) -> AdapterState | None:
    return db.exec(
        select(AdapterState).where(AdapterState.platform == platform, AdapterState.key == key)
    ).first()
