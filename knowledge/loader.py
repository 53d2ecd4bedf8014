"""Loading bank files, with errors that name the file, the line and the field.

YAML is composed into nodes first so that every pydantic error location can be traced back
to the line it came from. A file with any defect is rejected whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.schema import BankFile, Item

BANKS_DIR = Path(__file__).parent / "banks"


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


def parse_bank_text(text: str, file: str) -> list[Item]:
    """Parse and validate one bank file's text; raise BankError listing every defect."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else 1
        reason = getattr(exc, "problem", None) or str(exc)
        raise BankError([BankProblem(file, line, "", f"not valid YAML: {reason}")]) from None
    if root is None or not isinstance(data, dict):
        raise BankError([BankProblem(file, 1, "", "expected a mapping with 'format' and 'items'")])
    try:
        bank = BankFile.model_validate(data)
    except ValidationError as exc:
        raise BankError(_problems_from(exc, root, file)) from None
    problems = []
    seen: dict[str, int] = {}
    for index, item in enumerate(bank.items):
        line = _node_for(root, ("items", index))[0].start_mark.line + 1
        if item.id in seen:
            problems.append(
                BankProblem(file, line, f"items[{index}].id", f"duplicate id {item.id!r}")
            )
        seen[item.id] = line
    if problems:
        raise BankError(problems)
    return bank.items


def bank_files(paths: Iterable[Path]) -> list[Path]:
    """Every .yaml/.yml file under the given files or folders, in a stable order."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


def load_banks(paths: Iterable[Path] | None = None) -> list[Item]:
    """Load every bank under `paths` (default: the shipped banks); all or nothing."""
    problems: list[BankProblem] = []
    items: list[Item] = []
    origin: dict[str, str] = {}
    for path in bank_files(paths if paths is not None else [BANKS_DIR]):
        try:
            loaded = parse_bank_text(path.read_text(encoding="utf-8"), str(path))
        except BankError as exc:
            problems.extend(exc.problems)
            continue
        except OSError as exc:
            problems.append(BankProblem(str(path), 1, "", f"cannot read: {exc.strerror}"))
            continue
        for item in loaded:
            if item.id in origin:
                problems.append(
                    BankProblem(str(path), 1, "id", f"id {item.id!r} is also in {origin[item.id]}")
                )
            origin[item.id] = str(path)
        items.extend(loaded)
    if problems:
        raise BankError(problems)
    return items
