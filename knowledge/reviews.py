"""Review months: when a person last checked an item or a note against the AWS documentation.

AWS launches make true statements false (issue 13), so every piece of shipped content carries
`reviewed: YYYY-MM`, and `studybot bank validate` warns about content not reviewed within
REVIEW_MONTHS. A month is kept as its "YYYY-MM" text, which sorts in time order.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime

REVIEW_MONTHS = 12
MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def current_month(today: date | None = None) -> str:
    day = today or datetime.now(UTC).date()
    return f"{day.year:04d}-{day.month:02d}"


def review_month(value: object) -> str:
    """The month as "YYYY-MM"; a ValueError naming the mistake for anything else or the future.

    YAML reads `2026-11` as text but `2026-11-05` as a date, so a date gets its own message.
    """
    if isinstance(value, date):
        raise ValueError(f"write the month only, as YYYY-MM (like {value:%Y-%m}), not a date")
    match = MONTH.match(str(value).strip())
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 2000:
        raise ValueError(f"{value!r} is not a month; write it as YYYY-MM, like 2026-11")
    month = match.group(0)
    if month > current_month():
        raise ValueError(f"{month} is in the future; give the month the content was checked")
    return month


def months_since(month: str, today: date | None = None) -> int:
    """Whole calendar months from `month` to the current month (0 for this month)."""
    year, number = (int(part) for part in month.split("-"))
    now = current_month(today)
    now_year, now_number = (int(part) for part in now.split("-"))
    return (now_year - year) * 12 + now_number - number


def is_stale(month: str, today: date | None = None) -> bool:
    """Not reviewed in the last REVIEW_MONTHS months: the same month a year later is stale."""
    return months_since(month, today) >= REVIEW_MONTHS


def oldest(months: Iterable[str | None]) -> str | None:
    """The earliest review month given, or None when none is recorded."""
    return min((month for month in months if month), default=None)
