"""The database handle: one engine, schema managed by alembic migrations only."""

from __future__ import annotations

import fcntl
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATE_LOCK = 0x57D7B07  # any fixed number: the advisory lock every studybot process agrees on
REVISION_LINE = re.compile(
    r"^(down_revision|revision)(?:: [^=\n]+)? = (None|[\"']([^\"']+)[\"'])\s*$", re.MULTILINE
)


def newest_revision() -> str | None:
    """The single head of our migrations, read from their files without importing alembic
    (a fifth of a second); None when it cannot be told simply (a merge, a branch)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((m[1], m[3]) for m in REVISION_LINE.finditer(script.read_text("utf-8")))
        if not found.get("revision") or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        parents.add(found["down_revision"] or "")
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers and one writer across processes
    # With WAL, NORMAL syncs at checkpoints instead of at every commit: still no corruption, and
    # a commit costs microseconds instead of an fsync (about 5 ms here). A power cut (not a
    # crash of the bot) may lose the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows (/forget) are overwritten, not left
    cursor.close()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(url, connect_args={"timeout": 15})
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(url, pool_pre_ping=True)

    def migrate(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        if self.at_head():
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._migration_lock(), self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":  # held until this transaction ends
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK}
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """One migrating process at a time: bot processes started together on an empty
        database would otherwise create the same tables at once, and all but one fail.
        PostgreSQL takes an advisory lock in the migration's transaction; a SQLite file
        (one machine by nature) is guarded by an exclusive lock on a file beside it."""
        if not self.url.startswith("sqlite:///"):
            yield
            return
        lock_path = Path(self.url.removeprefix("sqlite:///") + ".migrate-lock")
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def at_head(self) -> bool:
        """Whether the schema is already at the newest migration, by one plain query."""
        head = newest_revision()
        try:
            with self.engine.connect() as connection:
                rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        except SQLAlchemyError:  # no table yet: a new database
            return False
        return head is not None and [row[0] for row in rows] == [head]

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()
