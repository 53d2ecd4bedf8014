"""How closely a sentence or a passage answers a question (or one part of it).

Retrieval ranks passages by their title, scenario and text together, so an item whose scenario
resembles the question ranks high even when its text answers something else, and one shared
word pulls in a passage about another topic. The composer rescores what retrieval found by what
each passage and each sentence *says*: with the embedder's cosine when there is one (the same
model as the index), or by the share of the question's key terms it holds when there is not.
Vectors are cached by text: the same passages come back question after question.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import Stemmer

from knowledge.embeddings import Embedder

CACHE_SIZE = 20_000
_STEMMER = Stemmer.Stemmer("english")
WORD = re.compile(r"[a-z0-9][a-z0-9-]*")
# Words that only hold a sentence together (the composer's terms leave them out too).
STOPWORDS = frozenset(
    {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "be"}
    | {"by", "as", "at", "it", "its", "this", "that", "with", "from", "how", "what", "why"}
    | {"when", "which", "who", "does", "do", "did", "can", "should", "would", "i", "my", "me"}
    | {"you", "your", "we", "our", "not", "no", "vs", "versus", "there", "their", "them"}
    | {"they", "if", "then", "than", "so", "into", "about"}
)
# Words that carry no subject: a sentence sharing only these with a question answers nothing.
_FILLER = STOPWORDS | frozenset(
    {"whats", "get", "use", "just", "actually", "really", "thing", "things", "one", "ones"}
    | {"im", "even", "still", "all"}
)


class Similarity(Protocol):
    def __call__(self, queries: Sequence[str], texts: Sequence[str]) -> list[list[float]]:
        """A row per query, a column per text: higher means the text answers it better."""
        ...


def key_terms(text: str) -> set[str]:
    """Stemmed words that name something (filler and asking words left out)."""
    words = [w for w in WORD.findall(text.lower()) if w not in _FILLER and len(w) > 1]
    return set(_STEMMER.stemWords(words))


class TermSimilarity:
    """Without vectors: the share of the query's key terms the text holds (a rough stand-in)."""

    same_question = None  # shared words cannot tell whether two questions ask the same thing
    fairly_close_question = None
    close_question = None
    nearly_same_question = None
    nearest_question = None
    repeats_at = None  # ...nor whether two sentences say the same thing in other words
    restates_at = None

    def __call__(self, queries: Sequence[str], texts: Sequence[str]) -> list[list[float]]:
        held = [key_terms(t) for t in texts]
        rows = []
        for query in queries:
            wanted = key_terms(query)
            rows.append(
                [
                    len(wanted & h) / math.sqrt(len(wanted) * (len(h) + 4)) if wanted else 0.0
                    for h in held
                ]
            )
        return rows


class EmbeddingSimilarity:
    """Cosine of the embedder's normalised vectors, each text embedded once per process."""

    # A written answer's question this close asks the same thing when the student's question
    # holds most of its terms (0.68: read against 120 questions written without the corpus,
    # the matches from 0.68 to 0.74 were right but for one that answered half); a little
    # closer, three fifths (0.70: on the 300 such questions, it changed nine answers, seven
    # to the right written answer, one to an answer of half the question, one from one
    # partial answer to another); closer, half of them; nearly the same, a third
    # (knowledge/written_match.py).
    same_question = 0.68
    fairly_close_question = 0.70
    close_question = 0.78
    nearly_same_question = 0.82
    # When no written answer asks the same thing, the nearest one this close is quoted rather
    # than sentences stitched from notes: read side by side, blind, on 57 questions written
    # without the corpus, the nearest was good 25 times and missed 10, the stitched answer
    # good 10 times and missed 15. Under 0.6 a nearest question is often about another thing
    # ("default timeout of a Lambda function" and "why does my function time out in a VPC",
    # 0.58), and a wrong topic is the worst answer there is.
    nearest_question = 0.6
    repeats_at = 0.7  # a sentence this close to one already given says it again
    restates_at = 0.8  # a paragraph this close to the answer so far retells it

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _vectors(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        fresh = self.embedder.embed(missing) if missing else []
        with self._lock:
            for text, vector in zip(missing, fresh, strict=True):
                self._cache[text] = vector
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            found = {t: self._cache.get(t) for t in texts}
        return [found[t] or self.embedder.embed([t])[0] for t in texts]

    def __call__(self, queries: Sequence[str], texts: Sequence[str]) -> list[list[float]]:
        vectors = self._vectors([*queries, *texts])
        asked, held = vectors[: len(queries)], vectors[len(queries) :]
        return [[sum(a * b for a, b in zip(q, t, strict=True)) for t in held] for q in asked]
