"""Button and question references: one encoder/decoder, within the smallest platform limit,
readable from buttons an earlier version left in chats."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.telegram.render import CALLBACK_LIMIT, parse_pick, pick_data
from bot.refs import DailyRef, FollowUpRef, QuizRef, Ref, decode, encode
from knowledge.schema import ITEM_ID

BIG = 2**63 - 1  # SQLite's largest row id
TELEGRAM_USER = "9" * 16  # Telegram user ids fit in 52 bits
LONGEST_ITEM_ID = "a" * 41  # knowledge.schema's limit


@pytest.mark.parametrize(
    ("old", "ref"),
    [
        ("fu:dva-sec-001:2", FollowUpRef("dva-sec-001", 2)),
        ("d:12:0", DailyRef(12, 0)),
        ("34:5", QuizRef(34, 5)),
    ],
)
def test_buttons_left_in_chats_by_the_previous_version_still_decode(old: str, ref: Ref) -> None:
    assert decode(old) == ref
    assert encode(ref) == old  # the same string: old and new buttons are indistinguishable


@pytest.mark.parametrize(
    "data",
    ["", ":", "fu::", "fu:x:-1", "fu:x:²", "fu::1", "d:1", "d:1:٣", "d::1", "1:", "1:2:3", "a:b"],
)
def test_malformed_references_are_nothing(data: str) -> None:
    assert decode(data) is None


def test_the_longest_references_fit_telegram_callback_data() -> None:
    assert ITEM_ID.match(LONGEST_ITEM_ID) and not ITEM_ID.match(LONGEST_ITEM_ID + "a")
    follow_up = encode(FollowUpRef(LONGEST_ITEM_ID, 99))
    assert len(follow_up.encode()) <= CALLBACK_LIMIT
    for ref in (QuizRef(BIG, 999), DailyRef(BIG, 999)):
        data = pick_data("s", TELEGRAM_USER, encode(ref), 2**12 - 1)  # twelve options chosen
        assert len(data.encode()) <= CALLBACK_LIMIT
        pick = parse_pick(data)
        assert pick is not None and decode(pick.ref) == ref


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.text(max_size=80))
def test_any_data_decodes_to_a_reference_that_round_trips_or_to_nothing(data: str) -> None:
    ref = decode(data)
    if ref is not None:
        assert decode(encode(ref)) == ref
        assert encode(ref).isascii()
