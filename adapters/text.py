"""Plain-text rendering of every reply: the terminal's output and any adapter's fallback.

Letters are a rendering decision: position 0 is shown as A. Typed answers use the same letters.
"""

from __future__ import annotations

from datetime import datetime

from bot.answers import letter
from bot.types import (
    AnswerReply,
    EndReason,
    ExplanationReply,
    FileReply,
    FollowUpsReply,
    HintReply,
    ImageReply,
    LeaderboardReply,
    QuestionReply,
    QuizResultReply,
    Reply,
    StatsReply,
    TextReply,
    Verdict,
)

VERDICTS = {
    Verdict.correct: "Correct!",
    Verdict.partial: "Partly right: you picked some of the right options, but not all.",
    Verdict.wrong: "Not quite.",
    Verdict.skipped: "Skipped.",
}
ENDINGS = {
    EndReason.finished: "Test complete.",
    EndReason.stopped: "Test stopped: graded on the questions you answered.",
    EndReason.time_up: "Time is up: unanswered questions count as missed.",
}
CHOOSE = {2: "Choose two", 3: "Choose three", 4: "Choose four"}


def time_left(deadline: datetime, now: datetime) -> str:
    seconds = max(0, int((deadline - now).total_seconds()))
    return f"{seconds // 60}:{seconds % 60:02d} left"


def render_question(reply: QuestionReply, now: datetime | None = None) -> str:
    header = f"Question {reply.number}/{reply.total} · {reply.exam} · {reply.domain}"
    if reply.deadline and now:
        header += f" · {time_left(reply.deadline, now)}"
    lines = [header, reply.question]
    lines += [f"  {letter(i)}) {text}" for i, text in enumerate(reply.options)]
    if reply.choose > 1:
        lines.append(f"({CHOOSE.get(reply.choose, reply.choose)}: reply like A,C)")
    return "\n".join(lines)


def explanation_parts(reply: ExplanationReply) -> list[tuple[str, str]]:
    """The labelled parts under the options, skipping those an imported question lacks."""
    parts = (
        ("Explanation", reply.explanation),
        ("Exam trap", reply.trap),
        ("Key takeaway", reply.takeaway),
        ("Docs", " ".join(reply.references)),
    )
    return [(label, text) for label, text in parts if text]


def render_explanation(reply: ExplanationReply) -> str:
    correct = ", ".join(letter(i) for i, o in enumerate(reply.options) if o.correct)
    verdict = VERDICTS[reply.verdict] + " " if reply.verdict else ""
    lines = [f"{verdict}Correct answer: {correct}"]
    for i, option in enumerate(reply.options):
        mark = "✓" if option.correct else "✗"
        picked = " (your answer)" if option.chosen else ""
        lines.append(f"  {mark} {letter(i)}) {option.text}{picked}")
        if option.why:
            lines.append(f"      {option.why}")
    lines += [f"{label}: {text}" for label, text in explanation_parts(reply)]
    return "\n".join(lines)


def render_follow_ups(reply: FollowUpsReply) -> str:
    return "Ask next:\n" + "\n".join(f"  - {s.text}" for s in reply.suggestions)


def render_result(reply: QuizResultReply) -> str:
    lines = [ENDINGS[reply.reason]]
    if reply.total:
        lines.append(f"{reply.score} of {reply.total} correct ({reply.score / reply.total:.0%}).")
    if reply.reason is EndReason.stopped and reply.unanswered:
        lines.append(f"{reply.unanswered} question(s) not reached.")
    if reply.by_domain:
        lines.append("By domain:")
        lines += [f"  {d.domain}: {d.correct}/{d.total}" for d in reply.by_domain]
    if reply.review:
        lines.append("Review:")
        for entry in reply.review:
            chosen = "; ".join(entry.chosen) or "(no answer)"
            lines.append(
                f"  {entry.number}. [{entry.verdict.value}] {entry.item_id}: {entry.question}\n"
                f"     Your answer: {chosen}\n     Correct: {'; '.join(entry.correct)}\n"
                f"     Takeaway: {entry.takeaway}"
            )
    elif reply.missed:
        lines.append("Missed:")
        lines += [
            f"  {e.number}. {e.item_id}: correct was {'; '.join(e.correct)}" for e in reply.missed
        ]
    lines.append(f"Score: {reply.score}/{reply.total}")
    return "\n".join(lines)


def render_answer(reply: AnswerReply) -> str:
    lines = [reply.text]
    if reply.note:
        lines.append(f"({reply.note})")
    if reply.sources:
        lines.append("Sources: " + "; ".join(f"{s.id} ({s.title})" for s in reply.sources))
    lines.append(f"⚠ {reply.disclaimer}")
    return "\n".join(lines)


def render_leaderboard(reply: LeaderboardReply) -> str:
    if not reply.rows:
        return f"{reply.title}: no answers yet."
    lines = [reply.title]
    for row in reply.rows:
        streak = f", streak {row.streak}" if row.streak else ""
        seconds = row.time_ms / 1000
        lines.append(
            f"  {row.rank}. {row.name}: {row.correct}/{row.answered} correct, "
            f"{seconds:.0f}s{streak}"
        )
    return "\n".join(lines)


def render_stats(reply: StatsReply) -> str:
    lines = []
    for exam in reply.exams:
        lines.append(
            f"{exam.exam}: readiness {exam.readiness:.0%} (likely {exam.low:.0%}-{exam.high:.0%}), "
            f"{exam.answered} answers, {exam.seen}/{exam.bank_size} questions seen"
        )
        for score in exam.domains:
            accuracy = f"{score.correct / score.total:.0%}" if score.total else "-"
            lines.append(f"  {score.domain}: {accuracy} ({score.correct}/{score.total})")
    lines.append(f"Study streak: {reply.streak_days} day(s). Reviews due: {reply.due_reviews}.")
    if reply.next_review and not reply.due_reviews:
        lines.append(f"Next review: {reply.next_review:%Y-%m-%d %H:%M} UTC.")
    lines.append(reply.method)
    return "\n".join(lines)


def render(reply: Reply, now: datetime | None = None) -> str:
    """Any reply as plain text."""
    if isinstance(reply, QuestionReply):
        return render_question(reply, now)
    if isinstance(reply, ExplanationReply):
        return render_explanation(reply)
    if isinstance(reply, FollowUpsReply):
        return render_follow_ups(reply)
    if isinstance(reply, QuizResultReply):
        return render_result(reply)
    if isinstance(reply, AnswerReply):
        return render_answer(reply)
    if isinstance(reply, LeaderboardReply):
        return render_leaderboard(reply)
    if isinstance(reply, StatsReply):
        return render_stats(reply)
    if isinstance(reply, ImageReply):
        return f"[image: {reply.path}] {reply.caption}".rstrip()
    if isinstance(reply, FileReply):
        return f"[file: {reply.path}] {reply.caption}".rstrip()
    if isinstance(reply, TextReply | HintReply):
        return reply.text
    return str(reply)
