"""The study index as the core uses it: passages kept in step with the bank, built lazily.

Building embeds every passage once (about a minute for the shipped corpus on two cores); after
that only new or changed passages are embedded, so imports and edits cost seconds.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from bot.config import Settings
from knowledge.answering import Answerer
from knowledge.bank import Bank
from knowledge.embeddings import Embedder, MiniLMEmbedder, OpenAIEmbedder
from knowledge.notes import Note
from knowledge.passages import build_passages
from knowledge.retrieval import Retriever
from knowledge.vector_index import SyncProgress, SyncReport, VectorIndex, open_client

log = logging.getLogger(__name__)


class StudyIndex:
    def __init__(
        self,
        notes: Sequence[Note],
        embedder: Embedder | None = None,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.notes = list(notes)
        self.embedder = embedder
        self.client_factory = client_factory
        self._vectors: VectorIndex | None = None
        self._answerer: Answerer | None = None
        self._key: str | None = None
        self._lock = threading.Lock()
        self.last_sync: SyncReport | None = None

    @staticmethod
    def _bank_key(bank: Bank) -> str:
        ids = "|".join(f"{i.id}:{i.version}:{bank.scope_of(i.id)}" for i in bank.items())
        return hashlib.sha256(ids.encode()).hexdigest()

    def ready(self, bank: Bank) -> bool:
        """Whether a question about this bank is answered without building the index first."""
        return self._answerer is not None and self._key == self._bank_key(bank)

    def ensure(
        self, bank: Bank, progress: SyncProgress | None = None
    ) -> tuple[Answerer, str | None]:
        """The answerer for this bank, and a message when a build or rebuild just happened.

        Without an embedder (or when the vector store fails) retrieval is lexical only.
        """
        with self._lock:
            key = self._bank_key(bank)
            if self._answerer is not None and key == self._key:
                return self._answerer, None
            passages = build_passages(bank.items(), self.notes, bank.scope_of)
            message = None
            if self.embedder is not None and self.client_factory is not None:
                try:
                    if self._vectors is None:
                        self._vectors = VectorIndex(self.client_factory(), self.embedder)
                    report = self._vectors.sync(passages, progress)
                    self.last_sync = report
                    if report.rebuilt_because:
                        message = f"Rebuilt the study index: {report.rebuilt_because}."
                    elif report.embedded > 50:
                        message = f"Built the study index ({report.embedded} passages)."
                except Exception:
                    log.exception("vector index unavailable; answering with lexical search only")
                    self._vectors = None
                    message = "The vector index is unavailable; answers use keyword search only."
            retriever = Retriever(passages, self._vectors, self.embedder if self._vectors else None)
            self._answerer = Answerer(retriever)
            self._key = key
            return self._answerer, message

    def load_model_in_background(self) -> None:
        """Start loading the embedding model now, while the index is checked and the keyword
        index built; for callers that will ask a question next (`warm`, `studybot ask`)."""
        start = getattr(self.embedder, "load_in_background", None)
        if start is not None and self.client_factory is not None:
            start()

    def warm(self, bank: Bank) -> None:
        """Load the model, open the index and build the answerer ahead of the first follow-up,
        so that it is answered at once. Meant for a background daemon thread while the student
        reads a question: `ensure` from another thread waits on the same lock. Never raises;
        a failure here is logged and the first follow-up tries again."""
        try:
            self.load_model_in_background()
            answerer, _ = self.ensure(bank)
            # One query loads the model and chromadb's graph: the first question pays neither.
            answerer.retrieve("warm up")
        except Exception:
            log.exception("warming the study index failed; the first follow-up will retry")


def build_study_index(settings: Settings, notes: Sequence[Note]) -> StudyIndex:
    """From the settings: which embedder, and a local or remote Chroma."""
    mode = settings.embeddings.lower()
    embedder: Embedder | None
    if mode == "none":
        embedder = None
    elif mode == "openai":
        embedder = OpenAIEmbedder(
            settings.embedding_model,
            settings.openai_api_key,
            settings.openai_base_url,
            settings.llm_timeout,
        )
    else:
        embedder = MiniLMEmbedder()
    host, port, path = settings.chroma_host, settings.chroma_port, settings.data_dir / "chroma"
    return StudyIndex(notes, embedder, lambda: open_client(path, host, port))
