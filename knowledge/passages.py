"""The searchable corpus: short passages cut from bank items and study notes.

Each passage knows where it came from (an item id or a note id), so every answer can name its
sources. The content hash lets the index skip passages that have not changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from knowledge.bank import SHARED
from knowledge.notes import Note
from knowledge.schema import Item


@dataclass(frozen=True)
class Passage:
    id: str
    source_id: str
    title: str
    text: str
    exams: tuple[str, ...]
    domain: str
    kind: str  # question, option, trap, answer (written for a follow-up), note
    context: str = ""  # searchable but never quoted: a question's scenario, an option's text
    scope: str = SHARED  # a group's own imported item: searched only in that group
    links: tuple[str, ...] = ()  # a written answer's documentation URLs, cited when quoted

    @property
    def searchable(self) -> str:
        """What the retrievers index: the title and context find a passage; the text answers."""
        return " ".join(part for part in (f"{self.title}.", self.context, self.text) if part)

    @property
    def content_hash(self) -> str:
        parts = [self.title, self.context, self.text, ",".join(self.exams), self.domain, self.kind]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def short_title(question: str, limit: int = 80) -> str:
    first = question.split("?")[0].strip()
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def item_passages(item: Item, scope: str = SHARED) -> list[Passage]:
    title = short_title(item.question)
    common = {
        "source_id": item.id,
        "title": title,
        "exams": (item.exam,),
        "domain": item.domain,
        "scope": scope,
    }
    passages = [
        Passage(
            id=f"{item.id}#q",
            text=item.explanation,
            kind="question",
            context=item.question,  # a scenario, not an answer: never quoted
            **common,
        )
    ]
    for index, option in enumerate(item.options):
        if option.why:  # the option's text goes in the title: searchable, but never quoted
            verdict = "right" if option.correct else "wrong"
            passages.append(
                Passage(
                    id=f"{item.id}#o{index}",
                    source_id=item.id,
                    title=f"{title} ({verdict} option: {option.text})",
                    text=option.why,
                    exams=(item.exam,),
                    domain=item.domain,
                    kind="option",
                    scope=scope,
                )
            )
    lesson = " ".join(
        part
        for part in (
            item.trap and f"Exam trap: {item.trap}",
            item.takeaway and f"Takeaway: {item.takeaway}",
        )
        if part
    )
    if lesson:
        passages.append(Passage(id=f"{item.id}#t", text=lesson, kind="trap", **common))
    return passages + written_answer_passages(item, scope)


def written_answer_passages(item: Item, scope: str = SHARED) -> list[Passage]:
    """One passage per answer written for a follow-up, titled by its question, so that a
    student who types a similar question finds the checked answer."""
    passages = []
    for index in range(len(item.follow_ups)):
        written = item.written_answer(index)
        if written is not None:
            passages.append(
                Passage(
                    id=f"{item.id}#fu{index}",
                    source_id=item.id,
                    title=written.question,
                    text=written.answer,
                    exams=(item.exam,),
                    domain=item.domain,
                    kind="answer",
                    scope=scope,
                    links=tuple(written.sources),
                )
            )
    return passages


def note_passages(note: Note) -> list[Passage]:
    """One passage per section (50- to 140-word chunks measured no better on the eval sets),
    and one per common question answered in its front matter."""
    return _section_passages(note) + common_question_passages(note)


def common_question_passages(note: Note) -> list[Passage]:
    """A written answer per common question, titled by the question; its other phrasings are
    searchable context, one per line, never quoted."""
    return [
        Passage(
            id=f"{note.id}#a{index}",
            source_id=note.id,
            title=asked.question,
            text=asked.answer,
            exams=tuple(note.exams),
            domain="",
            kind="answer",
            context="\n".join(asked.asked_as),
            links=tuple(asked.sources),
        )
        for index, asked in enumerate(note.questions)
    ]


def _section_passages(note: Note) -> list[Passage]:
    return [
        Passage(
            id=f"{note.id}#{index}",
            source_id=note.id,
            title=note.title if heading == note.title else f"{note.title}: {heading}",
            text=text,
            exams=tuple(note.exams),
            domain="",
            kind="note",
        )
        for index, (heading, text) in enumerate(note.sections())
        if text
    ]


def build_passages(
    items: Iterable[Item], notes: Sequence[Note], scope_of: Callable[[str], str] | None = None
) -> list[Passage]:
    """Passages of every item (each in its scope, from `scope_of(item id)`) and every note."""
    passages: list[Passage] = []
    for item in items:
        passages.extend(item_passages(item, scope_of(item.id) if scope_of else SHARED))
    for note in notes:
        passages.extend(note_passages(note))
    return passages
