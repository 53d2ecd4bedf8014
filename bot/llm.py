"""Answers from an OpenAI-compatible model, grounded in the retrieved passages, streamed.

The model sees the passages with their ids as its only material, fenced as reference data, and
the student's question in the user role, never in the system prompt (see `bot.prompts`).
Citations of ids that were not retrieved are dropped. Any failure on the way (a missing
template, a refused connection, a rate limit after the client's own retries, a broken stream,
a bad reply, the overall deadline) falls back to the offline answer with a short note: the
student always gets an answer, within `deadline` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Protocol

from bot.config import Settings
from bot.prompts import answer_messages
from knowledge.answering import NOT_COVERED, GeneratedAnswer, sources_of

if TYPE_CHECKING:  # openai takes about half a second to import: only when a model answers
    from openai import AsyncOpenAI

log = logging.getLogger(__name__)

AnswerProgress = Callable[[str], Awaitable[None]]
MAX_ANSWER_CHARS = 1200
MAX_TOKENS = 400
PROGRESS_EVERY_SECONDS = 0.8
CITATION = re.compile(r"\s?\[([A-Za-z0-9._#:-]+)\]")
FALLBACK_NOTE = (
    "The AI model could not answer just now, so this answer is composed directly from the "
    "study material."
)


class Composer(Protocol):
    async def compose(
        self, question: str, grounded: GeneratedAnswer, progress: AnswerProgress | None
    ) -> GeneratedAnswer:
        """An answer to `question` from the passages behind `grounded` (the offline answer)."""
        ...


def _keep_known_citations(text: str, known: set[str]) -> tuple[str, list[str]]:
    """Remove citations of ids that were not retrieved; return the cited passage ids."""
    cited: list[str] = []

    def keep(match: re.Match[str]) -> str:
        if match.group(1) in known:
            cited.append(match.group(1))
            return match.group(0)
        return ""

    return CITATION.sub(keep, text), cited


def _cap(text: str) -> str:
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    cut = text[:MAX_ANSWER_CHARS]
    end = max(cut.rfind(". "), cut.rfind(".\n"))
    return (cut[: end + 1] if end > 200 else cut.rstrip() + "…").strip()


class LLMComposer:
    def __init__(
        self,
        model: str,
        api_key: str | None,
        base_url: str | None,
        timeout: float = 20.0,
        max_retries: int = 2,
        deadline: float = 15.0,
    ) -> None:
        self.model = model
        self.api_key = api_key or "not-needed"  # local servers (Ollama, vLLM) take any key
        self.base_url = base_url
        self.timeout = min(timeout, deadline)  # one request never outlives the whole answer
        self.max_retries = max_retries
        self.deadline = deadline
        self.progress_every = PROGRESS_EVERY_SECONDS
        self._client: AsyncOpenAI | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def client(self) -> AsyncOpenAI:
        """The client for the running event loop: its connections cannot outlive their loop."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                api_key=self.api_key,
                base_url=self.base_url,
                timeout=self.timeout,
                max_retries=self.max_retries,
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the client's connections (on the loop that opened them)."""
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self._client.close()
        self._client = self._client_loop = None

    def messages(self, question: str, grounded: GeneratedAnswer) -> list[dict[str, str]]:
        passages = [(hit.passage.id, hit.passage.searchable) for hit in grounded.hits]
        return answer_messages(question, passages)

    async def compose(
        self, question: str, grounded: GeneratedAnswer, progress: AnswerProgress | None
    ) -> GeneratedAnswer:
        if not grounded.covered or not grounded.hits:
            return grounded
        try:
            async with asyncio.timeout(self.deadline):
                text = await self._stream(question, grounded, progress)
            return self._answer(question, grounded, text)
        except Exception as error:  # whatever broke, the student gets the offline answer
            log.warning(
                "The model could not answer (%s); showing the offline answer",
                type(error).__name__,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            return replace(grounded, note=FALLBACK_NOTE)

    def _answer(self, question: str, grounded: GeneratedAnswer, text: str) -> GeneratedAnswer:
        """The model's text as an answer: NOT COVERED, or known citations and their sources."""
        if text.strip().upper().startswith("NOT COVERED"):
            return GeneratedAnswer(question, NOT_COVERED, (), "llm", False, hits=grounded.hits)
        known = {hit.passage.id for hit in grounded.hits} | {
            h.passage.source_id for h in grounded.hits
        }
        text, cited = _keep_known_citations(_cap(text.strip()), known)
        if not text.strip():
            return replace(grounded, note=FALLBACK_NOTE)
        by_passage = {hit.passage.id: hit.passage.source_id for hit in grounded.hits}
        source_ids = list(dict.fromkeys(by_passage.get(c, c) for c in cited))
        sources = sources_of(grounded.hits, source_ids) if source_ids else grounded.sources
        return GeneratedAnswer(question, text, sources, "llm", True, hits=grounded.hits)

    async def _stream(
        self, question: str, grounded: GeneratedAnswer, progress: AnswerProgress | None
    ) -> str:
        from bot.followups import with_disclaimer

        stream = await self.client().chat.completions.create(
            model=self.model,
            messages=self.messages(question, grounded),  # type: ignore[arg-type]
            stream=True,
            max_tokens=MAX_TOKENS,
            temperature=0.2,
        )
        text = ""
        last = time.monotonic()
        async with stream:  # closes the response when we stop early or fail
            async for chunk in stream:
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if not delta:
                    continue
                text += delta
                if len(text) > MAX_ANSWER_CHARS * 2:
                    break
                if progress and time.monotonic() - last >= self.progress_every:
                    last = time.monotonic()
                    await progress(with_disclaimer(CITATION.sub("", text)))
        return text


def composer_from(settings: Settings) -> LLMComposer | None:
    """The LLM composer when OPENAI_API_KEY or OPENAI_BASE_URL is set, else None (offline)."""
    if not settings.llm_configured():
        return None
    return LLMComposer(
        model=settings.llm_model,
        api_key=settings.openai_api_key,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout,
        max_retries=settings.llm_retries,
        deadline=settings.llm_deadline,
    )
