"""Answers from an OpenAI-compatible model, grounded in the retrieved passages, streamed.

The model sees the passages with their ids as its only material and the student's question in
the user role, never in the system prompt. Citations of ids that were not retrieved are
dropped. Any failure (timeout, rate limit after the client's own retries, a bad reply) falls
back to the offline answer with a short note: the student always gets an answer.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Protocol

import openai
from openai import AsyncOpenAI

from bot.config import Settings
from bot.prompts import load_prompt
from knowledge.answering import NOT_COVERED, Answer, sources_of

log = logging.getLogger(__name__)

Progress = Callable[[str], Awaitable[None]]
MAX_ANSWER_CHARS = 1200
MAX_TOKENS = 400
PROGRESS_EVERY_SECONDS = 0.8
CITATION = re.compile(r"\s?\[([A-Za-z0-9._#:-]+)\]")
FALLBACK_NOTE = (
    "The AI model could not answer just now, so this answer is composed directly from the "
    "study material."
)


class Composer(Protocol):
    async def compose(self, question: str, grounded: Answer, progress: Progress | None) -> Answer:
        """An answer to `question` from the passages behind `grounded` (the offline answer)."""
        ...


def _passages_block(grounded: Answer) -> str:
    return "\n".join(f"[{hit.passage.id}] {hit.passage.searchable}" for hit in grounded.hits)


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
    ) -> None:
        self.model = model
        self.timeout = timeout
        self.client = AsyncOpenAI(
            api_key=api_key or "not-needed",  # local servers (Ollama, vLLM) take any key
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
        )
        self.max_retries = max_retries
        self.progress_every = PROGRESS_EVERY_SECONDS

    def messages(self, question: str, grounded: Answer) -> list[dict[str, str]]:
        user = load_prompt("answer_user").format(
            passages=_passages_block(grounded), question=question
        )
        return [
            {"role": "system", "content": load_prompt("answer_system")},
            {"role": "user", "content": user},
        ]

    async def compose(self, question: str, grounded: Answer, progress: Progress | None) -> Answer:
        if not grounded.covered or not grounded.hits:
            return grounded
        try:
            budget = self.timeout * (self.max_retries + 1) + 5
            text = await asyncio.wait_for(self._stream(question, grounded, progress), budget)
        except (openai.OpenAIError, TimeoutError) as error:
            log.warning(
                "LLM answer failed (%s); falling back to the offline answer", type(error).__name__
            )
            return replace(grounded, note=FALLBACK_NOTE)
        if text.strip().upper().startswith("NOT COVERED"):
            return Answer(question, NOT_COVERED, (), "llm", False, hits=grounded.hits)
        known = {hit.passage.id for hit in grounded.hits} | {
            h.passage.source_id for h in grounded.hits
        }
        text, cited = _keep_known_citations(_cap(text.strip()), known)
        if not text.strip():
            return replace(grounded, note=FALLBACK_NOTE)
        by_passage = {hit.passage.id: hit.passage.source_id for hit in grounded.hits}
        source_ids = list(dict.fromkeys(by_passage.get(c, c) for c in cited))
        sources = sources_of(grounded.hits, source_ids) if source_ids else grounded.sources
        return Answer(question, text, sources, "llm", True, hits=grounded.hits)

    async def _stream(self, question: str, grounded: Answer, progress: Progress | None) -> str:
        from bot.followups import with_disclaimer

        stream = await self.client.chat.completions.create(
            model=self.model,
            messages=self.messages(question, grounded),  # type: ignore[arg-type]
            stream=True,
            max_tokens=MAX_TOKENS,
            temperature=0.2,
        )
        text = ""
        last = time.monotonic()
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
    )
