"""Every platform-neutral type the core and the adapters share.

Adapters turn platform updates into `Event`s and render `Reply`s natively. Nothing here knows
about letters, line breaks or length limits: those are rendering decisions of each adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path


class ChatKind(StrEnum):
    private = "private"
    group = "group"


class Mode(StrEnum):
    practice = "practice"
    exam = "exam"
    daily = "daily"  # a group's daily challenge: answers are revealed when the window closes


class Verdict(StrEnum):
    correct = "correct"
    partial = "partial"
    wrong = "wrong"
    skipped = "skipped"


class EndReason(StrEnum):
    finished = "finished"
    stopped = "stopped"
    time_up = "time_up"


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class Event:
    """Who said something, where. `user_id` and `chat_id` are the platform's own ids."""

    platform: str
    chat_id: str
    user_id: str
    display_name: str = ""
    chat_kind: ChatKind = ChatKind.private
    is_admin: bool = False  # the adapter knows (a group admin, a configured operator)
    thread_id: str = ""  # a forum topic inside a group, where the platform has them
    # Configured by whoever runs the bot (TELEGRAM_ADMIN_IDS, the terminal's user), unlike a
    # group admin, whom anyone can become by making a group: only operators feed the shared pool.
    is_operator: bool = False


@dataclass(frozen=True, kw_only=True)
class Command(Event):
    """A command such as `/quiz DVA-C02 10`: `name` without the slash, `args` the rest."""

    name: str
    args: str = ""


@dataclass(frozen=True, kw_only=True)
class Text(Event):
    """Free text typed by the user."""

    text: str


@dataclass(frozen=True, kw_only=True)
class AnswerChoice(Event):
    """Options picked natively (a poll vote, buttons): positions as presented, from 0.

    `question_ref` is the `QuestionReply.ref` the choice belongs to, so that a stale button
    from an earlier question is recognised instead of answering the current one.
    """

    choices: tuple[int, ...]
    question_ref: str


@dataclass(frozen=True, kw_only=True)
class ButtonPress(Event):
    """A button carrying `data` that the core produced (a suggested follow-up, say)."""

    data: str


@dataclass(frozen=True, kw_only=True)
class Document(Event):
    """A file sent to the bot, such as a question bank to import; `caption` is its message."""

    filename: str
    content: bytes
    caption: str = ""


# ---------------------------------------------------------------- replies


class Audience(StrEnum):
    """Who a reply is for. Adapters map `asker` to what their platform has: a private message
    (Telegram), an ephemeral reply (Discord); in a private chat both are the same."""

    chat = "chat"  # everyone in the conversation
    asker = "asker"  # only the person whose event this answers


@dataclass(frozen=True, kw_only=True)
class Reply:
    """Base of every reply."""

    audience: Audience = Audience.chat


@dataclass(frozen=True, kw_only=True)
class TextReply(Reply):
    text: str


@dataclass(frozen=True, kw_only=True)
class HintReply(Reply):
    """The input could not be used; `text` says what to send instead. Nothing was counted."""

    text: str


@dataclass(frozen=True, kw_only=True)
class QuestionReply(Reply):
    """A question to answer. `options` are in the order presented; answers refer to them."""

    ref: str
    item_id: str
    number: int
    total: int
    exam: str
    domain: str
    mode: Mode
    question: str
    options: tuple[str, ...]
    choose: int
    deadline: datetime | None = None
    # Practice mode only, for a platform's native quiz (a Telegram quiz poll shows the answer
    # after the vote): the right positions as presented, and the takeaway to show with them.
    correct: tuple[int, ...] = ()
    takeaway: str = ""


@dataclass(frozen=True, kw_only=True)
class OptionFeedback:
    text: str
    correct: bool
    chosen: bool
    why: str


@dataclass(frozen=True, kw_only=True)
class ExplanationReply(Reply):
    """The verdict on one answer and everything that explains it, options in presented order."""

    item_id: str
    verdict: Verdict | None  # None: a reveal to a group, no one's answer in particular
    options: tuple[OptionFeedback, ...]
    explanation: str
    trap: str
    takeaway: str
    references: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FollowUp:
    """A suggested question; `data` goes back to the core in a `ButtonPress` when chosen."""

    text: str
    data: str


@dataclass(frozen=True, kw_only=True)
class FollowUpsReply(Reply):
    suggestions: tuple[FollowUp, ...]


@dataclass(frozen=True, kw_only=True)
class DomainScore:
    domain: str
    correct: int
    total: int


@dataclass(frozen=True, kw_only=True)
class ReviewEntry:
    """One answered question in the end-of-test review."""

    number: int
    item_id: str
    question: str
    verdict: Verdict
    chosen: tuple[str, ...]
    correct: tuple[str, ...]
    takeaway: str


@dataclass(frozen=True, kw_only=True)
class QuizResultReply(Reply):
    """The graded test. `missed` lists wrong, partial and skipped items; `review` every answer."""

    exam: str
    mode: Mode
    reason: EndReason
    score: int
    total: int
    unanswered: int
    by_domain: tuple[DomainScore, ...]
    missed: tuple[ReviewEntry, ...]
    review: tuple[ReviewEntry, ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class SourceRef:
    id: str
    title: str
    score: float


@dataclass(frozen=True, kw_only=True)
class AnswerReply(Reply):
    """A generated answer to a follow-up question. `disclaimer` is always set, by the core.

    `note` says when something went differently (the model timed out, say); `covered` is
    False when the study material does not cover the question.
    """

    question: str
    text: str
    sources: tuple[SourceRef, ...]
    disclaimer: str
    mode: str
    covered: bool
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ExamProgress:
    """One exam's progress: readiness is a weighted estimate with a likely range."""

    exam: str
    answered: int
    seen: int
    bank_size: int
    readiness: float
    low: float
    high: float
    domains: tuple[DomainScore, ...]


@dataclass(frozen=True, kw_only=True)
class StatsReply(Reply):
    exams: tuple[ExamProgress, ...]
    streak_days: int
    due_reviews: int
    next_review: datetime | None
    method: str  # how readiness is computed, in a sentence or two


@dataclass(frozen=True, kw_only=True)
class LeaderboardRow:
    rank: int
    name: str
    correct: int
    answered: int
    time_ms: int
    streak: int = 0


@dataclass(frozen=True, kw_only=True)
class LeaderboardReply(Reply):
    title: str
    rows: tuple[LeaderboardRow, ...]


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """Replies the core sends on its own (a scheduled post), addressed to a chat.

    `key` names it in the core's outbox and `lease` is this caller's claim on it: send it, then
    `Core.delivered(delivery)`; if sending failed, `Core.retry_later(delivery)`.
    """

    platform: str
    chat_id: str
    chat_kind: ChatKind
    thread_id: str
    replies: tuple[Reply, ...]
    key: str = ""  # e.g. "post:12" or "results:12"
    lease: str = ""


@dataclass(frozen=True, kw_only=True)
class FileReply(Reply):
    """A file to send, such as an Anki deck."""

    path: Path
    caption: str = ""


@dataclass(frozen=True, kw_only=True)
class ImageReply(Reply):
    path: Path
    caption: str = ""
