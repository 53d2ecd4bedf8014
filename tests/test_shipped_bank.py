"""What we ship: every bank and note loads, and the DVA-C02 starter set is complete."""

from __future__ import annotations

from collections import Counter

from knowledge.bank import Bank
from knowledge.catalog import EXAMS
from knowledge.notes import load_notes


def test_shipped_bank_loads_and_covers_every_dva_domain() -> None:
    bank = Bank.load()
    dva = bank.select("DVA-C02")
    per_domain = Counter(item.domain for item in dva)
    assert len(dva) >= 24
    for domain in EXAMS["DVA-C02"].domain_names():
        assert per_domain[domain] >= 6, domain
    assert sum(item.choose >= 2 for item in dva) >= 4


def test_shipped_bank_covers_the_starter_topics() -> None:
    text = {
        item.id: " ".join([item.question, item.explanation, *item.tags]).lower()
        for item in Bank.load().select("DVA-C02")
    }
    for topic in ("step functions", "fifo", "jitter", "secrets manager"):
        assert any(topic in t for t in text.values()), topic


def test_shipped_notes_load() -> None:
    notes = load_notes()
    assert all(note.sections() for note in notes)
