"""Keyword search: the passages a chat may see, of the exam asked for, best first."""

from __future__ import annotations

from knowledge.lexical import LexicalIndex
from knowledge.passages import Passage
from knowledge.retrieval import RetrievalMode, Retriever


def note(pid: str, text: str, exam: str = "DVA-C02", scope: str = "") -> Passage:
    return Passage(pid, pid.split("#")[0], pid, text, (exam,), "", "note", scope=scope)


def test_an_exam_filter_finds_its_passage_below_many_of_another_exam() -> None:
    crowd = [note(f"c{i}#0", "jitter jitter jitter backoff", "CLF-C02") for i in range(120)]
    retriever = Retriever([*crowd, note("d#0", "retries use jitter and a cap")])
    hits = retriever.search("jitter", exam="DVA-C02", mode=RetrievalMode.lexical)
    assert [h.passage.id for h in hits] == ["d#0"]


def test_other_groups_passages_stay_hidden_and_the_groups_own_are_found() -> None:
    index = LexicalIndex(
        [
            note("shared#0", "zorblax limits are documented"),
            note("mine#0", "zorblax quota caps tokens", scope="group-1"),
            note("theirs#0", "zorblax quota caps tokens twice zorblax", scope="group-2"),
        ]
    )
    seen = {index.passages[i].id for i, _ in index.search("zorblax quota", scope="group-1")}
    assert seen == {"shared#0", "mine#0"}
    shared = {index.passages[i].id for i, _ in index.search("zorblax quota")}
    assert shared == {"shared#0"}


def test_best_first_and_nothing_for_unknown_words() -> None:
    index = LexicalIndex(
        [note("a#0", "queues decouple producers"), note("b#0", "queues queues and streams")]
    )
    assert [index.passages[i].id for i, _ in index.search("queues")] == ["b#0", "a#0"]
    assert index.search("the and of") == [] and index.search("kubernetes") == []
    assert LexicalIndex([]).search("queues") == []


def test_queries_rank_and_score_as_bm25s_itself_would(notes) -> None:  # type: ignore[no-untyped-def]
    """Queries are tokenised and scored here, not by bm25s's own (slow) query path: the
    passages found and their scores must stay those bm25s gives, or answers would drift."""
    import bm25s

    from knowledge.lexical import _tokens
    from knowledge.passages import build_passages

    passages = build_passages([], notes)
    index = LexicalIndex(passages)
    reference = bm25s.BM25()
    reference.index(_tokens([p.searchable for p in passages]), show_progress=False)
    for query in (
        "What's the difference between SQS and SNS?",
        "jitter, backoff & retries!",
        "DynamoDB GSI vs LSI",
        "how do I rotate secrets-manager keys",
    ):
        every = len(passages)  # all of them: no tie at a cut-off can differ
        ids, scores = reference.retrieve(_tokens([query]), k=every, show_progress=False)
        expected = [
            (int(i), round(float(s), 4)) for i, s in zip(ids[0], scores[0], strict=True) if s > 0
        ]
        found = [(i, round(s, 4)) for i, s in index.search(query, k=every)]
        assert sorted(found, key=lambda f: (-f[1], f[0])) == sorted(
            expected, key=lambda f: (-f[1], f[0])
        ), query
