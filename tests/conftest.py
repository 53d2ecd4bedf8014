"""Fixtures: a real database (SQLite file, and PostgreSQL when the run provides one), the
test bank, and a core with a controllable clock."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bot.clock import ManualClock
from bot.core import Core
from bot.storage.database import Database
from bot.study import StudyIndex
from knowledge.bank import Bank
from knowledge.embeddings import MiniLMEmbedder
from knowledge.notes import Note, load_notes
from knowledge.vector_index import open_client

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get("STUDYBOT_TEST_POSTGRES_URL")


@pytest.fixture(scope="session", autouse=True)
def interruptible_children() -> None:
    """Tests stop `studybot run ...` with SIGINT, as Ctrl+C does. A test run started in the
    background by a non-interactive shell ignores SIGINT, and the bots it starts would inherit
    that and never stop; with a handler here, they start with the default."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _postgres_database() -> Iterator[str]:
    assert POSTGRES_URL
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'studybot.sqlite3'}"
        return
    if not POSTGRES_URL:
        pytest.skip("STUDYBOT_TEST_POSTGRES_URL is not set (.ci/run sets it)")
    yield from _postgres_database()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def bank() -> Bank:
    return Bank.load([FIXTURES / "bank"])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def notes() -> list[Note]:
    return load_notes(FIXTURES / "notes")


@pytest.fixture
def study(notes: list[Note]) -> StudyIndex:
    """Lexical retrieval only: fast, and enough for the conversation tests."""
    return StudyIndex(notes)


@pytest.fixture(scope="session")
def dense_study(notes: list[Note], tmp_path_factory: pytest.TempPathFactory) -> StudyIndex:
    """The real offline embedder (bundled MiniLM) and a real chromadb on disk, built once."""
    path = tmp_path_factory.mktemp("chroma")
    return StudyIndex(notes, MiniLMEmbedder(), lambda: open_client(path))


@pytest.fixture
def core(database: Database, bank: Bank, clock: ManualClock, study: StudyIndex) -> Core:
    return Core(database, bank, clock=clock, seed=7, study=study)
