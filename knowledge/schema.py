"""The question bank format, version 1, as pydantic models.

A bank file is YAML: `format: 1` and a list of `items`. The models check one item on its own;
checks across items (duplicate ids) live in the loader.
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

BANK_FORMAT = 1
CHOOSE_WORDS = {2: "two", 3: "three", 4: "four"}

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

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


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text
    correct: bool
    why: Text = Field(description="Why this option is right or wrong.")

    @field_validator("why")
    @classmethod
    def _no_letters(cls, value: str) -> str:
        return _without_letter_reference(value)


class Item(BaseModel):
    """One practice question with everything a student sees after answering it."""

    model_config = ConfigDict(extra="forbid")

    id: str
    version: int = Field(default=1, ge=1)
    exam: str
    domain: str
    tags: list[Text] = Field(min_length=1)
    difficulty: Difficulty
    question: Text
    options: list[Option] = Field(min_length=4, max_length=6)
    explanation: Text
    trap: Text
    takeaway: Text
    follow_ups: list[Text] = Field(min_length=3, max_length=3)
    references: list[Text] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not ITEM_ID.match(value):
            raise ValueError(
                "an id is 3-41 lowercase letters, digits, '.', '_' or '-', like 'dva-sec-001'"
            )
        return value

    @field_validator("exam")
    @classmethod
    def _known_exam(cls, value: str) -> str:
        if value not in EXAMS:
            raise ValueError(f"unknown exam {value!r}; known: {', '.join(EXAMS)}")
        return value

    @field_validator("references")
    @classmethod
    def _https_references(cls, value: list[str]) -> list[str]:
        for ref in value:
            if not ref.startswith("https://"):
                raise ValueError(f"a reference must be an https URL, got {ref!r}")
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

    @field_validator("explanation", "trap", "takeaway")
    @classmethod
    def _no_letters(cls, value: str) -> str:
        return _without_letter_reference(value)

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
