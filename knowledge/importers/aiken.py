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
from dataclasses import dataclass, field

from knowledge.importers import ImportDefaults, item_id, too_many
from knowledge.importers.common import MIN_OPTIONS, Placer, base_item, finish, validate_item
from knowledge.loader import BankProblem, Located

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
    closed = 0

    def close(answer: str | None, answer_line: int) -> None:
        nonlocal question, closed
        if question is not None:
            closed += 1
            if defaults.max_items is not None and closed > defaults.max_items:
                raise too_many(file, defaults.max_items)
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
    data = base_item(item_id("aiken", None, body, placer.defaults.id_space), exam, domain)
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
