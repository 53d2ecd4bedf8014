"""The loaded question bank, indexed for the quiz: by id, and by exam and domain.

It holds the shipped items and, beside them, the items admins imported; imported ids never
shadow shipped ones (the import refuses them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from knowledge.loader import load_banks
from knowledge.schema import Item


class Bank:
    def __init__(self, items: Iterable[Item], imported: Iterable[Item] = ()) -> None:
        self._items: dict[str, Item] = {item.id: item for item in items}
        self.shipped_ids = frozenset(self._items)
        for item in imported:
            self._items.setdefault(item.id, item)

    @classmethod
    def load(cls, paths: Sequence[Path] | None = None) -> Bank:
        """The shipped banks, or the files and folders given; raises BankError on any defect."""
        return cls(load_banks(list(paths) if paths else None))

    def with_imported(self, imported: Iterable[Item]) -> Bank:
        """This bank's own items plus `imported` ones."""
        return Bank([self._items[i] for i in sorted(self.shipped_ids)], imported)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, item_id: str) -> Item | None:
        return self._items.get(item_id)

    def items(self) -> list[Item]:
        return sorted(self._items.values(), key=lambda i: i.id)

    def exams(self) -> list[str]:
        return sorted({item.exam for item in self._items.values()})

    def select(self, exam: str, domains: Sequence[str] = ()) -> list[Item]:
        """Items of `exam`, limited to `domains` when any are given, in a stable order."""
        return [
            item
            for item in self.items()
            if item.exam == exam and (not domains or item.domain in domains)
        ]
