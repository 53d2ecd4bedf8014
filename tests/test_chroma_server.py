"""Several bot processes share one Chroma server (`chroma run`, CHROMA_HOST/CHROMA_PORT): one
builds the study index, another answers a follow-up from it without embedding the passages
again. Embeddings come from an OpenAI-compatible stand-in, which counts every text it is sent.
`.ci/run` starts the server and sets STUDYBOT_TEST_CHROMA_HOST/PORT; skipped without."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.vector_index import COLLECTION, open_client
from tests.fake_openai import FakeOpenAI

HOST = os.environ.get("STUDYBOT_TEST_CHROMA_HOST")
PORT = os.environ.get("STUDYBOT_TEST_CHROMA_PORT")
FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.skipif(
    not (HOST and PORT), reason="STUDYBOT_TEST_CHROMA_HOST/PORT are not set (.ci/run sets them)"
)

# One bot process: the study index from the settings, as `studybot run` builds it; "ask" then
# answers from the vectors alone (dense retrieval, no keyword side).
PROCESS = """
import asyncio, json, sys
from pathlib import Path
from bot.config import Settings
from bot.followups import answer_question
from bot.study import build_study_index
from knowledge.bank import Bank
from knowledge.notes import load_notes
from knowledge.retrieval import RetrievalMode

fixtures = Path(sys.argv[1])
study = build_study_index(Settings(), load_notes(fixtures / "notes"))
answerer, message = study.ensure(Bank.load([fixtures / "bank"]))
figures = {"embedded": study.last_sync.embedded, "message": message}
if sys.argv[2] == "ask":
    question = "Why does jitter add randomness to each wait?"
    reply = asyncio.run(answer_question(answerer, None, question, mode=RetrievalMode.dense))
    figures["sources"] = [source.id for source in reply.sources]
print(json.dumps(figures))
"""


def bot_process(data_dir: Path, step: str, embeddings: FakeOpenAI) -> dict:  # type: ignore[type-arg]
    """Run one process with its own data folder, so nothing is shared but the server."""
    environment = {
        **os.environ,
        "CHROMA_HOST": str(HOST),
        "CHROMA_PORT": str(PORT),
        "STUDYBOT_DATA_DIR": str(data_dir),
        "STUDYBOT_EMBEDDINGS": "openai",
        "STUDYBOT_EMBEDDING_MODEL": "stand-in",
        "OPENAI_BASE_URL": embeddings.base_url,
    }
    done = subprocess.run(
        [sys.executable, "-c", PROCESS, str(FIXTURES), step],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def texts_sent(embeddings: FakeOpenAI) -> list[str]:
    """Every text the embedding stand-in was asked to embed so far."""
    return [text for request in embeddings.requests for text in request["input"]]


async def test_a_second_process_answers_from_the_index_the_first_built(tmp_path: Path) -> None:
    server = open_client(host=HOST, port=int(str(PORT)))
    if COLLECTION in [c.name for c in server.list_collections()]:
        server.delete_collection(COLLECTION)  # an earlier run's index: start empty
    embeddings = await FakeOpenAI().start()
    try:
        builder = await asyncio.to_thread(bot_process, tmp_path / "one", "build", embeddings)
        passages = len(texts_sent(embeddings))
        asker = await asyncio.to_thread(bot_process, tmp_path / "two", "ask", embeddings)
    finally:
        await embeddings.stop()
    assert passages > 0 and builder["embedded"] == passages
    assert server.get_collection(COLLECTION).count() == passages
    question = "Why does jitter add randomness to each wait?"
    # The second process opened the index without embedding anything: the first text it sent
    # is the question (then the answer's candidate sentences, to rank them).
    assert texts_sent(embeddings)[passages] == question
    assert asker["embedded"] == 0 and asker["message"] is None
    assert any("backoff" in source for source in asker["sources"])
    assert not (tmp_path / "two" / "chroma").exists()  # no local Chroma folder was used
