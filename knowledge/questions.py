"""What a typed question asks: the terms that name its subject, its parts and the things it
compares. Both the composer and the written-answer matcher read questions this way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import Stemmer

from knowledge.rerank import STOPWORDS, WORD, key_terms

_STEMMER = Stemmer.Stemmer("english")
# Words a question uses to ask, not to name a subject: their absence is no gap in coverage.
ASKING = frozenset(
    {"difference", "between", "use", "using", "choose", "pick", "work", "works", "happen"}
    | {"happens", "mean", "means", "need", "actually", "actual", "instead", "way", "best"}
    | {"people", "someone", "thing", "things", "get", "make", "set", "keep", "keeps", "like"}
    | {"used", "give", "gives", "will", "one", "two", "both", "each", "every", "time", "much"}
    | {"many", "aws", "amazon", "exam", "question", "answer", "really", "just", "put", "run"}
    | {"compare", "versus", "better", "good", "bad", "wrong", "right", "fix", "help", "want"}
    | {"have", "has", "had", "been", "being", "still", "why", "whats", "what's", "go", "goes"}
    | {"all", "again", "exactly", "ever", "anymore", "now"}
)
ASKING_TERMS = set(_STEMMER.stemWords(sorted(ASKING | {"aws", "amazon", "term", "terms"})))
COMPARISON = (
    re.compile(r"difference between (?P<x>.+?) and (?P<y>.+)", re.IGNORECASE),
    re.compile(r"compare (?P<x>.+?) (?:and|with|to) (?P<y>.+)", re.IGNORECASE),
    re.compile(r"(?P<x>[\w .'/-]+?)\s+(?:vs\.?|versus)\s+(?P<y>.+)", re.IGNORECASE),
    re.compile(r"(?:use|choose|pick) (?P<x>.+?) (?:instead of|over|or) (?P<y>.+)", re.IGNORECASE),
)
SIDE_END = re.compile(
    r"[?,:;(]|\s[-–—]\s|\s(?:vs\.?|versus|in|for|on|when|if|which|so|to|workflows?)\s",
    re.IGNORECASE,
)
# "..., or is it always wrong?" puts the part before it another way: no second part.
PART_SPLIT = re.compile(
    r",?\s+(?:and|but)\s+(?=(?:why|how|what|which|when|whose|where|who|can|could|is|are|"
    r"does|do|should)\b)",
    re.IGNORECASE,
)
ASKS = re.compile(
    r"^(why|how|what|which|when|whose|where|who|can|could|is|are|does|do|should|whats|diff)\b",
    re.IGNORECASE,
)


def terms(text: str) -> set[str]:
    words = WORD.findall(text.lower())
    return set(_STEMMER.stemWords([w for w in words if w not in STOPWORDS]))


def question_parts(question: str) -> list[str]:
    """The questions a message asks ("how does X work, and why can't I ...?" is two); the
    statements around them ("I thought deleting it was enough.") are context, not parts."""
    chunks = [c.strip() for c in re.split(r"(?<=[?!.])\s+", question.strip()) if c.strip()]
    parts: list[str] = []
    for chunk in chunks:
        if not (chunk.endswith("?") or ASKS.match(chunk)):
            continue
        for piece in PART_SPLIT.split(chunk):
            if len(key_terms(piece)) >= 2:
                parts.append(piece.strip(" ,"))
    return parts or [question]


def _chain(question: str) -> tuple[str, ...] | None:
    """The things an "X vs Y vs Z" question weighs, when it weighs more than two."""
    chain = re.split(r"\s+(?:vs\.?|versus)\s+", question, flags=re.IGNORECASE)
    if len(chain) < 3:
        return None
    if any(re.search(r"[?!.;:]|\s[-–—]\s", middle) for middle in chain[1:-1]):
        return None  # "X vs Y - when do I need one vs the other?" weighs two things
    first = re.split(r"[,.:;?!]\s*", chain[0])[-1].strip(" '\"")
    last = SIDE_END.split(f"{chain[-1]} ", maxsplit=1)[0].strip(" ?.'\"")
    sides = (first, *(c.strip(" '\"") for c in chain[1:-1]), last)
    distinct = all(terms(s) - set().union(*(terms(o) for o in sides if o != s)) for s in sides)
    return sides if distinct and all(terms(s) for s in sides) else None


def comparison_sides(question: str) -> tuple[str, ...] | None:
    """The things a comparison question weighs ("X vs Y", "difference between X and Y",
    "use X instead of Y", "X vs Y vs Z"), or None when it asks about one thing."""
    if chained := _chain(question):
        return chained
    for pattern in COMPARISON:
        if match := pattern.search(question):
            x = match.group("x").strip(" ?.'\"")
            x = re.sub(r"^.*\b(?:between|use|choose|pick|compare)\s+", "", x, flags=re.I)
            x = re.sub(r"^(?:a|an|the)\s+", "", x, flags=re.I).strip(" '\"")
            y = SIDE_END.split(f"{match.group('y')} ", maxsplit=1)[0].strip(" ?.'\"")
            y = re.sub(r"^(?:a|an|the)\s+", "", y, flags=re.I).strip(" '\"")
            if terms(x) - terms(y) and terms(y) - terms(x):
                return x, y
    return None


def distinct_terms(
    side: str, sides: Sequence[str], read: Callable[[str], set[str]] = terms
) -> set[str]:
    """The terms that tell this side from the other ("immutable" in "immutable deployment"),
    as `read` reads them (the matcher reads them as students type them)."""
    others = set().union(*(read(s) for s in sides if s != side))
    return read(side) - others or read(side)
