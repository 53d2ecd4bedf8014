"""Lexical retrieval with BM25: exact service names and terms ("SQS FIFO", "jitter") match well
here even when embeddings blur them.

bm25s builds the index (its BM25 scores per term and passage, the same as before); queries are
scored here from that matrix, because bm25s's own query path costs several milliseconds at 100k
passages (a tokeniser object per query, a weight mask and a full sort over every passage).
Hiding other groups' passages and other exams' costs only the passages hidden.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from knowledge.bank import SHARED
from knowledge.passages import Passage

_STEMMER = Stemmer.Stemmer("english")
_WORDS = re.compile(r"(?u)\b\w\w+\b")  # bm25s's default token pattern
_STOPWORDS = frozenset(STOPWORDS_EN)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG


def _tokens(texts: Sequence[str]):  # type: ignore[no-untyped-def]
    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_STEMMER, show_progress=False)


def query_terms(text: str) -> list[str]:
    """The stems bm25s would make of `text` (repeats kept: a repeated word counts twice)."""
    words = [w for w in _WORDS.findall(text.lower()) if w not in _STOPWORDS]
    return _STEMMER.stemWords(words) if words else []


class LexicalIndex:
    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self._vocab: dict[str, int] = {}
        if self.passages:
            bm25 = bm25s.BM25()
            bm25.index(_tokens([p.searchable for p in self.passages]), show_progress=False)
            self._vocab = dict(bm25.vocab_dict)
            self._data = np.asarray(bm25.scores["data"], dtype=np.float32)
            self._indices = np.asarray(bm25.scores["indices"], dtype=np.int64)
            self._indptr = np.asarray(bm25.scores["indptr"], dtype=np.int64)
        self._scoped = [(i, p.scope) for i, p in enumerate(self.passages) if p.scope != SHARED]
        self._hidden: dict[str, np.ndarray] = {}  # scope -> passages it may not see
        self._outside: dict[str, np.ndarray] = {}  # exam -> passages not of that exam

    def _hidden_from(self, scope: str) -> np.ndarray:
        """Indices of other groups' own passages (none when nobody imported into a group)."""
        if scope not in self._hidden:
            self._hidden[scope] = np.array(
                [i for i, own in self._scoped if own != scope],
                dtype=np.int64,
            )
        return self._hidden[scope]

    def _not_of(self, exam: str) -> np.ndarray:
        if exam not in self._outside:
            self._outside[exam] = np.array(
                [i for i, p in enumerate(self.passages) if exam not in p.exams], dtype=np.int64
            )
        return self._outside[exam]

    def scores(self, query: str) -> np.ndarray | None:
        """BM25 score of every passage for `query`, or None when no query term is indexed."""
        ids = [self._vocab[t] for t in query_terms(query) if t in self._vocab]
        if not ids:
            return None
        scores = np.zeros(len(self.passages), dtype=np.float32)
        for term in ids:
            start, end = self._indptr[term], self._indptr[term + 1]
            scores[self._indices[start:end]] += self._data[start:end]  # a term's rows are unique
        return scores

    def search(
        self, query: str, k: int = 20, scope: str = SHARED, exam: str | None = None
    ) -> list[tuple[int, float]]:
        """(passage index, BM25 score) best first among the passages `scope` sees (and of
        `exam`, when given); empty when no query term is in them."""
        scores = self.scores(query)
        if scores is None:
            return []
        scores[self._hidden_from(scope)] = 0.0
        if exam is not None:
            scores[self._not_of(exam)] = 0.0
        found = np.flatnonzero(scores > 0)
        if len(found) > k:
            found = found[np.argpartition(-scores[found], k - 1)[:k]]
        # Best first; equal scores in passage order, so that answers are repeatable.
        found = found[np.lexsort((found, -scores[found]))]
        return [(int(i), float(scores[i])) for i in found]
