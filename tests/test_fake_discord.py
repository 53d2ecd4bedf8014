"""The Discord stand-in speaks the protocol the real discord.py 2.7 client expects: command sync,
READY, slash commands, deferrals, persistent views across a restart, rate limits and a gateway
RESUME, all on 127.0.0.1. These tests guard the ground the Discord adapter will stand on."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import discord
import pytest
from discord import app_commands

from tests.fake_discord import (
    ALICE,
    APP_ID,
    BOB,
    CHANNEL_ID,
    DEFERRED_REPLY,
    EPHEMERAL,
    GUILD_ID,
    LOADING,
    REPLY,
    UPDATE,
    FakeDiscord,
)

NEXT_BUTTON = "studybot:next"  # fixed custom_id: the view survives restarts
TOPIC_MENU = "studybot:topic"
TOPICS = ["S3", "EC2", "IAM", "Lambda"]
MESSAGES = "POST /channels/{channel_id}/messages"
ORIGINAL = "PATCH /webhooks/{application_id}/{token}/messages/@original"


class NextView(discord.ui.View):
    """A persistent view: no timeout, fixed custom_ids, registered with `add_view`."""

    def __init__(self, pressed: list[int]) -> None:
        super().__init__(timeout=None)
        self.pressed = pressed

    @discord.ui.button(label="Next", custom_id=NEXT_BUTTON, style=discord.ButtonStyle.primary)
    async def next_question(
        self, interaction: discord.Interaction, button: discord.ui.Button[NextView]
    ) -> None:
        self.pressed.append(interaction.user.id)
        await interaction.response.send_message("Next question", ephemeral=True)

    @discord.ui.select(
        custom_id=TOPIC_MENU, options=[discord.SelectOption(label=t) for t in TOPICS]
    )
    async def pick_topic(
        self, interaction: discord.Interaction, select: discord.ui.Select[NextView]
    ) -> None:
        await interaction.response.edit_message(content=f"Topic: {select.values[0]}")


class StudyClient(discord.Client):
    """A small bot shaped like the coming adapter: a command tree and a persistent view."""

    def __init__(self, intents: discord.Intents | None = None) -> None:
        super().__init__(intents=intents or discord.Intents.default(), guild_ready_timeout=0.1)
        self.tree = app_commands.CommandTree(self)
        self.pressed: list[int] = []
        self.heard: list[discord.Message] = []
        self.tree.add_command(hello)
        self.tree.add_command(slow)
        self.tree.add_command(study)
        self.tree.add_command(tidy)

    async def setup_hook(self) -> None:
        self.add_view(NextView(self.pressed))
        await self.tree.sync()
        self.tree.copy_global_to(guild=discord.Object(GUILD_ID))
        await self.tree.sync(guild=discord.Object(GUILD_ID))

    async def on_message(self, message: discord.Message) -> None:
        self.heard.append(message)


@app_commands.command(description="Say hello")
async def hello(interaction: discord.Interaction, topic: str) -> None:
    name = interaction.user.display_name
    await interaction.response.send_message(f"Hello {name}, studying {topic}", ephemeral=True)


@app_commands.command(description="Think, then answer")
async def slow(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.edit_original_response(content="Done thinking")


@app_commands.command(description="Study a topic")
async def study(interaction: discord.Interaction, topic: str) -> None:
    await interaction.response.send_message(f"Studying {topic}", view=NextView([]))
    notes = discord.File(io.BytesIO(b"S3 is object storage."), filename="notes.txt")
    await interaction.followup.send("Your notes", file=notes, ephemeral=True)


@app_commands.command(description="Answer, correct, then clean up")
async def tidy(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("Working")
    original = await interaction.original_response()
    extra = await interaction.followup.send(f"Extra for {original.id}", wait=True)
    await extra.edit(content="Extra, corrected")
    await interaction.edit_original_response(content="Done")
    await interaction.delete_original_response()


@study.autocomplete("topic")
async def topic_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    matches = [t for t in TOPICS if t.lower().startswith(current.lower())]
    return [app_commands.Choice(name=t, value=t) for t in matches]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    with server.pointed_at():
        yield server
    await server.stop()


async def test_start_syncs_commands_before_the_gateway_is_ready(fake: FakeDiscord) -> None:
    client = StudyClient()
    async with fake.running(client):
        assert client.user is not None and client.user.id == APP_ID
        assert client.get_channel(CHANNEL_ID) is not None
    routes = [c.route for c in fake.calls]
    assert routes[:2] == ["GET /users/@me", "GET /oauth2/applications/@me"]
    synced = routes.index("PUT /applications/{application_id}/commands")
    assert synced < routes.index("WS IDENTIFY")
    assert sorted(fake.command_names()) == ["hello", "slow", "study", "tidy"]
    assert sorted(fake.command_names(GUILD_ID)) == ["hello", "slow", "study", "tidy"]
    assert "UNKNOWN" not in routes


async def test_a_slash_command_gets_an_ephemeral_reply(fake: FakeDiscord) -> None:
    async with fake.running(StudyClient()):
        interaction = await fake.interact(fake.slash("hello", {"topic": "S3"}))
        callback = await fake.wait_callback(interaction)
    assert callback.query["with_response"] == "1"
    assert callback.json["type"] == REPLY
    assert callback.json["data"]["content"] == "Hello Alice, studying S3"
    assert callback.json["data"]["flags"] == EPHEMERAL
    original = fake.original(interaction)
    assert original is not None and original["flags"] == EPHEMERAL


async def test_a_deferred_command_edits_its_original_response(fake: FakeDiscord) -> None:
    async with fake.running(StudyClient()):
        interaction = await fake.interact(fake.slash("slow", user=BOB))
        callback = await fake.wait_callback(interaction)
        assert callback.json["type"] == DEFERRED_REPLY
        [edit] = await fake.wait_calls(ORIGINAL)
    assert edit.params["token"] == interaction["token"]
    assert edit.json["content"] == "Done thinking"
    original = fake.original(interaction)
    assert original is not None and original["content"] == "Done thinking"
    assert not original["flags"] & LOADING


async def test_a_persistent_button_works_after_a_restart(fake: FakeDiscord) -> None:
    first = StudyClient()
    async with fake.running(first):
        channel = first.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        sent = await channel.send("Question 1", view=NextView(first.pressed))
    posted = fake.messages[sent.id]
    assert posted["components"][0]["components"][0]["custom_id"] == NEXT_BUTTON

    second = StudyClient()
    async with fake.running(second):
        press = await fake.interact(fake.button(NEXT_BUTTON, posted))
        callback = await fake.wait_callback(press)
    assert second.pressed == [int(ALICE["id"])] and first.pressed == []
    assert callback.json["data"]["content"] == "Next question"
    assert callback.json["data"]["flags"] == EPHEMERAL
    assert len(fake.of("WS IDENTIFY")) == 2 and not fake.of("WS RESUME")


async def test_a_rate_limited_send_is_retried_and_arrives_once(fake: FakeDiscord) -> None:
    client = StudyClient()
    async with fake.running(client):
        fake.fail(MESSAGES, 429, retry_after=0.05)
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        await channel.send("Daily question")
    assert [c.status for c in fake.of(MESSAGES)] == [429, 200]
    assert [m["content"] for m in fake.messages_in(CHANNEL_ID)] == ["Daily question"]


async def test_a_429_without_via_is_a_ban_not_a_retry(fake: FakeDiscord) -> None:
    client = StudyClient()
    async with fake.running(client):
        fake.fail(MESSAGES, 429, via=False)
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        with pytest.raises(discord.HTTPException) as raised:
            await channel.send("Daily question")
    assert raised.value.status == 429
    assert len(fake.of(MESSAGES)) == 1 and fake.messages_in(CHANNEL_ID) == []


async def test_an_event_sent_while_the_socket_is_down_arrives_after_resume(
    fake: FakeDiscord,
) -> None:
    async with fake.running(StudyClient()):
        await fake.drop_gateway()
        interaction = await fake.interact(fake.slash("hello", {"topic": "IAM"}))
        callback = await fake.wait_callback(interaction)
    assert callback.json["data"]["content"] == "Hello Alice, studying IAM"
    [resume] = fake.of("WS RESUME")
    assert [resume.json["session_id"]] == list(fake.sessions)
    assert len(fake.of("WS IDENTIFY")) == 1


async def test_autocomplete_select_followup_file_and_dm(fake: FakeDiscord) -> None:
    client = StudyClient()
    async with fake.running(client):
        typing = await fake.interact(fake.autocomplete("study", {"topic": "l"}, focused="topic"))
        choices = await fake.wait_callback(typing)
        command = await fake.interact(fake.slash("study", {"topic": "S3"}, channel_id=None))
        [follow_up] = await fake.wait_calls("POST /webhooks/{application_id}/{token}")
        reply = fake.original(command)
        assert reply is not None
        picked = await fake.interact(fake.select(TOPIC_MENU, ["EC2"], reply, channel_id=None))
        update = await fake.wait_callback(picked)
        dm = await client.create_dm(discord.Object(int(BOB["id"])))
        await dm.send("Your daily question")
    assert choices.json["data"]["choices"] == [{"name": "Lambda", "value": "Lambda"}]
    assert follow_up.json["flags"] == EPHEMERAL
    assert [(f.filename, f.content) for f in follow_up.files] == [
        ("notes.txt", b"S3 is object storage.")
    ]
    assert update.json["type"] == UPDATE and reply["content"] == "Topic: EC2"
    alice_dm = fake.dm_channel(ALICE)
    assert [m["content"] for m in fake.messages_in(int(alice_dm["id"]))] == [
        "Topic: EC2",
        "Your notes",
    ]
    assert [m["content"] for m in fake.messages_in(dm.id)] == ["Your daily question"]


async def test_channel_messages_with_embed_file_and_view_then_an_edit(fake: FakeDiscord) -> None:
    client = StudyClient()
    async with fake.running(client):
        channel = client.get_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        chart = discord.File(io.BytesIO(b"\x89PNG chart"), filename="progress.png")
        embed = discord.Embed(title="Your week", description="12 answers, 9 right")
        sent = await channel.send(embed=embed, file=chart, view=NextView([]))
        await sent.edit(content="Updated", view=None)
    [post] = fake.of(MESSAGES)
    assert post.json["embeds"][0]["title"] == "Your week"
    assert [(f.filename, f.content) for f in post.files] == [("progress.png", b"\x89PNG chart")]
    assert sent.attachments[0].filename == "progress.png" and sent.components
    [stored] = fake.messages_in(CHANNEL_ID)
    assert stored["content"] == "Updated" and stored["components"] == []
    assert stored["embeds"][0]["description"] == "12 answers, 9 right"
    assert [u.filename for u in fake.uploads(stored)] == ["progress.png"]


async def test_incoming_messages_need_the_content_intent_outside_dms(fake: FakeDiscord) -> None:
    content = discord.Intents.default()
    content.message_content = True
    plain, reading = StudyClient(), StudyClient(content)
    async with fake.running(plain):
        await fake.say("guild text")
        await fake.say("dm text", BOB, int(fake.dm_channel(BOB)["id"]))
        await fake.wait_for(lambda: len(plain.heard) == 2, what="two messages")
    async with fake.running(reading):
        await fake.request_reconnect()  # opcode 7: the client RESUMEs, then hears on
        await fake.wait_calls("WS RESUME")
        await fake.say("guild text")
        await fake.wait_for(lambda: reading.heard, what="one message")
    assert [m.content for m in plain.heard] == ["", "dm text"]
    assert isinstance(plain.heard[1].channel, discord.DMChannel)
    assert [m.content for m in reading.heard] == ["guild text"]
    assert reading.heard[0].author.id == int(ALICE["id"])


async def test_the_rest_of_the_rest_surface_discord_py_reaches(fake: FakeDiscord) -> None:
    client = StudyClient()
    async with fake.running(client):
        command = await fake.interact(fake.slash("tidy"))
        await fake.wait_calls("DELETE /webhooks/{application_id}/{token}/messages/@original")
        user = await client.fetch_user(int(BOB["id"]))
        channel = await client.fetch_channel(CHANNEL_ID)
        assert isinstance(channel, discord.TextChannel)
        member = await channel.guild.fetch_member(int(ALICE["id"]))
        async with channel.typing():
            sent = await channel.send("Question")
        fetched = await channel.fetch_message(sent.id)
        await fetched.delete()
        synced = await client.tree.fetch_commands()
    assert (user.name, member.display_name, fetched.content) == ("bob", "Alice", "Question")
    assert sorted(c.name for c in synced) == ["hello", "slow", "study", "tidy"]
    assert fake.original(command) is None
    [extra] = [m for m in fake.messages_in(CHANNEL_ID) if m["content"].startswith("Extra")]
    assert extra["content"] == "Extra, corrected"
    assert not fake.of("UNKNOWN")
