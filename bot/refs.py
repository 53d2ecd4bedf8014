"""Typed references a button or a native question carries back to the core, and their one
encoder/decoder.

The strings are short enough for the smallest platform limit (Telegram's 64-byte callback
data, even inside the Telegram adapter's answer-button wrapper; Discord allows 100), contain
ASCII only, and are exactly the strings earlier versions produced, so buttons still sitting in
chats after an upgrade keep working. Decoding never raises: anything malformed is None.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.commands import ascii_number

FOLLOW_UP_PREFIX = "fu:"
DAILY_PREFIX = "d:"


@dataclass(frozen=True)
class QuizRef:
    """Question `position` (from 0) of quiz session `session_id`."""

    session_id: int
    position: int


@dataclass(frozen=True)
class DailyRef:
    """Question `position` of a group's daily challenge `challenge_id`."""

    challenge_id: int
    position: int


@dataclass(frozen=True)
class FollowUpRef:
    """Suggested follow-up `index` of item `item_id`."""

    item_id: str
    index: int


Ref = QuizRef | DailyRef | FollowUpRef


def encode(ref: Ref) -> str:
    """The short string a platform stores in a button or remembers for a native question."""
    if isinstance(ref, FollowUpRef):
        return f"{FOLLOW_UP_PREFIX}{ref.item_id}:{ref.index}"
    if isinstance(ref, DailyRef):
        return f"{DAILY_PREFIX}{ref.challenge_id}:{ref.position}"
    return f"{ref.session_id}:{ref.position}"


def decode(data: str) -> Ref | None:
    """The reference `data` encodes, or None for anything else (stale, foreign or forged)."""
    if data.startswith(FOLLOW_UP_PREFIX):
        item_id, _, index = data.removeprefix(FOLLOW_UP_PREFIX).rpartition(":")
        number = ascii_number(index)
        return FollowUpRef(item_id, number) if item_id and number is not None else None
    pair = _numbers(data.removeprefix(DAILY_PREFIX))
    if pair is None:
        return None
    return DailyRef(*pair) if data.startswith(DAILY_PREFIX) else QuizRef(*pair)


def _numbers(text: str) -> tuple[int, int] | None:
    """`"<a>:<b>"` in ASCII digits, else None."""
    first, colon, second = text.partition(":")
    a, b = ascii_number(first), ascii_number(second)
    return (a, b) if colon and a is not None and b is not None else None


def names_follow_up(data: str) -> bool:
    """Whether `data` was meant as a follow-up button, even if it no longer decodes: the
    presser is told the suggestion is gone rather than that the button is unknown."""
    return data.startswith(FOLLOW_UP_PREFIX)
