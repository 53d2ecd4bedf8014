"""`studybot ask` and `studybot eval` from the command line, and the offline hit rate."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from bot.followups import DISCLAIMER, answer_reply
from bot.study import StudyIndex
from knowledge.bank import Bank
from knowledge.embeddings import MiniLMEmbedder
from knowledge.evaluation import evaluate, load_eval
from knowledge.notes import load_notes
from knowledge.vector_index import open_client
from tests.fake_openai import FakeOpenAI, Step
from tests.test_cli import FIXTURE_BANK
from tests.test_cli import studybot as run_studybot

FIXTURE_NOTES = Path(__file__).parent / "fixtures" / "notes"
DEV_EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev_followups.json"


def studybot(
    tmp_path: Path, *args: str, stdin: str = "", **extra: str
) -> subprocess.CompletedProcess[str]:
    """The command on the test bank and notes."""
    fixtures = {"STUDYBOT_BANKS": str(FIXTURE_BANK), "STUDYBOT_NOTES": str(FIXTURE_NOTES)}
    return run_studybot(tmp_path, *args, stdin=stdin, timeout=180, **(fixtures | extra))


def test_ask_json_reads_one_question_per_line(tmp_path: Path) -> None:
    result = studybot(
        tmp_path, "ask", "--json", "-", stdin="What is jitter?\nhow do I bake bread?\n\n"
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["question"] for line in lines] == ["What is jitter?", "how do I bake bread?"]
    jitter, bread = lines
    assert set(jitter) >= {"question", "answer", "sources", "disclaimer", "mode", "covered"}
    assert jitter["covered"] and jitter["mode"] == "extractive"
    assert "note-test-backoff" in [source["id"] for source in jitter["sources"]]
    assert set(jitter["sources"][0]) == {"id", "title", "score"}
    assert not bread["covered"] and bread["sources"] == []
    assert all(line["disclaimer"] == DISCLAIMER for line in lines)


async def test_ask_json_with_a_model_answers_every_line_on_one_event_loop(
    tmp_path: Path,
) -> None:
    """One client across several questions used to die on the second ("Event loop is closed")."""
    server = await FakeOpenAI().start()
    try:
        server.script += [
            Step(text="Jitter randomises each retry wait [note-test-backoff#2]."),
            Step(text="Long polling waits for messages to arrive [note-test-sqs#2]."),
        ]
        model = {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test"}
        stdin = "What is jitter?\nWhat is SQS long polling?\n"
        result = await asyncio.to_thread(
            studybot, tmp_path, "ask", "--json", "-", stdin=stdin, **model
        )
    finally:
        await server.stop()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["mode"] for line in lines] == ["llm", "llm"]
    assert [line["note"] for line in lines] == ["", ""]
    assert "Long polling waits" in lines[1]["answer"]
    assert len(server.requests) == 2


def test_ask_in_plain_text_with_an_exam_filter(tmp_path: Path) -> None:
    result = studybot(tmp_path, "ask", "What is SQS long polling?", "--exam", "clf")
    assert result.returncode == 0, result.stderr
    assert "Sources: note-test-sqs" in result.stdout
    assert DISCLAIMER in result.stdout
    assert studybot(tmp_path, "ask", "x", "--exam", "SAA-C03").returncode == 2


def test_eval_prints_hit_rates_side_by_side(tmp_path: Path) -> None:
    questions = tmp_path / "set.json"
    questions.write_text(
        json.dumps(
            [
                {
                    "q": "What is jitter?",
                    "all": ["random"],
                    "any": ["wait", "sleep"],
                    "sources": ["note-test-backoff"],
                },
                {"q": "What is long polling?", "all": ["wait"], "any": ["empty", "cost"]},
                {"q": "How do I bake bread?", "any": [], "covered": False},
            ]
        )
    )
    result = studybot(tmp_path, "eval", str(questions), "--compare", "--json")
    assert result.returncode == 0, result.stderr
    rows = {row["mode"]: row for row in json.loads(result.stdout)}
    assert set(rows) == {"hybrid", "dense", "lexical"}
    assert rows["lexical"]["hit_rate"] == 1.0
    assert rows["lexical"]["source_recall"] == 1.0
    assert rows["hybrid"]["coverage_correct"] == 3


@pytest.fixture(scope="module")
def shipped_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[StudyIndex, Bank]:
    path = tmp_path_factory.mktemp("shipped-chroma")
    return StudyIndex(load_notes(), MiniLMEmbedder(), lambda: open_client(path)), Bank.load()


@pytest.mark.skipif(not DEV_EVAL.exists(), reason="../shared/eval is not beside this checkout")
def test_offline_answers_hit_the_dev_eval_and_refuse_off_topic(shipped_study) -> None:  # type: ignore[no-untyped-def]
    study, bank = shipped_study
    answerer, _ = study.ensure(bank)
    replies = []

    def answer(question: str) -> tuple[str, bool, list[str]]:
        reply = answer_reply(answerer.extractive(question, answerer.retrieve(question)))
        replies.append(reply)
        return reply.text, reply.covered, [s.id for s in reply.sources]

    result = evaluate(load_eval(DEV_EVAL), answer, "hybrid")
    assert result.hit_rate >= 0.85, result.misses
    assert all(reply.disclaimer == DISCLAIMER for reply in replies)
    for question in ("how do I bake bread?", "who won the world cup?", "write a poem about cats"):
        text, covered, sources = answer(question)
        assert not covered and sources == []


HOLDOUT = Path(__file__).parent / "eval"


def test_offline_answers_hit_our_holdout_set_and_never_quote_a_scenario(shipped_study) -> None:  # type: ignore[no-untyped-def]
    """The held-out set was written without looking at the corpus; a scenario ("A company
    wants...") answers nothing, so answers quote explanations, rationales and notes only."""
    study, bank = shipped_study
    answerer, _ = study.ensure(bank)
    stems = [item.question.split(". ")[0] for item in bank.items()]
    texts = []

    def answer(question: str) -> tuple[str, bool, list[str]]:
        reply = answer_reply(answerer.extractive(question, answerer.retrieve(question)))
        texts.append(reply.text)
        return reply.text, reply.covered, [s.id for s in reply.sources]

    result = evaluate(load_eval(HOLDOUT / "holdout_followups.json"), answer, "hybrid")
    # Back at 0.85 (0.88 measured) now that common questions get their written answers; it
    # was lowered to 0.75 for a while when the composer first quoted one passage instead of
    # the top sentences of five (shorter answers named fewer keywords).
    assert result.hit_rate >= 0.85, result.misses
    off_topic = evaluate(load_eval(HOLDOUT / "offtopic.json"), answer, "hybrid")
    assert off_topic.covered == 0
    quoted = [stem for stem in stems for text in texts if stem in text]
    assert not quoted
