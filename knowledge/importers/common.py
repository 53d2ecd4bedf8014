"""What the GIFT, Aiken and CSV parsers share: placing exam and domain, validating an item at
its line, and the all-or-nothing finish."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from knowledge.catalog import EXAMS, Exam, find_exam
from knowledge.importers import ImportDefaults
from knowledge.loader import BankError, BankProblem, Located, check_across
from knowledge.schema import Item

NO_EXAM = f"no exam given: add --exam ({' or '.join(EXAMS)})"
NO_DOMAIN = "no domain given: add --domain"
MIN_OPTIONS, MAX_OPTIONS = 2, 6


# --- Shared by the GIFT, Aiken and CSV importers -------------------------------------------


def domain_list(exam: Exam) -> str:
    return ", ".join(exam.domain_names())


@dataclass
class Placer:
    """Finds each question's exam and domain: from the file's own data, else from the defaults.

    A missing or unknown default is one fix (a flag), so it is reported once, at the first
    question that needs it, instead of drowning the other problems in identical lines.
    """

    defaults: ImportDefaults
    file: str
    _reported: set[str] = field(default_factory=set)

    def _once(self, line: int, name: str, message: str) -> list[BankProblem]:
        if message in self._reported:
            return []
        self._reported.add(message)
        return [BankProblem(self.file, line, name, message)]

    def exam(self, word: str | None, line: int) -> tuple[Exam | None, list[BankProblem]]:
        """The exam named in the file (`word`), else the default; problems if neither works."""
        if word and word.strip():
            exam = find_exam(word)
            if exam is None:
                message = f"unknown exam {word.strip()!r}; use one of: {', '.join(EXAMS)}"
                return None, [BankProblem(self.file, line, "exam", message)]
            return exam, []
        if not self.defaults.exam:
            return None, self._once(line, "exam", NO_EXAM)
        exam = find_exam(self.defaults.exam)
        if exam is None:
            message = (
                f"unknown exam {self.defaults.exam!r} given as the default; "
                f"use one of: {', '.join(EXAMS)}"
            )
            return None, self._once(line, "exam", message)
        return exam, []

    def domain(
        self, exam: Exam | None, word: str | None, line: int, hints: Sequence[str] = ()
    ) -> tuple[str | None, list[BankProblem]]:
        """The domain: the last of `hints` that names one (quietly), else `word`, else the default.

        `hints` are loose words such as a GIFT category's path segments; `word` is a value the
        file states outright, so it must name a domain of the exam.
        """
        if exam is not None:
            for hint in reversed(hints):
                found = exam.find_domain(hint)
                if found:
                    return found.name, []
        stated = bool(word and word.strip())
        chosen = word if stated else self.defaults.domain
        if not chosen or not chosen.strip():
            return None, self._once(line, "domain", NO_DOMAIN)
        if exam is None:
            return None, []  # the exam problem is already reported; nothing to check against
        found = exam.find_domain(chosen)
        if found:
            return found.name, []
        message = (
            f"domain {chosen.strip()!r} is not in the {exam.code} exam guide; "
            f"use one of: {domain_list(exam)}"
        )
        if stated:
            return None, [BankProblem(self.file, line, "domain", message)]
        return None, self._once(line, "domain", message + " (given as the default)")


def validate_item(
    data: dict[str, Any], file: str, line: int, reported: Collection[str] = ()
) -> tuple[Item | None, list[BankProblem]]:
    """An incomplete-allowed Item, or its problems at the question's line.

    `reported` names top-level fields the parser already explained in its own words, so that
    pydantic's version of the same defect is not listed twice.
    """
    problems: list[BankProblem] = []
    options = data.get("options") or []
    count_ok = MIN_OPTIONS <= len(options) <= MAX_OPTIONS
    if "options" not in reported and not count_ok:
        problems.append(
            BankProblem(
                file,
                line,
                "options",
                f"a question needs {MIN_OPTIONS} to {MAX_OPTIONS} options, "
                f"this one has {len(options)}",
            )
        )
    skip = set(reported) | ({"options"} if not count_ok else set())
    clean = {key: value for key, value in data.items() if value is not None}
    try:
        item = Item.model_validate(clean, context={"complete": False})
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(detail["loc"])
            if loc and loc[0] in skip:
                continue
            message = detail["msg"].removeprefix("Value error, ")
            if detail["type"] == "missing":
                message = "is missing"
            name = ".".join(str(part) for part in loc)
            problems.append(BankProblem(file, line, name, message))
        return None, problems
    return (None, problems) if problems else (item, [])


def finish(located: list[Located], problems: list[BankProblem], file: str) -> list[Located]:
    """All or nothing: the items, or BankError with every problem (and duplicates) by line.

    A file without a single question is a problem too: it is almost always the wrong file.
    """
    problems = list(dict.fromkeys([*problems, *check_across(located)]))
    if not located and not problems:
        problems = [BankProblem(file, 1, "", "no questions found in the file")]
    if problems:
        raise BankError(sorted(problems, key=lambda problem: problem.line))
    return located


def base_item(item_id_: str, exam: Exam | None, domain: str | None) -> dict[str, Any]:
    """The fields every imported item starts from; None values are left out when validating."""
    return {
        "id": item_id_,
        "version": 1,
        "exam": exam.code if exam else None,
        "domain": domain,
        "difficulty": "medium",
        "tags": [],
    }


# --- Aiken --------------------------------------------------------------------------------
