"""Persistent components: answer buttons, choose-N select menus and follow-up buttons.

Each component's custom id carries everything the core needs (the question's ref, the owner,
the choice), and the classes are registered as dynamic items at start, so a button pressed
after a restart reaches the new process and is answered there: the core decides whether the
question is still open and says why not if it is closed.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, cast

import discord

from bot.answers import letter
from bot.types import FollowUpsReply, QuestionReply

CUSTOM_ID_LIMIT = 100
BUTTON_LABEL_LIMIT = 80
SELECT_LABEL_LIMIT = 100
SELECT_OPTIONS_LIMIT = 25
BUTTONS_PER_ROW = 5
ROWS = 5
REF = r"(?P<ref>(?:d:)?[0-9]{1,19}:[0-9]{1,4})"
OWNER = r"(?P<owner>[0-9]{1,20})"
ANSWER_TEMPLATE = rf"sb:a:{OWNER}:{REF}:(?P<position>[0-9]{{1,2}})"
SELECT_TEMPLATE = rf"sb:s:{OWNER}:{REF}"
FOLLOW_UP_TEMPLATE = r"sb:f:(?P<data>fu:[a-z0-9._-]{1,60}:[0-9]{1,3})"


class Presses(Protocol):
    """What the client does with a press; `bot.StudyClient` implements it."""

    async def on_pick(
        self, interaction: discord.Interaction, owner: str, ref: str, positions: tuple[int, ...]
    ) -> None: ...

    async def on_follow_up(self, interaction: discord.Interaction, data: str) -> None: ...


def presses(interaction: discord.Interaction) -> Presses:
    return cast(Presses, interaction.client)


def checked(custom_id: str) -> str:
    """A custom id as given, or an error: Discord rejects the whole message over 100."""
    if len(custom_id) > CUSTOM_ID_LIMIT:
        raise ValueError(f"custom id over {CUSTOM_ID_LIMIT} characters: {custom_id!r}")
    return custom_id


def answer_id(owner: str, ref: str, position: int) -> str:
    return checked(f"sb:a:{owner}:{ref}:{position}")


def select_id(owner: str, ref: str) -> str:
    return checked(f"sb:s:{owner}:{ref}")


def follow_up_id(data: str) -> str:
    return checked(f"sb:f:{data}")


class AnswerButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=ANSWER_TEMPLATE):
    """One option of a choose-one question: the press answers with that option."""

    def __init__(self, owner: str, ref: str, position: int) -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=letter(position),
            style=discord.ButtonStyle.primary,
            custom_id=answer_id(owner, ref, position),
            row=position // BUTTONS_PER_ROW,
        )
        super().__init__(button)
        self.owner, self.ref, self.position = owner, ref, position

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnswerButton:
        return cls(match["owner"], match["ref"], int(match["position"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await presses(interaction).on_pick(interaction, self.owner, self.ref, (self.position,))


class AnswerSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SELECT_TEMPLATE):
    """A choose-N question's menu: exactly N options must be picked, so the choice is final."""

    def __init__(self, owner: str, ref: str, select: discord.ui.Select[Any] | None = None) -> None:
        super().__init__(select or discord.ui.Select(custom_id=select_id(owner, ref)))
        self.owner, self.ref = owner, ref

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> AnswerSelect:
        select = item if isinstance(item, discord.ui.Select) else None
        return cls(match["owner"], match["ref"], select)

    async def callback(self, interaction: discord.Interaction) -> None:
        values = tuple(int(v) for v in self.item.values if v.isascii() and v.isdigit())
        await presses(interaction).on_pick(interaction, self.owner, self.ref, values)


class FollowUpButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=FOLLOW_UP_TEMPLATE):
    """A suggested follow-up question; anyone who sees it may ask it."""

    def __init__(self, data: str, label: str = "Ask") -> None:
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=clip_label(label, BUTTON_LABEL_LIMIT),
            style=discord.ButtonStyle.secondary,
            custom_id=follow_up_id(data),
        )
        super().__init__(button)
        self.data = data

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> FollowUpButton:
        return cls(match["data"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await presses(interaction).on_follow_up(interaction, self.data)


DYNAMIC_ITEMS = (AnswerButton, AnswerSelect, FollowUpButton)


def clip_label(text: str, limit: int) -> str:
    """A label cut to `limit` with an ellipsis; Discord rejects empty labels too."""
    text = " ".join(text.split()) or "…"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def question_view(reply: QuestionReply, owner: str) -> discord.ui.View:
    """Letter buttons for choose-one; a select menu (min = max = N) for choose-N."""
    view = discord.ui.View(timeout=None)
    count = len(reply.options)
    if reply.choose == 1 and count <= BUTTONS_PER_ROW * ROWS:
        for position in range(count):
            view.add_item(AnswerButton(owner, reply.ref, position))
        return view
    select: discord.ui.Select[Any] = discord.ui.Select(
        custom_id=select_id(owner, reply.ref),
        placeholder=f"Choose {reply.choose}" if reply.choose > 1 else "Choose one",
        min_values=min(reply.choose, count),
        max_values=min(reply.choose, count),
        options=[
            discord.SelectOption(
                label=clip_label(f"{letter(i)}) {text}", SELECT_LABEL_LIMIT), value=str(i)
            )
            for i, text in enumerate(reply.options[:SELECT_OPTIONS_LIMIT])
        ],
    )
    view.add_item(AnswerSelect(owner, reply.ref, select))
    return view


def follow_ups_view(reply: FollowUpsReply) -> discord.ui.View | None:
    """One button per suggestion (up to 5 rows); ones whose data cannot fit are left out."""
    view = discord.ui.View(timeout=None)
    for suggestion in reply.suggestions[: BUTTONS_PER_ROW * ROWS]:
        if re.fullmatch(FOLLOW_UP_TEMPLATE, f"sb:f:{suggestion.data}") is None:
            continue  # the template bounds the length well under the custom id limit
        view.add_item(FollowUpButton(suggestion.data, suggestion.text))
    return view if view.children else None
