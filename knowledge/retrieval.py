"""Hybrid retrieval: dense (chromadb) and lexical (bm25s) rankings fused by reciprocal rank.

RRF needs no score calibration between the two retrievers: each contributes 1/(K + rank).
A `focus` source (the question the student just answered) puts that item's passages first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from knowledge.bank import SHARED
from knowledge.embeddings import Embedder
from knowledge.heavy import HEAVY_IMPORTS
from knowledge.passages import Passage
from knowledge.vector_index import VectorIndex

RRF_K = 60
CANDIDATES = 30
# Dense search asks chromadb unfiltered when at least this share of passages is visible,
# for SPARE more than it needs (passages another process indexed, hidden ones).
UNFILTERED_SHARE = 0.25
SPARE = 10


class RetrievalMode(StrEnum):
    hybrid = "hybrid"
    dense = "dense"
    lexical = "lexical"


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float
    dense: float | None = None  # cosine similarity, when the dense retriever found it
    lexical: float | None = None  # BM25 score, when the lexical retriever found it


class Retriever:
    def __init__(
        self,
        passages: Sequence[Passage],
        vectors: VectorIndex | None = None,
        embedder: Embedder | None = None,
    ) -> None:
        self.passages = list(passages)
        self.by_id = {p.id: p for p in self.passages}
        self.by_source: dict[str, list[Passage]] = {}
        for passage in self.passages:
            self.by_source.setdefault(passage.source_id, []).append(passage)
        with HEAVY_IMPORTS:  # bm25s and numpy: not on the chat's start
            from knowledge.lexical import LexicalIndex

        self.lexical = LexicalIndex(self.passages)
        self.vectors = vectors
        self.embedder = embedder
        self._shares: dict[tuple[str | None, str], float] = {}

    def _visible(self, pid: str, exam: str | None, scope: str) -> bool:
        passage = self.by_id.get(pid)
        return (
            passage is not None
            and passage.scope in (SHARED, scope)
            and (exam is None or exam in passage.exams)
        )

    def _visible_share(self, exam: str | None, scope: str) -> float:
        """The share of the passages a chat with `scope` sees (of `exam`, when given)."""
        key = (exam, scope)
        if key not in self._shares:
            seen = sum(self._visible(p.id, exam, scope) for p in self.passages)
            self._shares[key] = seen / len(self.passages) if self.passages else 0.0
        return self._shares[key]

    def _dense(self, vector: list[float], exam: str | None, scope: str) -> list[tuple[str, float]]:
        """The CANDIDATES nearest passages this chat may see. chromadb's metadata filter costs
        tens to hundreds of milliseconds on a large collection, so when most passages are
        visible the nearest are asked unfiltered (a few more than needed) and filtered here;
        the filter is used only when few are visible or too few of those came back."""
        assert self.vectors is not None
        share = self._visible_share(exam, scope)
        if share >= UNFILTERED_SHARE:
            wanted = min(len(self.passages), math.ceil(CANDIDATES / share)) + SPARE
            nearest = self.vectors.nearest(vector, wanted)
            found = [(pid, s) for pid, s in nearest if self._visible(pid, exam, scope)]
            if len(found) >= CANDIDATES or len(nearest) < wanted:
                return found[:CANDIDATES]
        found = self.vectors.search(vector, CANDIDATES, exam, scope)
        return [(pid, s) for pid, s in found if pid in self.by_id]

    def search(
        self,
        query: str,
        k: int = 6,
        exam: str | None = None,
        focus: str | None = None,
        mode: RetrievalMode = RetrievalMode.hybrid,
        exclude: str | None = None,
        scope: str = SHARED,
    ) -> list[Hit]:
        """The k best passages a chat with `scope` sees (shipped, shared and its own imports).
        `exclude` hides one source (a question still unanswered)."""
        fused: dict[str, float] = {}
        dense_scores: dict[str, float] = {}
        lexical_scores: dict[str, float] = {}
        if (
            mode is not RetrievalMode.lexical
            and self.vectors is not None
            and self.embedder is not None
        ):
            vector = self.embedder.embed([query])[0]
            for rank, (pid, similarity) in enumerate(self._dense(vector, exam, scope)):
                dense_scores[pid] = similarity
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        if mode is not RetrievalMode.dense:
            found = self.lexical.search(query, CANDIDATES, scope, exam)
            for rank, (index, score) in enumerate(found):
                pid = self.passages[index].id
                lexical_scores[pid] = score
                fused[pid] = fused.get(pid, 0.0) + 1.0 / (RRF_K + rank + 1)
        visible = {SHARED, scope}
        fused = {
            pid: v
            for pid, v in fused.items()
            if self.by_id[pid].source_id != exclude and self.by_id[pid].scope in visible
        }
        order = sorted(fused, key=lambda pid: fused[pid], reverse=True)
        if focus:
            own = [p.id for p in self.by_source.get(focus, ()) if p.scope in visible]
            ranked_own = [pid for pid in order if pid in own] + [
                pid for pid in own if pid not in fused
            ]
            order = ranked_own[:3] + [pid for pid in order if pid not in ranked_own[:3]]
        return [
            Hit(
                passage=self.by_id[pid],
                score=fused.get(pid, 0.0),
                dense=dense_scores.get(pid),
                lexical=lexical_scores.get(pid),
            )
            for pid in order[:k]
        ]
