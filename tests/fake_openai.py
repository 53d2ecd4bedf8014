"""A scripted OpenAI-compatible HTTP server on 127.0.0.1, for the real openai client.

Each request to /v1/chat/completions takes the next step of the script: a streamed reply, a
429 with Retry-After, a reply slower than the client's timeout, a stream that breaks off into
garbage, or a hang that lasts until the server stops. Every request is recorded.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Step:
    kind: str = "reply"  # reply, rate_limited, broken (garbage mid-stream), hang
    text: str = ""
    chunk_delay: float = 0.0
    delay: float = 0.0


@dataclass
class FakeOpenAI:
    script: list[Step] = field(default_factory=list)
    requests: list[dict] = field(default_factory=list)  # type: ignore[type-arg]
    port: int = 0
    _runner: web.AppRunner | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def start(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        self._stopping.set()  # hanging requests end, so the server stops at once
        if self._runner:
            await self._runner.cleanup()

    async def _embeddings(self, request: web.Request) -> web.Response:
        """Deterministic 8-dimensional vectors from the text's words, in OpenAI's shape."""
        body = await request.json()
        self.requests.append(body)
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": word_vector(text)}
            for i, text in enumerate(texts)
        ]
        usage = {"prompt_tokens": 1, "total_tokens": 1}
        return web.json_response(
            {"object": "list", "data": data, "model": body["model"], "usage": usage}
        )

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        step = self.script.pop(0) if self.script else Step(text="NOT COVERED")
        if step.kind == "rate_limited":
            return web.json_response(
                {"error": {"message": "Rate limit reached", "type": "rate_limit", "code": None}},
                status=429,
                headers={"retry-after-ms": "50"},
            )
        if step.kind == "hang":
            await self._stopping.wait()
            return web.Response(status=503)
        if step.delay:
            await asyncio.sleep(step.delay)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if step.kind == "broken":
            await response.write(_sse(body["model"], {"content": step.text}))
            await response.write(b'data: {"choices": [{"delta": {"content": "trunc\n\n')
            await response.write_eof()
            return response
        words = step.text.split(" ")
        for index, word in enumerate(words):
            piece = word if index == 0 else " " + word
            await response.write(_sse(body["model"], {"content": piece}))
            if step.chunk_delay:
                await asyncio.sleep(step.chunk_delay)
        await response.write(_sse(body["model"], {}, finish="stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response


def word_vector(text: str, dims: int = 8) -> list[float]:
    """A bag-of-words vector: texts sharing words point the same way."""
    vector = [0.0] * dims
    for word in text.lower().split():
        vector[sum(map(ord, word)) % dims] += 1.0
    norm = sum(v * v for v in vector) ** 0.5 or 1.0
    return [v / norm for v in vector]


def _sse(model: str, delta: dict, finish: str | None = None) -> bytes:  # type: ignore[type-arg]
    chunk = {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()
