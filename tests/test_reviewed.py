"""Review months: every item and note says when it was last checked against the AWS docs.

A wrong month is an error naming the file, the line and the field; content not reviewed in the
last 12 months is a warning that never fails `studybot bank validate`; `studybot bank list`
shows the oldest review month so a maintainer knows what to re-check first.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import knowledge.schema
from knowledge.loader import BankError, parse_bank_text
from knowledge.notes import load_notes
from knowledge.reviews import current_month, is_stale
from tests.test_cli import FIXTURE_BANK, studybot

SAMPLE = (FIXTURE_BANK / "sample.yaml").read_text()
UNREVIEWED = "".join(line for line in SAMPLE.splitlines(True) if "reviewed:" not in line)


def next_month() -> str:
    today = datetime.now(UTC).date()
    return f"{today.year + 1}-01" if today.month == 12 else f"{today.year}-{today.month + 1:02d}"


def with_months(*months: str) -> str:
    """The sample bank with its first items reviewed in `months`, in order, the rest this month."""
    out: list[str] = []
    pending = list(months)
    for line in UNREVIEWED.splitlines(True):
        out.append(line)
        if line.startswith("    difficulty:"):
            out.append(f"    reviewed: {pending.pop(0) if pending else current_month()}\n")
    assert not pending, "the sample bank has fewer items than months given"
    return "".join(out)


def note_text(note_id: str, reviewed: str | None) -> str:
    month = f"reviewed: {reviewed}\n" if reviewed else ""
    return (
        f"---\nid: {note_id}\ntitle: Old\nexams: [DVA-C02]\ntags: [caching]\n"
        f"references: [https://docs.aws.amazon.com/]\n{month}---\n## Old\n"
        + "A sentence about caching that was true once. "
        * 20
    )


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


@pytest.mark.parametrize(
    ("month", "message"),
    [
        ("2026-13", "'2026-13' is not a month; write it as YYYY-MM, like 2026-11"),
        ("Nov 2025", "'Nov 2025' is not a month; write it as YYYY-MM, like 2026-11"),
        ("2025-11-05", "write the month only, as YYYY-MM (like 2025-11), not a date"),
    ],
)
def test_a_bad_month_is_an_error_naming_the_file_line_and_field(month: str, message: str) -> None:
    text = with_months(month)
    with pytest.raises(BankError) as caught:
        parse_bank_text(text, "bank.yaml")
    (problem,) = [str(p) for p in caught.value.problems]
    line = line_of(text, f"reviewed: {month}")
    assert problem == f"bank.yaml:{line}: items[0].reviewed (item t-dev-1): {message}"


def test_a_month_in_the_future_is_an_error() -> None:
    text = with_months(current_month(), next_month())
    with pytest.raises(BankError) as caught:
        parse_bank_text(text, "bank.yaml")
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem.startswith(f"bank.yaml:{line_of(text, 'reviewed: ' + next_month())}: ")
    assert "items[1].reviewed (item t-dev-2)" in problem and "is in the future" in problem


def test_a_year_later_the_same_month_is_no_longer_recent() -> None:
    today = date(2026, 11, 29)
    assert not is_stale("2025-12", today) and not is_stale("2026-11", today)
    assert is_stale("2025-11", today) and is_stale("2019-06", today)


def test_a_format_1_file_without_review_months_still_loads_when_not_complete(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(knowledge.schema, "REVIEWED_REQUIRED", True)
    items = parse_bank_text(UNREVIEWED, "teacher.yaml", complete=False)
    assert len(items) == 6 and all(item.reviewed is None for item in items)
    with pytest.raises(BankError) as caught:
        parse_bank_text(UNREVIEWED, "ours.yaml")  # our own banks must say when they were checked
    first = str(caught.value.problems[0])
    assert first.startswith(f"ours.yaml:{line_of(UNREVIEWED, '- id: t-dev-1')}: items[0].reviewed")
    assert "is missing" in first


def test_old_content_warns_but_validates(tmp_path: Path) -> None:
    folder = tmp_path / "content"
    (folder / "notes").mkdir(parents=True)
    bank = folder / "bank.yaml"
    bank.write_text(with_months("2020-01", current_month(), "2023-06"))
    note = folder / "notes" / "old.md"
    note.write_text(note_text("note-old", "2021-03"))
    (folder / "notes" / "undated.md").write_text(note_text("note-undated", None))

    result = studybot(tmp_path, "bank", "validate", str(folder))

    assert result.returncode == 0, result.stderr
    assert result.stdout == "OK: 6 items, 2 notes\n"
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    text = bank.read_text()
    assert warnings[:3] == [
        f"warning: {bank}:{line_of(text, '- id: t-dev-1')}: reviewed (item t-dev-1): last "
        "reviewed 2020-01, not in the last 12 months; check it against the AWS documentation",
        f"warning: {bank}:{line_of(text, '- id: t-sec-1')}: reviewed (item t-sec-1): last "
        "reviewed 2023-06, not in the last 12 months; check it against the AWS documentation",
        f"warning: {note}:7: reviewed (note note-old): last reviewed 2021-03, not in the last "
        "12 months; check it against the AWS documentation",
    ]
    assert warnings[3:] == ["warning: 1 item(s) or note(s) have no reviewed month"]


def test_a_bad_month_in_a_note_is_an_error_at_its_line(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "bad.md").write_text(
        "---\nid: note-bad\ntitle: Bad\nexams: [DVA-C02]\ntags: [x]\n"
        "references: [https://docs.aws.amazon.com/]\nreviewed: 2026-00\n---\n## B\n" + "word " * 160
    )
    with pytest.raises(BankError) as caught:
        load_notes(notes)
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem == f"{notes / 'bad.md'}:7: reviewed: '2026-00' is not a month; write it as " + (
        "YYYY-MM, like 2026-11"
    )


def test_bank_list_shows_the_oldest_review_per_exam_and_for_notes(tmp_path: Path) -> None:
    banks = tmp_path / "banks"
    banks.mkdir()
    (banks / "mine.yaml").write_text(with_months("2026-02", "2025-07", "2026-01"))

    result = studybot(tmp_path, "bank", "list", STUDYBOT_BANKS=str(banks))

    assert result.returncode == 0, result.stderr
    assert re.search(r"^DVA-C02: 5 items .*, oldest review 2025-07$", result.stdout, re.M)
    clf = rf"^CLF-C02: 1 items .*, oldest review {current_month()}$"
    assert re.search(clf, result.stdout, re.M)
    oldest_note = min(note.reviewed or "" for note in load_notes())
    assert f"Study notes: {len(load_notes())}, oldest review {oldest_note}\n" in result.stdout


def test_every_shipped_note_says_when_it_was_reviewed() -> None:
    assert all(note.reviewed for note in load_notes())
