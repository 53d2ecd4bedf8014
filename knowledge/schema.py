"""The question bank format, version 1, as pydantic models.

A bank file is YAML: `format: 1` and a list of `items`. The models check one item on its own;
checks across items (duplicate and near-duplicate questions) live in the loader.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from knowledge.catalog import EXAMS
from knowledge.reviews import review_month

BANK_FORMAT = 1
# Our complete banks must say when each item was last checked against the docs (imports and
# other incomplete files never need it); tests switch it off to show what an import may lack.
REVIEWED_REQUIRED = True
CHOOSE_WORDS = {2: "two", 3: "three", 4: "four"}

# Length limits keep every question, option and explanation readable in a chat message (and
# an imported file from filling memory); our longest shipped texts are well under half of each.
MAX_QUESTION = 1000
MAX_OPTION = 300
MAX_RATIONALE = 600
MAX_EXPLANATION = 1500
MAX_NOTE = 400  # the trap and the takeaway
MAX_FOLLOW_UP = 200
MAX_TAG = 50
MAX_REFERENCE = 500
MAX_TAGS = 20
MAX_REFERENCES = 10
MAX_WRITTEN_ANSWER = 1000  # characters; the word range below is the real rule
WRITTEN_WORDS = (40, 120)  # a written follow-up answer: the point first, then why


def _text(limit: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=limit)


QuestionText = Annotated[str, _text(MAX_QUESTION)]
OptionText = Annotated[str, _text(MAX_OPTION)]
FollowUpText = Annotated[str, _text(MAX_FOLLOW_UP)]
TagText = Annotated[str, _text(MAX_TAG)]
ReferenceText = Annotated[str, _text(MAX_REFERENCE)]

# A rationale or explanation must not point at a letter: options are shuffled per presentation.
LETTER_REFERENCE = re.compile(r"\b(?:option|answer|choice)s?\s+\(?[A-F]\)?(?![\w-])")
ITEM_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,40}$")


def _without_letter_reference(text: str) -> str:
    if LETTER_REFERENCE.search(text):
        raise ValueError("refers to an option by its letter; options are shuffled, name it instead")
    return text


class Difficulty(StrEnum):
    easy = "easy"
    medium = "medium"
    hard = "hard"


def _complete(info: ValidationInfo) -> bool:
    """Our own banks must be complete; a teacher's import may lack traps, rationales and links."""
    return bool(info.context and info.context.get("complete"))


def _required_text(value: str, info: ValidationInfo, what: str) -> str:
    value = value.strip()
    if not value and _complete(info):
        raise ValueError(f"is missing: {what}")
    return _without_letter_reference(value) if value else value


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: OptionText
    correct: bool
    why: str = Field(default="", max_length=MAX_RATIONALE, validate_default=True)

    @field_validator("why")
    @classmethod
    def _rationale(cls, value: str, info: ValidationInfo) -> str:
        return _required_text(
            value, info, "every option needs a rationale (why it is right or wrong)"
        )


class WrittenAnswer(BaseModel):
    """An answer written for one suggested follow-up question, shown at once when tapped.

    `question` repeats the follow-up it answers, word for word: the loader checks it, so an
    answer can never drift to another question when follow-ups are edited or reordered.
    """

    model_config = ConfigDict(extra="forbid")

    question: FollowUpText
    answer: str = Field(min_length=1, max_length=MAX_WRITTEN_ANSWER)
    sources: list[ReferenceText] = Field(min_length=1, max_length=MAX_REFERENCES)

    @field_validator("answer")
    @classmethod
    def _answer_length(cls, value: str) -> str:
        value = " ".join(value.split())
        words = len(value.split())
        low, high = WRITTEN_WORDS
        if not low <= words <= high:
            raise ValueError(f"a written answer has {low} to {high} words, this one has {words}")
        return _without_letter_reference(value)

    @field_validator("sources")
    @classmethod
    def _https_sources(cls, value: list[str]) -> list[str]:
        for source in value:
            if not source.startswith("https://"):
                raise ValueError(f"a source must be an https URL, got {source!r}")
        return value


class Item(BaseModel):
    """One practice question with everything a student sees after answering it.

    Validate with `context={"complete": True}` for the banks we ship: then every rationale,
    the trap, the takeaway, three follow-ups, tags and references are required.
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    version: int = Field(default=1, ge=1)
    exam: str
    domain: str
    tags: list[TagText] = Field(default_factory=list, max_length=MAX_TAGS, validate_default=True)
    difficulty: Difficulty = Difficulty.medium
    # The month someone last checked the item against the AWS documentation ("2026-11").
    reviewed: str | None = Field(default=None, validate_default=True)
    question: QuestionText
    options: list[Option] = Field(min_length=2, max_length=6)
    explanation: str = Field(default="", max_length=MAX_EXPLANATION, validate_default=True)
    trap: str = Field(default="", max_length=MAX_NOTE, validate_default=True)
    takeaway: str = Field(default="", max_length=MAX_NOTE, validate_default=True)
    follow_ups: list[FollowUpText] = Field(
        default_factory=list, max_length=3, validate_default=True
    )
    references: list[ReferenceText] = Field(
        default_factory=list, max_length=MAX_REFERENCES, validate_default=True
    )
    # Optional: answers written for the follow-ups, in their order (format 1 files without
    # them load as before, and their follow-ups are answered from the study material).
    follow_up_answers: list[WrittenAnswer] = Field(default_factory=list, max_length=3)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ITEM_ID.match(value):
            raise ValueError(
                "an id is 3-41 lowercase letters, digits, '.', '_' or '-', like 'dva-sec-001'"
            )
        return value

    @field_validator("reviewed", mode="before")
    @classmethod
    def _review_month(cls, value: object, info: ValidationInfo) -> str | None:
        if value is None:
            if REVIEWED_REQUIRED and _complete(info):
                raise ValueError("is missing: the month the item was last reviewed, as YYYY-MM")
            return None
        return review_month(value)

    @field_validator("exam")
    @classmethod
    def _known_exam(cls, value: str) -> str:
        if value not in EXAMS:
            raise ValueError(f"unknown exam {value!r}; known: {', '.join(EXAMS)}")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value and _complete(info):
            raise ValueError("is missing: at least one topic tag")
        return value

    @field_validator("references")
    @classmethod
    def _https_references(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value and _complete(info):
            raise ValueError("is missing: at least one documentation reference")
        for ref in value:
            if not ref.startswith("https://"):
                raise ValueError(f"a reference must be an https URL, got {ref!r}")
        return value

    @field_validator("follow_ups")
    @classmethod
    def _three_follow_ups(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if len(value) != 3 and _complete(info):
            raise ValueError(f"needs exactly three suggested follow-up questions, has {len(value)}")
        return value

    @field_validator("domain")
    @classmethod
    def _domain_in_guide(cls, value: str, info: ValidationInfo) -> str:
        exam = EXAMS.get(info.data.get("exam", ""))
        if exam and value not in exam.domain_names():
            raise ValueError(
                f"domain {value!r} is not in the {exam.code} exam guide; "
                f"use one of: {', '.join(exam.domain_names())}"
            )
        return value

    @field_validator("options")
    @classmethod
    def _answer_key(cls, value: list[Option], info: ValidationInfo) -> list[Option]:
        correct = sum(option.correct for option in value)
        if correct == 0:
            raise ValueError("no option is marked correct: the answer key names no option")
        if correct == len(value):
            raise ValueError("every option is marked correct; at least one must be wrong")
        if _complete(info):
            if not 4 <= len(value) <= 6:
                raise ValueError(f"an item has 4 to 6 options, this one has {len(value)}")
            question = str(info.data.get("question", "")).lower()
            stated = re.search(r"choose (two|three|four)", question)
            if correct > 1:
                word = CHOOSE_WORDS.get(correct, str(correct))
                if not stated or stated.group(1) != word:
                    raise ValueError(
                        f"{correct} options are marked correct, so the question must say "
                        f"'(Choose {word}.)'"
                    )
            elif stated:
                raise ValueError(
                    f"the question says 'choose {stated.group(1)}' but one option is correct"
                )
        texts = [option.text.lower() for option in value]
        if len(set(texts)) != len(texts):
            raise ValueError("two options have the same text")
        return value

    @field_validator("explanation")
    @classmethod
    def _explanation(cls, value: str, info: ValidationInfo) -> str:
        return _required_text(value, info, "the explanation")

    @field_validator("trap")
    @classmethod
    def _trap(cls, value: str, info: ValidationInfo) -> str:
        return _required_text(value, info, "the exam trap")

    @field_validator("takeaway")
    @classmethod
    def _takeaway(cls, value: str, info: ValidationInfo) -> str:
        return _required_text(value, info, "the key takeaway")

    @field_validator("follow_up_answers")
    @classmethod
    def _answers_match_follow_ups(
        cls, value: list[WrittenAnswer], info: ValidationInfo
    ) -> list[WrittenAnswer]:
        """Checked as a field (follow_ups is validated first), so errors point at this one."""
        follow_ups = info.data.get("follow_ups", [])
        for position, written in enumerate(value):
            asked = follow_ups[position] if position < len(follow_ups) else None
            if written.question != asked:
                raise ValueError(
                    f"answer {position + 1} answers {written.question!r}, but "
                    f"follow-up {position + 1} is {asked!r}: keep them in the same order"
                )
        return value

    def written_answer(self, index: int) -> WrittenAnswer | None:
        """The answer written for follow-up `index`, if the bank has one."""
        for written in self.follow_up_answers:
            if index < len(self.follow_ups) and written.question == self.follow_ups[index]:
                return written
        return None

    def correct_indices(self) -> list[int]:
        return [i for i, option in enumerate(self.options) if option.correct]

    @property
    def choose(self) -> int:
        """How many options the student must pick."""
        return len(self.correct_indices())


class BankFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: int
    items: list[Item] = Field(min_length=1)

    @field_validator("format")
    @classmethod
    def _supported(cls, value: int) -> int:
        if value != BANK_FORMAT:
            raise ValueError(f"bank format {value} is not supported; this version reads format 1")
        return value
