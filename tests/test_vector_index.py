"""The dense index: incremental, tied to its embedder, the same on disk and on a Chroma server."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from knowledge.embeddings import OpenAIEmbedder
from knowledge.passages import Passage
from knowledge.vector_index import VectorIndex, open_client
from tests.fake_openai import FakeOpenAI, word_vector


class WordEmbedder:
    """A small real embedder for tests: bag-of-words vectors, counting what it embeds."""

    def __init__(self, identity: str = "words-v1") -> None:
        self.identity = identity
        self.embedded = 0

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return [word_vector(text) for text in texts]


def passage(pid: str, text: str, exam: str = "DVA-C02") -> Passage:
    return Passage(pid, pid.split("#")[0], pid, text, (exam,), "", "note")


CORPUS = [
    passage("a#0", "queues decouple producers and consumers"),
    passage("b#0", "jitter spreads retries in time"),
    passage("c#0", "savings plans lower compute prices", "CLF-C02"),
]


def test_only_new_or_changed_passages_are_embedded(tmp_path: Path) -> None:
    embedder = WordEmbedder()
    index = VectorIndex(open_client(tmp_path), embedder)
    first = index.sync(CORPUS)
    assert (first.embedded, first.unchanged, first.removed) == (3, 0, 0)
    again = VectorIndex(open_client(tmp_path), embedder).sync(CORPUS)  # a new process
    assert (again.embedded, again.unchanged) == (0, 3)
    changed = [CORPUS[0], passage("b#0", "jitter adds randomness to waits")]
    report = VectorIndex(open_client(tmp_path), embedder).sync(changed)
    assert (report.embedded, report.unchanged, report.removed) == (1, 1, 1)
    assert embedder.embedded == 4


def test_a_different_embedder_rebuilds_with_a_clear_message(tmp_path: Path) -> None:
    VectorIndex(open_client(tmp_path), WordEmbedder("words-v1")).sync(CORPUS)
    index = VectorIndex(open_client(tmp_path), WordEmbedder("words-v2"))
    report = index.sync(CORPUS)
    assert report.rebuilt_because == "the index was built with words-v1, now words-v2"
    assert report.embedded == 3 and index.stored_embedder() == "words-v2"


def test_search_filters_by_exam(tmp_path: Path) -> None:
    embedder = WordEmbedder()
    index = VectorIndex(open_client(tmp_path), embedder)
    index.sync(CORPUS)
    query = embedder.embed(["savings plans prices"])[0]
    assert index.search(query, 3)[0][0] == "c#0"
    assert "c#0" not in [pid for pid, _ in index.search(query, 3, exam="DVA-C02")]


async def test_openai_compatible_embeddings(tmp_path: Path) -> None:
    server = await FakeOpenAI().start()
    try:
        embedder = OpenAIEmbedder("embed-test", "sk-test", server.base_url, timeout=5)
        index = VectorIndex(open_client(tmp_path), embedder)
        report = await asyncio.to_thread(index.sync, CORPUS)
        assert report.embedded == 3 and embedder.identity == "openai:embed-test"
        assert server.requests[0]["model"] == "embed-test"
        assert len(server.requests[0]["input"]) == 3
    finally:
        await server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    """`chroma run`, shipped with chromadb, on 127.0.0.1."""
    port = _free_port()
    chroma = Path(sys.executable).parent / "chroma"
    process = subprocess.Popen(
        [
            str(chroma),
            "run",
            "--path",
            str(tmp_path / "server"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_chroma_server_behaves_like_the_local_index(chroma_server: int) -> None:
    embedder = WordEmbedder()
    index = VectorIndex(open_client(host="127.0.0.1", port=chroma_server), embedder)
    assert index.sync(CORPUS).embedded == 3
    again = VectorIndex(open_client(host="127.0.0.1", port=chroma_server), embedder)
    assert again.sync(CORPUS).embedded == 0
    query = embedder.embed(["jitter retries"])[0]
    assert again.search(query, 2)[0][0] == "b#0"


class CallRecorder:
    """Passes every call to the real collection and remembers the method names."""

    def __init__(self, collection: object) -> None:
        self._collection = collection
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        self.calls.append(name)
        return getattr(self._collection, name)


def test_an_up_to_date_index_is_checked_without_reading_its_rows(tmp_path: Path) -> None:
    VectorIndex(open_client(tmp_path), WordEmbedder()).sync(CORPUS)
    index = VectorIndex(open_client(tmp_path), WordEmbedder())  # a new process
    recorder = CallRecorder(index.collection)
    index.collection = recorder  # type: ignore[assignment]
    report = index.sync(CORPUS)
    assert (report.embedded, report.unchanged) == (0, 3)
    assert "get" not in recorder.calls


def test_a_sync_cut_short_is_finished_by_the_next_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half-way through a change the process dies; going back to the old passages must not
    trust the old manifest, since one passage was already replaced."""

    class DiesAfterOneBatch(WordEmbedder):
        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            if self.embedded:
                raise RuntimeError("killed")
            return super().embed(texts)

    monkeypatch.setattr("knowledge.vector_index.BATCH", 1)
    VectorIndex(open_client(tmp_path), WordEmbedder()).sync(CORPUS)
    changed = [passage(p.id, "something else entirely") for p in CORPUS]
    with pytest.raises(RuntimeError):
        VectorIndex(open_client(tmp_path), DiesAfterOneBatch()).sync(changed)
    embedder = WordEmbedder()
    index = VectorIndex(open_client(tmp_path), embedder)
    assert index.sync(CORPUS).embedded == 1
    query = embedder.embed([CORPUS[0].searchable])[0]
    assert index.search(query, 1)[0] == ("a#0", pytest.approx(1.0))
