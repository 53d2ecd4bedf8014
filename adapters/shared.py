"""What every chat platform's adapter needs, written once.

A platform adapter subclasses `ReplySender` (or `ChatSender`, its form for text markup) and
implements only what is truly its own: render a reply, send and edit a message, send a
question natively, send a file or an image, send something only the asker sees. The rest
lives here: batching short texts into one message, pairing an explanation with its follow-up
buttons, pacing a streamed answer by editing one message, routing replies by `Audience`,
turning a press answered only by notices into a private notice, deciding who owns a
question, keeping each user's updates in order, and the scheduled-post loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from bot.core import Core
from bot.types import (
    AnswerChoice,
    AnswerReply,
    Audience,
    ButtonPress,
    ChatKind,
    Delivery,
    Event,
    ExplanationReply,
    FileReply,
    FollowUpsReply,
    HintReply,
    ImageReply,
    Mode,
    QuestionReply,
    Reply,
    TextReply,
)

log = logging.getLogger(__name__)
M = TypeVar("M")  # a platform's handle on a sent message, for editing it
R = TypeVar("R")  # a reply in a platform's rendered form (markup, a list of messages)

EVERYONE = "0"  # the owner of a question every member answers (a group's daily challenge)
FOREIGN_QUESTION = "This question is for another member. Send /quiz to get your own."
COMMAND = re.compile(r"/(\S+)\s*(.*)", re.DOTALL)


# ---------------------------------------------------------------- where replies go


@dataclass(frozen=True)
class Target:
    """Where replies go (chat, topic, the message they answer) and whom they are for.

    Ids are the platform's own, as text: the core never does arithmetic on them.
    """

    chat_id: str
    kind: ChatKind
    user_id: str
    user_name: str
    thread_id: str = ""
    reply_to: str = ""  # the message to quote; set in groups, where several people talk

    def who(self) -> str:
        """A name to put on verdicts and results in groups, where several people study."""
        return self.user_name if self.kind is ChatKind.group else ""

    def event(self, platform: str, *, is_admin: bool = False, is_operator: bool = False) -> dict:
        """The fields every core event from this target shares."""
        return {
            "platform": platform,
            "chat_id": self.chat_id,
            "user_id": self.user_id,
            "display_name": self.user_name,
            "chat_kind": self.kind,
            "is_admin": is_admin,
            "thread_id": self.thread_id,
            "is_operator": is_operator,
        }


def delivery_target(delivery: Delivery) -> Target:
    """Where a scheduled post goes: a chat (and topic), answering no one in particular."""
    return Target(
        chat_id=delivery.chat_id,
        kind=delivery.chat_kind,
        user_id="",
        user_name="",
        thread_id=delivery.thread_id,
    )


def is_notice(reply: Reply) -> bool:
    """A short text (a hint, an acknowledgement): batched, or shown as a private notice."""
    return isinstance(reply, TextReply | HintReply)


def notice_text(replies: Sequence[Reply]) -> str | None:
    """What to show privately after a button press, or None: when every reply is a notice
    meant for the presser alone (a stale button, "you already answered", "Got it"), it is
    a toast or an ephemeral message, not a message in the chat."""
    if not replies or not all(r.audience is Audience.asker and is_notice(r) for r in replies):
        return None
    return " ".join(r.text for r in replies if isinstance(r, TextReply | HintReply))


# ---------------------------------------------------------------- who owns a question


def question_owner(reply: QuestionReply, user_id: str) -> str:
    """Who may answer `reply`'s buttons: the member it was sent to, or everyone in the
    group for a daily challenge."""
    return EVERYONE if reply.mode is Mode.daily else user_id


def may_answer(owner: str, user_id: str) -> bool:
    """In a group only the member a question was sent to may answer it."""
    return owner in (user_id, EVERYONE)


# ---------------------------------------------------------------- sending


class ReplySender(ABC, Generic[M, R]):
    """Sends a list of replies in order, in whatever form a platform renders them (`R`: a
    markup string on Telegram, a list of messages with embeds and buttons on Discord).

    The order of work is the same on every platform, so it lives here: consecutive short
    texts of the same visibility go out as one message (groups allow 20 a minute), an
    explanation carries the follow-up buttons that follow it, and a streamed answer is
    finished in the message that streamed it. A subclass renders and transports.
    """

    # ------------------------------------------------------------ platform hooks

    @abstractmethod
    def visibility(self, reply: Reply) -> bool:
        """Whether only the asker may see `reply`; a batch only joins replies that agree."""

    def private_by_default(self) -> bool:
        """Whether what is sent before the replies exist (a streamed answer) is for the
        asker alone."""
        return False

    @abstractmethod
    def render(self, reply: Reply) -> R:
        """`reply` in the platform's form."""

    @abstractmethod
    def render_notices(self, notices: Sequence[Reply]) -> R:
        """Short texts (see `is_notice`) joined into one message's worth."""

    @abstractmethod
    def render_partial(self, text: str) -> R:
        """A streamed answer so far, short enough for one message."""

    @abstractmethod
    def per_message(self, rendered: R) -> list[R]:
        """`rendered` cut into parts that each fit one message (the first replaces a
        streamed message, the rest follow it)."""

    @abstractmethod
    async def send_rendered(self, rendered: R, private: bool) -> M | None:
        """Send `rendered` (in as many messages as it needs); the last message, if the
        platform gives a handle to edit it."""

    @abstractmethod
    async def edit_rendered(self, message: M, rendered: R) -> None:
        """Replace a sent message with `rendered`, which fits one message."""

    @abstractmethod
    async def send_explained(
        self, explanation: ExplanationReply, follow_ups: FollowUpsReply, private: bool
    ) -> None:
        """An explanation with the follow-up questions as buttons under it."""

    async def send_notices(self, notices: Sequence[Reply], private: bool) -> None:
        """A batch of short texts, as one message."""
        await self.send_rendered(self.render_notices(notices), private)

    async def deliver(self, reply: Reply, private: bool) -> None:
        """One reply that is not batched, paired or streamed."""
        await self.send_rendered(self.render(reply), private)

    # ------------------------------------------------------------ shared behaviour

    async def send(self, replies: Sequence[Reply], stream: Stream[M, R] | None = None) -> None:
        """All replies in order: batched, paired and streamed as the class says."""
        batch: list[Reply] = []
        batch_private = False
        index = 0
        while index < len(replies):
            reply = replies[index]
            private = self.visibility(reply)
            following = replies[index + 1] if index + 1 < len(replies) else None
            if is_notice(reply) and (not batch or private == batch_private):
                batch.append(reply)
                batch_private = private
                index += 1
                continue
            await self._flush(batch, batch_private)
            if is_notice(reply):
                continue  # a notice of the other visibility starts the next batch
            if isinstance(reply, ExplanationReply) and isinstance(following, FollowUpsReply):
                await self.send_explained(reply, following, private)
                index += 2
                continue
            await self.send_one(reply, stream)
            index += 1
        await self._flush(batch, batch_private)

    async def _flush(self, batch: list[Reply], private: bool) -> None:
        if batch:
            await self.send_notices(batch, private)
            batch.clear()

    async def send_one(self, reply: Reply, stream: Stream[M, R] | None = None) -> None:
        """One reply; a model's answer replaces the message it streamed into, unless it is
        for other eyes than the streamed message was."""
        private = self.visibility(reply)
        if (
            isinstance(reply, AnswerReply)
            and stream is not None
            and stream.private == private
            and await stream.finish(self.render(reply))
        ):
            return
        await self.deliver(reply, private)


class ChatSender(ReplySender[M, str]):
    """A platform whose replies are text in a markup (Telegram's HTML), with buttons,
    questions, files and images sent natively; subclasses implement the platform hooks.

    Visibility is not a flag on a message here: a reply for the asker alone goes by
    another route (`send_privately`, e.g. a private chat)."""

    #: Whether the platform can show a short notice to the asker alone in a conversation
    #: (an ephemeral reply). Where it cannot (Telegram, outside a button press), an
    #: asker-only notice is posted in the chat, quoting the asker.
    private_notices = False

    def __init__(self, target: Target) -> None:
        self.target = target

    # ------------------------------------------------------------ platform hooks

    @abstractmethod
    def markup(self, reply: Reply) -> str:
        """`reply` in the platform's text markup (for follow-ups: the heading of the buttons)."""

    @abstractmethod
    def partial(self, text: str) -> str:
        """A streamed answer so far, in markup, short enough for one message."""

    @abstractmethod
    def pieces(self, text: str) -> list[str]:
        """`text` (markup) split into messages within the platform's length limit."""

    @abstractmethod
    async def send_text(self, text: str, follow_ups: FollowUpsReply | None = None) -> M:
        """Send markup (in pieces if long), with follow-up buttons on the last; the last piece."""

    @abstractmethod
    async def edit_text(self, message: M, text: str) -> None:
        """Replace a sent message's text (markup within one message)."""

    @abstractmethod
    async def send_question(self, reply: QuestionReply) -> None:
        """A question natively: a poll, or its text with answer buttons."""

    @abstractmethod
    async def send_file(self, reply: FileReply) -> None: ...

    @abstractmethod
    async def send_image(self, reply: ImageReply) -> None: ...

    @abstractmethod
    async def send_privately(self, reply: Reply) -> None:
        """`reply` so that only the asker sees it (a private message, an ephemeral reply)."""

    # ------------------------------------------------------------ the generic hooks, in markup

    def goes_privately(self, reply: Reply) -> bool:
        """Asker-only replies in a group: notices where the platform can, everything else."""
        if reply.audience is not Audience.asker or self.target.kind is ChatKind.private:
            return False
        return self.private_notices or not is_notice(reply)

    def visibility(self, reply: Reply) -> bool:
        return self.goes_privately(reply)

    def render(self, reply: Reply) -> str:
        return self.markup(reply)

    def render_notices(self, notices: Sequence[Reply]) -> str:
        return "\n\n".join(self.markup(notice) for notice in notices)

    def render_partial(self, text: str) -> str:
        return self.partial(text)

    def per_message(self, rendered: str) -> list[str]:
        return self.pieces(rendered)

    async def send_rendered(self, rendered: str, private: bool) -> M:
        return await self.send_text(rendered)

    async def edit_rendered(self, message: M, rendered: str) -> None:
        await self.edit_text(message, rendered)

    async def send_explained(
        self, explanation: ExplanationReply, follow_ups: FollowUpsReply, private: bool
    ) -> None:
        """In the chat, whoever it is for: the buttons are the chat's to press."""
        await self.send_text(self.markup(explanation), follow_ups)

    async def send_notices(self, notices: Sequence[Reply], private: bool) -> None:
        """Notices for the asker alone go one by one by the private route."""
        if not private:
            await self.send_text(self.render_notices(notices))
            return
        for notice in notices:
            await self.send_privately(notice)

    async def deliver(self, reply: Reply, private: bool) -> None:
        """Natively where the platform can, as markup otherwise."""
        if private:
            await self.send_privately(reply)
        elif isinstance(reply, QuestionReply):
            await self.send_question(reply)
        elif isinstance(reply, FollowUpsReply):
            await self.send_text(self.markup(reply), reply)
        elif isinstance(reply, ImageReply):
            await self.send_image(reply)
        elif isinstance(reply, FileReply):
            await self.send_file(reply)
        else:
            await self.send_text(self.markup(reply))


class Stream(Generic[M, R]):
    """A streamed answer: one message, edited at a steady pace that respects the platform's
    rate limits, then replaced by the final answer. `started` runs before the first partial
    is sent (Telegram acknowledges a button press; Discord defers an interaction, so the
    partial becomes its response)."""

    def __init__(
        self,
        sender: ReplySender[M, R],
        interval: float,
        started: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.sender = sender
        self.interval = interval
        self.started = started
        self.private = sender.private_by_default()
        self.opened = False
        self.message: M | None = None
        self.shown = ""
        self.last = 0.0

    async def progress(self, partial: str) -> None:
        """The core's progress callback: send the first partial, then edit no faster than
        `interval`; partials that arrive in between are skipped (the final edit catches up)."""
        now = time.monotonic()
        if not self.opened:
            if self.started:
                await self.started()
            rendered = self.sender.render_partial(partial)
            self.message = await self.sender.send_rendered(rendered, self.private)
            self.opened = True
        elif self.message is None or partial == self.shown or now - self.last < self.interval:
            return  # no handle to edit (the platform gave none), unchanged, or too soon
        else:
            await self.sender.edit_rendered(self.message, self.sender.render_partial(partial))
        self.shown, self.last = partial, now

    async def finish(self, rendered: R) -> bool:
        """Replace the streamed message with the final answer; False if nothing streamed."""
        if self.message is None:
            return False
        first, *rest = self.sender.per_message(rendered)
        await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - self.last)))
        await self.sender.edit_rendered(self.message, first)
        for part in rest:
            await self.sender.send_rendered(part, self.private)
        return True


# ---------------------------------------------------------------- one event, start to end


async def converse(
    core: Core,
    event: Event,
    sender: ReplySender[M, R],
    interval: float,
    started: Callable[[], Awaitable[None]] | None = None,
) -> list[Reply]:
    """Send `event` to the core, streaming a model's answer into one message edited every
    `interval` seconds, and send every reply."""
    stream = Stream(sender, interval, started)
    replies = await core.handle(event, stream.progress)
    await sender.send(replies, stream)
    return replies


async def press(
    core: Core,
    event: ButtonPress | AnswerChoice,
    sender: ReplySender[M, R],
    interval: float,
    acknowledge: Callable[[], Awaitable[None]],
    notify: Callable[[str], Awaitable[None]],
) -> None:
    """A button press. Platforms want every press acknowledged within seconds: a streamed
    answer acknowledges it as soon as it starts. When every reply is a notice for the
    presser alone ("no longer available", "Got it"), `notify` shows them privately (a toast,
    an ephemeral message) and the message keeps its buttons; otherwise `acknowledge` runs
    (it may take the answered buttons away) and the replies are sent."""
    done = False

    async def once() -> None:
        nonlocal done
        if not done:
            done = True
            await acknowledge()

    stream = Stream(sender, interval, once)
    replies = await core.handle(event, stream.progress)
    notice = notice_text(replies)
    if notice is not None and not done:
        await notify(notice)
        return
    await once()
    await sender.send(replies, stream)


# ---------------------------------------------------------------- update order


class UserOrder:
    """Each person's updates in one chat run in order (toggles, then Submit), while other
    people and chats go on concurrently: one slow model answer does not hold up the bot."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._waiting: dict[str, int] = {}

    async def run(self, key: str, work: Awaitable[Any]) -> None:
        """Run `work` after every earlier update with the same `key` (chat and person)."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await work
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # forget idle keys: the dicts stay small
                del self._waiting[key], self._locks[key]


# ---------------------------------------------------------------- scheduled posts


class Outbox(Protocol):
    """The core's side of scheduled posts (`Core` is one)."""

    async def tick(self, platform: str) -> list[Delivery]: ...
    async def delivered(self, delivery: Delivery) -> None: ...
    async def retry_later(self, delivery: Delivery) -> None: ...


async def post_scheduled(
    core: Outbox,
    platform: str,
    deliver: Callable[[Delivery], Awaitable[None]],
    refused: tuple[type[BaseException], ...],
) -> None:
    """Post what the core publishes on its own (daily challenges, their results), each
    recorded as delivered only once the platform took it; one it refused (an error in
    `refused`) goes out on a later tick, and does not hold up the other chats."""
    for delivery in await core.tick(platform):
        try:
            await deliver(delivery)
        except refused as error:
            log.warning("could not post to chat %s, will retry: %s", delivery.chat_id, error)
            await core.retry_later(delivery)
        else:
            await core.delivered(delivery)


# ---------------------------------------------------------------- commands


def parse_command_text(text: str, bot_username: str = "") -> tuple[str, str] | None:
    """`/name args` or `/name@ThisBot args` as (name, args); None for anything else,
    including a command addressed to another bot (`/name@OtherBot`)."""
    match = COMMAND.match(text.strip())
    if match is None:
        return None
    name, _, addressee = match.group(1).partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return None
    return name, match.group(2).strip()
