"""Scoring answers against question sets shaped like ../shared/eval/*.json.

An entry is `{"q": ..., "all": [...], "any": [...], "sources": [...]?}`: an answer hits when it
contains every `all` term and at least one `any` term (case-insensitive). `sources`, when
present, lists ids a good answer should cite; recall is the share of them cited.
"""

from __future__ import annotations

import json
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


def load_eval(path: Path) -> list[EvalEntry]:
    data: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
    return [
        EvalEntry(
            question=entry["q"],
            all_terms=list(entry.get("all", [])),
            any_terms=list(entry.get("any", [])),
            sources=list(entry.get("sources", [])),
            covered=entry.get("covered"),
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
        }


AnswerFn = Callable[[str], tuple[str, bool, Sequence[str]]]  # text, covered, source ids


def evaluate(entries: Sequence[EvalEntry], answer: AnswerFn, mode: str) -> EvalResult:
    hits = covered = coverage_correct = 0
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
    recall = sum(recalls) / len(recalls) if recalls else None
    return EvalResult(mode, len(entries), hits, covered, coverage_correct, recall, misses)
