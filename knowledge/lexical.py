"""Lexical retrieval with bm25s: exact service names and terms ("SQS FIFO", "jitter") match
well here even when embeddings blur them."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer

from knowledge.bank import SHARED
from knowledge.passages import Passage

_STEMMER = Stemmer.Stemmer("english")
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


def _tokens(texts: Sequence[str]):  # type: ignore[no-untyped-def]
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, show_progress=False)


class LexicalIndex:
    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self._bm25 = bm25s.BM25()
        self._bm25.index(_tokens([p.searchable for p in self.passages]), show_progress=False)
        self._scopes = np.array([p.scope for p in self.passages], dtype=object)
        self._scoped = bool((self._scopes != SHARED).any()) if self.passages else False

    def _mask(self, scope: str) -> np.ndarray | None:
        """1.0 for the passages a chat with `scope` sees, 0.0 for other groups' own."""
        if not self._scoped:
            return None
        return np.isin(self._scopes, [SHARED, scope]).astype(np.float32)

    def search(self, query: str, k: int = 20, scope: str = SHARED) -> list[tuple[int, float]]:
        """(passage index, BM25 score) best first among the passages `scope` sees; empty when
        no query term is in them."""
        tokens = _tokens([query])
        if not tokens.ids or not tokens.ids[0]:
            return []
        k = min(k, len(self.passages))
        indices, scores = self._bm25.retrieve(
            tokens, k=k, show_progress=False, weight_mask=self._mask(scope)
        )
        return [
            (int(index), float(score))
            for index, score in zip(indices[0], scores[0], strict=True)
            if score > 0
        ]
