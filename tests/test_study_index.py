"""The study index as the core uses it: warmed in the background, ready before the first
follow-up, and re-embedding only what changed."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.study import StudyIndex
from knowledge.bank import Bank
from knowledge.notes import Note
from knowledge.retrieval import RetrievalMode
from knowledge.vector_index import open_client
from tests.test_vector_index import WordEmbedder


class FlakyEmbedder(WordEmbedder):
    """Embeds the corpus, then fails on every question (a model that broke after setup)."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if len(texts) == 1:
            raise RuntimeError("model failed")
        return super().embed(texts)


def test_warming_in_the_background_while_a_question_arrives_builds_once(
    bank: Bank, notes: list[Note], tmp_path: Path
) -> None:
    embedder = WordEmbedder()
    study = StudyIndex(notes, embedder, lambda: open_client(tmp_path))
    warming = threading.Thread(target=study.warm, args=(bank,), daemon=True)
    warming.start()
    answerer, _ = study.ensure(bank)
    warming.join()
    assert study.ready(bank)
    passages = len(answerer.retriever.passages)
    assert embedder.embedded in (passages + 1, passages + 2)  # the corpus once, plus queries
    assert answerer.retrieve("What is jitter?")


def test_a_failing_warm_up_is_logged_and_the_next_question_still_answers(
    bank: Bank, notes: list[Note], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    study = StudyIndex(notes, FlakyEmbedder(), lambda: open_client(tmp_path))
    with caplog.at_level(logging.ERROR):
        study.warm(bank)  # must not raise
    assert "warming the study index failed" in caplog.text
    answerer, _ = study.ensure(bank)
    assert answerer.retrieve("What is jitter?", mode=RetrievalMode.lexical)
