"""Several bot processes share one Chroma server (`chroma run`, CHROMA_HOST/CHROMA_PORT): one
builds the study index, another answers a follow-up from it without embedding the passages
again. `.ci/run` starts the server and sets STUDYBOT_TEST_CHROMA_HOST/PORT; skipped without."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.vector_index import COLLECTION, open_client

HOST = os.environ.get("STUDYBOT_TEST_CHROMA_HOST")
PORT = os.environ.get("STUDYBOT_TEST_CHROMA_PORT")
FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.skipif(
    not (HOST and PORT), reason="STUDYBOT_TEST_CHROMA_HOST/PORT are not set (.ci/run sets them)"
)

# One bot process: the study index from the settings, as `studybot run` builds it, with every
# text the embedder is given counted. "ask" then answers from the vectors alone.
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
embedded = []
embed = study.embedder.embed
study.embedder.embed = lambda texts: embedded.extend(texts) or embed(texts)
answerer, message = study.ensure(Bank.load([fixtures / "bank"]))
figures = {"passages_embedded": len(embedded), "message": message}
figures["report"] = study.last_sync.embedded
if sys.argv[2] == "ask":
    question = "What does jitter add to retries?"
    reply = asyncio.run(answer_question(answerer, None, question, mode=RetrievalMode.dense))
    figures["sources"] = [source.id for source in reply.sources]
print(json.dumps(figures))
"""


def bot_process(data_dir: Path, step: str) -> dict:  # type: ignore[type-arg]
    """Run one process with its own data folder, so nothing is shared but the server."""
    environment = {
        **os.environ,
        "CHROMA_HOST": str(HOST),
        "CHROMA_PORT": str(PORT),
        "STUDYBOT_DATA_DIR": str(data_dir),
        "STUDYBOT_EMBEDDINGS": "local",
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


def test_a_second_process_answers_from_the_index_the_first_built(tmp_path: Path) -> None:
    server = open_client(host=HOST, port=int(str(PORT)))
    if COLLECTION in [c.name for c in server.list_collections()]:
        server.delete_collection(COLLECTION)  # an earlier run's index: start empty

    builder = bot_process(tmp_path / "one", "build")
    assert builder["passages_embedded"] > 0 and builder["report"] == builder["passages_embedded"]
    assert server.get_collection(COLLECTION).count() == builder["passages_embedded"]

    asker = bot_process(tmp_path / "two", "ask")
    assert asker["report"] == 0 and asker["message"] is None
    assert asker["passages_embedded"] == 0  # only the question itself is embedded afterwards
    assert any("backoff" in source for source in asker["sources"])
    assert not (tmp_path / "two" / "chroma").exists()  # no local Chroma folder was used
