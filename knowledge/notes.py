"""Study notes: short concept pages that sit beside the questions in the searchable corpus.

A note is a Markdown file under `knowledge/notes/` with YAML front matter (`id`, `title`,
`exams`, `tags`, `references`, and `reviewed`: the month it was last checked) and a body of
150-400 words split into `## ` sections. Optional `questions:` in the front matter are answers
written for what students commonly type about the topic ("why does my Lambda in a VPC time
out?"): each is quoted whole when a student asks much the same thing, so the common questions
get a checked explanation rather than sentences cut from the notes.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from knowledge.catalog import EXAMS
from knowledge.loader import BankError, BankProblem, FastLoader
from knowledge.reviews import review_month
from knowledge.schema import FollowUpText, WrittenAnswer

NOTES_DIR = Path(__file__).parent / "notes"
MIN_WORDS, MAX_WORDS = 150, 400
FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.DOTALL)
MAX_QUESTIONS = 50
MAX_ASKED_AS = 4


class CommonQuestion(WrittenAnswer):
    """An answer written for a question students commonly ask about the note's topic.

    `asked_as` lists other ways students put the same question; they help a typed question
    find the answer but are never shown."""

    asked_as: list[FollowUpText] = Field(default_factory=list, max_length=MAX_ASKED_AS)


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^note-[a-z0-9-]{2,40}$")
    title: str = Field(min_length=2)
    exams: list[str] = Field(min_length=1)
    tags: list[str] = Field(min_length=1)
    references: list[str] = Field(min_length=1)
    reviewed: str | None = None  # "YYYY-MM"; every shipped note has one (tests/test_reviewed.py)
    questions: list[CommonQuestion] = Field(default_factory=list, max_length=MAX_QUESTIONS)
    body: str
    _source: tuple[str, int] = PrivateAttr(default=("", 1))

    @field_validator("exams")
    @classmethod
    def _known_exams(cls, value: list[str]) -> list[str]:
        unknown = [e for e in value if e not in EXAMS]
        if unknown:
            raise ValueError(f"unknown exam(s) {unknown}; known: {', '.join(EXAMS)}")
        return value

    @field_validator("reviewed", mode="before")
    @classmethod
    def _review_month(cls, value: object) -> str | None:
        return None if value is None else review_month(value)

    @property
    def source(self) -> tuple[str, int]:
        """The file and the line of its `reviewed` field (or 1), for warnings about the note."""
        return self._source

    @field_validator("references")
    @classmethod
    def _https(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not ref.startswith("https://"):
                raise ValueError(f"a reference must be an https URL, got {ref!r}")
        return value

    @field_validator("body")
    @classmethod
    def _length(cls, value: str) -> str:
        words = len(value.split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            raise ValueError(f"the body has {words} words; a note has {MIN_WORDS}-{MAX_WORDS}")
        return value

    def sections(self) -> list[tuple[str, str]]:
        """(heading, text) pairs; the text before the first heading is titled by the note."""
        parts = re.split(r"^## +(.+)$", self.body, flags=re.MULTILINE)
        sections = [(self.title, parts[0].strip())] if parts[0].strip() else []
        for heading, text in zip(parts[1::2], parts[2::2], strict=True):
            sections.append((heading.strip(), text.strip()))
        return sections


def parse_note(text: str, file: str) -> Note:
    match = FRONT_MATTER.match(text)
    if not match:
        raise BankError([BankProblem(file, 1, "", "a note starts with '---' front matter")])
    try:
        meta = yaml.load(match.group(1), Loader=FastLoader) or {}  # libyaml: 4x faster
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise BankError([BankProblem(file, line, "", "front matter is not valid YAML")]) from None
    if not isinstance(meta, dict):
        raise BankError([BankProblem(file, 2, "", "front matter must be a mapping")])
    lines = match.group(1).splitlines()
    try:
        note = Note.model_validate({**meta, "body": match.group(2).strip()})
    except ValidationError as exc:
        problems = []
        for detail in exc.errors():
            field, line = _where(detail["loc"], lines)
            problems.append(
                BankProblem(file, line, field, detail["msg"].removeprefix("Value error, "))
            )
        raise BankError(problems) from None
    line = next((i + 2 for i, text in enumerate(lines) if text.startswith("reviewed:")), 1)
    note._source = (file, line)
    return note


def _where(loc: tuple[int | str, ...], lines: list[str]) -> tuple[str, int]:
    """The field a validation error names ("questions[2].answer") and its line in the file:
    the front matter's lines start at line 2, the body after them."""
    field = str(loc[0]) if loc else ""
    line = next(
        (i + 2 for i, text in enumerate(lines) if text.startswith(f"{field}:")),
        1 if field != "body" else len(lines) + 3,
    )
    if field == "questions" and len(loc) > 1 and isinstance(loc[1], int):
        entries = [i + 2 for i, text in enumerate(lines) if re.match(r"^\s*- question:", text)]
        line = entries[loc[1]] if loc[1] < len(entries) else line
        field = f"questions[{loc[1] + 1}]" + "".join(f".{part}" for part in loc[2:3])
    return field, line


def load_notes(folder: Path = NOTES_DIR) -> list[Note]:
    """Every note under `folder`; all or nothing, with every problem listed."""
    notes: list[Note] = []
    problems: list[BankProblem] = []
    for path in sorted(folder.rglob("*.md")) if folder.exists() else []:
        try:
            notes.append(parse_note(path.read_text(encoding="utf-8"), str(path)))
        except BankError as exc:
            problems.extend(exc.problems)
    seen: set[str] = set()
    for note in notes:
        if note.id in seen:
            problems.append(BankProblem(str(folder), 1, "id", f"duplicate note id {note.id!r}"))
        seen.add(note.id)
    if problems:
        raise BankError(problems)
    return notes
