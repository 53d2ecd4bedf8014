"""Sending the core's replies on Discord: to an interaction (responses, follow-ups, edits of a
deferred response) or to a channel, each reply visible to the channel or to the asker alone.

Who sees what is decided once, in `Context.private`: in a server a student's own quiz,
verdicts and answers are ephemeral unless they asked for a public quiz; the daily challenge is
public; a reply the core addresses to the asker alone is always private.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

import discord

from adapters.discord.render import (
    Outgoing,
    explained_with_follow_ups,
    partial_content,
    render_reply,
    text_messages,
)
from adapters.shared import ReplySender, Stream
from bot.types import (
    Audience,
    ChatKind,
    ExplanationReply,
    FollowUpsReply,
    HintReply,
    Reply,
    TextReply,
)

log = logging.getLogger(__name__)
PLATFORM = "discord"
Sent = discord.Message | discord.InteractionMessage | discord.WebhookMessage


@dataclass(frozen=True)
class Context:
    """Who acts where: the channel (a server's text channel or a DM), the member, and
    whether replies to them are for the whole channel."""

    channel_id: int
    in_guild: bool
    user_id: str
    user_name: str
    public: bool = False
    is_admin: bool = False
    is_operator: bool = False

    def private(self, reply: Reply) -> bool:
        """Whether only the asker should see `reply` (ephemeral, or a DM from a channel)."""
        if not self.in_guild:
            return False
        return reply.audience is Audience.asker or not self.public

    def private_by_default(self) -> bool:
        """Whether replies the core addresses to the chat are still for the asker alone
        (a deferral must choose before the replies exist)."""
        return self.in_guild and not self.public

    def who(self) -> str:
        """A name for verdicts and results others see, in a server's public replies."""
        return self.user_name if self.in_guild and self.public else ""

    def event(self) -> dict[str, Any]:
        """The fields every core event from this context shares."""
        return {
            "platform": PLATFORM,
            "chat_id": str(self.channel_id),
            "user_id": self.user_id,
            "display_name": self.user_name,
            "chat_kind": ChatKind.group if self.in_guild else ChatKind.private,
            "is_admin": self.is_admin or self.is_operator,
            "is_operator": self.is_operator,
        }


class Replies(Protocol):
    """Where rendered messages go; `private` asks for the asker's eyes only."""

    async def post(self, out: Outgoing, private: bool) -> Sent | None: ...

    async def edit(self, message: Sent, out: Outgoing) -> None: ...


def edit_kwargs(out: Outgoing) -> dict[str, Any]:
    """An edit that replaces everything: content, embeds, components, files."""
    kwargs: dict[str, Any] = {
        "content": out.content or None,
        "embeds": out.embeds,
        "view": out.view,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if out.file is not None:
        kwargs["attachments"] = [discord.File(out.file, filename=out.file.name)]
    return kwargs


class InteractionReplies:
    """Replies to one interaction: the first is the response, later ones are follow-ups; after
    a deferral with "thinking", the first replaces the thinking message."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self.lock = asyncio.Lock()
        self.thinking: bool | None = None  # the deferred message's visibility, while pending

    async def defer(self, private: bool, thinking: bool = True) -> None:
        """Acknowledge now (Discord allows 3 s); the answer follows."""
        async with self.lock:
            if self.interaction.response.is_done():
                return
            await self.interaction.response.defer(ephemeral=private, thinking=thinking)
            self.thinking = private if thinking else None

    async def defer_later(self, delay: float, private: bool, thinking: bool) -> None:
        """Defer if nothing was sent within `delay`: slow work never loses the interaction."""
        await asyncio.sleep(delay)
        await asyncio.shield(self.defer(private, thinking))

    async def post(self, out: Outgoing, private: bool) -> Sent | None:
        async with self.lock:
            response = self.interaction.response
            if not response.is_done():
                callback = await response.send_message(**out.kwargs(), ephemeral=private)
                resource = callback.resource
                return resource if isinstance(resource, discord.InteractionMessage) else None
            if self.thinking is not None:
                if self.thinking == private:
                    self.thinking = None
                    return await self.interaction.edit_original_response(**edit_kwargs(out))
                await self._drop_thinking()
            return await self.interaction.followup.send(
                **out.kwargs(), ephemeral=private, wait=True
            )

    async def edit(self, message: Sent, out: Outgoing) -> None:
        await message.edit(**edit_kwargs(out))

    async def notice(self, text: str) -> None:
        """A short private notice (stale button, someone else's quiz, "Got it")."""
        await self.post(text_messages(text)[0], private=True)

    async def remove_buttons(self) -> None:
        """Take the answer buttons off the question just answered (cosmetic if it fails)."""
        try:
            async with self.lock:
                if not self.interaction.response.is_done():
                    await self.interaction.response.edit_message(view=None)
                else:
                    await self.interaction.edit_original_response(view=None)
        except discord.HTTPException as error:
            log.info("could not remove answered buttons: %s", error)

    async def finish(self) -> None:
        """A deferred response nothing replaced says it is done instead of thinking forever."""
        if self.thinking is not None:
            async with self.lock:
                self.thinking = None
                await self.interaction.edit_original_response(content="Done.")

    async def _drop_thinking(self) -> None:
        self.thinking = None
        with contextlib.suppress(discord.HTTPException):
            await self.interaction.delete_original_response()


class ChannelReplies:
    """Replies as channel messages (a DM, a reply to the bot, a scheduled post); a private
    reply from a server channel goes to the member's DMs."""

    def __init__(
        self,
        channel: discord.abc.Messageable,
        author: discord.abc.User | None = None,
        reference: discord.Message | None = None,
        in_guild: bool = False,
    ) -> None:
        self.channel = channel
        self.author = author
        self.reference = reference
        self.in_guild = in_guild

    async def post(self, out: Outgoing, private: bool) -> Sent | None:
        if private and self.in_guild and self.author is not None:
            return await self._privately(out)
        kwargs = out.kwargs()
        if self.reference is not None:
            kwargs["reference"] = self.reference.to_reference(fail_if_not_exists=False)
            kwargs["mention_author"] = False
        return await self.channel.send(**kwargs)

    async def edit(self, message: Sent, out: Outgoing) -> None:
        await message.edit(**edit_kwargs(out))

    async def _privately(self, out: Outgoing) -> Sent | None:
        assert self.author is not None
        try:
            await self.author.send(**out.kwargs())
            note = f"{self.author.display_name}, I sent it to you in a direct message."
        except discord.Forbidden:  # DMs from server members are off
            note = (
                f"{self.author.display_name}, I can't message you directly: allow direct "
                "messages from this server's members, or use the slash command."
            )
        return await self.channel.send(**text_messages(note)[0].kwargs())


class Sender(ReplySender[Sent, list[Outgoing]]):
    """Discord's rendering for the shared sender: a reply is a list of messages (content,
    embeds, components, a file), each posted privately or to the channel as `Context.private`
    decides; the batching, pairing and streaming are `ReplySender`'s."""

    def __init__(self, replies: Replies, context: Context, clock: Callable[[], datetime]) -> None:
        self.replies = replies
        self.context = context
        self.clock = clock  # read when a reply is rendered: a question's time left is exact

    def visibility(self, reply: Reply) -> bool:
        return self.context.private(reply)

    def private_by_default(self) -> bool:
        return self.context.private_by_default()

    def render(self, reply: Reply) -> list[Outgoing]:
        owner_name = self.context.user_name if self.context.in_guild else ""
        return render_reply(
            reply,
            owner=self.context.user_id,
            owner_name=owner_name,
            who=self.context.who(),
            now=self.clock(),
        )

    def render_notices(self, notices: Sequence[Reply]) -> list[Outgoing]:
        texts = (n.text for n in notices if isinstance(n, TextReply | HintReply))
        return text_messages("\n\n".join(texts))

    def render_partial(self, text: str) -> list[Outgoing]:
        return [Outgoing(content=partial_content(text))]

    def per_message(self, rendered: list[Outgoing]) -> list[list[Outgoing]]:
        return [[out] for out in rendered]

    async def send_rendered(self, rendered: list[Outgoing], private: bool) -> Sent | None:
        sent: Sent | None = None
        for out in rendered:
            sent = await self.replies.post(out, private)
        return sent

    async def edit_rendered(self, message: Sent, rendered: list[Outgoing]) -> None:
        """`rendered` is one message here: a partial, or one part from `per_message`."""
        await self.replies.edit(message, rendered[0])

    async def send_explained(
        self, explanation: ExplanationReply, follow_ups: FollowUpsReply, private: bool
    ) -> None:
        messages = explained_with_follow_ups(explanation, follow_ups, self.context.who())
        await self.send_rendered(messages, private)

    def stream(self, interval: float) -> Stream[Sent, list[Outgoing]]:
        """A streamed answer edited no faster than `interval` (Discord: 5 edits per 5 s); an
        interaction is deferred before the first partial, which then replaces the deferral."""
        started = None
        if isinstance(self.replies, InteractionReplies):
            started = partial(self.replies.defer, self.context.private_by_default())
        return Stream(self, interval, started)
