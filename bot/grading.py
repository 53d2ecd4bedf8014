"""Grading: one answer against the key, and a whole test into a result.

A choose-N item counts only when exactly the right options are chosen, as on the real exam;
"partial" tells the student they were close but scores nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.storage.models import Answer, QuizSession
from bot.types import DomainScore, EndReason, Mode, QuizResultReply, ReviewEntry, Verdict
from knowledge.bank import Bank
from knowledge.schema import Item


def grade(item: Item, chosen: Sequence[int]) -> Verdict:
    """`chosen` holds option indices as written in the bank, not as presented."""
    key = set(item.correct_indices())
    picked = set(chosen)
    if picked == key:
        return Verdict.correct
    if item.choose > 1 and picked & key:
        return Verdict.partial
    return Verdict.wrong


def verdict_of(answer: Answer) -> Verdict:
    if answer.skipped:
        return Verdict.skipped
    if answer.correct:
        return Verdict.correct
    return Verdict.partial if answer.partial else Verdict.wrong


def _entry(number: int, item: Item, verdict: Verdict, chosen: Sequence[int]) -> ReviewEntry:
    return ReviewEntry(
        number=number,
        item_id=item.id,
        question=item.question,
        verdict=verdict,
        chosen=tuple(item.options[i].text for i in chosen),
        correct=tuple(item.options[i].text for i in item.correct_indices()),
        takeaway=item.takeaway,
    )


def build_result(
    session: QuizSession, answers: Sequence[Answer], bank: Bank, reason: EndReason
) -> QuizResultReply:
    """Score what was answered. When stopped, only answered questions count; when the test
    ran to its end or out of time, every question counts and unanswered ones are misses."""
    by_position = {a.position: a for a in answers}
    counted_positions = (
        sorted(by_position) if reason is EndReason.stopped else range(len(session.item_ids))
    )
    domains: dict[str, list[int]] = {}
    review: list[ReviewEntry] = []
    score = 0
    for position in counted_positions:
        item = bank.get(session.item_ids[position])
        if item is None:
            continue
        answer = by_position.get(position)
        verdict = verdict_of(answer) if answer else Verdict.skipped
        entry = _entry(position + 1, item, verdict, answer.chosen if answer else ())
        review.append(entry)
        tally = domains.setdefault(item.domain, [0, 0])
        tally[1] += 1
        if verdict is Verdict.correct:
            tally[0] += 1
            score += 1
    return QuizResultReply(
        exam=session.exam,
        mode=Mode(session.mode),
        reason=reason,
        score=score,
        total=len(review),
        unanswered=len(session.item_ids) - len(answers),
        by_domain=tuple(
            DomainScore(domain=name, correct=c, total=t) for name, (c, t) in sorted(domains.items())
        ),
        missed=tuple(e for e in review if e.verdict is not Verdict.correct),
        review=tuple(review) if session.mode == Mode.exam else (),
    )
