"""Near-duplicate questions, found without comparing every pair.

Two questions are near-duplicates when they share at least NEAR_DUPLICATE of their non-trivial
words (the Jaccard share of their word sets). Comparing every pair grows with the square of the
count (25,000 questions took minutes), so a MinHash LSH index (datasketch) proposes candidate
pairs and each candidate is then checked exactly: no false positives, and the same threshold as
before. With 32 bands of 4 rows, a pair sharing 75% of its words is proposed with probability
1 - (1 - 0.75**4)**32, above 0.99999; a pair sharing 80%, above 0.9999999.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from knowledge.heavy import HEAVY_IMPORTS

if TYPE_CHECKING:  # datasketch (and scipy) load in 0.6 s: only when a check runs
    from datasketch import MinHash, MinHashLSH

# Two questions sharing this share of their (non-trivial) words are near-duplicates. The most
# similar distinct pair we ship shares 45%; a lightly reworded copy shares far more.
NEAR_DUPLICATE = 0.75
QUESTION_STOPWORDS = frozenset(
    {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "which", "what"}
    | {"that", "with", "it", "its", "this", "be", "by", "as", "at", "from", "choose", "two"}
)
BANDS, ROWS = 32, 4
# Up to this many questions an exact check (prefix filtering) takes milliseconds, less than
# loading datasketch; the shipped banks stay below it, so the chat starts without it.
EXACT_UP_TO = 500
SEED = 1  # fixed, so that a check gives the same answer every time


def question_words(question: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", question.lower())) - QUESTION_STOPWORDS


def share(mine: frozenset[str], theirs: frozenset[str]) -> float:
    """The share of words two word sets have in common (0 to 1); 0 when either is empty."""
    return len(mine & theirs) / len(mine | theirs) if mine and theirs else 0.0


def overlap(question: str, other: str) -> float:
    """The share of non-trivial words two questions have in common (0 to 1)."""
    return share(question_words(question), question_words(other))


def _signatures(word_sets: Sequence[frozenset[str]]) -> list[MinHash]:
    with HEAVY_IMPORTS:
        from datasketch import MinHash

    encoded = [[word.encode() for word in words] for words in word_sets]
    return MinHash.bulk(encoded, num_perm=BANDS * ROWS, seed=SEED)


def _index() -> MinHashLSH:
    with HEAVY_IMPORTS:
        from datasketch import MinHashLSH

    return MinHashLSH(num_perm=BANDS * ROWS, params=(BANDS, ROWS))


def pairs_within(questions: Sequence[str]) -> list[tuple[int, int, float]]:
    """(later, earlier, share) for every near-duplicate pair in `questions`, by position."""
    words = [question_words(q) for q in questions]
    if len(words) <= EXACT_UP_TO:
        return _exact_pairs(words)
    signatures = _signatures(words)
    index = _index()
    found: list[tuple[int, int, float]] = []
    for later, signature in enumerate(signatures):
        if not words[later]:
            continue
        for earlier in sorted(index.query(signature)):
            similarity = share(words[later], words[earlier])
            if similarity >= NEAR_DUPLICATE:
                found.append((later, earlier, similarity))
        index.insert(later, signature)
    return found


def _exact_pairs(words: Sequence[frozenset[str]]) -> list[tuple[int, int, float]]:
    """`pairs_within` without an index: two word sets sharing NEAR_DUPLICATE of their words
    share one of the rarest len - floor(NEAR_DUPLICATE * len) + 1 words of each, so only pairs
    with such a word in common are compared (all-pairs prefix filtering, exact)."""
    counts = Counter(word for mine in words for word in mine)
    holders: dict[str, list[int]] = {}
    found: list[tuple[int, int, float]] = []
    for later, mine in enumerate(words):
        rarest = sorted(mine, key=lambda word: (counts[word], word))
        prefix = rarest[: len(rarest) - math.floor(NEAR_DUPLICATE * len(rarest)) + 1]
        for earlier in sorted({e for word in prefix for e in holders.get(word, ())}):
            similarity = share(mine, words[earlier])
            if similarity >= NEAR_DUPLICATE:
                found.append((later, earlier, similarity))
        for word in prefix:
            holders.setdefault(word, []).append(later)
    return found


def matches_against(questions: Sequence[str], pool: Sequence[str]) -> list[list[tuple[int, float]]]:
    """For each question, the (pool position, share) of every near-duplicate in `pool`."""
    pool_words = [question_words(q) for q in pool]
    index = _index()
    with index.insertion_session() as session:
        for position, signature in enumerate(_signatures(pool_words)):
            if pool_words[position]:
                session.insert(position, signature)
    words = [question_words(q) for q in questions]
    found: list[list[tuple[int, float]]] = []
    for mine, signature in zip(words, _signatures(words), strict=True):
        matches = []
        if mine:
            for position in sorted(index.query(signature)):
                similarity = share(mine, pool_words[position])
                if similarity >= NEAR_DUPLICATE:
                    matches.append((position, similarity))
        found.append(matches)
    return found
