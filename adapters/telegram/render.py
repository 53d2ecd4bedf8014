"""Replies as Telegram sees them: HTML messages, quiz polls, inline keyboards, callback data.

Pure functions only (no network), so every platform limit is checked here and tested directly:
python-telegram-bot does not check lengths before sending, Telegram rejects the whole call.
Every HTML tag opens and closes on one line, so a text can be split on line boundaries.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from adapters.shared import question_owner
from adapters.text import CHOOSE, VERDICTS, explanation_parts, render_result, time_left
from bot.answers import letter
from bot.commands import ascii_number
from bot.refs import DailyRef, QuizRef, decode
from bot.types import (
    AnswerReply,
    ExplanationReply,
    FollowUpsReply,
    Mode,
    QuestionReply,
    QuizResultReply,
)

MESSAGE_LIMIT = 4000  # Telegram allows 4096 UTF-16 units; the margin covers entity quirks
POLL_QUESTION_LIMIT = 300
POLL_OPTION_LIMIT = 100
POLL_MIN_OPTIONS, POLL_MAX_OPTIONS = 2, 12
POLL_EXPLANATION_LIMIT = 200
POLL_EXPLANATION_LINE_FEEDS = 2
CALLBACK_LIMIT = 64  # bytes
BUTTON_LABEL_LIMIT = 60  # longer labels are cut off by the clients anyway
PICK_KINDS = ("a", "t", "s")  # answer, toggle, submit
TAG = re.compile(r"<[^>]+>")


def esc(text: str) -> str:
    """Escape text for parse_mode=HTML (Telegram knows &lt; &gt; &amp; and numeric entities)."""
    return html.escape(text, quote=False)


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units, so an emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, preferring a word boundary."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


# ---------------------------------------------------------------- splitting


def split_html(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Pieces under `limit`, split on line boundaries so no tag or entity is cut in two."""
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        for part in _fit_line(line, limit):
            candidate = f"{current}\n{part}" if current else part
            if current and units(candidate) > limit:
                pieces.append(current)
                candidate = part
            current = candidate
    if current.strip():
        pieces.append(current)
    return pieces or [""]


def _fit_line(line: str, limit: int) -> list[str]:
    """One line as it is, or (rare: a huge paragraph) as plain escaped pieces cut at spaces."""
    if units(line) <= limit:
        return [line]
    plain = html.unescape(TAG.sub("", line))
    pieces: list[str] = []
    current = ""
    for word in plain.split(" "):
        while units(esc(word)) > limit:  # a single enormous word: cut it by characters
            head = word[: limit // 6]
            pieces.extend([esc(current)] if current else [])
            pieces.append(esc(head))
            current, word = "", word[len(head) :]
        candidate = f"{current} {word}" if current else word
        if units(esc(candidate)) > limit:
            pieces.append(esc(current))
            candidate = word
        current = candidate
    if current:
        pieces.append(esc(current))
    return pieces


# ---------------------------------------------------------------- messages


def question_html(reply: QuestionReply, now: datetime | None = None) -> str:
    """A question as a message, for items that do not fit a poll (or when polls are off)."""
    header = f"<b>Question {reply.number}/{reply.total}</b> · {esc(reply.exam)} · "
    header += esc(reply.domain)
    if reply.deadline and now:
        header += f" · {time_left(reply.deadline, now)}"
    lines = [header, esc(reply.question), ""]
    lines += [f"<b>{letter(i)})</b> {esc(text)}" for i, text in enumerate(reply.options)]
    if reply.choose > 1:
        choose = CHOOSE.get(reply.choose, f"Choose {reply.choose}")
        lines.append(f"<i>{choose}: tap the letters, then Submit (or type A,C).</i>")
    else:
        lines.append("<i>Tap a letter, or type it.</i>")
    return "\n".join(lines)


def explanation_html(reply: ExplanationReply, who: str = "") -> str:
    """The verdict, every option with why it is right or wrong, the trap and the takeaway."""
    correct = ", ".join(letter(i) for i, o in enumerate(reply.options) if o.correct)
    prefix = f"{esc(who)}: " if who else ""
    verdict = f"<b>{esc(VERDICTS[reply.verdict])}</b> " if reply.verdict else ""  # None: a reveal
    lines = [f"{prefix}{verdict}Correct answer: <b>{correct}</b>"]
    for i, option in enumerate(reply.options):
        mark = "✅" if option.correct else "❌"
        picked = " <i>(your answer)</i>" if option.chosen else ""
        lines.append(f"{mark} <b>{letter(i)})</b> {esc(option.text)}{picked}")
        if option.why:
            lines.append(f"    <i>{esc(option.why)}</i>")
    lines += [f"<b>{label}:</b> {esc(text)}" for label, text in explanation_parts(reply)]
    return "\n".join(lines)


def result_html(reply: QuizResultReply, who: str = "") -> str:
    """The graded test: the plain rendering, escaped, with its first and score lines bold."""
    lines = [esc(line) for line in render_result(reply).split("\n")]
    lines[0] = f"<b>{lines[0]}</b>"
    lines[-1] = f"<b>{lines[-1]}</b>"
    if who:
        lines.insert(0, f"<b>{esc(who)}</b>")
    return "\n".join(lines)


def answer_html(reply: AnswerReply) -> str:
    """A follow-up answer; the disclaimer is always part of it, whatever else is missing."""
    lines = [esc(reply.text)]
    if reply.note:
        lines.append(f"<i>({esc(reply.note)})</i>")
    if reply.sources:
        sources = "; ".join(f"{esc(s.id)} ({esc(s.title)})" for s in reply.sources)
        lines.append(f"<b>Sources:</b> {sources}")
    lines.append(f"<i>⚠ {esc(reply.disclaimer)}</i>")
    return "\n".join(lines)


def partial_html(text: str) -> str:
    """A streamed answer so far (disclaimer included by the core), kept to one message."""
    return esc(clip(text, MESSAGE_LIMIT - 200))


# ---------------------------------------------------------------- polls


@dataclass(frozen=True)
class PollSpec:
    """What sendPoll needs; `quiz` False means a regular poll (exam mode: no feedback)."""

    question: str
    options: tuple[str, ...]
    quiz: bool
    correct: tuple[int, ...] = ()
    explanation: str | None = None


def poll_spec(reply: QuestionReply) -> PollSpec | None:
    """A native poll for the question, or None when it does not fit Telegram's poll limits."""
    if reply.mode is Mode.daily:  # a quiz poll would show each voter the answer before the reveal
        return None
    if reply.choose != 1 or not POLL_MIN_OPTIONS <= len(reply.options) <= POLL_MAX_OPTIONS:
        return None
    if any(not 0 < units(o) <= POLL_OPTION_LIMIT for o in reply.options):
        return None
    question = f"{reply.number}/{reply.total}. {reply.question}"
    if units(question) > POLL_QUESTION_LIMIT:
        question = reply.question
    if not 0 < units(question) <= POLL_QUESTION_LIMIT:
        return None
    if reply.mode is Mode.exam:
        return PollSpec(question=question, options=reply.options, quiz=False)
    if len(reply.correct) != 1:  # the core gives the answer key in practice mode only
        return None
    return PollSpec(question, reply.options, True, reply.correct, poll_explanation(reply.takeaway))


def poll_explanation(text: str) -> str | None:
    """The quiz's lightbulb text: the takeaway, within 200 characters and two line feeds."""
    lines = text.strip().split("\n")
    text = "\n".join(lines[: POLL_EXPLANATION_LINE_FEEDS + 1])
    return clip(text, POLL_EXPLANATION_LIMIT) or None


# ---------------------------------------------------------------- callback data


@dataclass(frozen=True)
class Pick:
    """A tap on a question's button: `a` answer, `t` toggle, `s` submit.

    `owner` is the user the question belongs to (in a group, only they may answer it);
    `value` is the position for `a` and the bit mask of chosen positions for `t` and `s`.
    """

    kind: str
    owner: str
    ref: str
    value: int

    def positions(self) -> tuple[int, ...]:
        if self.kind == "a":
            return (self.value,)
        return tuple(i for i in range(self.value.bit_length()) if self.value >> i & 1)


def checked(data: str) -> str:
    """Callback data as given, or an error: Telegram rejects more than 64 bytes."""
    if len(data.encode()) > CALLBACK_LIMIT:
        raise ValueError(f"callback data over {CALLBACK_LIMIT} bytes: {data!r}")
    return data


def pick_data(kind: str, owner: str, ref: str, value: int) -> str:
    return checked(f"{kind}:{owner}:{ref}:{value}")


def parse_pick(data: str) -> Pick | None:
    """A question button's data, or None for anything else (follow-ups, stale or foreign)."""
    parts = data.split(":")
    if len(parts) < 4 or parts[0] not in PICK_KINDS:
        return None
    kind, owner, ref, value = parts[0], parts[1], ":".join(parts[2:-1]), parts[-1]
    number = ascii_number(value)
    if number is None or ascii_number(owner.removeprefix("-")) is None:
        return None
    if not isinstance(decode(ref), QuizRef | DailyRef):  # a question's ref, see bot.refs
        return None
    return Pick(kind, owner, ref, number)


# ---------------------------------------------------------------- keyboards


def answer_keyboard(reply: QuestionReply, user_id: str) -> InlineKeyboardMarkup:
    """Letter buttons; for choose-N, toggles and a Submit button instead. They name who may
    answer: the member the question was sent to, or everyone for a daily challenge."""
    owner = question_owner(reply, user_id)
    if reply.choose > 1:
        return toggle_keyboard(owner, reply.ref, len(reply.options), 0)
    buttons = [
        InlineKeyboardButton(letter(i), callback_data=pick_data("a", owner, reply.ref, i))
        for i in range(len(reply.options))
    ]
    return InlineKeyboardMarkup([buttons])


def toggle_keyboard(owner: str, ref: str, count: int, mask: int) -> InlineKeyboardMarkup:
    """Toggles showing the current choice: the state lives in the keyboard, so restarts keep it."""
    toggles = [
        InlineKeyboardButton(
            f"✓ {letter(i)}" if mask >> i & 1 else letter(i),
            callback_data=pick_data("t", owner, ref, mask ^ (1 << i)),
        )
        for i in range(count)
    ]
    chosen = ",".join(letter(i) for i in range(count) if mask >> i & 1)
    submit = InlineKeyboardButton(
        f"Submit {chosen}".strip(), callback_data=pick_data("s", owner, ref, mask)
    )
    return InlineKeyboardMarkup([toggles, [submit]])


def follow_ups_keyboard(reply: FollowUpsReply) -> InlineKeyboardMarkup | None:
    """One suggested question per row; the button carries the core's short data, never text."""
    rows = [
        [InlineKeyboardButton(clip(s.text, BUTTON_LABEL_LIMIT), callback_data=s.data)]
        for s in reply.suggestions
        if len(s.data.encode()) <= CALLBACK_LIMIT
    ]
    return InlineKeyboardMarkup(rows) if rows else None
