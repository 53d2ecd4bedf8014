"""Parsing command arguments, such as `/quiz exam DVA-C02 security 10 30`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.types import Mode
from knowledge.catalog import DEFAULT_EXAM, EXAMS, find_exam

MIN_COUNT, MAX_COUNT, DEFAULT_COUNT = 1, 100, 10
MAX_MINUTES = 300
MINUTES = re.compile(r"^([0-9]+)\s*(?:m|min|mins|minutes?)$")


def ascii_number(token: str) -> int | None:
    """A count typed in ASCII digits, else None: "²" passes `str.isdigit()` but `int()` fails
    on it, and "٣" is a digit elsewhere but not one a usage hint asked for."""
    return int(token) if token.isascii() and token.isdigit() else None


class CommandError(ValueError):
    """The arguments could not be used; the message tells the user what to send."""


@dataclass(frozen=True)
class QuizRequest:
    exam: str = DEFAULT_EXAM
    domains: tuple[str, ...] = field(default=())
    count: int = DEFAULT_COUNT
    minutes: int | None = None
    mode: Mode = Mode.practice


def parse_quiz_args(args: str, default_exam: str = DEFAULT_EXAM) -> QuizRequest:
    """`[exam] [EXAM] [DOMAIN...] [COUNT] [MINUTES]`: numbers are the count, then the minutes."""
    tokens = [t for t in re.split(r"[\s,]+", args.strip()) if t]
    mode = Mode.practice
    if tokens and tokens[0].lower() in ("exam", "practice"):
        mode = Mode(tokens.pop(0).lower())
    exam_code = default_exam
    rest: list[str] = []
    for token in tokens:
        exam = find_exam(token)
        if exam:
            exam_code = exam.code
        else:
            rest.append(token)
    exam = EXAMS[exam_code]
    numbers: list[int] = []
    minutes: int | None = None
    domains: list[str] = []
    filler = {w.lower().strip(",") for d in exam.domains for w in d.name.split()}
    for token in rest:
        lowered = token.lower()
        if (number := ascii_number(lowered)) is not None:
            numbers.append(number)
        elif match := MINUTES.match(lowered):
            minutes = int(match.group(1))
        elif domain := exam.find_domain(lowered):
            if domain.name not in domains:
                domains.append(domain.name)
        elif lowered in filler:
            continue  # a word of a domain's full name, such as "with" or "Services"
        else:
            keys = ", ".join(d.key for d in exam.domains)
            raise CommandError(
                f"I don't know '{token}'. Domains of {exam.code}: {keys}. "
                "Example: /quiz DVA-C02 security 10"
            )
    if len(numbers) > 2:
        raise CommandError("Give at most two numbers: the question count, then the minutes.")
    count = numbers[0] if numbers else DEFAULT_COUNT
    if len(numbers) == 2:
        if minutes is not None:
            raise CommandError("The time limit is given twice.")
        minutes = numbers[1]
    if not MIN_COUNT <= count <= MAX_COUNT:
        raise CommandError(
            f"A quiz has {MIN_COUNT} to {MAX_COUNT} questions; you asked for {count}."
        )
    if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
        raise CommandError(
            f"The time limit is 1 to {MAX_MINUTES} minutes; you asked for {minutes}."
        )
    return QuizRequest(exam_code, tuple(domains), count, minutes, mode)
