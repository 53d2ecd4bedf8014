"""Answering a follow-up question from the study material, offline or through a model.

Coverage: an answer is given only when the best passage is close enough to the question.
With dense retrieval, that is a cosine similarity of at least COVERED_SIMILARITY. Calibrated on
../shared/eval/dev_followups.json with all-MiniLM-L6-v2: every one of its 40 questions has a
best similarity of 0.48 or more (median 0.70), while fifteen off-topic questions (bread,
poems, football, prompt injection...) peak at 0.27. 0.35 sits in that gap with margin on both
sides. Without dense vectors (the index not built yet), the share of the question's terms found
in the best passage stands in, at COVERED_TERMS.

Questions about other cloud providers ("how much is an Azure VM?") land at 0.42-0.54, among
the real ones (a held-out set bottoms out at 0.38), because cloud pricing reads alike to the
model. No threshold separates them, so a question naming another provider is not covered: the
material teaches AWS, and an AWS answer to an Azure question would mislead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from knowledge.bank import SHARED
from knowledge.compose import MAX_WRITTEN_PARTS, compose_extractive
from knowledge.passages import Passage
from knowledge.questions import comparison_sides, question_parts, terms
from knowledge.rerank import EmbeddingSimilarity, Similarity, TermSimilarity
from knowledge.retrieval import Hit, RetrievalMode, Retriever
from knowledge.written_match import asks_no_more, names_every_side, opens_as_asked

COVERED_SIMILARITY = 0.35
COVERED_TERMS = 0.6
# A written answer is quoted whole when its passage is the best hit and this close to the
# question (cosine; without vectors, the share of shared terms with the answer's question).
WRITTEN_SIMILARITY = 0.85
WRITTEN_TERMS = 0.75
SIDE_HITS = 4  # passages retrieved for each side of a comparison, beside the question's own
PART_HITS = 4  # ...and for each part of a question in two
DOCS_TITLE = "AWS documentation"
OTHER_CLOUDS = re.compile(
    r"\b(azure|gcp|google cloud|oracle cloud|oci|ibm cloud|alibaba cloud|digitalocean)\b",
    re.IGNORECASE,
)
NOT_COVERED = (
    "The study material doesn't cover that, so I won't guess. "
    "Try asking about an AWS service or exam topic, or /quiz to practise."
)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    score: float


@dataclass(frozen=True)
class GeneratedAnswer:
    question: str
    text: str
    sources: tuple[Source, ...]
    mode: str  # extractive or llm
    covered: bool
    note: str = ""
    hits: tuple[Hit, ...] = field(default=(), repr=False, compare=False)


def is_covered(question: str, hits: Sequence[Hit]) -> bool:
    if not hits or OTHER_CLOUDS.search(question):
        return False
    dense = [h.dense for h in hits if h.dense is not None]
    if dense:
        return max(dense) >= COVERED_SIMILARITY
    wanted = terms(question)
    if not wanted:
        return False
    best = max(len(wanted & terms(h.passage.searchable)) for h in hits)
    return best / len(wanted) >= COVERED_TERMS


def sources_of(hits: Sequence[Hit], ids: Sequence[str]) -> tuple[Source, ...]:
    """One Source per source id, in the order given, scored by its best passage and titled
    by its best passage that is not a written answer (whose title is a question, not the
    note's or the item's name)."""
    best: dict[str, Hit] = {}
    named: dict[str, Hit] = {}
    for hit in hits:
        best.setdefault(hit.passage.source_id, hit)
        if hit.passage.kind != "answer":
            named.setdefault(hit.passage.source_id, hit)
    return tuple(
        Source(id=i, title=_source_title(named.get(i, best[i])), score=round(best[i].score, 4))
        for i in ids
        if i in best
    )


def _source_title(hit: Hit) -> str:
    title = hit.passage.title
    if hit.passage.kind == "note":
        return title.split(": ")[0]
    return title.split(" (right option:")[0].split(" (wrong option:")[0]


class Answerer:
    """Retrieve, then compose offline. The LLM composer (when configured) wraps this."""

    def __init__(self, retriever: Retriever, k: int = 6, candidates: int = 10) -> None:
        self.retriever = retriever
        self.k = k  # passages that decide coverage and go to the model
        self.candidates = max(k, candidates)  # passages the offline composer rescores
        embedder = retriever.embedder if retriever.vectors is not None else None
        self.similarity: Similarity = (
            EmbeddingSimilarity(embedder) if embedder is not None else TermSimilarity()
        )
        self._notes_of: tuple[int, dict[str, list[Passage]]] | None = None

    def retrieve(
        self,
        question: str,
        exam: str | None = None,
        focus: str | None = None,
        mode: RetrievalMode = RetrievalMode.hybrid,
        exclude: str | None = None,
        scope: str = SHARED,
    ) -> list[Hit]:
        """The best passages for `question` that a chat with `scope` may see, then the best few
        for each side a comparison weighs and for each part of a question in two: "config vs
        trusted advisor vs inspector" finds Trusted Advisor's passages first, and Inspector's
        only when asked for on its own; "what is an edge location? is it the same as an
        availability zone?" finds the zone's only when its part is asked alone. They follow
        the question's own, which decide coverage."""
        found = self.retriever.search(
            question, self.candidates, exam, focus, mode, exclude=exclude, scope=scope
        )
        seen = {hit.passage.id for hit in found}
        asked = [(f"What is {side}?", SIDE_HITS) for side in comparison_sides(question) or ()]
        parts = question_parts(question)
        asked += [(part, PART_HITS) for part in parts if 2 <= len(parts) <= MAX_WRITTEN_PARTS]
        for query, count in asked:
            for hit in self.retriever.search(
                query, count, exam, focus, mode, exclude=exclude, scope=scope
            ):
                if hit.passage.id not in seen:
                    found.append(hit)
                    seen.add(hit.passage.id)
        return found

    def extractive(
        self, question: str, hits: Sequence[Hit], focus: str | None = None
    ) -> GeneratedAnswer:
        """The offline answer. Coverage, a written answer quoted at once and the passages a
        model gets are decided by retrieval's top `k`, as before; the composer rescores more."""
        top = list(hits[: self.k])
        if not (is_covered(question, top) or (focus and top)):
            return GeneratedAnswer(question, NOT_COVERED, (), "extractive", False, hits=tuple(top))
        if written := best_written_answer(question, top):
            return written_answer(question, written.passage, top)
        # Without vectors a written answer is quoted whole or not at all: its sentences answer
        # a narrower question. With vectors the composer quotes one whole when it asks the
        # same thing, and never stitches its sentences with others.
        quotable = self.candidates_for(hits)
        if isinstance(self.similarity, TermSimilarity):
            quotable = [h for h in quotable if h.passage.kind != "answer"] or quotable
        composed = compose_extractive(
            question, quotable, similarity=self.similarity, stems=self._stems(quotable)
        )
        # Written answers quoted whole cite their pages; a model may still tailor them.
        return GeneratedAnswer(
            question=question,
            text=composed.text,
            sources=docs_sources(composed.written)
            if composed.written
            else sources_of(quotable, composed.source_ids),
            mode="extractive",
            covered=True,
            hits=tuple(top),
        )

    def candidates_for(self, hits: Sequence[Hit]) -> list[Hit]:
        """Retrieval's hits plus the other sections of each note among the first few: the
        section that answers is often beside the one whose words matched best."""
        found = list(hits)
        seen = {h.passage.id for h in found}
        notes = [h.passage.source_id for h in hits[:8] if h.passage.kind == "note"]
        for note in list(dict.fromkeys(notes))[:2]:
            for passage in self._sections(note):
                if passage.id not in seen:
                    found.append(Hit(passage=passage, score=0.0))
                    seen.add(passage.id)
        return found

    def _sections(self, note_id: str) -> list[Passage]:
        passages = self.retriever.passages
        if self._notes_of is None or self._notes_of[0] != len(passages):
            by_note: dict[str, list[Passage]] = {}
            for passage in passages:
                if passage.kind == "note":
                    by_note.setdefault(passage.source_id, []).append(passage)
            self._notes_of = (len(passages), by_note)
        return self._notes_of[1].get(note_id, [])

    def _stems(self, hits: Sequence[Hit]) -> dict[str, str]:
        """Each quoted item's scenario, so that no sentence about it is quoted."""
        stems = {}
        for hit in hits:
            question = self.retriever.by_id.get(f"{hit.passage.source_id}#q")
            if question is not None:
                stems[hit.passage.source_id] = question.context
        return stems


def best_written_answer(question: str, hits: Sequence[Hit]) -> Hit | None:
    """The top hit when it is an answer written for a question much like this one."""
    if not hits or hits[0].passage.kind != "answer" or OTHER_CLOUDS.search(question):
        return None
    best = hits[0]
    if not names_every_side(best.passage, comparison_sides(question)):
        return None
    if not opens_as_asked(best.passage.text, question):
        return None
    if best.dense is not None:
        close = best.dense >= WRITTEN_SIMILARITY
        return best if close and asks_no_more(best.passage.title, question) else None
    wanted, asked = terms(question), terms(best.passage.title)
    share = len(wanted & asked) / max(1, len(wanted | asked))
    return best if share >= WRITTEN_TERMS else None


def docs_sources(passages: Sequence[Passage]) -> tuple[Source, ...]:
    """The documentation pages written answers rest on, each once, in order."""
    links = dict.fromkeys(url for passage in passages for url in passage.links)
    return tuple(Source(id=url, title=DOCS_TITLE, score=1.0) for url in links)


def written_answer(question: str, passage: Passage, hits: Sequence[Hit] = ()) -> GeneratedAnswer:
    """A written answer, whole, citing its documentation pages: checked text is not re-cut."""
    return GeneratedAnswer(
        question=question,
        text=passage.text,
        sources=docs_sources([passage]),
        mode="written",
        covered=True,
        hits=tuple(hits),
    )
