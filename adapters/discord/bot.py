"""The Discord bot: a discord.py client whose slash commands, components and messages talk to
the core.

Nothing about a conversation is kept in memory: quiz state is in the core's database, and
every button carries its question's ref and owner in its custom id (registered as dynamic
items at start), so a restart, a reconnect or another process loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import discord
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord.commands import build_tree
from adapters.discord.render import owner_name_of, text_messages
from adapters.discord.replies import (
    PLATFORM,
    ChannelReplies,
    Context,
    InteractionReplies,
    Sender,
)
from adapters.discord.settings import DiscordSettings
from adapters.discord.views import DYNAMIC_ITEMS
from adapters.shared import (
    EVERYONE,
    UserOrder,
    may_answer,
    notice_text,
    parse_command_text,
    post_scheduled,
)
from bot.core import Core
from bot.types import (
    AnswerChoice,
    ButtonPress,
    Command,
    Delivery,
    Document,
    Event,
    QuestionReply,
    Reply,
    Text,
)

log = logging.getLogger(__name__)

STREAM_INTERVAL = 1.5  # seconds between edits of a streamed answer (Discord: 5 edits per 5 s)
DEFER_AFTER = 2.0  # an interaction not answered by then is deferred (Discord allows 3 s)
TICK_SECONDS = 60.0  # how often the core is asked for scheduled posts
MAX_DOCUMENT_BYTES = 2_000_000
SLOW_COMMANDS = {"ask", "why", "stats", "export", "review"}  # model answers, charts, files
PUBLIC_COMMANDS = {"daily", "leaderboard"}  # a channel's shared challenge and standings
QUIZ_COMMANDS = {"quiz", "skip", "stop", "resume", "why", "ask", "start"}
MENTION = re.compile(r"<@!?[0-9]+>")
TOO_LARGE = "That file is too large for an import; split it under 2 MB."
SORRY = "Sorry, something went wrong on my side. Your progress is saved; try again, or /resume."


class NoVoiceNotes(logging.Filter):
    """The bot has no voice features: discord.py's notes about missing voice libraries
    (PyNaCl, davey) would only make an operator look for a problem that is not there."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


logging.getLogger("discord.client").addFilter(NoVoiceNotes())


def point_at(settings: DiscordSettings) -> None:
    """Send REST calls and the gateway connection where the settings say (a proxy that
    shares rate limits across processes, or a stand-in in tests)."""
    discord.http.Route.BASE = settings.api_base_url.rstrip("/")  # type: ignore[misc]
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def intents() -> discord.Intents:
    """No privileged intents: slash commands and components need none; DMs, mentions of the
    bot and replies to it carry their text without the message-content intent."""
    chosen = discord.Intents.default()
    chosen.typing = chosen.dm_typing = chosen.guild_typing = False
    return chosen


class StudyBot:
    """Turns interactions and messages into core events and sends the replies back. Mixed
    into a discord.py client class (plain or auto-sharded) by `build_client`."""

    core: Core
    settings: DiscordSettings
    stream_interval: float
    tick_seconds: float
    tree: discord.app_commands.CommandTree  # type: ignore[type-arg]
    _ticker: asyncio.Task[None] | None

    def setup_study(
        self, core: Core, settings: DiscordSettings, stream_interval: float, tick_seconds: float
    ) -> None:
        self.core, self.settings = core, settings
        self.stream_interval, self.tick_seconds = stream_interval, tick_seconds
        self._ticker = None
        self.order = UserOrder()
        assert isinstance(self, discord.Client)
        self.tree = build_tree(self, self)
        self.tree.on_error = self.on_command_error  # type: ignore[method-assign]

    # ------------------------------------------------------------ start and stop

    async def setup_hook(self) -> None:
        """Before the gateway connects: persistent components, command sync, the tick loop."""
        assert isinstance(self, discord.Client)
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.sync_commands()
        self._ticker = asyncio.create_task(self.tick_forever())

    async def sync_commands(self) -> None:
        """Globally, or instantly to the DISCORD_GUILD_IDS servers."""
        try:
            guilds = self.settings.guilds()
            for guild_id in guilds:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
            if not guilds:
                await self.tree.sync()
        except discord.HTTPException as error:  # the bot still answers typed messages
            log.warning("could not sync the slash commands: %s", error)

    async def close(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        await super().close()  # type: ignore[misc]

    # ------------------------------------------------------------ contexts

    def context(self, interaction: discord.Interaction, public: bool = False) -> Context:
        user = interaction.user
        operator = str(user.id) in self.settings.admins()
        return Context(
            channel_id=interaction.channel_id or 0,
            in_guild=interaction.guild_id is not None,
            user_id=str(user.id),
            user_name=user.display_name,
            public=public,
            # Manage Server or the admin role, in a server; in DMs only operators are admins
            is_admin=interaction.guild_id is not None
            and self.manages(interaction.permissions, user),
            is_operator=operator,
        )

    def manages(self, permissions: discord.Permissions, user: discord.abc.User) -> bool:
        """Manage Server, or the role named by DISCORD_ADMIN_ROLE."""
        role = self.settings.admin_role.strip().lower()
        roles = getattr(user, "roles", [])
        return permissions.manage_guild or bool(role and any(r.name.lower() == role for r in roles))

    def quiz_is_public(self, context: Context) -> bool:
        """Whether this member's current quiz here was started with `public: true`."""
        if not context.in_guild:
            return False
        known = self.core.recall(PLATFORM, f"public:{context.channel_id}:{context.user_id}")
        return bool(known and known.get("public"))

    # ------------------------------------------------------------ interactions

    async def on_command(
        self, interaction: discord.Interaction, name: str, args: str, public: bool = False
    ) -> None:
        """A slash command, as the core's Command event."""
        context = self.context(interaction)
        started = self.remember_visibility(context, public) if name == "quiz" else None
        if name in PUBLIC_COMMANDS:
            public = True
        elif name in QUIZ_COMMANDS:
            public = public or self.quiz_is_public(context)
        context = replace(context, public=public)
        event = Command(**context.event(), name=name, args=args)
        await self.answer(
            interaction, context, event, slow=name in SLOW_COMMANDS, on_result=started
        )

    def remember_visibility(
        self, context: Context, public: bool
    ) -> Callable[[list[Reply]], None] | None:
        """Once a quiz has started in a server, whether it was started `public: true`: its
        answers, verdicts and follow-ups are shown the same way (a refused /quiz changes
        nothing for the quiz already running)."""
        if not context.in_guild:
            return None
        key = f"public:{context.channel_id}:{context.user_id}"

        def started(result: list[Reply]) -> None:
            if any(isinstance(reply, QuestionReply) for reply in result):
                self.core.remember(PLATFORM, key, {"public": public})

        return started

    async def on_import(
        self, interaction: discord.Interaction, attachment: discord.Attachment, caption: str
    ) -> None:
        """A question bank attached to /import (admins only; the core checks)."""
        context = self.context(interaction)
        replies = InteractionReplies(interaction)
        if attachment.size > MAX_DOCUMENT_BYTES:
            await replies.notice(TOO_LARGE)
            return
        await replies.defer(context.private_by_default())
        content = await attachment.read()
        event = Document(
            **context.event(), filename=attachment.filename, content=content, caption=caption
        )
        await self.answer(interaction, context, event, replies=replies)

    async def on_pick(
        self, interaction: discord.Interaction, owner: str, ref: str, positions: tuple[int, ...]
    ) -> None:
        """An answer button or menu: only the question's owner (or anyone, for a daily
        challenge) answers; anyone else is told whose quiz it is, and nothing is counted."""
        context = self.context(interaction)
        replies = InteractionReplies(interaction)
        if not may_answer(owner, context.user_id):
            await replies.notice(foreign_notice(interaction.message))
            return
        if not positions:
            await replies.notice("Pick your answer first.")
            return
        public = owner != EVERYONE and self.quiz_is_public(context)
        context = replace(context, public=public)
        event = AnswerChoice(**context.event(), choices=positions, question_ref=ref)
        # slow? acknowledge the press; the question stays the response's message to edit
        private = context.private_by_default()
        timer = asyncio.create_task(replies.defer_later(DEFER_AFTER, private, thinking=False))
        try:
            result = await self.in_order(context, self.core.handle(event))
        finally:
            timer.cancel()
        notice = notice_text(result)
        if notice is not None:  # a reason the press did not count, or "Got it": presser only
            await replies.notice(notice)
            return
        await replies.remove_buttons()
        await Sender(replies, context, self.core.now).send(result)

    async def on_follow_up(self, interaction: discord.Interaction, data: str) -> None:
        """A suggested follow-up question: answered (and streamed) by the core's model."""
        context = self.context(interaction)
        context = replace(context, public=self.quiz_is_public(context))
        event = ButtonPress(**context.event(), data=data)
        await self.answer(interaction, context, event, slow=True)

    async def answer(
        self,
        interaction: discord.Interaction,
        context: Context,
        event: Event,
        *,
        slow: bool = False,
        replies: InteractionReplies | None = None,
        on_result: Callable[[list[Reply]], None] | None = None,
    ) -> None:
        """Send `event` to the core and its replies back, deferring slow work in time and
        streaming a model's answer into the deferred message."""
        replies = replies or InteractionReplies(interaction)
        private = context.private_by_default()
        if slow:
            await replies.defer(private)
        timer = asyncio.create_task(replies.defer_later(DEFER_AFTER, private, thinking=True))
        sender = Sender(replies, context, self.core.now)
        stream = sender.stream(self.stream_interval)
        try:
            result = await self.in_order(context, self.core.handle(event, stream.progress))
        finally:
            timer.cancel()
        if on_result is not None:
            on_result(result)
        await sender.send(result, stream)
        await replies.finish()

    async def in_order(self, context: Context, work: Any) -> list[Reply]:
        """One member's events in one channel run in order; others run concurrently."""
        result: list[Reply] = []

        async def collect() -> None:
            result.extend(await work)

        await self.order.run(f"{context.channel_id}:{context.user_id}", collect())
        return result

    async def on_command_error(
        self, interaction: discord.Interaction, error: discord.app_commands.AppCommandError
    ) -> None:
        """Log and tell the member; one failing command never stops the bot."""
        log.error("command %s failed", interaction.command, exc_info=error)
        with contextlib.suppress(discord.HTTPException):
            await InteractionReplies(interaction).notice(SORRY)

    # ------------------------------------------------------------ messages

    async def on_message(self, message: discord.Message) -> None:
        """Typed answers and questions in a DM, or replying to (or mentioning) the bot in a
        server; a file in a DM is a bank to import."""
        if message.author.bot:
            return
        text = self.addressed(message)
        if text is None:
            return
        try:
            await self.handle_message(message, text)
        except discord.HTTPException as error:
            log.warning("could not answer message %s: %s", message.id, error)

    def bot_name(self) -> str:
        me = self.user  # type: ignore[attr-defined]
        return me.name if me else ""

    def addressed(self, message: discord.Message) -> str | None:
        """The text meant for the bot, or None for channel talk that is not."""
        if message.guild is None:
            return message.content
        me = self.user  # type: ignore[attr-defined]
        reference = message.reference
        replied = reference.resolved if reference else None
        if isinstance(replied, discord.Message) and me and replied.author.id == me.id:
            return MENTION.sub("", message.content).strip()
        if me and me in message.mentions:
            return MENTION.sub("", message.content).strip()
        return None

    async def handle_message(self, message: discord.Message, text: str) -> None:
        author = message.author
        in_guild = message.guild is not None
        permissions = getattr(author, "guild_permissions", discord.Permissions.none())
        context = Context(
            channel_id=message.channel.id,
            in_guild=in_guild,
            user_id=str(author.id),
            user_name=author.display_name,
            public=True,  # a channel message is answered where everyone sees it
            is_admin=in_guild and self.manages(permissions, author),
            is_operator=str(author.id) in self.settings.admins(),
        )
        replies = ChannelReplies(
            message.channel, author, message if in_guild else None, in_guild=in_guild
        )
        event = await self.message_event(message, context, text)
        if event is None:
            await replies.post(text_messages(TOO_LARGE)[0], private=False)
            return
        sender = Sender(replies, context, self.core.now)
        stream = sender.stream(self.stream_interval)
        result = await self.in_order(context, self.core.handle(event, stream.progress))
        await sender.send(result, stream)

    async def message_event(
        self, message: discord.Message, context: Context, text: str
    ) -> Event | None:
        """Text, or a Document for a file sent to the bot (None when it is too large)."""
        if not message.attachments:
            command = parse_command_text(text, self.bot_name())
            if command is not None:  # typed like on Telegram: "/quiz DVA-C02 5"
                return Command(**context.event(), name=command[0], args=command[1])
            return Text(**context.event(), text=text)
        attachment = message.attachments[0]
        if attachment.size > MAX_DOCUMENT_BYTES:
            return None
        content = await attachment.read()
        return Document(
            **context.event(), filename=attachment.filename, content=content, caption=text
        )

    # ------------------------------------------------------------ scheduled posts

    async def tick_forever(self) -> None:
        """Every minute (from every process: the core's outbox leases keep posts single)."""
        assert isinstance(self, discord.Client)
        await self.wait_until_ready()
        while not self.is_closed():
            await asyncio.sleep(self.tick_seconds)
            try:
                await self.tick()
            except Exception:  # the next minute tries again; the loop must not die
                log.exception("posting scheduled messages failed")

    async def tick(self) -> None:
        """Post what the core publishes on its own (daily challenges, their results), each
        recorded as delivered only once Discord took it; a refused one goes out later."""
        await post_scheduled(self.core, PLATFORM, self.deliver, (discord.HTTPException,))

    async def deliver(self, delivery: Delivery) -> None:
        assert isinstance(self, discord.Client)
        channel = self.get_partial_messageable(int(delivery.chat_id))
        context = Context(
            channel_id=channel.id,
            in_guild=delivery.chat_kind.value == "group",
            user_id=EVERYONE,
            user_name="",
            public=True,
        )
        await Sender(ChannelReplies(channel), context, self.core.now).send(delivery.replies)


def foreign_notice(message: discord.Message | None) -> str:
    """Told to a member who pressed someone else's question: whose it is, and what to do."""
    author = ""
    if message is not None and message.embeds and message.embeds[0].author:
        author = owner_name_of(message.embeds[0].author.name or "")
    whose = f"{author}'s quiz" if author else "another member's quiz"
    return f"This is {whose}: your answer is not counted. Start your own with /quiz."


class StudyClient(StudyBot, discord.Client):
    """One gateway connection."""


class ShardedStudyClient(StudyBot, discord.AutoShardedClient):
    """DISCORD_SHARDS: several gateway connections in this process."""


def build_client(
    core: Core,
    settings: DiscordSettings,
    *,
    stream_interval: float = STREAM_INTERVAL,
    tick_seconds: float = TICK_SECONDS,
    **options: Any,
) -> StudyClient | ShardedStudyClient:
    """A new client wired to `core` (one per run: a closed client cannot restart)."""
    point_at(settings)
    common: dict[str, Any] = {
        "intents": intents(),
        "allowed_mentions": discord.AllowedMentions.none(),
        **options,
    }
    client: StudyClient | ShardedStudyClient
    if settings.sharded():
        shards = settings.own_shards()
        client = ShardedStudyClient(shard_count=settings.shard_count(), shard_ids=shards, **common)
    else:
        client = StudyClient(**common)
    client.setup_study(core, settings, stream_interval, tick_seconds)
    return client


async def check_token(settings: DiscordSettings) -> str:
    """Log in once, before the bank and database load, so a rejected token is reported at
    once (discord.LoginFailure); returns the bot's name."""
    point_at(settings)
    client = discord.Client(intents=intents())
    try:
        await client.login(settings.token())
        return str(client.user)
    finally:
        await client.close()
