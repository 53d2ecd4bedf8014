"""The loaded question bank, indexed for the quiz: by id, and by exam and domain.

It holds the shipped items and, beside them, the items admins imported; imported ids never
shadow shipped ones (the import refuses them). Every imported item has a scope: SHARED (the
pool every chat quizzes) or one chat's key, and only that chat sees it. `get` finds any item
by id (answers, reports and history refer to ids); `select` and `visible` honour scopes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from knowledge.loader import load_banks
from knowledge.schema import Item

SHARED = ""  # the scope of shipped items and of operators' imports: every chat sees them


class Bank:
    def __init__(
        self,
        items: Iterable[Item],
        imported: Iterable[Item] = (),
        scopes: Mapping[str, str] | None = None,
    ) -> None:
        """`scopes` maps imported item ids to their scope; ids not in it are SHARED."""
        self._items: dict[str, Item] = {item.id: item for item in items}
        self.shipped_ids = frozenset(self._items)
        for item in imported:
            self._items.setdefault(item.id, item)
        self._scopes = {
            item_id: scope
            for item_id, scope in (scopes or {}).items()
            if scope != SHARED and item_id in self._items and item_id not in self.shipped_ids
        }
        self._sorted = sorted(self._items.values(), key=lambda i: i.id)

    @classmethod
    def load(cls, paths: Sequence[Path] | None = None) -> Bank:
        """The shipped banks, or the files and folders given; raises BankError on any defect."""
        return cls(load_banks(list(paths) if paths else None))

    def with_imported(
        self, imported: Iterable[Item], scopes: Mapping[str, str] | None = None
    ) -> Bank:
        """This bank's own items plus `imported` ones (in `scopes`, or SHARED)."""
        return Bank([self._items[i] for i in sorted(self.shipped_ids)], imported, scopes)

    def __len__(self) -> int:
        return len(self._items)

    def get(self, item_id: str) -> Item | None:
        return self._items.get(item_id)

    def scope_of(self, item_id: str) -> str:
        return self._scopes.get(item_id, SHARED)

    def visible(self, item_id: str, scope: str = SHARED) -> bool:
        """Whether a chat with `scope` may see the item: shipped, shared, or its own."""
        return item_id in self._items and self.scope_of(item_id) in (SHARED, scope)

    def items(self) -> list[Item]:
        """Every item, whatever its scope, in a stable order."""
        return list(self._sorted)

    def exams(self) -> list[str]:
        return sorted({item.exam for item in self._items.values()})

    def select(self, exam: str, domains: Sequence[str] = (), scope: str = SHARED) -> list[Item]:
        """Items of `exam` that a chat with `scope` sees, limited to `domains` when any are
        given, in a stable order."""
        return [
            item
            for item in self._sorted
            if item.exam == exam
            and (not domains or item.domain in domains)
            and self.scope_of(item.id) in (SHARED, scope)
        ]
