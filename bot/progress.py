"""A student's progress: accuracy per domain, coverage of the bank, streak and readiness.

Readiness for an exam weights each domain's accuracy by the exam guide's weight. Each domain's
accuracy is shrunk toward 50% as if the student had answered PRIOR_ANSWERS more questions in it,
half of them right: with few answers the estimate stays near the middle and its range is wide;
with many it follows the student's real accuracy. The range is a 90% normal interval on that
shrunk estimate.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, select

from bot.storage.models import Answer, DailyAnswer, DailyChallenge
from bot.types import DomainScore, ExamProgress
from knowledge.bank import Bank
from knowledge.catalog import EXAMS

PRIOR_ANSWERS = 5
Z90 = 1.645
METHOD = (
    "Readiness weights your accuracy in each domain by the exam guide's weights. Each domain is "
    f"counted as if you had also answered {PRIOR_ANSWERS} more questions half right, so a few "
    "lucky (or unlucky) answers move it only a little; the range narrows as you answer more."
)


@dataclass(frozen=True)
class Attempt:
    item_id: str
    correct: bool
    when: datetime


def attempts(db: Session, user_id: int) -> list[Attempt]:
    """Every answer the user gave: quizzes, reviews and daily challenges."""
    found = [
        Attempt(a.item_id, a.correct, a.answered_at)
        for a in db.exec(select(Answer).where(Answer.user_id == user_id)).all()
    ]
    rows = db.exec(
        select(DailyAnswer, DailyChallenge)
        .join(DailyChallenge)
        .where(DailyAnswer.user_id == user_id)
    ).all()
    for answer, challenge in rows:
        if answer.position < len(challenge.item_ids):
            found.append(
                Attempt(challenge.item_ids[answer.position], answer.correct, answer.answered_at)
            )
    return sorted(found, key=lambda a: a.when)


def shrunk(correct: int, total: int) -> float:
    return (correct + PRIOR_ANSWERS / 2) / (total + PRIOR_ANSWERS)


def exam_progress(exam_code: str, tries: list[Attempt], bank: Bank) -> ExamProgress:
    exam = EXAMS[exam_code]
    tally: dict[str, list[int]] = {d.name: [0, 0] for d in exam.domains}
    seen: set[str] = set()
    for attempt in tries:
        item = bank.get(attempt.item_id)
        if item is None or item.exam != exam_code:
            continue
        seen.add(item.id)
        tally[item.domain][0] += attempt.correct
        tally[item.domain][1] += 1
    readiness = variance = 0.0
    for domain in exam.domains:
        correct, total = tally[domain.name]
        estimate = shrunk(correct, total)
        readiness += domain.weight * estimate
        variance += domain.weight**2 * estimate * (1 - estimate) / (total + PRIOR_ANSWERS)
    margin = Z90 * math.sqrt(variance)
    return ExamProgress(
        exam=exam_code,
        answered=sum(t[1] for t in tally.values()),
        seen=len(seen),
        bank_size=len(bank.select(exam_code)),
        readiness=round(readiness, 3),
        low=round(max(0.0, readiness - margin), 3),
        high=round(min(1.0, readiness + margin), 3),
        domains=tuple(DomainScore(domain=n, correct=c, total=t) for n, (c, t) in tally.items()),
    )


def study_streak(tries: list[Attempt], today: date) -> int:
    """Consecutive days (UTC) with at least one answer, ending today or yesterday."""
    days = {attempt.when.date() for attempt in tries}
    day = today if today in days else today - timedelta(days=1)
    streak = 0
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    return streak


def weekly_accuracy(
    tries: list[Attempt], today: date, weeks: int = 8
) -> list[tuple[date, float | None]]:
    """Accuracy per week for the last `weeks` weeks (Monday dates), None for empty weeks."""
    monday = today - timedelta(days=today.weekday())
    starts = [monday - timedelta(weeks=n) for n in reversed(range(weeks))]
    buckets: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for attempt in tries:
        day = attempt.when.date()
        start = day - timedelta(days=day.weekday())
        buckets[start][0] += attempt.correct
        buckets[start][1] += 1
    return [(s, buckets[s][0] / buckets[s][1] if buckets[s][1] else None) for s in starts]
