"""Dense and hybrid retrieval: only what the chat may see, of the exam asked for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from knowledge.passages import Passage
from knowledge.retrieval import RetrievalMode, Retriever
from knowledge.vector_index import VectorIndex, open_client


class TopicEmbedder:
    """Two topics: texts about jitter point one way, texts about buckets the other."""

    identity = "topics-v1"

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            words = text.lower().split()
            vector = [words.count("jitter") + 0.01, words.count("bucket") + 0.01]
            norm = sum(v * v for v in vector) ** 0.5
            vectors.append([v / norm for v in vector])
        return vectors


def note(pid: str, text: str, exam: str, scope: str = "") -> Passage:
    return Passage(pid, pid.split("#")[0], pid, text, (exam,), "", "note", scope=scope)


def retriever(passages: list[Passage], folder: Path) -> Retriever:
    embedder = TopicEmbedder()
    index = VectorIndex(open_client(folder), embedder)
    index.sync(passages)
    return Retriever(passages, index, embedder)


def test_an_exam_filter_finds_its_passages_when_the_nearest_are_of_another_exam(
    tmp_path: Path,
) -> None:
    others = [note(f"c{i}#0", "jitter jitter", "CLF-C02") for i in range(100)]
    mine = [note(f"d{i}#0", "bucket policy", "DVA-C02") for i in range(100)]
    found = retriever(others + mine, tmp_path).search(
        "jitter", exam="DVA-C02", mode=RetrievalMode.dense
    )
    assert len(found) == 6 and {h.passage.exams for h in found} == {("DVA-C02",)}


def test_another_groups_nearest_passage_stays_hidden(tmp_path: Path) -> None:
    shared = [note(f"s{i}#0", "bucket policy", "DVA-C02") for i in range(20)]
    theirs = note("g#0", "jitter jitter jitter", "DVA-C02", scope="group-2")
    search = retriever([*shared, theirs], tmp_path).search
    for mode in (RetrievalMode.dense, RetrievalMode.hybrid):
        assert "g#0" not in {h.passage.id for h in search("jitter", mode=mode)}
        assert "g#0" not in {h.passage.id for h in search("jitter", mode=mode, scope="group-1")}
        assert search("jitter", mode=mode, scope="group-2")[0].passage.id == "g#0"
