"""Moodle's Aiken format, plus the helpers all three foreign formats share.

An Aiken question is its text (one or more lines), options lettered `A.` or `A)` in order, and
`ANSWER: B`. It has one correct option and no feedback, so every rationale stays empty.
Blank lines between questions are optional in real files, so a question ends at its ANSWER
line (or, when that is missing, where the next question's text begins).

The shared helpers live here because the importer package's `__init__` is the dispatcher only;
gift.py and csv_format.py import them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from knowledge.catalog import EXAMS, Exam, find_exam
from knowledge.importers import ImportDefaults, item_id
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

OPTION = re.compile(r"^([A-Za-z])[.)](?:\s+(.*))?$")
ANSWER = re.compile(r"^ANSWER\s*:\s*(.*)$")
LETTERS = "ABCDEF"


@dataclass
class _Question:
    line: int
    text: list[str] = field(default_factory=list)
    options: list[tuple[str, str, int]] = field(default_factory=list)  # letter, text, line
    problems: list[BankProblem] = field(default_factory=list)


def _is_option(line: str, question: _Question | None) -> re.Match[str] | None:
    """An option line, once the question has text: `A. text` or `A) text`."""
    if question is None or not question.text:
        return None
    return OPTION.match(line)


def parse_aiken(text: str, file: str, defaults: ImportDefaults) -> list[Located]:
    """Parse an Aiken file; raise BankError listing every problem with its line."""
    placer = Placer(defaults, file)
    located: list[Located] = []
    problems: list[BankProblem] = []
    question: _Question | None = None

    def close(answer: str | None, answer_line: int) -> None:
        nonlocal question
        if question is not None:
            _finish_question(question, answer, answer_line, placer, file, located, problems)
        question = None

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        answer = ANSWER.match(line)
        option = _is_option(line, question)
        if answer:
            if question is None:
                problems.append(
                    BankProblem(file, number, "answer", "an ANSWER line with no question above it")
                )
            close(answer.group(1).strip(), number)
        elif option and question is not None:
            _add_option(question, option, number, file)
        elif not line:
            if question is not None and not question.options:
                question.text.append("")  # a paragraph break inside the question text
        elif question is not None and question.options:
            close(None, number)  # the next question began before this one's ANSWER line
            question = _Question(number, [line])
        elif question is None:
            question = _Question(number, [line])
        else:
            question.text.append(line)
    close(None, len(text.splitlines()) + 1)
    return finish(located, problems, file)


def _add_option(question: _Question, option: re.Match[str], number: int, file: str) -> None:
    letter = option.group(1).upper()
    expected = LETTERS[len(question.options)] if len(question.options) < len(LETTERS) else None
    if expected is None:
        question.problems.append(
            BankProblem(file, number, "options", f"option {letter}: at most 6 options (A to F)")
        )
    elif letter != expected:
        question.problems.append(
            BankProblem(
                file,
                number,
                "options",
                f"options must be lettered in order A, B, C...: expected {expected}. "
                f"but found {letter}.",
            )
        )
    body = (option.group(2) or "").strip()
    if not body:
        question.problems.append(BankProblem(file, number, "options", f"option {letter} is empty"))
    question.options.append((letter, body, number))


def _finish_question(
    question: _Question,
    answer: str | None,
    answer_line: int,
    placer: Placer,
    file: str,
    located: list[Located],
    problems: list[BankProblem],
) -> None:
    """Turn one collected question into an item, or into problems."""
    reported: set[str] = set()
    own = list(question.problems)
    if own:
        reported.add("options")
    if len(question.options) < MIN_OPTIONS:
        reported.add("options")
        own.append(
            BankProblem(
                file,
                question.line,
                "options",
                f"needs at least 2 options (A. and B.), has {len(question.options)}",
            )
        )
    letters = [letter for letter, _, _ in question.options]
    correct: str | None = None
    if answer is None:
        own.append(
            BankProblem(
                file, question.line, "answer", "ANSWER is missing: end the question with ANSWER: B"
            )
        )
    elif not re.fullmatch(r"[A-Za-z]", answer):
        own.append(
            BankProblem(
                file,
                answer_line,
                "answer",
                f"ANSWER names one letter in Aiken, got {answer!r}; "
                "use CSV or GIFT for questions with several answers",
            )
        )
    elif answer.upper() not in letters:
        own.append(
            BankProblem(
                file,
                answer_line,
                "answer",
                f"ANSWER: {answer.upper()} names no option; the options are "
                f"{', '.join(letters) or 'missing'}",
            )
        )
    else:
        correct = answer.upper()
    if correct is None:
        reported.add("options")
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(question.text)).strip()
    exam, exam_problems = placer.exam(None, question.line)
    domain, domain_problems = placer.domain(exam, None, question.line)
    data = base_item(item_id("aiken", None, body), exam, domain)
    data["question"] = body
    data["options"] = [
        {"text": option, "correct": letter == correct, "why": ""}
        for letter, option, _ in question.options
    ]
    if exam is None:
        reported.add("exam")
    if domain is None:
        reported.add("domain")
    item, item_problems = validate_item(data, file, question.line, reported)
    problems.extend([*own, *exam_problems, *domain_problems, *item_problems])
    if item is not None and not own and not exam_problems and not domain_problems:
        located.append(Located(item, file, question.line))
