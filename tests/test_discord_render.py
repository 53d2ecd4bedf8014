"""Discord rendering: every reply fits Discord's limits (split or cut with a note, never
rejected), components carry ids the persistent items parse back, and nothing echoed pings."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import discord
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.discord.render import (
    CONTENT_LIMIT,
    CUT_NOTE,
    DESCRIPTION_LIMIT,
    EMBED_TOTAL_LIMIT,
    FIELD_VALUE_LIMIT,
    NO_MENTIONS,
    TITLE_LIMIT,
    Outgoing,
    explained_with_follow_ups,
    render_reply,
    split,
)
from adapters.discord.views import (
    ANSWER_TEMPLATE,
    CUSTOM_ID_LIMIT,
    FOLLOW_UP_TEMPLATE,
    SELECT_TEMPLATE,
)
from bot.types import (
    AnswerReply,
    ExplanationReply,
    FollowUp,
    FollowUpsReply,
    ImageReply,
    LeaderboardReply,
    Mode,
    OptionFeedback,
    QuestionReply,
    SourceRef,
    TextReply,
    Verdict,
)

OWNER = "930000000000000001"
texty = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=9000)


def question(
    text: str = "Which service?",
    options: tuple[str, ...] = ("S3", "EC2", "SQS", "SNS"),
    choose: int = 1,
    mode: Mode = Mode.practice,
    ref: str = "9223372036854775807:99",
) -> QuestionReply:
    return QuestionReply(
        ref=ref,
        item_id="dva-sec-001",
        number=1,
        total=10,
        exam="DVA-C02",
        domain="Security",
        mode=mode,
        question=text,
        options=options,
        choose=choose,
    )


def explanation(why: str = "Because.", text: str = "Explained.") -> ExplanationReply:
    return ExplanationReply(
        item_id="dva-sec-001",
        verdict=Verdict.wrong,
        options=tuple(
            OptionFeedback(text=f"Option {i} " + why, correct=i == 1, chosen=i == 0, why=why)
            for i in range(6)
        ),
        explanation=text,
        trap=text,
        takeaway=text,
        references=("https://docs.aws.amazon.com/x",),
    )


def assert_within_limits(messages: list[Outgoing]) -> None:
    """What Discord would check before accepting each message."""
    for message in messages:
        assert len(message.content) <= CONTENT_LIMIT
        assert len(message.embeds) <= 10
        assert sum(len(e) for e in message.embeds) <= EMBED_TOTAL_LIMIT
        for embed in message.embeds:
            assert len(embed.title or "") <= TITLE_LIMIT
            assert len(embed.description or "") <= DESCRIPTION_LIMIT
            assert len(embed.fields) <= 25
            for f in embed.fields:
                assert 0 < len(f.name or "") <= 256 and 0 < len(f.value or "") <= FIELD_VALUE_LIMIT
        if message.view is not None:
            payload = message.view.to_components()
            assert len(payload) <= 5
            for row in payload:
                assert len(row["components"]) <= 5
                for component in row["components"]:
                    assert len(component["custom_id"]) <= CUSTOM_ID_LIMIT
                    assert len(component.get("label", "")) <= 80
                    for option in component.get("options", []):
                        assert len(option["label"]) <= 100
        assert message.kwargs()["allowed_mentions"] is NO_MENTIONS
        assert message.content or message.embeds or message.file


def test_a_choose_one_question_is_an_embed_with_one_button_per_option() -> None:
    [message] = render_reply(question(), owner=OWNER, owner_name="Alice")
    assert_within_limits([message])
    embed = message.embeds[0]
    assert "Which service?" in (embed.description or "") and "**B)** EC2" in (
        embed.description or ""
    )
    assert embed.author.name == "Alice's quiz"
    assert message.view is not None
    ids = [c["custom_id"] for row in message.view.to_components() for c in row["components"]]
    assert ids == [f"sb:a:{OWNER}:9223372036854775807:99:{i}" for i in range(4)]

    assert all(re.fullmatch(ANSWER_TEMPLATE, i) for i in ids)


def test_choose_two_is_a_select_menu_needing_exactly_two() -> None:
    [message] = render_reply(question(choose=2), owner=OWNER)
    assert message.view is not None
    [[select]] = [row["components"] for row in message.view.to_components()]
    assert (select["min_values"], select["max_values"]) == (2, 2)
    assert [o["value"] for o in select["options"]] == ["0", "1", "2", "3"]

    assert re.fullmatch(SELECT_TEMPLATE, select["custom_id"])


def test_a_daily_question_belongs_to_everyone() -> None:
    [message] = render_reply(question(mode=Mode.daily, ref="d:12:0"), owner=OWNER)
    assert message.view is not None
    ids = [c["custom_id"] for row in message.view.to_components() for c in row["components"]]
    assert ids[0] == "sb:a:0:d:12:0:0"


def test_an_explanation_is_an_embed_with_follow_up_buttons() -> None:
    follow_ups = FollowUpsReply(
        suggestions=(FollowUp(text="What is KMS? " * 20, data="fu:dva-sec-001:0"),)
    )
    [message] = explained_with_follow_ups(explanation(), follow_ups, "Alice")
    assert_within_limits([message])
    verdict, sections = message.embeds
    assert verdict.title == "Alice: Not quite."
    names = [f.name for f in verdict.fields]
    assert names[:2] == ["❌ A (your answer)", "✅ B"]
    assert verdict.fields[1].value == "Option 1 Because.\n> Because."
    for label in ("Explanation", "Exam trap", "Key takeaway", "Docs"):
        assert f"**{label}:**" in (sections.description or "")
    assert message.view is not None
    [[button]] = [row["components"] for row in message.view.to_components()]
    assert button["custom_id"] == "sb:f:fu:dva-sec-001:0"

    assert re.fullmatch(FOLLOW_UP_TEMPLATE, button["custom_id"])


def test_the_longest_explanation_a_bank_allows_is_split_not_cut() -> None:
    longest = OptionFeedback(text="o " * 150, correct=False, chosen=False, why="w " * 300)
    reply = replace(  # every part as long as knowledge.schema allows
        explanation(text="t " * 750),
        options=(replace(longest, correct=True), *[longest] * 5),
        references=tuple(f"https://docs.aws.amazon.com/{'x' * 470}" for _ in range(10)),
    )
    messages = render_reply(reply)
    assert_within_limits(messages)
    shown = "".join(embed_text(e) for m in messages for e in m.embeds)
    assert CUT_NOTE not in shown
    assert shown.count("https://docs.aws.amazon.com/") == 10


def embed_text(embed: discord.Embed) -> str:
    fields = "".join(f"{f.name}{f.value}" for f in embed.fields)
    return f"{embed.title or ''}{embed.description or ''}{fields}"


def test_a_long_answer_is_split_and_keeps_its_disclaimer() -> None:
    reply = AnswerReply(
        question="What is jitter?",
        text="word " * 5000,
        sources=(SourceRef(id="n1", title="Backoff", score=1.0),),
        disclaimer="Check the official documentation.",
        mode="offline",
        covered=True,
    )
    messages = render_reply(reply)
    assert_within_limits(messages)
    assert len(messages) >= 2
    assert messages[-1].embeds[-1].footer.text == "⚠ Check the official documentation."
    shown = "".join((e.description or "") for m in messages for e in m.embeds)
    assert shown.count("word") == 5000  # split, not cut


def test_text_is_split_below_2000_and_mass_mentions_are_defused() -> None:
    messages = render_reply(TextReply(text="@everyone " + "x" * 4500))
    assert_within_limits(messages)
    assert len(messages) == 3
    assert "@everyone" not in messages[0].content


def test_an_image_goes_as_a_file(tmp_path: Path) -> None:
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"png")
    [message] = render_reply(ImageReply(path=chart, caption="Accuracy"))
    assert isinstance(message.kwargs()["file"], discord.File)


def test_an_empty_leaderboard_says_so_once_under_its_title() -> None:
    [message] = render_reply(LeaderboardReply(title="Leaderboard, all time", rows=()))
    (embed,) = message.embeds
    assert embed.title == "Leaderboard, all time"
    assert embed.description == "No answers yet."


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texty, options=st.lists(texty, min_size=2, max_size=6), choose=st.integers(1, 2))
def test_any_question_fits(text: str, options: list[str], choose: int) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert_within_limits(
        render_reply(
            question(text, tuple(options), choose), owner=OWNER, owner_name=text[:300], now=now
        )
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(why=texty, text=texty)
def test_any_explanation_fits(why: str, text: str) -> None:
    assert_within_limits(render_reply(explanation(why, text), who=why[:400]))


@given(text=texty, limit=st.integers(10, 3000))
def test_split_keeps_every_word_within_the_limit(text: str, limit: int) -> None:
    pieces = split(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())
