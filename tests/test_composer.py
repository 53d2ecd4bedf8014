"""The offline composer: one explanation from the passages that answer, not a collage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from knowledge.compose import compose_extractive
from knowledge.embeddings import MiniLMEmbedder
from knowledge.evaluation import sentence_counts
from knowledge.passages import Passage
from knowledge.rerank import EmbeddingSimilarity
from knowledge.retrieval import Hit
from tests.test_common_questions import written


def note(pid: str, text: str, kind: str = "note", context: str = "") -> Hit:
    passage = Passage(
        id=pid,
        source_id=pid.split("#")[0],
        title=pid,
        text=text,
        exams=("DVA-C02",),
        domain="development",
        kind=kind,
        context=context,
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


def test_a_cheat_sheet_line_that_answers_stays_on_its_own_line() -> None:
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


def test_cheat_sheet_lines_about_other_symptoms_are_left_out() -> None:
    answer = compose_extractive("What does a dead-letter queue keep?", [CHEAT])

    assert "A dead-letter queue keeps failing messages" in answer.text
    assert "→" not in answer.text, answer.text


def test_an_answer_is_never_made_of_trap_lines() -> None:
    trap = note(
        "dva-sec-007#t",
        "Exam trap: Assuming KMS Encrypt can handle any payload size; the 4 KB limit forces "
        "envelope encryption. Takeaway: Large data is encrypted locally with a data key.",
        kind="trap",
    )
    kms = note(
        "note-kms#2",
        "KMS Encrypt accepts at most 4 KB of data. Envelope encryption calls GenerateDataKey, "
        "encrypts the data locally with the plaintext data key and stores the encrypted key.",
    )
    answer = compose_extractive("How does KMS envelope encryption work?", [trap, kms])

    assert "Exam trap" not in answer.text and "Takeaway:" not in answer.text
    assert "GenerateDataKey" in answer.text


def test_no_sentence_about_an_items_scenario_is_quoted() -> None:
    explanation = note(
        "clf-con-002#q",
        "Buying servers is a capital expense that the startup must make up front. With cloud "
        "computing you pay only for the resources you consume, which AWS calls trading fixed "
        "expense for variable expense. Here the freshness requirement rules out the other "
        "choices. The other advantages are real, but they describe speed and reach.",
        kind="question",
        context="A new startup does not want to spend its funding on servers up front.",
    )
    answer = compose_extractive(
        "What does trading fixed expense for variable expense mean?", [explanation]
    )

    assert "pay only for the resources you consume" in answer.text
    for scenario in ("the startup", "Here the", "The other advantages"):
        assert scenario not in answer.text, answer.text


def test_each_part_of_a_two_part_question_is_answered() -> None:
    envelope = note(
        "note-kms#2",
        "Envelope encryption calls GenerateDataKey, encrypts the data locally with the "
        "plaintext data key and stores the encrypted data key beside the ciphertext.",
    )
    limit = note(
        "note-kms#3",
        "The KMS Encrypt API accepts at most 4 KB of plaintext, so a large file cannot be "
        "sent to Encrypt directly.",
    )
    answer = compose_extractive(
        "How does envelope encryption work, and why can't I call KMS Encrypt on a large file?",
        [envelope, KINESIS, limit],
    )

    assert "GenerateDataKey" in answer.text and "at most 4 KB" in answer.text
    assert "Kinesis" not in answer.text


def test_a_sentence_already_given_is_not_repeated() -> None:
    short = note(
        "dva-trb-021#q",
        "When a consumer receives a message, SQS hides it for the visibility timeout.",
    )
    longer = note(
        "dva-dev-006#q",
        "When a consumer receives a message, SQS hides it for the visibility timeout. If the "
        "consumer does not delete the message in time, it becomes visible again.",
    )
    answer = compose_extractive("What does the SQS visibility timeout do?", [short, longer])

    assert answer.text.count("SQS hides it for the visibility timeout") == 1, answer.text
    assert "becomes visible again" in answer.text


JITTER = note(
    "note-retries#1",
    "Exponential backoff doubles the wait before each retry, up to a cap, so a struggling "
    "service gets time to recover before the next attempt arrives from the client. "
    "Jitter adds randomness to each wait. "
    "Without it, clients that failed together retry together, in synchronized waves. "
    "Spreading the retries out lowers the peak load on the service and the total time. "
    "The AWS SDKs apply both by default, and the retry mode setting chooses how they do it.",
)


def test_a_bare_definition_reads_on_into_its_own_explanation() -> None:
    """'What is jitter?' answered with 'Jitter adds randomness to each wait.' says what, not
    why: the sentences right after it, in the writer's order, come with it."""
    answer = compose_extractive("What is jitter?", [JITTER])

    assert answer.text.startswith("Jitter adds randomness to each wait.")
    assert "retry together, in synchronized waves" in answer.text


SPOT = note(
    "note-pricing#3",
    "Spot Instances use spare EC2 capacity at discounts of up to 90% compared with On-Demand. "
    "AWS can reclaim them with a two-minute interruption notice, so they suit fault-tolerant, "
    "flexible, stateless work: batch jobs, big data, CI builds, image rendering, and "
    "containers. They are a poor fit for databases or anything that cannot be interrupted.",
)
SPOT_AGAIN = note(
    "clf-bil-001#q",
    "Spot Instances use spare EC2 capacity at a steep discount. In return, EC2 can reclaim "
    "a Spot Instance when it needs the capacity back, giving a two-minute warning. Spot is a "
    "great fit for fault-tolerant, flexible work such as batch processing, rendering or CI "
    "jobs that can pause and resume.",
)


@pytest.fixture(scope="module")
def vectors() -> EmbeddingSimilarity:
    return EmbeddingSimilarity(MiniLMEmbedder())


def test_a_second_passage_retelling_the_first_is_left_out(vectors) -> None:  # type: ignore[no-untyped-def]
    question = "When does it make sense to use Spot Instances, and when should I avoid them?"
    answer = compose_extractive(question, [SPOT, SPOT_AGAIN], similarity=vectors)

    assert "poor fit for databases" in answer.text
    assert "two-minute warning" not in answer.text and "In return" not in answer.text, answer.text
    assert "great fit" not in answer.text, answer.text


def test_a_sentence_whose_pronoun_points_at_a_scenario_never_shown_is_left_out() -> None:
    stem = "A new startup does not want to spend a large amount of its funding on servers."
    explanation = note(
        "clf-con-002#q",
        "The startup would otherwise buy servers before knowing its demand. With cloud "
        "computing it can instead pay only when it consumes resources. Variable expense "
        "means paying only for what you use, so cost follows demand instead of a guessed peak.",
        kind="question",
        context=stem,
    )
    answer = compose_extractive(
        "Why is trading fixed expense for variable expense a benefit?",
        [explanation],
        stems={"clf-con-002": stem},
    )

    assert "cost follows demand" in answer.text
    assert "it can instead pay" not in answer.text, answer.text


def test_a_passage_whose_only_sentence_points_at_nothing_gives_way_to_the_next() -> None:
    """'With cloud computing it can instead pay...' has an "it" never shown: rather than an
    empty answer, the next passage answers."""
    lone = note(
        "clf-con-002#q",
        "With cloud computing it can instead pay only when it consumes resources, which AWS "
        "calls trading fixed expense for variable expense.",
    )
    plain = note(
        "note-pricing#0",
        "Paying only for what you use, instead of buying servers up front, means no capacity "
        "sits idle and no money is spent on guesses about demand.",
    )
    answer = compose_extractive(
        "Why is trading fixed expense for variable expense a benefit of cloud computing?",
        [lone, plain],
    )

    assert "no capacity sits idle" in answer.text, answer.text


def test_a_notes_written_answers_do_not_lift_its_other_sections_above_the_one_found() -> None:
    """Written answers of the TTL note rank first but are not quoted; the note's TTL
    section, which retrieval found, answers rather than its Streams section beside it."""

    def answer(pid: str) -> Hit:
        written = note(pid, "Why are expired items still in my DynamoDB table?", "answer")
        return Hit(passage=written.passage, score=1.0, dense=0.6)

    streams = note(
        "note-ddb#1",
        "When a stream is enabled, DynamoDB writes a time-ordered record for every insert, "
        "update and delete. Each change appears once, in order for a given item, and records "
        "are kept for 24 hours. The usual consumer is an AWS Lambda function attached through "
        "an event source mapping, which polls the stream shards and invokes the function.",
    )
    ttl = note(
        "note-ddb#2",
        "To use TTL, pick an attribute name and store on each item a Number holding the expiry "
        "time in Unix epoch seconds. Items without the attribute never expire. A background "
        "process deletes expired items, typically within a few days of expiry rather than at "
        "the exact second. TTL deletions do not consume write capacity.",
    )
    other = note("dva-x#o3", "A DynamoDB table named Orders stores one item per order.", "option")
    hits = [answer("note-ddb#a0"), answer("note-ddb#a1"), answer("note-ddb#a2"), other, ttl]
    composed = compose_extractive(
        "How do I make a DynamoDB item disappear automatically after 30 days?",
        [*hits, Hit(passage=streams.passage, score=0.0)],
        similarity=EmbeddingSimilarity(MiniLMEmbedder()),
    )

    assert composed.text.startswith("To use TTL"), composed.text


TWICE = Hit(
    passage=Passage(
        "note-test-sqs#a0",
        "note-test-sqs",
        "Why does my SQS consumer receive the same message twice?",
        "Most often the visibility timeout is shorter than the time your consumer needs: the "
        "message becomes visible again before it is deleted, and another receive picks it up. "
        "Set the timeout above the longest processing time and delete each message once done.",
        ("DVA-C02",),
        "",
        "answer",
    ),
    score=1.0,
)
VISIBILITY = Hit(
    passage=Passage(
        "note-test-sqs#1",
        "note-test-sqs",
        "Amazon SQS: Visibility timeout",
        "The visibility timeout hides a received message from other consumers for 30 seconds "
        "by default, up to 12 hours. A consumer deletes the message when done; otherwise it "
        "becomes visible again. Long polling waits up to 20 seconds for messages to arrive.",
        ("DVA-C02",),
        "",
        "note",
    ),
    score=0.5,
)


def test_the_nearest_written_answer_is_quoted_rather_than_note_sentences(vectors) -> None:  # type: ignore[no-untyped-def]
    """No written answer asks this exactly, but the one on messages received twice is near
    (0.73): whole, it says why, where the note's sentences only say what the timeout is."""
    question = "why would an sqs message show up again after a worker already took it"

    answer = compose_extractive(question, [TWICE, VISIBILITY], similarity=vectors)

    assert answer.text == TWICE.passage.text, answer.text


def test_a_note_section_retrieval_found_closer_is_stitched_instead_of_the_nearest(vectors) -> None:  # type: ignore[no-untyped-def]
    """Retrieval read the note's section closer to the question than the written answer: the
    note holds the answer, and the written one was written for a neighbouring question."""
    question = "why would an sqs message show up again after a worker already took it"
    twice, note = replace(TWICE, dense=0.55), replace(VISIBILITY, dense=0.71)

    answer = compose_extractive(question, [twice, note], similarity=vectors)

    assert answer.written == ()
    assert "becomes visible again" in answer.text, answer.text


TASK_ROLE = written(
    "note-test-ecs#a0",
    "How do I give an ECS task permission to read or write an S3 bucket?",
    "Use a task role, which does for a task what an instance profile does for an EC2 "
    "instance. Create an IAM role that ECS tasks can assume, allow the S3 actions on the "
    "bucket, and set it as the task definition's taskRoleArn; the SDK in the container then "
    "picks up temporary credentials, so no access keys go into the image.",
)
INSTANCE_PROFILE = written(
    "note-test-ecs#a1",
    "What is an EC2 instance profile?",
    "An EC2 instance profile is a container for one IAM role that lets you attach that role "
    "to an EC2 instance, whose SDK then fetches the role's temporary credentials.",
)


def test_a_part_asking_no_definition_gets_none_beside_the_answer(vectors) -> None:  # type: ignore[no-untyped-def]
    """ "I know EC2 instance profiles" asks nothing about what one is: its definition beside
    the answer on task roles would read as a glossary entry stitched on."""
    question = (
        "I'm an ops person and I know EC2 instance profiles, but how do I give an ECS task "
        "permission to write to S3?"
    )

    answer = compose_extractive(question, [TASK_ROLE, INSTANCE_PROFILE], similarity=vectors)

    assert answer.text == TASK_ROLE.passage.text, answer.text
