"""The behaviour every chat platform shares (adapters/shared.py), checked once against a
sender that only records what a platform would have been asked to do."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

import pytest

from adapters.shared import (
    EVERYONE,
    ChatSender,
    ReplySender,
    Stream,
    Target,
    UserOrder,
    converse,
    delivery_target,
    may_answer,
    notice_text,
    parse_command_text,
    post_scheduled,
    press,
    question_owner,
)
from adapters.text import render
from bot.core import Core
from bot.types import (
    AnswerChoice,
    AnswerReply,
    Audience,
    ButtonPress,
    ChatKind,
    Delivery,
    ExplanationReply,
    FileReply,
    FollowUp,
    FollowUpsReply,
    HintReply,
    ImageReply,
    Mode,
    QuestionReply,
    Reply,
    TextReply,
)
from bot.types import Command as CommandEvent

GROUP = Target(chat_id="-100", kind=ChatKind.group, user_id="7", user_name="Bob", reply_to="5")
PRIVATE = Target(chat_id="7", kind=ChatKind.private, user_id="7", user_name="Bob")


class Recording(ChatSender[int]):
    """A platform that records each call; messages are numbered from 1."""

    def __init__(self, target: Target, private_notices: bool = False) -> None:
        super().__init__(target)
        self.private_notices = private_notices
        self.calls: list[tuple[str, str]] = []

    def markup(self, reply: Reply) -> str:
        return render(reply)

    def partial(self, text: str) -> str:
        return text

    def pieces(self, text: str) -> list[str]:
        return [text[i : i + 10] for i in range(0, len(text), 10)] or [""]

    async def send_text(self, text: str, follow_ups: FollowUpsReply | None = None) -> int:
        buttons = f" +{len(follow_ups.suggestions)} buttons" if follow_ups else ""
        self.calls.append(("text", text + buttons))
        return len(self.calls)

    async def edit_text(self, message: int, text: str) -> None:
        self.calls.append(("edit", f"{message}:{text}"))

    async def send_question(self, reply: QuestionReply) -> None:
        self.calls.append(("question", reply.ref))

    async def send_file(self, reply: FileReply) -> None:
        self.calls.append(("file", reply.path.name))

    async def send_image(self, reply: ImageReply) -> None:
        self.calls.append(("image", reply.path.name))

    async def send_privately(self, reply: Reply) -> None:
        self.calls.append(("privately", type(reply).__name__))


def explanation() -> ExplanationReply:
    return ExplanationReply(
        item_id="x", verdict=None, options=(), explanation="", trap="", takeaway="", references=()
    )


def question(mode: Mode = Mode.practice) -> QuestionReply:
    return QuestionReply(
        ref="1:0", item_id="x", number=1, total=1, exam="E", domain="D", mode=mode,
        question="Q?", options=("a", "b"), choose=1,
    )  # fmt: skip


FOLLOW_UPS = FollowUpsReply(suggestions=(FollowUp(text="Why?", data="fu:x:0"),))


async def test_short_texts_batch_and_an_explanation_carries_its_follow_up_buttons() -> None:
    sender = Recording(GROUP)
    await sender.send(
        [TextReply(text="one"), HintReply(text="two"), explanation(), FOLLOW_UPS, question()]
    )
    assert sender.calls[0] == ("text", "one\n\ntwo")  # one message, not two
    assert sender.calls[1][0] == "text" and sender.calls[1][1].endswith("+1 buttons")
    assert sender.calls[2] == ("question", "1:0")
    assert len(sender.calls) == 3


async def test_asker_only_replies_in_a_group_go_privately_where_the_platform_can() -> None:
    deck = FileReply(path=Path("deck.apkg"), audience=Audience.asker)
    notice = TextReply(text="Got it", audience=Audience.asker)
    telegram = Recording(GROUP)  # no ephemeral messages: a notice is said in the chat
    await telegram.send([notice, deck])
    assert telegram.calls == [("text", "Got it"), ("privately", "FileReply")]
    discord = Recording(GROUP, private_notices=True)  # ephemeral replies
    await discord.send([notice, deck])
    assert discord.calls == [("privately", "TextReply"), ("privately", "FileReply")]
    alone = Recording(PRIVATE)  # in a private chat the asker is the chat
    await alone.send([notice, deck])
    assert alone.calls == [("text", "Got it"), ("file", "deck.apkg")]


def test_a_press_answered_only_by_notices_for_the_presser_is_a_private_notice() -> None:
    mine = HintReply(text="That quiz has ended.", audience=Audience.asker)
    assert notice_text([mine]) == "That quiz has ended."
    assert notice_text([mine, TextReply(text="More.", audience=Audience.asker)]) is not None
    assert notice_text([HintReply(text="For everyone.")]) is None
    assert notice_text([mine, explanation()]) is None
    assert notice_text([]) is None


def test_only_the_member_a_question_was_sent_to_may_answer_it() -> None:
    own = question_owner(question(), "7")
    assert may_answer(own, "7") and not may_answer(own, "8")
    daily = question_owner(question(Mode.daily), "7")
    assert daily == EVERYONE and may_answer(daily, "8")


async def test_a_press_is_a_private_notice_or_acknowledged_and_answered(core: Core) -> None:
    sender = Recording(GROUP)
    notices: list[str] = []
    acknowledged: list[bool] = []

    async def notify(text: str) -> None:
        notices.append(text)

    async def acknowledge() -> None:
        acknowledged.append(True)

    stale = ButtonPress(**GROUP.event("test"), data="zz:nonsense")
    await press(core, stale, sender, 0.0, acknowledge, notify)
    assert notices == ["That button is no longer active."] and not acknowledged
    assert not sender.calls  # nothing said in the group
    start = CommandEvent(**GROUP.event("test"), name="quiz", args="DVA-C02 1")
    await converse(core, start, sender, 0.0)
    (ref,) = [detail for kind, detail in sender.calls if kind == "question"]
    answer = AnswerChoice(**GROUP.event("test"), choices=(0,), question_ref=ref)
    await press(core, answer, sender, 0.0, acknowledge, notify)
    assert acknowledged == [True] and len(notices) == 1
    assert any("Correct answer:" in detail for _, detail in sender.calls)  # in the group


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("/quiz DVA-C02 10", ("quiz", "DVA-C02 10")),
        ("/quiz@StudyBot DVA-C02", ("quiz", "DVA-C02")),
        ("/quiz@studybot", ("quiz", "")),
        ("/quiz@OtherBot DVA-C02", None),
        ("  /help  ", ("help", "")),
        ("quiz", None),
        ("/", None),
    ],
)
def test_commands_are_read_by_the_adapter(text: str, parsed: tuple[str, str] | None) -> None:
    assert parse_command_text(text, "StudyBot") == parsed


async def test_a_stream_sends_once_then_edits_and_finishes_in_pieces() -> None:
    sender = Recording(PRIVATE)
    stream = Stream(sender, interval=0.0)
    await stream.progress("Hel")
    await stream.progress("Hel")  # unchanged: no edit
    await stream.progress("Hello")
    assert await stream.finish("Hello, world: done")
    assert sender.calls == [
        ("text", "Hel"),
        ("edit", "1:Hello"),
        ("edit", "1:Hello, wor"),
        ("text", "ld: done"),
    ]
    assert not await Stream(sender, interval=0.0).finish("nothing streamed")


class Posting(ReplySender[int, list[str]]):
    """A platform like Discord: a reply is a list of messages, each posted privately or not."""

    def __init__(self, public: bool) -> None:
        self.public = public
        self.calls: list[tuple[str, str]] = []

    def visibility(self, reply: Reply) -> bool:
        return reply.audience is Audience.asker or not self.public

    def private_by_default(self) -> bool:
        return not self.public

    def render(self, reply: Reply) -> list[str]:
        return render(reply).split("\n\n")

    def render_notices(self, notices: Sequence[Reply]) -> list[str]:
        return ["+".join(render(notice) for notice in notices)]

    def render_partial(self, text: str) -> list[str]:
        return [text]

    def per_message(self, rendered: list[str]) -> list[list[str]]:
        return [[message] for message in rendered]

    async def send_rendered(self, rendered: list[str], private: bool) -> int:
        for message in rendered:
            self.calls.append(("private" if private else "public", message))
        return len(self.calls)

    async def edit_rendered(self, message: int, rendered: list[str]) -> None:
        self.calls.append(("edit", f"{message}:{rendered[0]}"))

    async def send_explained(
        self, explanation: ExplanationReply, follow_ups: FollowUpsReply, private: bool
    ) -> None:
        await self.send_rendered(["explained with buttons"], private)


async def test_only_notices_anyone_sees_alike_share_a_message() -> None:
    sender = Posting(public=True)
    mine = HintReply(text="Got it", audience=Audience.asker)
    await sender.send([TextReply(text="a"), TextReply(text="b"), mine, mine, TextReply(text="c")])
    assert sender.calls == [("public", "a+b"), ("private", "Got it+Got it"), ("public", "c")]


async def test_a_streamed_answer_in_many_messages_replaces_the_streamed_one_privately() -> None:
    sender = Posting(public=False)
    stream = Stream(sender, interval=0.0)
    await stream.progress("Thinking")
    answer = AnswerReply(
        question="Why?", text="First.\n\nSecond.", sources=(), disclaimer="Check.",
        mode="extractive", covered=True,
    )  # fmt: skip
    await sender.send([answer], stream)
    assert sender.calls == [
        ("private", "Thinking"),
        ("edit", "1:First."),  # the streamed message becomes the answer's first message
        ("private", "Second.\n⚠ Check."),  # the rest follows it, as private as it was
    ]


async def test_one_users_updates_run_in_order_while_others_go_on() -> None:
    order = UserOrder()
    seen: list[str] = []
    first_started = asyncio.Event()
    release = asyncio.Event()

    async def slow() -> None:
        first_started.set()
        await release.wait()
        seen.append("alice 1")

    async def note(name: str) -> None:
        seen.append(name)

    one = asyncio.create_task(order.run("chat:alice", slow()))
    await first_started.wait()
    two = asyncio.create_task(order.run("chat:alice", note("alice 2")))
    await order.run("chat:bob", note("bob"))  # not held up by Alice's slow update
    assert seen == ["bob"]
    release.set()
    await asyncio.gather(one, two)
    assert seen == ["bob", "alice 1", "alice 2"]


class Refused(Exception):
    """A platform error for one chat."""


class Outbox:
    """Two chats due; records what the loop reported back."""

    def __init__(self) -> None:
        self.due = [
            Delivery(platform="p", chat_id=c, chat_kind=ChatKind.group, thread_id="", replies=())
            for c in ("1", "2")
        ]
        self.outcome: list[str] = []

    async def tick(self, platform: str) -> list[Delivery]:
        return self.due

    async def delivered(self, delivery: Delivery) -> None:
        self.outcome.append(f"delivered {delivery.chat_id}")

    async def retry_later(self, delivery: Delivery) -> None:
        self.outcome.append(f"retry {delivery.chat_id}")


async def test_one_chats_refused_post_does_not_hold_up_the_others() -> None:
    outbox = Outbox()
    targets: list[Target] = []

    async def deliver(delivery: Delivery) -> None:
        if delivery.chat_id == "1":
            raise Refused("chat 1 is down")
        targets.append(delivery_target(delivery))

    await post_scheduled(outbox, "p", deliver, (Refused,))
    assert outbox.outcome == ["retry 1", "delivered 2"]
    assert [(t.chat_id, t.kind, t.reply_to) for t in targets] == [("2", ChatKind.group, "")]
