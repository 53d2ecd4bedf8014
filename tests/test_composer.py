"""The offline composer: one explanation from the passages that answer, not a collage."""

from __future__ import annotations

from knowledge.compose import compose_extractive
from knowledge.evaluation import sentence_counts
from knowledge.passages import Passage
from knowledge.retrieval import Hit


def note(pid: str, text: str) -> Hit:
    passage = Passage(
        id=pid,
        source_id=pid.split("#")[0],
        title=pid,
        text=text,
        exams=("DVA-C02",),
        domain="development",
        kind="note",
    )
    return Hit(passage=passage, score=1.0)


SNS = note(
    "note-sns#0",
    "Amazon SNS is a publish/subscribe service. A topic pushes each message to every subscriber.",
)
SQS = note(
    "note-sqs#0",
    "Amazon SQS is a message queue. Consumers poll the queue and delete each message they process.",
)
KINESIS = note(
    "note-kinesis#0",
    "Kinesis Data Streams keeps an ordered stream of records in shards for several consumers.",
)
CHEAT = note(
    "note-sqs#4",
    "Amazon SQS lets consumers work at their own pace and keeps messages until deleted.\n"
    '- "Messages processed twice" → raise the visibility timeout.\n'
    '- "Poison message loops" → add a dead-letter queue.\n'
    "A dead-letter queue keeps failing messages for inspection after several receives.",
)


def test_a_comparison_question_gets_a_part_for_each_side() -> None:
    answer = compose_extractive("What is the difference between SNS and SQS?", [SNS, KINESIS, SQS])

    assert "pushes each message" in answer.text and "Consumers poll" in answer.text
    assert "Kinesis" not in answer.text


def test_a_comparison_says_which_side_the_material_does_not_cover() -> None:
    answer = compose_extractive("SQS vs Amazon MQ: which one should I pick?", [SQS, KINESIS])

    assert "Consumers poll the queue" in answer.text
    assert "The study material does not cover Amazon MQ." in answer.text


def test_an_arrow_line_is_never_inside_a_paragraph() -> None:
    answer = compose_extractive("Why are SQS messages processed twice by consumers?", [CHEAT])

    lines = answer.text.splitlines()
    arrows = [line for line in lines if "→" in line]
    assert arrows, answer.text
    assert all(line.startswith("- ") and line.count("→") == 1 for line in arrows)


def test_sentences_come_from_at_most_two_passages() -> None:
    hits = [SQS, CHEAT, SNS, KINESIS]
    answer = compose_extractive("How do SQS consumers handle each message?", hits)

    assert 1 <= len(answer.passage_ids) <= 2
    graded = [h.passage.text for h in hits if h.passage.id in answer.passage_ids]
    found, total = sentence_counts(answer.text, graded)
    assert total and found == total


def test_partly_covers_names_the_missing_key_term() -> None:
    answer = compose_extractive("How does SQS work with Lambda?", [SQS])

    assert (
        "The study material only partly covers this: it says nothing about Lambda." in answer.text
    )


def test_the_sentence_share_counts_sentences_outside_the_graded_passages() -> None:
    text = f"{SQS.passage.text} {KINESIS.passage.text}"

    assert sentence_counts(text, [SQS.passage.text]) == (2, 3)
