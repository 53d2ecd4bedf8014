"""Bringing a teacher's own questions in: our YAML/JSON format, CSV, Moodle GIFT and Aiken.

Every parser returns located items or raises BankError listing every problem with its line:
an import is all or nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from knowledge.loader import BankError, BankProblem, Located, parse_located

FORMATS = ("yaml", "json", "csv", "gift", "aiken")
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".csv": "csv", ".gift": "gift"}


@dataclass(frozen=True)
class ImportDefaults:
    """What a format cannot say itself: which exam and domain the questions belong to."""

    exam: str | None = None
    domain: str | None = None
    id_space: str = ""  # a chat's import scope: ids made up here are then that chat's own
    max_items: int | None = None  # stop reading past this many questions (a limit, not a goal)


class ImportRefused(Exception):
    """An import over a limit; the message says which, in words for the person importing."""


def too_many(file: str, limit: int) -> ImportRefused:
    """Raised as soon as a file turns out to hold more than `limit` questions: reading and
    checking 180,000 rows took a minute and 3 GB before they were refused."""
    return ImportRefused(
        f"{Path(file).name} has more than {limit} questions; one file may have at most "
        f"{limit}. Nothing was imported: split it into smaller files."
    )


# Items in our YAML or JSON format, counted before the file is parsed.
ITEM_STARTS = re.compile(r'(?m)^[ \t]*-[ \t]+id[ \t]*:|"id"[ \t]*:')


def item_id(prefix: str, title: str | None, question: str, space: str = "") -> str:
    """A stable id: from the question's title when it has one, else from its text.

    Stable ids make re-importing the same file idempotent. With a `space` (a chat's scope) the
    id carries a short tag of it, so two groups importing the same Moodle export, or two
    questions titled "Q1", never collide.
    """
    tag = f"{hashlib.sha1(space.encode()).hexdigest()[:6]}-" if space else ""
    if title:
        width = 30 - len(tag)
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:width].strip("-")
        if len(slug) >= 2:
            return f"{prefix}-{tag}{slug}"
    digest = hashlib.sha1(" ".join(question.lower().split()).encode()).hexdigest()[:10]
    return f"{prefix}-{tag}{digest}"


def guess_format(path: Path) -> str | None:
    """The format from the file name; Aiken files are plain .txt."""
    if path.suffix.lower() == ".txt":
        return "aiken"
    return SUFFIXES.get(path.suffix.lower())


def parse_import(
    text: str, file: str, fmt: str, defaults: ImportDefaults = ImportDefaults()
) -> list[Located]:
    """Parse an import in `fmt`; raise BankError with every problem, file and line."""
    if fmt in ("yaml", "json"):
        limit = defaults.max_items
        if limit is not None and len(ITEM_STARTS.findall(text)) > limit:
            raise too_many(file, limit)
        return parse_located(text, file, complete=False)
    if fmt == "csv":
        from knowledge.importers.csv_format import parse_csv

        return parse_csv(text, file, defaults)
    if fmt == "gift":
        from knowledge.importers.gift import parse_gift

        return parse_gift(text, file, defaults)
    if fmt == "aiken":
        from knowledge.importers.aiken import parse_aiken

        return parse_aiken(text, file, defaults)
    raise BankError([BankProblem(file, 1, "", f"unknown format {fmt!r}; use one of {FORMATS}")])
