"""When a group's daily challenge runs: `/daily on` arguments, the schedule, local days.

Times are kept as a local time in an IANA zone and converted each day, so 09:00 stays 09:00
across DST.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from bot.commands import CommandError, ascii_number
from bot.storage.models import Chat, DailyChallenge, DailySchedule
from knowledge.catalog import DEFAULT_EXAM, EXAMS, find_exam

DEFAULT_WINDOW_MINUTES = 8 * 60
MAX_COUNT = 5
HHMM = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
DURATION = re.compile(r"^([0-9]+)\s*(m|min|h)$")


@dataclass(frozen=True)
class DailyRequest:
    local_time: str
    time_zone: str
    exam: str
    domains: tuple[str, ...]
    count: int
    window_minutes: int


def parse_daily_on(args: list[str]) -> DailyRequest:
    """`HH:MM [TIME_ZONE] [EXAM] [DOMAIN...] [COUNT] [WINDOW]`, WINDOW like 90m or 8h."""
    if not args or not HHMM.match(args[0]):
        raise CommandError(
            "Give the time first: /daily on HH:MM [TIME_ZONE] [EXAM] [DOMAIN...] [COUNT] "
            "[WINDOW], e.g. /daily on 09:00 Europe/Berlin DVA-C02 security 1 8h"
        )
    hours, minutes = HHMM.match(args[0]).groups()  # type: ignore[union-attr]
    zone, exam_code, count, window = "UTC", DEFAULT_EXAM, 1, DEFAULT_WINDOW_MINUTES
    domains: list[str] = []
    rest = args[1:]
    for token in rest:
        if exam := find_exam(token):
            exam_code = exam.code
    for token in rest:
        lowered = token.lower()
        if find_exam(token):
            continue
        if "/" in token or token.upper() == "UTC":
            zone = _zone(token)
        elif (number := ascii_number(lowered)) is not None:
            count = number
        elif match := DURATION.match(lowered):
            amount, unit = int(match.group(1)), match.group(2)
            window = amount * 60 if unit == "h" else amount
        elif domain := EXAMS[exam_code].find_domain(lowered):
            domains.append(domain.name)
        else:
            raise CommandError(f"I don't understand '{token}' in /daily on.")
    if not 1 <= count <= MAX_COUNT:
        raise CommandError(f"A daily challenge has 1 to {MAX_COUNT} questions.")
    if not 5 <= window <= 23 * 60:
        raise CommandError("The answer window is 5 minutes to 23 hours, e.g. 90m or 8h.")
    return DailyRequest(
        f"{int(hours):02d}:{minutes}", zone, exam_code, tuple(domains), count, window
    )


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CommandError(
            f"Unknown time zone '{name}'. Use an IANA name such as Europe/Berlin or "
            "America/New_York."
        ) from None
    return name


def post_instant(day: date, local_time: str, zone: str) -> datetime:
    """The UTC instant of `local_time` on `day` in `zone` (a time skipped by DST moves on)."""
    hours, minutes = map(int, local_time.split(":"))
    local = datetime.combine(day, time(hours, minutes), tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def schedule_of(db: Session, chat: Chat) -> DailySchedule | None:
    return db.exec(select(DailySchedule).where(DailySchedule.chat_id == chat.id)).first()


def local_today(schedule: DailySchedule, now: datetime) -> date:
    """The group's calendar day at `now`, in the schedule's zone."""
    return now.astimezone(ZoneInfo(schedule.time_zone)).date()


def local_hhmm(moment: datetime, schedule: DailySchedule) -> str:
    return moment.astimezone(ZoneInfo(schedule.time_zone)).strftime("%H:%M")


def challenge_on(db: Session, chat: Chat, day: date) -> DailyChallenge | None:
    """The group's challenge for its local `day`, if one was claimed."""
    return db.exec(
        select(DailyChallenge).where(
            DailyChallenge.chat_id == chat.id, DailyChallenge.local_date == day
        )
    ).first()
