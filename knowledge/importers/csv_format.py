"""CSV, as a spreadsheet saves it: one question per row, columns named in the header (CSV.md).

The header is checked before any row, because a missing or misspelt column would otherwise
turn into one confusing problem per row. Each problem names the line where its record starts
in the file, which the csv module tracks through quoted multi-line cells.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from knowledge.importers import ImportDefaults, item_id, too_many
from knowledge.importers.common import Placer, base_item, finish, validate_item
from knowledge.loader import BankProblem, Located

LETTERS = "abcdef"
REQUIRED = ("question", "option_a", "option_b", "answer")
OPTIONAL = (
    "id",
    "exam",
    "domain",
    *(f"option_{letter}" for letter in LETTERS[2:]),
    *(f"why_{letter}" for letter in LETTERS),
    "explanation",
    "trap",
    "takeaway",
    "difficulty",
    "tags",
    "follow_ups",
    "references",
)
COLUMNS = (*REQUIRED, *OPTIONAL)


def _delimiter(text: str) -> str:
    """Spreadsheets in many locales save with ';' when ',' is the decimal separator."""
    header = text.split("\n", 1)[0]
    return ";" if "," not in header and ";" in header else ","


def _header_problems(header: list[str], file: str) -> list[BankProblem]:
    problems: list[BankProblem] = []
    seen: set[str] = set()
    for name in header:
        if not name:
            problems.append(BankProblem(file, 1, "header", "a column has no name"))
        elif name in seen:
            problems.append(BankProblem(file, 1, "header", f"column {name!r} appears twice"))
        elif name not in COLUMNS:
            message = f"unknown column {name!r}; the columns are: {', '.join(COLUMNS)}"
            problems.append(BankProblem(file, 1, "header", message))
        seen.add(name)
    for name in REQUIRED:
        if name not in seen:
            problems.append(
                BankProblem(file, 1, "header", f"missing required column {name!r}; see CSV.md")
            )
    return problems


def _split(value: str, separator: str | None) -> list[str]:
    return [part.strip() for part in value.split(separator) if part.strip()]


def parse_csv(text: str, file: str, defaults: ImportDefaults) -> list[Located]:
    """Parse a CSV import; raise BankError listing every problem with its line."""
    text = text.removeprefix("\ufeff")
    # strict: a stray or unclosed quote is an error here, not a silently merged cell.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    try:
        header = [name.strip().lower() for name in next(reader)]
    except StopIteration:
        header = []
    except csv.Error as error:
        return finish([], [BankProblem(file, 1, "header", f"not valid CSV: {error}")], file)
    if not any(header):
        message = f"the file is empty; its first line must be a header such as {','.join(REQUIRED)}"
        return finish([], [BankProblem(file, 1, "header", message)], file)
    problems = _header_problems(header, file)
    if any(name not in header for name in REQUIRED):
        return finish([], problems, file)  # rows cannot be read without the required columns

    placer = Placer(defaults, file)
    located: list[Located] = []
    start = reader.line_num + 1
    records = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            message = f"not valid CSV: {error}"
            if "end of data" in str(error):
                message = 'a quoted cell that starts in this record is never closed with "'
            problems.append(BankProblem(file, start, "", message))
            start = reader.line_num + 1
            continue
        line, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        records += 1
        if defaults.max_items is not None and records > defaults.max_items:
            raise too_many(file, defaults.max_items)
        if len(row) > len(header):
            message = (
                f"the row has {len(row)} cells but the header has {len(header)}; "
                "quote cells that contain a comma"
            )
            problems.append(BankProblem(file, line, "", message))
            continue
        cells = {name: value.strip() for name, value in zip(header, row, strict=False)}
        entry, row_problems = _parse_row(cells, line, placer, file)
        problems.extend(row_problems)
        if entry is not None:
            located.append(entry)
    return finish(located, problems, file)


def _parse_row(
    cells: dict[str, str], line: int, placer: Placer, file: str
) -> tuple[Located | None, list[BankProblem]]:
    """One record: an item, or every problem found in it."""
    problems: list[BankProblem] = []
    reported: set[str] = set()

    def problem(name: str, message: str) -> None:
        problems.append(BankProblem(file, line, name, message))
        reported.add(name)

    answer = cells.get("answer", "")
    letters = [part.lower() for part in re.split(r"[\s,;]+", answer) if part]
    if not letters:
        problem("answer", "is missing: the letter of the right option, like B or A,C")
    elif any(len(letter) != 1 or letter not in LETTERS for letter in letters):
        problem("answer", f"answer {answer!r} must be letters A to F, like B or A,C")
        letters = []
    options: list[dict[str, Any]] = []
    for letter in LETTERS:
        option = cells.get(f"option_{letter}", "")
        why = cells.get(f"why_{letter}", "")
        if option:
            options.append({"text": option, "correct": letter in letters, "why": why})
            continue
        if letter in letters:
            message = f"answer names {letter.upper()} but option_{letter} is empty"
            problem("answer", message)
        if why:
            problem("options", f"why_{letter} is filled but option_{letter} is empty")
    if "answer" in reported:
        reported.add("options")

    exam, exam_problems = placer.exam(cells.get("exam"), line)
    domain, domain_problems = placer.domain(exam, cells.get("domain"), line)
    problems.extend([*exam_problems, *domain_problems])
    if exam is None:
        reported.add("exam")
    if domain is None:
        reported.add("domain")
    question = cells.get("question", "")
    data = base_item(
        cells.get("id") or item_id("csv", None, question, placer.defaults.id_space), exam, domain
    )
    data.update(
        question=question,
        options=options,
        explanation=cells.get("explanation", ""),
        trap=cells.get("trap", ""),
        takeaway=cells.get("takeaway", ""),
        difficulty=(cells.get("difficulty") or "medium").lower(),
        tags=_split(cells.get("tags", ""), ";"),
        follow_ups=_split(cells.get("follow_ups", ""), "|"),
        references=_split(cells.get("references", ""), None),
    )
    item, item_problems = validate_item(data, file, line, reported)
    problems.extend(item_problems)
    if item is None or problems:
        return None, problems
    return Located(item, file, line), []
