"""`studybot bench retrieval`: latency of our hybrid retrieval against a bare chromadb query.

Large sizes pad the real corpus with synthetic passages (random unit vectors, generated text),
which is enough to measure how latency grows; the embedding throughput is measured on real
passages with the real embedder.
"""

from __future__ import annotations

import random
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from knowledge.embeddings import Embedder
from knowledge.passages import Passage
from knowledge.retrieval import Retriever
from knowledge.vector_index import VectorIndex, _metadata, open_client

INSERT_BATCH = 4096  # chromadb takes large batches a little faster

WORDS = [
    "queue",
    "stream",
    "table",
    "bucket",
    "function",
    "role",
    "policy",
    "key",
    "secret",
    "cache",
    "shard",
    "partition",
    "index",
    "retry",
    "backoff",
    "deploy",
    "pipeline",
    "build",
    "stage",
    "alarm",
    "metric",
    "trace",
    "log",
    "event",
    "rule",
    "topic",
]


class _CachedEmbedder:
    """Hands out vectors computed beforehand, so timings exclude the model."""

    def __init__(self, identity: str, vectors: dict[str, list[float]], fallback: Embedder) -> None:
        self.identity = identity
        self.vectors = vectors
        self.fallback = fallback

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vectors.get(t) or self.fallback.embed([t])[0] for t in texts]


def _units(seed: int, count: int, dims: int) -> Any:
    """`count` random unit vectors as one numpy array (pure Python lists took over a minute
    and a gigabyte for 100k)."""
    import numpy as np

    vectors = np.random.default_rng(seed).standard_normal((count, dims), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _synthetic(rng: random.Random, index: int) -> Passage:
    text = " ".join(rng.choices(WORDS, k=40))
    return Passage(
        f"syn-{index}#0", f"syn-{index}", f"Synthetic {index}", text, ("DVA-C02",), "", "note"
    )


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 3), "p95_ms": round(p95 * 1000, 3)}


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def bench_retrieval(
    corpus: Sequence[Passage],
    questions: Sequence[str],
    embedder: Embedder,
    sizes: Sequence[int] = (1_000, 10_000, 100_000),
    repeat: int = 50,
    log: Callable[[str], None] = lambda _: None,
    runs: int = 5,
    sample: int = 512,
) -> dict[str, Any]:
    """Per size, `runs` runs of `repeat` queries; every figure is the median over the runs,
    and each run times our retrieval and the bare query side by side."""
    rng = random.Random(7)
    sample_passages = list(corpus[:sample])
    start = time.perf_counter()
    real_vectors = embedder.embed([p.searchable for p in sample_passages])
    embed_rate = len(sample_passages) / (time.perf_counter() - start)
    dims = len(real_vectors[0])
    query_vectors = dict(zip(questions, embedder.embed(list(questions)), strict=True))
    encode = [_percentiles(_timed(lambda: embedder.embed([questions[0]]), repeat))]
    cached = _CachedEmbedder(embedder.identity, query_vectors, embedder)
    result: dict[str, Any] = {
        "embedder": embedder.identity,
        "embed_passages_per_s": round(embed_rate, 1),
        "query_encode": _median_of(encode),
        "runs": runs,
        "sizes": {},
    }
    for size in sizes:
        log(f"building {size} passages")
        passages = list(corpus[:size]) + [
            _synthetic(rng, i) for i in range(max(0, size - len(corpus)))
        ]
        embeddings = _units(size, size, dims)
        real = min(size, len(real_vectors))  # the first passages are the embedded sample
        embeddings[:real] = real_vectors[:real]
        with tempfile.TemporaryDirectory() as folder:
            index = VectorIndex(open_client(Path(folder)), cached)
            start = time.perf_counter()
            for begin in range(0, size, INSERT_BATCH):
                batch = passages[begin : begin + INSERT_BATCH]
                index.collection.add(
                    ids=[p.id for p in batch],
                    embeddings=embeddings[begin : begin + INSERT_BATCH],
                    metadatas=[_metadata(p) for p in batch],
                )
            insert_rate = size / (time.perf_counter() - start)
            start = time.perf_counter()
            retriever = Retriever(passages, index, cached)
            lexical_build = time.perf_counter() - start
            figures = _runs(index, retriever, embedder, questions, query_vectors, repeat, runs)
            result["sizes"][str(size)] = figures | {
                "chromadb_insert_per_s": round(insert_rate, 1),
                "bm25_build_s": round(lexical_build, 3),
            }
    result["peak_memory_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


def _median_of(runs: Sequence[dict[str, float]]) -> dict[str, float]:
    return {key: round(statistics.median(r[key] for r in runs), 3) for key in runs[0]}


def _runs(
    index: VectorIndex,
    retriever: Retriever,
    embedder: Embedder,
    questions: Sequence[str],
    query_vectors: dict[str, list[float]],
    repeat: int,
    runs: int,
) -> dict[str, Any]:
    """`runs` runs over different questions; the median of each run's percentiles, and of
    each run's ratio of our p50 to the bare query's p50 (measured in the same run)."""
    ours_runs, full_runs, bare_runs, ratios = [], [], [], []
    for run in range(runs):
        asked = [questions[(run * repeat + i) % len(questions)] for i in range(repeat)]
        bare, ours, full = _measure(index, retriever, embedder, asked, query_vectors)
        bare_p, ours_p = _percentiles(bare), _percentiles(ours)
        bare_runs.append(bare_p)
        ours_runs.append(ours_p)
        full_runs.append(_percentiles(full))
        ratios.append(ours_p["p50_ms"] / bare_p["p50_ms"])
    return {
        "hybrid_retrieval": _median_of(ours_runs),
        "hybrid_with_query_encoding": _median_of(full_runs),
        "bare_chromadb_query": _median_of(bare_runs),
        "overhead_ratio_p50": round(statistics.median(ratios), 2),
    }


def _measure(
    index: VectorIndex,
    retriever: Retriever,
    embedder: Embedder,
    asked: Sequence[str],
    query_vectors: dict[str, list[float]],
) -> tuple[list[float], list[float], list[float]]:
    """Bare chromadb with the same vectors; ours with cached vectors; ours with the model.
    Interleaved question by question, so that a busy moment hits all three alike."""
    collection = index.collection
    with_model = _with_model(retriever, embedder)
    bare: list[float] = []
    ours: list[float] = []
    full: list[float] = []
    for question in asked:
        bare.append(
            _timed_once(
                lambda q=question: collection.query(
                    query_embeddings=[query_vectors[q]], n_results=30, include=["distances"]
                )
            )
        )
        ours.append(_timed_once(lambda q=question: retriever.search(q, k=6)))
        full.append(_timed_once(lambda q=question: with_model.search(q, k=6)))
    return bare, ours, full


def _timed_once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _with_model(retriever: Retriever, embedder: Embedder) -> Retriever:
    """The same retriever, but encoding each query with the real model."""
    clone = object.__new__(Retriever)
    clone.__dict__.update(retriever.__dict__)
    clone.embedder = embedder
    return clone


def generated_questions(words: Sequence[str], count: int, seed: int = 7) -> list[str]:
    """`count` questions of 10 to 30 words drawn from `words` (real text keeps its word
    frequencies); every hundredth one is an earlier question with one word changed."""
    rng = random.Random(seed)
    questions: list[str] = []
    for index in range(count):
        if index % 100 == 99:
            copied = questions[rng.randrange(len(questions))].split()
            copied[rng.randrange(len(copied))] = f"changed{index}"
            questions.append(" ".join(copied))
        else:
            questions.append(" ".join(rng.choice(words) for _ in range(rng.randint(10, 30))))
    return questions


def bench_imports(
    words: Sequence[str], counts: Sequence[int] = (1_000, 8_000, 25_000)
) -> dict[str, Any]:
    """Seconds to find the near-duplicates in `count` generated questions, as `bank validate`
    and an import check them (knowledge/duplicates.py)."""
    from knowledge.duplicates import pairs_within

    result: dict[str, Any] = {"sizes": {}}
    for count in counts:
        questions = generated_questions(words, count)
        start = time.perf_counter()
        found = pairs_within(questions)
        result["sizes"][str(count)] = {
            "near_duplicate_check_s": round(time.perf_counter() - start, 2),
            "near_duplicates_found": len(found),
            "reworded_copies": count // 100,  # a few fall under 75% and are rightly not found
        }
    result["peak_memory_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result
