"""Follow-up questions: context, guard rails, the pipeline that answers them, the disclaimer.

This module is the one place where a generated answer becomes a reply, and so the one place
the disclaimer is attached: every composer's output, refusals and fallbacks included. The bot
and the `studybot ask`/`eval` commands build and run the same pipeline from here.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.llm import AnswerProgress, Composer, LLMComposer, composer_from
from bot.storage.models import Answer, QuizSession
from bot.study import StudyIndex, build_study_index
from bot.types import AnswerReply, HintReply, Mode, Reply, SourceRef
from knowledge.answering import Answerer, GeneratedAnswer, written_answer
from knowledge.bank import SHARED, Bank
from knowledge.notes import Note
from knowledge.passages import written_answer_passages
from knowledge.retrieval import RetrievalMode
from knowledge.schema import Item

DISCLAIMER = (
    "AI-generated content may be inaccurate or incomplete. "
    "Double-check important facts in the AWS documentation."
)
MAX_QUESTION_CHARS = 500
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5}
QUESTION_START = re.compile(
    r"^(why|what|how|when|where|which|who|is|are|can|could|does|do|should|would|will|explain|"
    r"tell me|difference)\b",
    re.IGNORECASE,
)
LETTER_REF = re.compile(
    r"\b(?:option|answer|choice|not|about|is|was|pick|picked)\s+\(?([A-Fa-f])\b\)?"
)
BARE_LETTER = re.compile(r"(?<![\w'])([A-F])(?![\w'])")
# "why?", "why is that?", "explain this question": about the last question, not a new topic.
ABOUT_IT = re.compile(
    r"\b(this|that|the) (question|answer|one|option)\b|^why( not)?\W*$|"
    r"^why (is|was|isn't|wasn't) (it|that|this)\b|^(explain|what about) (it|that|this)\b",
    re.IGNORECASE,
)
ORDINAL_REF = re.compile(
    r"\bthe (first|second|third|fourth|fifth|sixth)(?: one| option| answer)?\b"
)


def looks_like_question(text: str) -> bool:
    stripped = text.strip()
    if len(re.findall(r"[A-Za-z]{2,}", stripped)) < 2:  # "???", "b?" are no questions
        return False
    return stripped.endswith("?") or bool(QUESTION_START.match(stripped))


def answer_reply(answer: GeneratedAnswer) -> AnswerReply:
    """Every generated answer reaches users through here, with the disclaimer."""
    return AnswerReply(
        question=answer.question,
        text=answer.text,
        sources=tuple(SourceRef(id=s.id, title=s.title, score=s.score) for s in answer.sources),
        disclaimer=DISCLAIMER,
        mode=answer.mode,
        covered=answer.covered,
        note=answer.note,
    )


@dataclass(frozen=True)
class FollowUpPipeline:
    """What answers follow-up questions: the study index and, when a model is set, the composer."""

    study: StudyIndex
    composer: LLMComposer | None


def build_follow_up_pipeline(settings: Settings, notes: Sequence[Note]) -> FollowUpPipeline:
    """The pipeline from the settings (embedder, Chroma, model), for the bot and the CLI alike."""
    return FollowUpPipeline(build_study_index(settings, notes), composer_from(settings))


async def answer_question(
    answerer: Answerer,
    composer: Composer | None,
    question: str,
    *,
    query: str | None = None,
    exam: str | None = None,
    focus: str | None = None,
    exclude: str | None = None,
    scope: str = SHARED,
    mode: RetrievalMode = RetrievalMode.hybrid,
    progress: AnswerProgress | None = None,
) -> AnswerReply:
    """Retrieve what `scope` may see (by `query`, default the question itself) off the event
    loop, answer offline, then let the model compose a covered answer when there is one."""
    search = question if query is None else query
    hits = await asyncio.to_thread(
        answerer.retrieve, search, exam, focus, mode, exclude=exclude, scope=scope
    )
    answer = answerer.extractive(question, hits, focus)
    if composer is not None and answer.covered and answer.mode != "written":
        answer = await composer.compose(question, answer, progress)
    return answer_reply(answer)


def written_reply(item: Item, index: int) -> AnswerReply | None:
    """Follow-up `index` of `item` answered at once from the answer written for it (no
    retrieval, no model), or None when the bank has none."""
    wanted = f"{item.id}#fu{index}"
    for passage in written_answer_passages(item):
        if passage.id == wanted:
            return answer_reply(written_answer(passage.title, passage))
    return None


def with_disclaimer(partial: str) -> str:
    """What a streaming adapter shows while the answer grows: never without the disclaimer."""
    return f"{partial}\n\n{DISCLAIMER}"


@dataclass(frozen=True)
class QuestionContext:
    """The question the student saw last, as shown to them (options in shuffled order)."""

    item: Item
    options: tuple[str, ...]
    pending: bool
    mode: Mode


def last_question(db: Session, user_id: int, chat_id: int, bank: Bank) -> QuestionContext | None:
    active = db.exec(
        select(QuizSession).where(
            QuizSession.user_id == user_id,
            QuizSession.chat_id == chat_id,
            QuizSession.status == "active",
        )
    ).first()
    if active and active.current_order is not None and active.position < len(active.item_ids):
        item = bank.get(active.item_ids[active.position])
        if item:
            options = tuple(item.options[i].text for i in active.current_order)
            return QuestionContext(item, options, True, Mode(active.mode))
    row = db.exec(
        select(Answer, QuizSession)
        .join(QuizSession)
        .where(Answer.user_id == user_id, QuizSession.chat_id == chat_id)
        .order_by(col(Answer.answered_at).desc(), col(Answer.id).desc())
    ).first()
    if row is None:
        return None
    stored, session = row
    item = bank.get(stored.item_id)
    if item is None or len(stored.presented_order) != len(item.options):
        return None
    options = tuple(item.options[i].text for i in stored.presented_order)
    return QuestionContext(item, options, False, Mode(session.mode))


def resolve_reference(question: str, context: QuestionContext | None) -> tuple[str, str | None]:
    """'why not B?' -> the question with option B's text, and the item to focus on."""
    if context is None:
        return question, None
    index: int | None = None
    if match := LETTER_REF.search(question):
        index = ord(match.group(1).upper()) - ord("A")
    elif match := ORDINAL_REF.search(question.lower()):
        index = ORDINALS[match.group(1)]
    elif match := BARE_LETTER.search(question):
        index = ord(match.group(1)) - ord("A")
    if index is not None and index < len(context.options):
        return f"{question} ({context.options[index]})", context.item.id
    return question, context.item.id if ABOUT_IT.search(question.strip()) else None


def why_question(context: QuestionContext) -> str:
    right = "; ".join(o.text for o in context.item.options if o.correct)
    return f"Why is '{right}' the right answer to: {context.item.question}"


def guard(question: str, context: QuestionContext | None, focus: str | None) -> Reply | None:
    """Questions that must not be answered now: too long, or leaking a pending question."""
    if not question.strip():
        return HintReply(text="Ask me a question, for example: /ask what is jitter?")
    if len(question) > MAX_QUESTION_CHARS:
        return HintReply(text=f"Please keep questions under {MAX_QUESTION_CHARS} characters.")
    if context and context.pending and context.mode is Mode.exam:
        return HintReply(
            text="This is exam mode: questions get answered after the test. Reply with a letter."
        )
    if context and context.pending and focus == context.item.id:
        return HintReply(
            text="Answer the question first (a letter, or /skip); then ask me anything about it."
        )
    return None
