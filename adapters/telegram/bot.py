"""The Telegram bot: a python-telegram-bot Application whose handlers talk to the core.

Every update becomes a platform-neutral event; every reply is rendered natively (quiz polls,
inline keyboards, HTML messages). What any chat platform needs (batching, streaming, audience,
ownership, update order, scheduled posts) is in `adapters.shared`; this module is Telegram's
transport and wiring. Nothing about a conversation is kept in memory: quiz state is
in the core's database, a poll's chat and question in `Core.remember`, and a question's buttons
carry everything they need, so a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    MaybeInaccessibleMessage,
    Message,
    Poll,
    ReplyParameters,
    Update,
    User,
)
from telegram.constants import ChatMemberStatus, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)

from adapters.shared import (
    FOREIGN_QUESTION,
    ChatSender,
    Target,
    UserOrder,
    converse,
    delivery_target,
    may_answer,
    parse_command_text,
    post_scheduled,
    press,
)
from adapters.telegram.render import (
    Pick,
    PollSpec,
    answer_html,
    answer_keyboard,
    clip,
    esc,
    explanation_html,
    follow_ups_keyboard,
    parse_pick,
    partial_html,
    poll_spec,
    question_html,
    result_html,
    split_html,
    toggle_keyboard,
)
from adapters.telegram.settings import TelegramSettings
from adapters.text import render
from bot.answers import letter
from bot.core import Core, commands
from bot.logs import redact_also
from bot.types import (
    AnswerChoice,
    AnswerReply,
    ButtonPress,
    ChatKind,
    Command,
    Delivery,
    Document,
    Event,
    ExplanationReply,
    FileReply,
    FollowUpsReply,
    ImageReply,
    QuestionReply,
    QuizResultReply,
    Reply,
    Text,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
Context = ContextTypes.DEFAULT_TYPE

PLATFORM = "telegram"
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.POLL_ANSWER]
STREAM_INTERVAL = {ChatKind.private: 1.5, ChatKind.group: 3.0}  # groups: 20 messages a minute
ADMIN_CACHE_SECONDS = 600.0
TICK_SECONDS = 60.0  # how often the core is asked for scheduled posts
MAX_DOCUMENT_BYTES = 2_000_000
SEND_ATTEMPTS = 3
ADMIN_STATUSES = {ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR}
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TOAST_LIMIT = 200  # characters in a callback query's answer
UNREADABLE = "I read text, commands, quiz answers and question files. /help lists what I can do."


def chat_kind(chat: Chat) -> ChatKind:
    return ChatKind.private if chat.type == Chat.PRIVATE else ChatKind.group


def thread_of(message: object) -> str:
    """The forum topic a message is in, so the bot answers inside that topic."""
    if getattr(message, "is_topic_message", False):
        return str(getattr(message, "message_thread_id", None) or "")
    return ""


def target_of(message: Message | MaybeInaccessibleMessage, user: User) -> Target:
    """Replies to `message` from `user`; in groups they quote the message that asked."""
    kind = chat_kind(message.chat)
    return Target(
        chat_id=str(message.chat.id),
        kind=kind,
        user_id=str(user.id),
        user_name=user.full_name,
        thread_id=thread_of(message),
        reply_to=str(message.message_id) if kind is ChatKind.group else "",
    )


async def retrying(call: Callable[[], Awaitable[T]], delay: float = 0.5) -> T:
    """A Bot API call retried on network errors; 429s are retried by AIORateLimiter.

    BadRequest is a NetworkError in python-telegram-bot but never succeeds on a retry.
    """
    for attempt in range(SEND_ATTEMPTS):
        try:
            return await call()
        except BadRequest:
            raise
        except NetworkError as error:
            if attempt == SEND_ATTEMPTS - 1:
                raise
            log.warning("Telegram call failed (%s); retrying", error)
            await asyncio.sleep(delay * 2**attempt)
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- sending replies


class Sender(ChatSender[Message]):
    """Telegram's transport and rendering for one target: HTML messages, quiz polls, inline
    keyboards; question memory goes through `Core.remember`."""

    def __init__(self, bot: Any, core: Core, target: Target, polls: bool, delay: float) -> None:
        super().__init__(target)
        self.bot = bot
        self.core = core
        self.polls = polls
        self.delay = delay

    def _where(self, first: bool) -> dict[str, Any]:
        """Topic and quoted message: only the first message of a batch quotes the asker."""
        where: dict[str, Any] = {"chat_id": int(self.target.chat_id)}
        if self.target.thread_id:
            where["message_thread_id"] = int(self.target.thread_id)
        if first and self.target.reply_to:
            where["reply_parameters"] = ReplyParameters(
                int(self.target.reply_to), allow_sending_without_reply=True
            )
        return where

    def markup(self, reply: Reply) -> str:
        if isinstance(reply, ExplanationReply):
            return explanation_html(reply, self.target.who())
        if isinstance(reply, QuizResultReply):
            return result_html(reply, self.target.who())
        if isinstance(reply, AnswerReply):
            return answer_html(reply)
        if isinstance(reply, FollowUpsReply):
            return "<b>Ask next:</b>"
        return esc(render(reply, self.core.now()))

    def partial(self, text: str) -> str:
        return partial_html(text)

    def pieces(self, text: str) -> list[str]:
        return split_html(text)

    async def send_text(self, text: str, follow_ups: FollowUpsReply | None = None) -> Message:
        return await self.html(text, follow_ups_keyboard(follow_ups) if follow_ups else None)

    async def html(self, text: str, markup: InlineKeyboardMarkup | None = None) -> Message:
        """Send HTML in pieces below Telegram's limit; the keyboard goes on the last piece."""
        pieces = split_html(text)
        sent: Message | None = None
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            kwargs = self._where(first=index == 0) | {
                "text": piece,
                "parse_mode": ParseMode.HTML,
                "link_preview_options": NO_PREVIEW,
                "reply_markup": markup if last else None,
            }
            sent = await retrying(lambda k=kwargs: self.bot.send_message(**k), self.delay)
        assert sent is not None
        return sent

    async def edit_text(self, message: Message, text: str) -> None:
        """Edit a message's text; an unchanged text is not an error worth reporting."""
        try:
            await retrying(
                lambda: self.bot.edit_message_text(
                    chat_id=message.chat_id,
                    message_id=message.message_id,
                    text=text,
                    parse_mode=ParseMode.HTML,
                    link_preview_options=NO_PREVIEW,
                ),
                self.delay,
            )
        except BadRequest as error:
            if "not modified" not in str(error).lower():
                raise

    async def send_privately(self, reply: Reply) -> None:
        """A reply for the asker alone, from a group: a private message, and a word in the
        group saying where it went (or how to let the bot write to them)."""
        alone = replace(
            self.target,
            chat_id=self.target.user_id,
            kind=ChatKind.private,
            thread_id="",
            reply_to="",
        )
        try:
            await Sender(self.bot, self.core, alone, self.polls, self.delay).send_one(reply)
            note = f"{self.target.user_name}, I sent it to you in a private message."
        except Forbidden:  # they never started a private chat with the bot, or blocked it
            note = (
                f"{self.target.user_name}, I can't message you privately yet: open a private "
                "chat with me, press Start, then ask again."
            )
        await self.html(esc(note))

    async def send_image(self, reply: ImageReply) -> None:
        caption = clip(reply.caption, 1000) or None
        with reply.path.open("rb") as image:
            content = image.read()
        await retrying(
            lambda: self.bot.send_photo(**self._where(True), photo=content, caption=caption),
            self.delay,
        )

    async def send_file(self, reply: FileReply) -> None:
        """A file such as an Anki deck, sent as a document under its own name."""
        content = reply.path.read_bytes()
        caption = clip(reply.caption, 1000) or None
        await retrying(
            lambda: self.bot.send_document(
                **self._where(True), document=content, filename=reply.path.name, caption=caption
            ),
            self.delay,
        )

    async def send_question(self, reply: QuestionReply) -> None:
        """A native poll when the item fits Telegram's poll limits, else letter buttons."""
        spec = poll_spec(reply) if self.polls else None
        if spec is None:
            keyboard = answer_keyboard(reply, self.target.user_id)
            await self.html(question_html(reply, self.core.now()), keyboard)
            return
        message = await self.poll(spec)
        assert message.poll is not None
        self.core.remember(
            PLATFORM,
            f"poll:{message.poll.id}",
            {
                "chat_id": self.target.chat_id,
                "kind": self.target.kind.value,
                "thread_id": self.target.thread_id,
                "message_id": message.message_id,
                "user_id": self.target.user_id,
                "user_name": self.target.user_name,
                "ref": reply.ref,
            },
        )

    async def poll(self, spec: PollSpec) -> Message:
        """sendPoll: non-anonymous, so every vote arrives as a poll_answer update."""
        kwargs: dict[str, Any] = self._where(True) | {
            "question": spec.question,
            "options": list(spec.options),
            "is_anonymous": False,
            "type": Poll.QUIZ if spec.quiz else Poll.REGULAR,
        }
        if spec.quiz:
            kwargs |= {"correct_option_ids": list(spec.correct), "explanation": spec.explanation}
        return await retrying(lambda: self.bot.send_poll(**kwargs), self.delay)


# ---------------------------------------------------------------- update order


class ChatOrderedProcessor(BaseUpdateProcessor):
    """PTB's hook for `adapters.shared.UserOrder`: one person's updates in a chat in order."""

    def __init__(self, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self.order = UserOrder()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await self.order.run(order_key(update), coroutine)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""


def order_key(update: object) -> str:
    """Chat and person of an update; a poll answer has no chat, only its voter."""
    if not isinstance(update, Update):
        return "other"
    user = update.effective_user
    chat = update.effective_chat
    return f"{chat.id if chat else 'poll'}:{user.id if user else ''}"


# ---------------------------------------------------------------- the bot


class StudyBot:
    """Turns updates into core events and sends the replies back."""

    def __init__(
        self,
        core: Core,
        admin_ids: frozenset[str] = frozenset(),
        *,
        polls: bool = True,
        stream_interval: float | None = None,
        retry_delay: float = 0.5,
    ) -> None:
        self.core = core
        self.admin_ids = admin_ids
        self.polls = polls
        self.stream_interval = stream_interval
        self.retry_delay = retry_delay
        self._admins: dict[tuple[str, str], tuple[bool, float]] = {}

    def install(self, app: Application) -> None:  # type: ignore[type-arg]
        """The handlers, most specific first; anything unmatched is ignored by PTB."""
        new = filters.UpdateType.MESSAGE
        app.add_handler(MessageHandler(new & filters.COMMAND, self.on_command))
        app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, self.on_text))
        app.add_handler(MessageHandler(new & filters.Document.ALL, self.on_document))
        app.add_handler(MessageHandler(new & filters.ChatType.PRIVATE, self.on_other))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(PollAnswerHandler(self.on_poll_answer))
        app.add_error_handler(self.on_error)

    # ------------------------------------------------------------ plumbing

    def sender(self, bot: Any, target: Target) -> Sender:
        return Sender(bot, self.core, target, self.polls, self.retry_delay)

    def event(self, target: Target, is_admin: bool = False) -> dict[str, Any]:
        """The fields every core event shares; TELEGRAM_ADMIN_IDS are the only ones who may
        import into the pool every chat shares."""
        operator = target.user_id in self.admin_ids
        return target.event(PLATFORM, is_admin=is_admin, is_operator=operator)

    def interval(self, target: Target) -> float:
        """How often a streamed answer is edited: groups allow 20 messages a minute."""
        return self.stream_interval or STREAM_INTERVAL[target.kind]

    async def run(self, bot: Any, target: Target, event: Event) -> list[Reply]:
        """Send `event` to the core, streaming a model's answer, and send every reply."""
        return await converse(self.core, event, self.sender(bot, target), self.interval(target))

    async def is_admin(self, bot: Any, target: Target) -> bool:
        """Operators (TELEGRAM_ADMIN_IDS) anywhere; in groups also the group's admins,
        asked with getChatMember and remembered for ten minutes."""
        if target.user_id in self.admin_ids:
            return True
        if target.kind is ChatKind.private:
            return False
        key = (target.chat_id, target.user_id)
        cached = self._admins.get(key)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        try:
            member = await retrying(
                lambda: bot.get_chat_member(int(target.chat_id), int(target.user_id)),
                self.retry_delay,
            )
        except TelegramError as error:
            log.warning("getChatMember failed (%s); treating the user as a member", error)
            return False
        admin = member.status in ADMIN_STATUSES
        self._admins[key] = (admin, time.monotonic() + ADMIN_CACHE_SECONDS)
        return admin

    def addressed(self, message: Message, bot_id: int, username: str) -> str | None:
        """A group message's text if it is meant for the bot (a reply to it or a mention),
        else None: with privacy mode off the bot sees every message and must not answer all."""
        text = message.text or message.caption or ""
        if message.chat.type == Chat.PRIVATE:
            return text
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot_id:
            return text
        mention = f"@{username}"
        if username and mention.lower() in text.lower():
            return re.sub(re.escape(mention), "", text, flags=re.IGNORECASE).strip()
        return None

    # ------------------------------------------------------------ messages

    async def on_command(self, update: Update, context: Context) -> None:
        """`/name args` (or `/name@ThisBot args`); commands for other bots are ignored."""
        message, user = update.message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        command = parse_command_text(message.text, context.bot.username or "")
        if command is not None:
            await self.command(context.bot, target_of(message, user), *command)

    async def on_text(self, update: Update, context: Context) -> None:
        """Typed answers ("b", "A,C") and follow-up questions: the core tells them apart.
        A command after a mention ("@ThisBot /quiz") is a command: the core parses none."""
        message, user = update.message, update.effective_user
        if message is None or user is None:
            return
        text = self.addressed(message, context.bot.id, context.bot.username or "")
        if not text:
            return
        target = target_of(message, user)
        command = parse_command_text(text, context.bot.username or "")
        if command is not None:
            await self.command(context.bot, target, *command)
        elif not text.startswith("/"):  # else a command for another bot
            await self.run(context.bot, target, Text(**self.event(target), text=text))

    async def command(self, bot: Any, target: Target, name: str, args: str) -> None:
        admin = await self.is_admin(bot, target)
        await self.run(bot, target, Command(**self.event(target, admin), name=name, args=args))

    async def on_document(self, update: Update, context: Context) -> None:
        """A question file to import (admins only, the core checks); in groups only when
        addressed to the bot, so ordinary file sharing is left alone."""
        message, user = update.message, update.effective_user
        if message is None or user is None or message.document is None:
            return
        caption = self.addressed(message, context.bot.id, context.bot.username or "")
        if caption is None:
            return
        target = target_of(message, user)
        document = message.document
        if (document.file_size or 0) > MAX_DOCUMENT_BYTES:
            hint = f"{document.file_name or 'That file'} is too large; split it under 2 MB."
            await self.sender(context.bot, target).html(esc(hint))
            return
        admin = await self.is_admin(context.bot, target)
        content = b""  # a non-admin is refused by the core whatever the file holds
        if admin:
            file = await retrying(document.get_file, self.retry_delay)
            content = bytes(await retrying(file.download_as_bytearray, self.retry_delay))
        event = Document(
            **self.event(target, admin),
            filename=document.file_name or "upload",
            content=content,
            caption=caption,
        )
        await self.run(context.bot, target, event)

    async def on_other(self, update: Update, context: Context) -> None:
        """Stickers, photos, voice notes in a private chat: say what the bot reads instead."""
        message, user = update.message, update.effective_user
        if message is None or user is None:
            return
        await self.sender(context.bot, target_of(message, user)).html(esc(UNREADABLE))

    # ------------------------------------------------------------ buttons

    async def on_callback(self, update: Update, context: Context) -> None:
        """A button: a question's letter, toggle or Submit, or a suggested follow-up."""
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        message = query.message
        if message is None:  # a button on an inline-mode message: not ours
            await query.answer()
            return
        target = target_of(message, user)
        pick = parse_pick(query.data or "")
        if pick is None:
            await self.core_button(context.bot, query, target)
        elif not may_answer(pick.owner, target.user_id):
            await query.answer(FOREIGN_QUESTION, show_alert=True)
        elif pick.kind == "t":
            await self.toggle(query, pick)
        else:
            await self.pick(context.bot, query, target, pick)

    async def core_button(self, bot: Any, query: CallbackQuery, target: Target) -> None:
        """A follow-up (or any other core button): the core answers; notices for the presser
        alone, such as "no longer available", become a toast instead of a message."""
        event = ButtonPress(**self.event(target), data=query.data or "")
        sender = self.sender(bot, target)
        await press(self.core, event, sender, self.interval(target), query.answer, toast(query))

    async def toggle(self, query: CallbackQuery, pick: Pick) -> None:
        """Re-draw the choose-N keyboard with the new choice; nothing is sent to the core."""
        count = toggle_count(query)
        if not count:
            await query.answer("That question is too old for buttons: type your answer (A,C).")
            return
        await query.answer()
        keyboard = toggle_keyboard(pick.owner, pick.ref, count, pick.value)
        await retrying(lambda: query.edit_message_reply_markup(keyboard), self.retry_delay)

    async def pick(self, bot: Any, query: CallbackQuery, target: Target, pick: Pick) -> None:
        """An answer from buttons goes through the core like any other answer."""
        positions = pick.positions()
        if not positions:
            await query.answer("Tap the letters you choose first, then Submit.", show_alert=True)
            return
        event = AnswerChoice(**self.event(target), choices=positions, question_ref=pick.ref)

        async def answered() -> None:  # the question's buttons go away
            await query.answer(", ".join(letter(p) for p in positions))
            try:  # a failure here is cosmetic only
                await retrying(lambda: query.edit_message_reply_markup(None), self.retry_delay)
            except TelegramError as error:
                log.info("could not remove answered buttons: %s", error)

        sender = self.sender(bot, target)
        await press(self.core, event, sender, self.interval(target), answered, toast(query))

    # ------------------------------------------------------------ polls

    async def on_poll_answer(self, update: Update, context: Context) -> None:
        """A vote on one of our quiz polls answers the quiz of the member it was sent to."""
        answer = update.poll_answer
        if answer is None or answer.user is None or not answer.option_ids:
            return  # an anonymous admin's vote or a retracted vote: nothing to grade
        known = self.core.recall(PLATFORM, f"poll:{answer.poll_id}")
        if known is None:
            log.info("ignoring a vote on poll %s, which this bot did not send", answer.poll_id)
            return
        voter = answer.user
        kind = ChatKind(known["kind"])
        target = Target(
            chat_id=str(known["chat_id"]),
            kind=kind,
            user_id=str(voter.id),
            user_name=voter.full_name,
            thread_id=str(known.get("thread_id") or ""),
            reply_to=str(known["message_id"]) if kind is ChatKind.group else "",
        )
        if target.user_id != str(known["user_id"]):
            await self.foreign_vote(context.bot, target, str(known.get("user_name", "")))
            return
        event = AnswerChoice(
            **self.event(target), choices=tuple(answer.option_ids), question_ref=known["ref"]
        )
        await self.run(context.bot, target, event)

    async def foreign_vote(self, bot: Any, target: Target, owner: str) -> None:
        """A member voted on someone else's quiz poll: it does not count, and they are told
        once per group how to get their own quiz (more notes would only be noise)."""
        key = f"told:{target.chat_id}:{target.user_id}"
        if self.core.recall(PLATFORM, key) is not None:
            return
        self.core.remember(PLATFORM, key, {"at": time.time()})
        whose = f"{owner}'s" if owner else "another member's"
        note = f"{target.user_name}, that poll is {whose} quiz, so your vote is not counted. "
        await self.sender(bot, target).html(esc(note + "Send /quiz to get your own."))

    # ------------------------------------------------------------ scheduled posts

    async def tick(self, bot: Any) -> None:
        """Daily challenges and their results, through the shared scheduled-post loop."""

        async def deliver(delivery: Delivery) -> None:
            await self.sender(bot, delivery_target(delivery)).send(delivery.replies)

        await post_scheduled(self.core, PLATFORM, deliver, (TelegramError,))

    async def on_tick(self, context: Context) -> None:
        """The JobQueue's minute job."""
        await self.tick(context.bot)

    # ------------------------------------------------------------ errors

    async def on_error(self, update: object, context: Context) -> None:
        """Log and carry on: one failing update must never stop the bot."""
        log.error("update %r failed", update, exc_info=context.error)


def toast(query: CallbackQuery) -> Callable[[str], Awaitable[None]]:
    """Telegram's private notice after a button press: an alert only the presser sees."""

    async def show(text: str) -> None:
        await query.answer(clip(text, TOAST_LIMIT), show_alert=True)

    return show


def toggle_count(query: CallbackQuery) -> int:
    """How many options a choose-N keyboard has, read from the keyboard itself."""
    markup = getattr(query.message, "reply_markup", None)
    if not isinstance(markup, InlineKeyboardMarkup):
        return 0
    return sum(
        1
        for row in markup.inline_keyboard
        for button in row
        if isinstance(button.callback_data, str) and button.callback_data.startswith("t:")
    )


# ---------------------------------------------------------------- application


async def prepare(app: Application) -> None:  # type: ignore[type-arg]
    """post_init: register the commands so they show in Telegram's menu."""
    menu = [BotCommand(name, clip(summary, 256)) for name, summary in commands()]
    try:
        await retrying(lambda: app.bot.set_my_commands(menu))
    except TelegramError as error:  # the bot still works; only the menu is missing
        log.warning("could not register the command menu: %s", error)


def build_application(
    core: Core,
    settings: TelegramSettings,
    *,
    polls: bool = True,
    stream_interval: float | None = None,
    rate_limiter: BaseRateLimiter | None = None,  # type: ignore[type-arg]
    retry_delay: float = 0.5,
    tick_seconds: float = TICK_SECONDS,
) -> Application:  # type: ignore[type-arg]
    """A new Application (one per run: PTB cannot restart one) wired to `core`."""
    app = (
        ApplicationBuilder()
        .token(settings.token())
        .base_url(settings.base_url)
        .base_file_url(settings.file_url())
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .concurrent_updates(ChatOrderedProcessor())
        .post_init(prepare)
        .build()
    )
    bot = StudyBot(
        core,
        settings.admins(),
        polls=polls,
        stream_interval=stream_interval,
        retry_delay=retry_delay,
    )
    bot.install(app)
    if app.job_queue is None:  # the [job-queue] extra is a dependency; say so if it is missing
        raise RuntimeError("python-telegram-bot[job-queue] is needed for daily challenges")
    app.job_queue.run_repeating(bot.on_tick, interval=tick_seconds, first=tick_seconds)
    app.bot_data["studybot"] = bot
    return app


async def check_token(settings: TelegramSettings) -> str:
    """Ask getMe once, before the bank and database load, so that a rejected token is
    reported at once (InvalidToken) instead of after start-up; returns the bot's username."""
    async with Bot(settings.token(), base_url=settings.base_url) as bot:
        return bot.username


class WebhookUnavailable(RuntimeError):
    """Webhook mode needs tornado, which python-telegram-bot installs only with [webhooks]."""


def run(app: Application, settings: TelegramSettings) -> None:  # type: ignore[type-arg]
    """Long polling, or a webhook when TELEGRAM_WEBHOOK_URL is set; blocks until stopped."""
    if not settings.webhook_url:
        app.run_polling(allowed_updates=ALLOWED_UPDATES, bootstrap_retries=3)
        return
    if importlib.util.find_spec("tornado") is None:
        raise WebhookUnavailable(
            "Webhook mode needs python-telegram-bot[webhooks]: pip install "
            "'python-telegram-bot[webhooks]', or unset TELEGRAM_WEBHOOK_URL to use long polling."
        )
    secret_token = settings.webhook_secret_token()  # Telegram echoes it; strangers cannot post
    redact_also("TELEGRAM_WEBHOOK_SECRET", secret_token)  # the library logs it at DEBUG
    app.run_webhook(
        listen=settings.webhook_listen,
        port=settings.webhook_port or 8443,
        url_path=settings.webhook_path(),
        webhook_url=settings.webhook_url,
        secret_token=secret_token,
        allowed_updates=ALLOWED_UPDATES,
        bootstrap_retries=3,
    )
