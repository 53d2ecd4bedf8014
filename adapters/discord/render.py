"""Replies as Discord sees them: messages with embeds, components, files.

Pure functions only (no network), so every Discord limit is enforced here and tested directly:
discord.py checks none of them and Discord rejects the whole message. Text that does not fit
is split over several messages, or cut with a note saying so; nothing is ever rejected.
Every message goes out with `allowed_mentions` none: echoed text never pings anyone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import discord

from adapters.discord.views import follow_ups_view, question_view
from adapters.shared import question_owner
from adapters.text import (
    CHOOSE,
    ENDINGS,
    VERDICTS,
    explanation_parts,
    render,
    render_result,
    time_left,
)
from bot.answers import letter
from bot.types import (
    AnswerReply,
    ExplanationReply,
    FileReply,
    FollowUpsReply,
    HintReply,
    ImageReply,
    LeaderboardReply,
    Mode,
    QuestionReply,
    QuizResultReply,
    Reply,
    StatsReply,
    TextReply,
    Verdict,
)

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FIELDS_LIMIT = 25
FOOTER_LIMIT = 2048
AUTHOR_LIMIT = 256
EMBED_TOTAL_LIMIT = 6000  # all embeds of one message together
EMBEDS_PER_MESSAGE = 10
CUT_NOTE = " … (cut to fit Discord)"
NO_MENTIONS = discord.AllowedMentions.none()
MASS_MENTION = re.compile(r"@(everyone|here)")
COLOURS = {
    Verdict.correct: discord.Colour.green(),
    Verdict.partial: discord.Colour.orange(),
    Verdict.wrong: discord.Colour.red(),
    Verdict.skipped: discord.Colour.light_grey(),
}
NEUTRAL = discord.Colour.blurple()


@dataclass
class Outgoing:
    """One Discord message: content, embeds, components and at most one file."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    file: Path | None = None

    def kwargs(self) -> dict[str, object]:
        """Keyword arguments for `send`/`send_message`/`followup.send`."""
        kwargs: dict[str, object] = {"allowed_mentions": NO_MENTIONS}
        if self.content:
            kwargs["content"] = self.content
        if self.embeds:
            kwargs["embeds"] = self.embeds
        if self.view is not None:
            kwargs["view"] = self.view
        if self.file is not None:
            kwargs["file"] = discord.File(self.file, filename=self.file.name)
        return kwargs


# ---------------------------------------------------------------- text within limits


def neutral(text: str) -> str:
    """@everyone and @here shown, never acted on (allowed_mentions is the real guard)."""
    return MASS_MENTION.sub("@\u200b\\1", text)


def clip(text: str, limit: int, note: str = CUT_NOTE) -> str:
    """`text` within `limit` characters, ending with `note` when something was cut."""
    if len(text) <= limit:
        return text
    if limit <= len(note):
        return text[:limit]
    cut = text[: limit - len(note)]
    space = cut.rfind(" ")
    return (cut[:space] if space > len(cut) // 2 else cut).rstrip() + note


def split(text: str, limit: int = CONTENT_LIMIT) -> list[str]:
    """Pieces within `limit`, cut at line breaks, else at spaces, else anywhere."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = window.rfind("\n")
        if cut < limit // 2:
            cut = window.rfind(" ")
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest:
        pieces.append(rest)
    return pieces or [""]


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Every part of `embed` within its limit, and the whole within 6000 characters:
    field values are cut first (longest first), then the description."""
    if embed.title:
        embed.title = clip(embed.title, TITLE_LIMIT, "…")
    if embed.description:
        embed.description = clip(embed.description, DESCRIPTION_LIMIT)
    if embed.author and embed.author.name:
        embed.set_author(name=clip(embed.author.name, AUTHOR_LIMIT, "…"))
    if embed.footer and embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER_LIMIT))
    fields = [(f.name or "", f.value or "", f.inline) for f in embed.fields][:FIELDS_LIMIT]
    embed.clear_fields()
    for name, value, inline in fields:
        name = clip(name, FIELD_NAME_LIMIT, "…") or "\u200b"
        value = clip(value, FIELD_VALUE_LIMIT) or "\u200b"
        embed.add_field(name=name, value=value, inline=bool(inline))
    while len(embed) > EMBED_TOTAL_LIMIT:
        _shrink(embed, len(embed) - EMBED_TOTAL_LIMIT)
    return embed


def _shrink(embed: discord.Embed, excess: int) -> None:
    """Cut the longest field value, or else the description, by `excess` (plus the note)."""
    longest = max(
        range(len(embed.fields)), key=lambda i: len(embed.fields[i].value or ""), default=-1
    )
    description = embed.description or ""
    if longest >= 0 and len(embed.fields[longest].value or "") > len(CUT_NOTE) * 2:
        target = embed.fields[longest]
        value = target.value or ""
        limit = max(len(CUT_NOTE) + 1, len(value) - excess)
        embed.set_field_at(
            longest, name=target.name, value=clip(value, limit), inline=target.inline
        )
    elif len(description) > len(CUT_NOTE) * 2:
        embed.description = clip(description, max(len(CUT_NOTE) + 1, len(description) - excess))
    else:  # only titles and names remain: drop the last field
        embed.remove_field(len(embed.fields) - 1)


def messages_of(
    embeds: Iterable[discord.Embed], view: discord.ui.View | None = None
) -> list[Outgoing]:
    """Embeds grouped into messages (10 per message, 6000 characters together); the view
    goes on the last message."""
    out: list[Outgoing] = []
    for embed in map(fit_embed, embeds):
        current = out[-1] if out else None
        if (
            current is None
            or len(current.embeds) >= EMBEDS_PER_MESSAGE
            or sum(map(len, current.embeds)) + len(embed) > EMBED_TOTAL_LIMIT
        ):
            current = Outgoing()
            out.append(current)
        current.embeds.append(embed)
    if not out:
        out.append(Outgoing())
    out[-1].view = view
    return out


def text_messages(text: str, view: discord.ui.View | None = None) -> list[Outgoing]:
    """Plain text split into messages within 2000 characters each."""
    out = [Outgoing(content=piece) for piece in split(neutral(text))]
    out[-1].view = view
    return out


def long_embeds(title: str, text: str, colour: discord.Colour = NEUTRAL) -> list[discord.Embed]:
    """A titled text over as many embeds as it needs (continuations untitled)."""
    pieces = split(text, DESCRIPTION_LIMIT - 96)
    embeds = [discord.Embed(title=title, description=pieces[0], colour=colour)]
    embeds += [discord.Embed(description=piece, colour=colour) for piece in pieces[1:]]
    return embeds


# ---------------------------------------------------------------- replies


def question_message(
    reply: QuestionReply, owner: str, owner_name: str = "", now: datetime | None = None
) -> Outgoing:
    """An embed with the question and its options, answer components below it."""
    options = "\n".join(
        f"**{letter(i)})** {clip(text, 900)}" for i, text in enumerate(reply.options)
    )
    room = DESCRIPTION_LIMIT - len(options) - 2
    embed = discord.Embed(
        title=f"Question {reply.number}/{reply.total} · {reply.exam}",
        description=f"{clip(reply.question, room)}\n\n{options}",
        colour=NEUTRAL,
    )
    if reply.mode is Mode.daily:
        embed.set_author(name="Daily challenge: everyone answers once")
    elif owner_name:
        embed.set_author(name=quiz_of(owner_name))
    footer = [reply.domain]
    if reply.mode is Mode.exam:
        footer.append("exam mode: results at the end")
    if reply.deadline and now:
        footer.append(time_left(reply.deadline, now))
    if reply.choose > 1:
        footer.append(f"{CHOOSE.get(reply.choose, f'Choose {reply.choose}')}: pick in the menu")
    embed.set_footer(text=" · ".join(footer))
    return Outgoing(
        embeds=[fit_embed(embed)], view=question_view(reply, question_owner(reply, owner))
    )


def quiz_of(name: str) -> str:
    """The embed author line naming whose quiz it is; read back for "this is X's quiz"."""
    return f"{name}'s quiz"


def owner_name_of(author: str) -> str:
    """The name `quiz_of` put on a question, or empty."""
    return author.removesuffix("'s quiz") if author.endswith("'s quiz") else ""


def explanation_embeds(reply: ExplanationReply, who: str = "") -> list[discord.Embed]:
    """The verdict and every option with why it is right or wrong; then the explanation, the
    trap, the takeaway and the docs, in as many embeds as they need (nothing is cut)."""
    correct = ", ".join(letter(i) for i, o in enumerate(reply.options) if o.correct)
    verdict = VERDICTS[reply.verdict] if reply.verdict else "The answer"
    title = f"{who}: {verdict}" if who else verdict
    colour = COLOURS[reply.verdict] if reply.verdict else NEUTRAL
    embed = discord.Embed(title=title, description=f"Correct answer: **{correct}**", colour=colour)
    for i, option in enumerate(reply.options):
        mark = "✅" if option.correct else "❌"
        picked = " (your answer)" if option.chosen else ""
        why = f"\n> {option.why}" if option.why else ""
        embed.add_field(name=f"{mark} {letter(i)}{picked}", value=option.text + why, inline=False)
    sections = "\n\n".join(f"**{label}:** {text}" for label, text in explanation_parts(reply))
    more = [discord.Embed(description=part, colour=colour) for part in split(sections, 4000)]
    return [fit_embed(embed), *(more if sections else [])]


def answer_embeds(reply: AnswerReply) -> list[discord.Embed]:
    """A follow-up answer; the disclaimer is always in the footer, whatever is cut."""
    embeds = long_embeds(clip(reply.question, TITLE_LIMIT, "…") or "Answer", reply.text)
    last = embeds[-1]
    if reply.note:
        last.add_field(name="Note", value=reply.note, inline=False)
    if reply.sources:
        sources = "; ".join(f"{s.id} ({s.title})" for s in reply.sources)
        last.add_field(name="Sources", value=sources, inline=False)
    last.set_footer(text=f"⚠ {reply.disclaimer}")
    return embeds


def result_embeds(reply: QuizResultReply, who: str = "") -> list[discord.Embed]:
    title = ENDINGS[reply.reason]
    body = render_result(reply).split("\n", 1)[-1]
    return long_embeds(f"{who}: {title}" if who else title, body)


def partial_content(text: str) -> str:
    """A streamed answer so far, within one message."""
    return clip(neutral(text), CONTENT_LIMIT)


def render_reply(
    reply: Reply,
    *,
    owner: str = "",
    owner_name: str = "",
    who: str = "",
    now: datetime | None = None,
) -> list[Outgoing]:
    """Any reply as Discord messages; `owner` (named `owner_name`) is whose question buttons
    these are, `who` the name to put on verdicts and results others see."""
    if isinstance(reply, QuestionReply):
        return [question_message(reply, owner, owner_name, now)]
    if isinstance(reply, ExplanationReply):
        return messages_of(explanation_embeds(reply, who))
    if isinstance(reply, FollowUpsReply):
        return text_messages("Ask next:", follow_ups_view(reply))
    if isinstance(reply, AnswerReply):
        return messages_of(answer_embeds(reply))
    if isinstance(reply, QuizResultReply):
        return messages_of(result_embeds(reply, who))
    if isinstance(reply, LeaderboardReply):
        body = render(reply).split("\n", 1)[1] if reply.rows else "No answers yet."
        return messages_of(long_embeds(reply.title, body))
    if isinstance(reply, StatsReply):
        return messages_of(long_embeds("Your progress", render(reply)))
    if isinstance(reply, ImageReply | FileReply):
        return [Outgoing(content=clip(neutral(reply.caption), CONTENT_LIMIT), file=reply.path)]
    if isinstance(reply, TextReply | HintReply):
        return text_messages(reply.text)
    return text_messages(render(reply, now))


def explained_with_follow_ups(
    reply: ExplanationReply, follow_ups: FollowUpsReply, who: str = ""
) -> list[Outgoing]:
    """An explanation with its follow-up questions as buttons under it."""
    return messages_of(explanation_embeds(reply, who), follow_ups_view(follow_ups))
