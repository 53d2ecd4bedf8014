"""`studybot bench followups`: how soon and how fast follow-up questions are answered.

Measured on the configured data folder (the one `scripts/setup` builds the index into), with the
configured embedder, offline (no model composes):
- warm follow-ups (model loaded, index open): the whole offline answer, and side by side in the
  same run the hybrid retrieval and the bare chromadb query under it;
- fresh processes, each figure a median of several: the first follow-up of a chat asked as soon
  as the first question shows (warm-up started then) and after a few seconds of reading, the
  index check alone, `studybot ask`, and a terminal chat with two follow-ups (peak memory).
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

FIRST_QUESTION = "What is jitter?"
CHAT_SCRIPT = "/quiz DVA-C02 1\nA\nWhat is jitter?\nWhat is a dead-letter queue?\n"


def _ms(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2), "p95_ms": round(p95 * 1000, 2)}


def _study_and_bank():  # type: ignore[no-untyped-def]
    """The study index, bank and notes exactly as the chat builds them from the settings."""
    from adapters.cli.app import _load_bank, _notes
    from bot.config import Settings
    from bot.study import build_study_index

    settings = Settings()
    return build_study_index(settings, _notes(settings)), _load_bank(settings), settings


def child_first_followup(reading_s: float) -> dict[str, float]:
    """In a fresh process: start the warm-up as the chat does when the first question shows,
    wait `reading_s`, then time the follow-up the way the core answers it."""
    start = time.perf_counter()
    study, bank, _ = _study_and_bank()
    warm = getattr(study, "warm", None)  # None in versions without a warm-up (before figures)
    if warm is not None:
        threading.Thread(target=warm, args=(bank,), daemon=True).start()
    shown = time.perf_counter()
    time.sleep(reading_s)
    asked = time.perf_counter()
    answerer, _ = study.ensure(bank)
    from bot.followups import answer_question

    reply = asyncio.run(answer_question(answerer, None, FIRST_QUESTION))
    done = time.perf_counter()
    assert reply.covered, "the shipped material covers the bench question"
    return {"first_followup_s": done - asked, "startup_s": shown - start}


def child_index_check() -> dict[str, float]:
    """In a fresh process: importing chromadb, opening the index, and the check of an
    up-to-date index (what `scripts/setup`, `studybot ask` and the chat's warm-up pay)."""
    study, bank, _ = _study_and_bank()
    from knowledge.passages import build_passages

    passages = build_passages(bank.items(), study.notes, bank.scope_of)
    began = time.perf_counter()
    import chromadb  # noqa: F401  (timed on its own; open_client imports it)

    from knowledge.vector_index import VectorIndex

    imported = time.perf_counter()
    assert study.client_factory is not None and study.embedder is not None
    index = VectorIndex(study.client_factory(), study.embedder)
    opened = time.perf_counter()
    report = index.sync(passages)
    checked = time.perf_counter()
    return {
        "chromadb_import_s": imported - began,
        "index_open_s": opened - imported,
        "index_check_s": checked - opened,
        "embedded": report.embedded,
    }


def _child(kind: str, *args: str) -> dict[str, float]:
    """Run a child function above in a new interpreter; its JSON line is the result."""
    code = f"import json,sys; from knowledge.bench_followups import {kind} as f; "
    code += "print(json.dumps(f(*map(float, sys.argv[1:]))))"
    result = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def _timed_command(args: Sequence[str], stdin: str = "", **env: str) -> tuple[float, float]:
    """Wall seconds and peak resident MiB of `python -m bot ARGS` run to the end."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ | env,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write(stdin)
    process.stdin.close()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"studybot {' '.join(args)} exited with {process.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def _median(values: Sequence[float], digits: int = 2) -> float:
    return round(statistics.median(values), digits)


class _Fixed:
    """An embedder that hands back one vector computed beforehand: retrieval without the model."""

    def __init__(self, identity: str, vector: list[float]) -> None:
        self.identity = identity
        self.vector = vector

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self.vector for _ in texts]


def warm_followups(questions: Sequence[str], log: Callable[[str], None]) -> dict[str, Any]:
    """In this process, once the index is built and the model loaded: each question answered
    offline as the core does; side by side, its hybrid retrieval and the bare chromadb query
    with the same vector."""
    from bot.followups import answer_question

    study, bank, _ = _study_and_bank()
    start = time.perf_counter()
    answerer, _ = study.ensure(bank)
    built = study.last_sync
    log(f"index ready in {time.perf_counter() - start:.1f} s")
    answerer.retrieve("warm up")  # loads the model
    retriever = answerer.retriever
    samples: dict[str, list[float]] = {"follow": [], "encode": [], "hybrid": [], "bare": []}
    with asyncio.Runner() as runner:
        for question in questions:
            began = time.perf_counter()
            runner.run(answer_question(answerer, None, question))
            samples["follow"].append(time.perf_counter() - began)
            if retriever.embedder is None or retriever.vectors is None:
                continue
            _side_by_side(retriever, question, samples)
    figures: dict[str, Any] = {
        "passages": len(retriever.passages),
        "embedded_before_measuring": built.embedded if built else None,
        "warm_followup": _ms(samples["follow"]),
    }
    if samples["bare"]:
        hybrid, bare = _ms(samples["hybrid"]), _ms(samples["bare"])
        figures |= {
            "query_encode": _ms(samples["encode"]),
            "hybrid_retrieval": hybrid,
            "bare_chromadb_query": bare,
            "hybrid_over_bare_p50": round(hybrid["p50_ms"] / bare["p50_ms"], 2),
        }
    return figures


def _side_by_side(retriever: Any, question: str, samples: dict[str, list[float]]) -> None:
    """Encode once; then our hybrid retrieval and the bare query on that same vector, in
    turns first (whichever runs right after the model pays for its cold caches)."""
    began = time.perf_counter()
    vector = retriever.embedder.embed([question])[0]
    samples["encode"].append(time.perf_counter() - began)
    fixed = copy.copy(retriever)
    fixed.embedder = _Fixed(retriever.embedder.identity, vector)
    runs = {
        "hybrid": lambda: fixed.search(question, k=6),
        "bare": lambda: retriever.vectors.collection.query(
            query_embeddings=[vector], n_results=30, include=["distances"]
        ),
    }
    order = ["hybrid", "bare"] if len(samples["bare"]) % 2 else ["bare", "hybrid"]
    for name in order:
        began = time.perf_counter()
        runs[name]()
        samples[name].append(time.perf_counter() - began)


def bench_followups(
    questions: Sequence[str], runs: int = 3, log: Callable[[str], None] = lambda _: None
) -> dict[str, Any]:
    """Every figure above; fresh-process figures are medians of `runs` processes."""
    result = warm_followups(questions, log)
    log("fresh processes: first follow-up, index check, studybot ask, chat")
    immediate = [_child("child_first_followup", "0") for _ in range(runs)]
    reading = [_child("child_first_followup", "5") for _ in range(runs)]
    checks = [_child("child_index_check") for _ in range(runs)]
    asks = [_timed_command(["ask", FIRST_QUESTION]) for _ in range(runs)]
    with tempfile.TemporaryDirectory() as folder:
        database = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        chats = [
            _timed_command(
                ["chat", "--user", "bench", "--seed", "1"], CHAT_SCRIPT, DATABASE_URL=database
            )
            for _ in range(runs)
        ]
    result |= {
        "runs": runs,
        "first_followup_asked_at_once_s": _median([r["first_followup_s"] for r in immediate]),
        "first_followup_after_5s_reading_s": _median([r["first_followup_s"] for r in reading]),
        "fresh_process_to_first_question_s": _median([r["startup_s"] for r in immediate]),
        "chromadb_import_s": _median([r["chromadb_import_s"] for r in checks], 3),
        "index_open_s": _median([r["index_open_s"] for r in checks], 3),
        "index_check_s": _median([r["index_check_s"] for r in checks], 3),
        "index_check_embedded": max(r["embedded"] for r in checks),
        "ask_command_s": _median([s for s, _ in asks]),
        "ask_peak_rss_mib": _median([m for _, m in asks], 0),
        "chat_two_followups_s": _median([s for s, _ in chats]),
        "chat_two_followups_peak_rss_mib": _median([m for _, m in chats], 0),
    }
    return result
