"""Scoring answers against question sets shaped like ../shared/eval/*.json.

An entry is `{"q": ..., "all": [...], "any": [...], "sources": [...]?}`: an answer hits when it
contains every `all` term and at least one `any` term (case-insensitive). `sources`, when
present, lists ids a good answer should cite; recall is the share of them cited. `passages`,
when present, lists the passage ids that answer the question: the sentence share is the share of
the answer's sentences found in those passages, so an answer stitched from passages that do not
answer the question scores low even when it happens to contain the keywords.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EvalEntry:
    question: str
    all_terms: list[str] = field(default_factory=list)
    any_terms: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    covered: bool | None = None  # an entry may say the material must not cover it
    passages: list[str] = field(default_factory=list)  # passage ids that answer it


def load_eval(path: Path) -> list[EvalEntry]:
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [
        EvalEntry(
            question=entry["q"],
            all_terms=list(entry.get("all", [])),
            any_terms=list(entry.get("any", [])),
            sources=list(entry.get("sources", [])),
            covered=entry.get("covered"),
            passages=list(entry.get("passages", [])),
        )
        for entry in data
    ]


def is_hit(entry: EvalEntry, answer: str) -> bool:
    text = answer.lower()
    if entry.covered is False:
        return True  # judged by coverage alone
    has_all = all(term.lower() in text for term in entry.all_terms)
    has_any = not entry.any_terms or any(term.lower() in text for term in entry.any_terms)
    return has_all and has_any


@dataclass
class EvalResult:
    mode: str
    questions: int
    hits: int
    covered: int
    coverage_correct: int
    recall: float | None
    misses: list[str] = field(default_factory=list)
    sentence_share: float | None = None  # answer sentences from the graded passages

    @property
    def hit_rate(self) -> float:
        return self.hits / self.questions if self.questions else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "questions": self.questions,
            "hit_rate": round(self.hit_rate, 3),
            "covered": self.covered,
            "coverage_correct": self.coverage_correct,
            "source_recall": None if self.recall is None else round(self.recall, 3),
            "sentence_share": None
            if self.sentence_share is None
            else round(self.sentence_share, 3),
        }


AnswerFn = Callable[[str], tuple[str, bool, Sequence[str]]]  # text, covered, source ids
PassageText = Callable[[str], str | None]  # passage id -> its text
# Lines the composer writes itself (no passage says them), left out of the sentence share.
OWN_WORDS = re.compile(r"^(the study material|on [^:]{1,60}:$)", re.IGNORECASE)
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def _normal(text: str) -> str:
    """Lower case, letters and digits only: markdown marks and bullets do not decide a match."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def answer_sentences(text: str) -> list[str]:
    """The quoted sentences of an answer (not the composer's own framing lines)."""
    parts = [p.strip(" -*\t") for p in _SPLIT.split(text)]
    return [p for p in parts if len(p.split()) >= 3 and not OWN_WORDS.match(p)]


def sentence_counts(text: str, graded: Sequence[str]) -> tuple[int, int]:
    """(sentences found in the graded passages, sentences): why an answer reads as one
    explanation or as a collage of whatever ranked high."""
    pool = " ".join(_normal(t) for t in graded)
    sentences = [n for n in (_normal(s) for s in answer_sentences(text)) if n]
    found = sum(1 for s in sentences if s in pool)
    return found, len(sentences)


def evaluate(
    entries: Sequence[EvalEntry],
    answer: AnswerFn,
    mode: str,
    passage_text: PassageText | None = None,
) -> EvalResult:
    hits = covered = coverage_correct = 0
    from_graded = quoted = 0
    recalls: list[float] = []
    misses: list[str] = []
    for entry in entries:
        text, is_covered, source_ids = answer(entry.question)
        covered += is_covered
        expected_covered = entry.covered if entry.covered is not None else True
        coverage_correct += is_covered == expected_covered
        hit = is_hit(entry, text) and is_covered == expected_covered
        hits += hit
        if not hit:
            misses.append(entry.question)
        if entry.sources:
            recalls.append(len(set(entry.sources) & set(source_ids)) / len(entry.sources))
        if entry.passages and passage_text is not None:
            graded = [t for t in map(passage_text, entry.passages) if t]
            found, total = sentence_counts(text, graded)
            from_graded, quoted = from_graded + found, quoted + total
    recall = sum(recalls) / len(recalls) if recalls else None
    result = EvalResult(mode, len(entries), hits, covered, coverage_correct, recall, misses)
    result.sentence_share = from_graded / quoted if quoted else None
    return result
