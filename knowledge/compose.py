"""The offline answer: the best sentences of the retrieved passages, at most ~120 words.

Sentences are scored by how many of the question's (stemmed) terms they contain, weighted by
the rank of the passage they come from; near-repeats are skipped. No model writes anything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import Stemmer

from knowledge.retrieval import Hit

MAX_WORDS = 120
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n+")
_STEMMER = Stemmer.Stemmer("english")
STOPWORDS = frozenset(
    {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "be"}
    | {"by", "as", "at", "it", "its", "this", "that", "with", "from", "how", "what", "why"}
    | {"when", "which", "who", "does", "do", "did", "can", "should", "would", "i", "my", "me"}
    | {"you", "your", "we", "our", "not", "no", "vs", "versus", "there", "their", "them"}
    | {"they", "if", "then", "than", "so", "into", "about"}
)


@dataclass(frozen=True)
class Composed:
    text: str
    source_ids: tuple[str, ...]


def terms(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9][a-z0-9-]*", text.lower())
    return set(_STEMMER.stemWords([w for w in words if w not in STOPWORDS]))


ANAPHORA = re.compile(r"^(this|that|these|those|it|they|then|also|so)\b", re.IGNORECASE)


def _sentences(text: str) -> list[str]:
    """Sentences worth quoting: no questions (they answer nothing), no markdown marks."""
    cleaned = re.sub(r"^\s*[-*]\s+", "", text, flags=re.MULTILINE)
    cleaned = re.sub(r"\*\*|`", "", cleaned)
    sentences = [s.strip() for s in SENTENCE.split(cleaned)]
    return [s for s in sentences if len(s.split()) >= 4 and not s.endswith("?")]


def compose_extractive(question: str, hits: Sequence[Hit], max_words: int = MAX_WORDS) -> Composed:
    wanted = terms(question)
    candidates: list[tuple[float, int, int, str]] = []
    for rank, hit in enumerate(hits):
        for position, sentence in enumerate(_sentences(hit.passage.text)):
            overlap = len(wanted & terms(sentence))
            score = (overlap + 0.5) / (1 + 0.35 * rank) - 0.01 * position
            if ANAPHORA.match(sentence):  # leans on a sentence we may not quote
                score *= 0.5
            candidates.append((score, rank, position, sentence))
    candidates.sort(key=lambda c: c[0], reverse=True)
    chosen: list[tuple[int, int, str]] = []
    seen: list[set[str]] = []
    words = 0
    for _score, rank, position, sentence in candidates:
        mine = terms(sentence)
        if any(len(mine & other) / max(1, len(mine | other)) > 0.6 for other in seen):
            continue
        length = len(sentence.split())
        if words + length > max_words:
            if words:
                continue
            sentence = " ".join(sentence.split()[:max_words]) + "…"
            length = max_words
        chosen.append((rank, position, sentence))
        seen.append(mine)
        words += length
        if words >= max_words * 0.8:
            break
    chosen.sort()
    used = tuple(dict.fromkeys(hits[rank].passage.source_id for rank, _, _ in chosen))
    return Composed(text=" ".join(sentence for _, _, sentence in chosen), source_ids=used)
