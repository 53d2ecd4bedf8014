"""The dense index in chromadb: incremental by content hash, tied to one embedder.

Vectors are computed here and handed to chromadb (no chromadb embedding function), so nothing
is ever downloaded and the collection does not remember a model path.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.bank import SHARED
from knowledge.embeddings import Embedder
from knowledge.heavy import HEAVY_IMPORTS
from knowledge.passages import Passage

COLLECTION = "studybot-passages"
BATCH = 256

SyncProgress = Callable[[int, int], None]


@dataclass
class SyncReport:
    embedded: int
    removed: int
    unchanged: int
    rebuilt_because: str | None = None


def open_client(path: Path | None = None, host: str | None = None, port: int | None = None):  # type: ignore[no-untyped-def]
    with HEAVY_IMPORTS:  # half a second and more: only once the index is opened
        import chromadb
        from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False)
    if host:
        return chromadb.HttpClient(host=host, port=port or 8000, settings=settings)
    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def exam_key(exam: str) -> str:
    return "exam_" + exam.replace("-", "_")


class VectorIndex:
    def __init__(self, client, embedder: Embedder, name: str = COLLECTION) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.embedder = embedder
        self.name = name
        self.collection = self._collection()

    def _collection(self):  # type: ignore[no-untyped-def]
        return self.client.get_or_create_collection(
            self.name,
            embedding_function=None,
            metadata={"embedder": self.embedder.identity, "hnsw:space": "cosine"},
        )

    def stored_embedder(self) -> str | None:
        return (self.collection.metadata or {}).get("embedder")

    def stored_manifest(self) -> str | None:
        return (self.collection.metadata or {}).get("manifest")

    def _label(self, manifest: str | None) -> None:
        """Record which passages the collection holds (None while it is being changed, so an
        interrupted sync is never mistaken for a finished one)."""
        metadata = {"embedder": self.embedder.identity}
        if manifest:
            metadata["manifest"] = manifest
        self.collection.modify(metadata=metadata)

    def sync(self, passages: Sequence[Passage], progress: SyncProgress | None = None) -> SyncReport:
        """Embed new and changed passages only; drop removed ones; rebuild on a new embedder.

        When the manifest (a hash of every passage's id and stored labels) matches the one kept
        in the collection's metadata, nothing is read: checking an index that is up to date
        costs one small request instead of reading every row.
        """
        rebuilt = None
        stored = self.stored_embedder()
        if stored != self.embedder.identity:
            rebuilt = f"the index was built with {stored}, now {self.embedder.identity}"
            self.client.delete_collection(self.name)
            self.collection = self._collection()
        manifest = manifest_of(passages)
        wanted = {p.id: p for p in passages}
        if self.stored_manifest() == manifest and self.collection.count() == len(wanted):
            return SyncReport(0, 0, len(passages), rebuilt)
        report = self._sync_rows(passages, wanted, progress)
        self._label(manifest)
        return SyncReport(report.embedded, report.removed, report.unchanged, rebuilt)

    def _sync_rows(
        self,
        passages: Sequence[Passage],
        wanted: dict[str, Passage],
        progress: SyncProgress | None,
    ) -> SyncReport:
        """Compare every stored row's hash with the passages, and change what differs."""
        existing = self.collection.get(include=["metadatas"])
        stored = {
            i: dict(m or {})
            for i, m in zip(existing["ids"], existing["metadatas"] or [], strict=False)
        }
        have = {i: m.get("hash") for i, m in stored.items()}
        stale = [i for i in have if i not in wanted]
        todo = [p for p in passages if have.get(p.id) != p.content_hash]
        # Same text, other labels (an index built before scopes): relabel, embed nothing.
        relabel = [
            p for p in passages if have.get(p.id) == p.content_hash and stored[p.id] != _metadata(p)
        ]
        if stale or todo or relabel:
            self._label(None)
        for start in range(0, len(relabel), BATCH):
            batch = relabel[start : start + BATCH]
            self.collection.update(
                ids=[p.id for p in batch], metadatas=[_metadata(p) for p in batch]
            )
        for start in range(0, len(stale), BATCH):
            self.collection.delete(ids=stale[start : start + BATCH])
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            vectors = self.embedder.embed([p.searchable for p in batch])
            self.collection.upsert(
                ids=[p.id for p in batch],
                embeddings=vectors,
                metadatas=[_metadata(p) for p in batch],
            )
            if progress:
                progress(min(start + BATCH, len(todo)), len(todo))
        return SyncReport(len(todo), len(stale), len(passages) - len(todo))

    def count(self) -> int:
        return self.collection.count()

    def nearest(self, vector: Sequence[float], k: int) -> list[tuple[str, float]]:
        """(passage id, cosine similarity) of the k nearest passages, whoever may see them:
        no metadata filter, which chromadb answers in a millisecond or two at any size."""
        result = self.collection.query(
            query_embeddings=[list(vector)], n_results=k, include=["distances"]
        )
        return [
            (pid, 1.0 - float(distance))
            for pid, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]

    def search(
        self, vector: Sequence[float], k: int, exam: str | None = None, scope: str = SHARED
    ) -> list[tuple[str, float]]:
        """(passage id, cosine similarity) best first, among the passages a chat with `scope`
        sees (shared ones and its own) and, when given, of `exam`."""
        scopes = [SHARED] if scope == SHARED else [SHARED, scope]
        clauses: list[dict[str, Any]] = [{"scope": {"$in": scopes}}]
        if exam:
            clauses.append({exam_key(exam): True})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        result = self.collection.query(
            query_embeddings=[list(vector)],
            n_results=k,  # chromadb returns fewer when fewer match
            where=where,
            include=["distances"],
        )
        return [
            (pid, 1.0 - float(distance))
            for pid, distance in zip(result["ids"][0], result["distances"][0], strict=True)
        ]


def manifest_of(passages: Sequence[Passage]) -> str:
    """One hash of every passage's id and what the index stores for it (content hash, labels)."""
    digest = hashlib.sha256()
    for passage in sorted(passages, key=lambda p: p.id):
        digest.update(json.dumps([passage.id, _metadata(passage)], sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _metadata(passage: Passage) -> dict[str, str | bool]:
    meta: dict[str, str | bool] = {
        "hash": passage.content_hash,
        "source_id": passage.source_id,
        "title": passage.title[:200],
        "kind": passage.kind,
        "domain": passage.domain,
        "scope": passage.scope,
    }
    for exam in passage.exams:
        meta[exam_key(exam)] = True
    return meta
