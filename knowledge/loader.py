"""Loading bank files, with errors that name the file, the line and the field.

YAML is composed into nodes first so that every pydantic error location can be traced back
to the line it came from. A file with any defect is rejected whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.duplicates import pairs_within
from knowledge.schema import BankFile, Item

BANKS_DIR = Path(__file__).parent / "banks"
FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available
BANK_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class BankProblem:
    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class BankError(Exception):
    """A bank could not be loaded; `problems` lists every defect found."""

    def __init__(self, problems: list[BankProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _node_for(node: yaml.Node, loc: tuple[int | str, ...]) -> tuple[yaml.Node, bool]:
    """The deepest node along `loc`, and whether the whole path was found."""
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    child = value
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part >= 0:
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            return node, False
        node = child
    return node, True


def _field_name(loc: tuple[int | str, ...], root: yaml.Node) -> str:
    """A readable field path such as `items[3].options[1].why`, with the item's id when known."""
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1]}[{part}]"] if parts else [f"[{part}]"]
        else:
            parts.append(str(part))
    name = ".".join(parts)
    if len(loc) >= 2 and loc[0] == "items" and isinstance(loc[1], int):
        item_node, found = _node_for(root, loc[:2])
        if found and isinstance(item_node, yaml.MappingNode):
            for key, value in item_node.value:
                if key.value == "id" and isinstance(value, yaml.ScalarNode):
                    name = f"{name} (item {value.value})"
    return name


def _problems_from(error: ValidationError, root: yaml.Node, file: str) -> list[BankProblem]:
    problems = []
    for detail in error.errors():
        loc = tuple(detail["loc"])
        node, found = _node_for(root, loc)
        message = detail["msg"].removeprefix("Value error, ")
        if not found and detail["type"] == "missing":
            message = "is missing"
        problems.append(
            BankProblem(file, node.start_mark.line + 1, _field_name(loc, root), message)
        )
    return problems


@dataclass(frozen=True)
class Located:
    """An item with the place it was read from, for errors that span files."""

    item: Item
    file: str
    line: int


def parse_located(text: str, file: str, *, complete: bool = True) -> list[Located]:
    """Parse and validate one bank file's text (YAML, or JSON, which YAML reads too).

    Raises BankError listing every defect. `complete=False` accepts items without rationales,
    traps, takeaways, follow-ups or references, as teachers' own questions often are.
    """
    try:
        root = yaml.compose(text, Loader=FastLoader)
        data = FastLoader("").construct_document(root) if root is not None else None  # parsed once
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise BankError([BankProblem(file, line, "", f"not valid YAML: {reason}")]) from None
    if root is None or not isinstance(data, dict):
        raise BankError([BankProblem(file, 1, "", "expected a mapping with 'format' and 'items'")])
    try:
        bank = BankFile.model_validate(data, context={"complete": complete})
    except ValidationError as exc:
        raise BankError(_problems_from(exc, root, file)) from None
    located = [
        Located(item, file, _node_for(root, ("items", index))[0].start_mark.line + 1)
        for index, item in enumerate(bank.items)
    ]
    problems = check_across(located)
    if problems:
        raise BankError(problems)
    return located


def parse_bank_text(text: str, file: str, *, complete: bool = True) -> list[Item]:
    return [entry.item for entry in parse_located(text, file, complete=complete)]


def check_across(located: Sequence[Located]) -> list[BankProblem]:
    """Duplicate ids and near-duplicate questions (word overlap of at least NEAR_DUPLICATE).

    Near-duplicates come from an index, not from comparing every pair: 25,000 items take
    seconds (knowledge/duplicates.py).
    """
    problems: list[BankProblem] = []
    first: dict[str, Located] = {}
    for entry in located:
        earlier = first.setdefault(entry.item.id, entry)
        if earlier is not entry:
            problems.append(
                BankProblem(
                    entry.file,
                    entry.line,
                    "id",
                    f"duplicate id {entry.item.id!r}, first at {earlier.file}:{earlier.line}",
                )
            )
    for later, earlier, share in pairs_within([entry.item.question for entry in located]):
        entry, other = located[later], located[earlier]
        if other.item.id == entry.item.id:
            continue
        problems.append(
            BankProblem(
                entry.file,
                entry.line,
                "question",
                f"near-duplicate of {other.item.id} at {other.file}:{other.line} "
                f"({share:.0%} of the words are shared)",
            )
        )
    return problems


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """Every .yaml/.yml/.json file under the given files or folders, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in BANK_SUFFIXES))
        else:
            files.append(path)
    return files


def load_located(paths: Iterable[Path] | None = None) -> list[Located]:
    """Every item under `paths` (default: the shipped banks) with its place; all or nothing."""
    problems: list[BankProblem] = []
    located: list[Located] = []
    for path in bank_files(paths if paths is not None else [BANKS_DIR]):
        try:
            located.extend(parse_located(path.read_text(encoding="utf-8"), str(path)))
        except BankError as exc:
            problems.extend(exc.problems)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(BankProblem(str(path), 1, "", f"cannot read: {exc}"))
    problems.extend(check_across(located))
    if problems:
        raise BankError(_unique(problems))
    return located


def _unique(problems: list[BankProblem]) -> list[BankProblem]:
    return list(dict.fromkeys(problems))


def load_banks(paths: Iterable[Path] | None = None) -> list[Item]:
    """Load every bank under `paths` (default: the shipped banks); all or nothing."""
    return [entry.item for entry in load_located(paths)]
