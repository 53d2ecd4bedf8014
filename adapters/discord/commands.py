"""The application (slash) commands: typed options in, the core's command arguments out.

Each command turns its options into the `args` string the core already understands (the same
words a Telegram user types), so parsing and validation stay in one place. Exams and domains
are completed from the exam catalogue.
"""

from __future__ import annotations

from typing import Literal, Protocol

import discord
from discord import app_commands

from bot.help import COMMANDS
from knowledge.catalog import DEFAULT_EXAM, EXAMS

CHOICES_LIMIT = 25
DESCRIPTION_LIMIT = 100
SUMMARIES = dict(COMMANDS)
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
GUILD_INSTALL = app_commands.AppInstallationType(guild=True, user=False)


class Handles(Protocol):
    """What the client does with a command; `bot.StudyClient` implements it."""

    async def on_command(
        self, interaction: discord.Interaction, name: str, args: str, public: bool = False
    ) -> None: ...

    async def on_import(
        self, interaction: discord.Interaction, attachment: discord.Attachment, caption: str
    ) -> None: ...


def describe(name: str, fallback: str = "") -> str:
    """A command's description from bot.help (Discord allows 100 characters)."""
    text = SUMMARIES.get(name, fallback).split(": /")[0]
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"


def quiz_args(
    exam: str | None, domains: str | None, count: int | None, minutes: int | None, mode: str
) -> str:
    """`/quiz` options as `[exam] [EXAM] [DOMAIN...] [COUNT] [MINUTESm]`."""
    words = ["exam"] if mode == "exam" else []
    words += [w for w in (exam, domains) if w]
    if count is not None:
        words.append(str(count))
    if minutes is not None:
        words.append(f"{minutes}m")  # "30m": a lone second number would be read as the count
    return " ".join(words)


def daily_on_args(
    time: str,
    zone: str | None,
    exam: str | None,
    domains: str | None,
    count: int | None,
    window: str | None,
) -> str:
    """`/daily on` options as `on HH:MM [ZONE] [EXAM] [DOMAIN...] [COUNT] [WINDOW]`."""
    words = ["on", time, *(w for w in (zone, exam, domains) if w)]
    if count is not None:
        words.append(str(count))
    if window:
        words.append(window)
    return " ".join(words)


# ---------------------------------------------------------------- autocomplete


def exam_choices(current: str) -> list[app_commands.Choice[str]]:
    """Exams whose code or title contains what was typed."""
    typed = current.strip().lower()
    return [
        app_commands.Choice(name=f"{exam.code} - {exam.title}"[:100], value=exam.code)
        for exam in EXAMS.values()
        if typed in exam.code.lower() or typed in exam.title.lower()
    ][:CHOICES_LIMIT]


def domain_choices(exam_code: str | None, current: str) -> list[app_commands.Choice[str]]:
    """Domains of the chosen exam; the last word typed is completed, earlier ones kept, so
    several domains can be given ("security deployment")."""
    exam = EXAMS.get((exam_code or "").upper()) or EXAMS[DEFAULT_EXAM]
    words = current.replace(",", " ").split()
    last = words.pop().lower() if words and not current.endswith((" ", ",")) else ""
    kept = " ".join(words)
    choices = []
    for domain in exam.domains:
        if domain.key in words or not (domain.key.startswith(last) or last in domain.name.lower()):
            continue
        value = f"{kept} {domain.key}".strip()
        choices.append(app_commands.Choice(name=f"{value} ({domain.name})"[:100], value=value))
    return choices[:CHOICES_LIMIT]


async def complete_exam(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return exam_choices(current)


async def complete_domains(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return domain_choices(getattr(interaction.namespace, "exam", None), current)


# ---------------------------------------------------------------- the tree


def build_tree(client: discord.Client, handles: Handles) -> app_commands.CommandTree:
    """Every command, usable in servers and in DMs with the bot."""
    tree = app_commands.CommandTree(
        client, allowed_contexts=EVERYWHERE, allowed_installs=GUILD_INSTALL
    )
    _add_quiz(tree, handles)
    _add_simple(tree, handles)
    _add_with_text(tree, handles)
    tree.add_command(_daily_group(handles))
    _add_import(tree, handles)
    return tree


def _add_quiz(tree: app_commands.CommandTree, handles: Handles) -> None:
    @tree.command(name="quiz", description=describe("quiz"))
    @app_commands.describe(
        exam="Exam code, e.g. DVA-C02",
        domains="Domains to practise, e.g. security deployment",
        count="How many questions (1-100, default 10)",
        minutes="Time limit in minutes",
        mode="practice: feedback after each answer; exam: results at the end",
        public="Show the quiz to the channel instead of only to you",
    )
    @app_commands.autocomplete(exam=complete_exam, domains=complete_domains)
    async def quiz(
        interaction: discord.Interaction,
        exam: str | None = None,
        domains: str | None = None,
        count: app_commands.Range[int, 1, 100] | None = None,
        minutes: app_commands.Range[int, 1, 300] | None = None,
        mode: Literal["practice", "exam"] = "practice",
        public: bool = False,
    ) -> None:
        args = quiz_args(exam, domains, count, minutes, mode)
        await handles.on_command(interaction, "quiz", args, public)


def _add_simple(tree: app_commands.CommandTree, handles: Handles) -> None:
    """Commands without options (or with a choice), one registration each."""
    for name in ("skip", "stop", "resume", "stats", "export", "help", "exams", "start"):
        tree.add_command(_plain(name, handles))

    @tree.command(name="review", description=describe("review"))
    @app_commands.describe(count="How many due questions (1-100, default 10)")
    async def review(
        interaction: discord.Interaction, count: app_commands.Range[int, 1, 100] | None = None
    ) -> None:
        await handles.on_command(interaction, "review", str(count) if count else "")

    @tree.command(name="leaderboard", description=describe("leaderboard"))
    async def leaderboard(
        interaction: discord.Interaction,
        period: Literal["day", "week", "month", "all"] = "week",
    ) -> None:
        await handles.on_command(interaction, "leaderboard", period)


def _plain(name: str, handles: Handles) -> app_commands.Command:  # type: ignore[type-arg]
    async def callback(interaction: discord.Interaction) -> None:
        await handles.on_command(interaction, name, "")

    return app_commands.Command(name=name, description=describe(name, name), callback=callback)


def _add_with_text(tree: app_commands.CommandTree, handles: Handles) -> None:
    """Commands whose one option is free text, passed to the core as it is."""

    @tree.command(name="ask", description=describe("ask"))
    @app_commands.describe(question="Your question about the study material")
    async def ask(interaction: discord.Interaction, question: str) -> None:
        await handles.on_command(interaction, "ask", question)

    @tree.command(name="why", description=describe("why"))
    @app_commands.describe(about="Optional: what to ask about it, e.g. why not B?")
    async def why(interaction: discord.Interaction, about: str | None = None) -> None:
        await handles.on_command(interaction, "why", about or "")

    @tree.command(name="report", description=describe("report"))
    @app_commands.describe(
        details="[question id] what is wrong (the id is optional after an answer)"
    )
    async def report(interaction: discord.Interaction, details: str | None = None) -> None:
        await handles.on_command(interaction, "report", details or "")

    @tree.command(name="forget", description=describe("forget"))
    @app_commands.describe(confirm="Type the confirmation word the bot asks for")
    async def forget(interaction: discord.Interaction, confirm: str | None = None) -> None:
        await handles.on_command(interaction, "forget", confirm or "")


def _daily_group(handles: Handles) -> app_commands.Group:
    daily = app_commands.Group(name="daily", description="This channel's daily challenge")

    @daily.command(name="on", description="Turn the daily challenge on (Manage Server)")
    @app_commands.describe(
        time="Local time HH:MM",
        zone="Time zone, e.g. Europe/Berlin (default UTC)",
        exam="Exam code",
        domains="Domains, e.g. security",
        count="Questions per day (default 1)",
        window="How long answers are open, e.g. 90m or 8h",
    )
    @app_commands.autocomplete(exam=complete_exam, domains=complete_domains)
    async def on(
        interaction: discord.Interaction,
        time: str,
        zone: str | None = None,
        exam: str | None = None,
        domains: str | None = None,
        count: app_commands.Range[int, 1, 10] | None = None,
        window: str | None = None,
    ) -> None:
        args = daily_on_args(time, zone, exam, domains, count, window)
        await handles.on_command(interaction, "daily", args)

    for action, text in (
        ("off", "Turn the daily challenge off (Manage Server)"),
        ("now", "Post today's challenge now (Manage Server)"),
        ("status", "When the next challenge is posted"),
    ):
        daily.add_command(_daily_action(action, text, handles))
    return daily


def _daily_action(action: str, description: str, handles: Handles) -> app_commands.Command:  # type: ignore[type-arg]
    args = "" if action == "status" else action

    async def callback(interaction: discord.Interaction) -> None:
        await handles.on_command(interaction, "daily", args)

    return app_commands.Command(name=action, description=description, callback=callback)


def _add_import(tree: app_commands.CommandTree, handles: Handles) -> None:
    @tree.command(name="import", description="Import a question bank file (admins)")
    @app_commands.describe(
        file="YAML/JSON bank, CSV, GIFT (.gift) or Aiken (.txt)",
        caption="Exam and domain when the file does not say them, e.g. DVA-C02 security",
    )
    async def import_bank(
        interaction: discord.Interaction, file: discord.Attachment, caption: str | None = None
    ) -> None:
        await handles.on_import(interaction, file, caption or "")
