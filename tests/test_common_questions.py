"""Answers written for the questions students commonly type, carried by the study notes."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.study import StudyIndex
from knowledge.answering import sources_of
from knowledge.bank import Bank
from knowledge.compose import compose_extractive
from knowledge.embeddings import MiniLMEmbedder
from knowledge.loader import BankError
from knowledge.notes import load_notes
from knowledge.passages import Passage, note_passages
from knowledge.questions import comparison_sides, question_parts
from knowledge.rerank import EmbeddingSimilarity
from knowledge.retrieval import Hit
from knowledge.vector_index import open_client
from knowledge.written_match import asks_no_more, names_every_side, speaks_of_every_part

FIXTURES = Path(__file__).parent / "fixtures"
DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html"
ANSWER = (
    "A function attached to a VPC sends its traffic through the VPC's private subnets, and "
    "those subnets have no route to the internet of their own. Route them through a NAT "
    "gateway, or reach AWS services through VPC endpoints, and the calls go out again. "
    "Without either, the request waits until the function times out, which is why it "
    "worked before the VPC was attached."
)
NOTE = f"""---
id: note-test-lambda-vpc
title: Lambda functions in a VPC
exams: [DVA-C02]
tags: [lambda, vpc]
references:
  - {DOCS}
reviewed: 2026-11
questions:
  - question: Why does my Lambda function time out calling an API after I attach it to a VPC?
    asked_as:
      - lambda in a vpc cant reach the internet
    answer: >-
      {ANSWER}
    sources:
      - {DOCS}
---
A Lambda function runs in a network that AWS manages, with access to the internet and to
public AWS endpoints. Attaching the function to a VPC lets it reach private resources in that
VPC, such as an RDS database or an ElastiCache cluster, through network interfaces that Lambda
creates in the subnets you choose, with the security groups you choose.

## Memory and timeout
A function's timeout is three seconds unless you set it, and one invocation can run for up to
fifteen minutes. Memory is set between 128 MB and 10,240 MB, and CPU power grows in proportion
to memory, so raising memory also speeds up a function that spends its time computing.

## Execution role
The execution role is the IAM role a function assumes when it runs. Its policies decide which
AWS services and resources the code can call, and the function's logs reach CloudWatch Logs
only when the role allows it to write them.
"""


def write_note(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(FIXTURES / "notes" / "sqs.md", folder / "sqs.md")
    path = folder / "lambda-vpc.md"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("common")
    write_note(root / "notes", NOTE)
    study = StudyIndex(
        load_notes(root / "notes"), MiniLMEmbedder(), lambda: open_client(root / "chroma")
    )
    answerer, _ = study.ensure(Bank.load([FIXTURES / "bank"]))
    return answerer


def ask(answerer, question: str):  # type: ignore[no-untyped-def]
    return answerer.extractive(question, answerer.retrieve(question))


def test_a_question_typed_in_other_words_gets_the_written_answer_whole(answerer) -> None:  # type: ignore[no-untyped-def]
    answer = ask(answerer, "my lambda can't reach the internet since I put it in a VPC, why?")

    assert answer.text == " ".join(ANSWER.split())
    assert [source.id for source in answer.sources] == [DOCS]


def test_another_question_on_the_same_topic_is_answered_from_the_note(answerer) -> None:  # type: ignore[no-untyped-def]
    answer = ask(answerer, "What is the default timeout of a Lambda function?")

    assert "NAT gateway" not in answer.text
    assert "three seconds" in answer.text


def test_a_question_on_how_something_works_is_not_answered_by_a_symptom(answerer) -> None:  # type: ignore[no-untyped-def]
    answer = ask(answerer, "How does a Lambda function attached to a VPC reach the internet?")

    assert answer.text != " ".join(ANSWER.split()), answer.text


def test_a_question_in_two_parts_is_not_answered_by_a_written_answer_to_one(answerer) -> None:  # type: ignore[no-untyped-def]
    question = (
        "Can a Lambda function in a VPC reach the internet, and what role lets it write logs?"
    )
    answer = ask(answerer, question)

    assert answer.text != " ".join(ANSWER.split())
    assert "execution role" in answer.text.lower(), answer.text


def test_a_note_is_cited_by_its_title_even_when_its_common_question_ranked_first() -> None:
    note = load_notes(FIXTURES / "notes")[0]
    section = next(p for p in note_passages(note) if p.kind == "note")
    common = Passage("x#a0", section.source_id, "Why is X?", "Because.", ("DVA-C02",), "", "answer")
    hits = [Hit(passage=common, score=0.9), Hit(passage=section, score=0.8)]

    (source,) = sources_of(hits, [section.source_id])

    assert source.title == note.title and source.score == 0.9


def test_a_malformed_common_question_is_rejected_with_its_line_and_field(tmp_path: Path) -> None:
    short = NOTE.replace(ANSWER, "Route the subnets through a NAT gateway.")
    write_note(tmp_path / "notes", short)

    with pytest.raises(BankError) as raised:
        load_notes(tmp_path / "notes")

    (problem,) = raised.value.problems
    assert problem.file.endswith("lambda-vpc.md")
    assert problem.line == NOTE.splitlines().index("questions:") + 2  # its "- question:" line
    assert problem.field == "questions[1].answer"
    assert "40 to 120 words" in problem.message


def test_a_written_question_matches_however_the_student_spells_hyphens_and_contractions() -> None:
    """'dead letter queue' typed without its hyphen asks what 'dead-letter queue' asks; a
    question naming more ('maximum') or another state or API still asks something else."""
    assert asks_no_more(
        "Why does my dead-letter queue fill up?", "why does my dead letter q fill up"
    )
    assert asks_no_more(
        "Why doesn't my on-demand table scale?", "why does my on demand table not scale"
    )
    assert asks_no_more(
        "Do SCPs apply to the management account?", "does an SCP apply to the management account"
    )
    assert not asks_no_more(
        "What is the maximum visibility timeout?", "What is visibility timeout?"
    )


def test_typed_shorthand_and_spellings_match_the_written_question() -> None:
    """How students type: no apostrophes, shorthand, 'timing out', 'dedup', x-ray without its
    hyphen."""
    typed = [
        ("Why can't I connect to my cache?", "i cannot connect to my cache"),
        ("Why is my CloudFormation stack stuck?", "why is my cloudformation stack stuck"),
        ("x-ray vs cloudwatch vs cloudtrail", "xray vs cloudwatch vs cloudtrail?"),
        (
            "Why use Parameter Store instead of Lambda environment variables?",
            "why parameter store and not lambda env vars",
        ),
        ("lambda timeout calling dynamodb", "my lambda keeps timing out calling dynamodb"),
        ("fifo deduplication", "does fifo dedup messages"),
        (
            "What is the difference between synchronous and asynchronous Lambda invocation?",
            "whats the difference between invoking a lambda synchronously and asynchronously?",
        ),
    ]
    for written_question, student in typed:
        assert asks_no_more(written_question, student), (written_question, student)


def test_a_written_question_naming_another_state_or_one_more_side_asks_something_else() -> None:
    assert not asks_no_more(
        "Why is my CloudFormation stack stuck in ROLLBACK_COMPLETE?",
        "My CloudFormation stack is stuck in UPDATE_ROLLBACK_FAILED, why?",
    )
    assert not asks_no_more("api key vs authorizer api gateway", "What is a Lambda authorizer?")


def written(pid: str, question: str, text: str) -> Hit:
    passage = Passage(pid, pid.split("#")[0], question, text, ("DVA-C02",), "", "answer")
    return Hit(passage=passage, score=1.0)


def quoted(question: str, *hits: Hit) -> tuple[list[str], str]:
    """The ids of the written answers quoted for `question` over `hits`, and the answer."""
    answer = compose_extractive(
        question, list(hits), similarity=EmbeddingSimilarity(MiniLMEmbedder())
    )
    return [p.id for p in answer.written], answer.text


ROLLING = written(
    "note-test-eb#a0",
    "What is the difference between rolling and rolling with additional batch?",
    "Both update instances one batch at a time, but plain rolling takes each batch out of "
    "service while it updates, whereas rolling with additional batch first launches an extra "
    "batch so that full capacity is kept throughout the deployment.",
)
IMMUTABLE = Hit(
    passage=Passage(
        "note-test-eb#2",
        "note-test-eb",
        "Elastic Beanstalk: Immutable deployments",
        "An immutable deployment launches a full set of new instances in a temporary Auto "
        "Scaling group and moves them into the environment only when they pass health checks.",
        ("DVA-C02",),
        "",
        "note",
    ),
    score=0.5,
)


def test_a_written_comparison_missing_a_side_the_student_asked_about_is_not_quoted_whole() -> None:
    vectors = EmbeddingSimilarity(MiniLMEmbedder())
    question = "whats the difference between rolling with additional batch and immutable?"
    answer = compose_extractive(question, [ROLLING, IMMUTABLE], similarity=vectors)

    assert answer.written == ()
    assert "temporary Auto Scaling group" in answer.text, answer.text


IMMUTABLE_WRITTEN = written(
    "note-test-eb#a1",
    "What is an immutable deployment in Elastic Beanstalk?",
    "An immutable deployment launches a complete new set of instances in a temporary Auto "
    "Scaling group, checks their health, and only then moves them into the environment and "
    "removes the old ones, so a failed deployment never touches the running instances.",
)


def test_a_question_in_two_parts_gets_the_written_answer_to_each_in_order() -> None:
    vectors = EmbeddingSimilarity(MiniLMEmbedder())
    question = (
        "What is the difference between rolling and rolling with additional batch, "
        "and what is an immutable deployment in Elastic Beanstalk?"
    )
    answer = compose_extractive(
        question, [IMMUTABLE_WRITTEN, ROLLING, IMMUTABLE], similarity=vectors
    )

    assert answer.text == f"{ROLLING.passage.text}\n\n{IMMUTABLE_WRITTEN.passage.text}"
    assert [p.id for p in answer.written] == ["note-test-eb#a0", "note-test-eb#a1"]


def test_a_rephrasing_tacked_on_with_or_is_no_second_part_to_answer() -> None:
    """'Query vs Scan: is Scan ever right, or is it always wrong?' asks one thing twice."""
    question = "Query vs Scan: is a Scan ever the right answer, or is it always the wrong choice?"
    two = "What does a DynamoDB Scan read, and when should I use a Query instead?"

    assert question_parts(question) == [question]
    assert len(question_parts(two)) == 2


def test_a_follow_on_part_naming_nothing_new_needs_no_answer_of_its_own() -> None:
    """'scalability vs elasticity - aren't those the same? how do I tell which one it wants'
    asks one thing; the second part follows on from the first."""
    parts = question_parts(
        "scalability vs elasticity - aren't those the same thing? how do I tell which one it wants"
    )
    answer = "Scalability adds resources for more load; elasticity also shrinks."
    rolling = f"{ROLLING.passage.title} {ROLLING.passage.text}"

    assert len(parts) == 2
    assert speaks_of_every_part(answer, parts)
    assert not speaks_of_every_part(rolling, parts)


def test_a_side_told_apart_by_many_words_needs_most_of_them_named() -> None:
    """'a Snowball device vs just uploading over the internet or setting up Direct Connect':
    an answer weighing Snowball against uploads and Direct Connect speaks of both sides."""
    sides = comparison_sides(
        "When would you choose a Snowball device instead of just uploading over the internet "
        "or setting up Direct Connect?"
    )
    snowball = replace(
        ROLLING.passage,
        title="When should I use a Snowball device instead of uploading over the internet?",
        text="Ship a Snowball device when uploading over the internet or a Direct Connect link "
        "would take weeks.",
    )

    assert sides is not None and len(sides) == 2
    assert names_every_side(snowball, sides)
    assert not names_every_side(ROLLING.passage, sides)


LAZY_LOADING = written(
    "note-test-cache#a0",
    "What is lazy loading in ElastiCache?",
    "Lazy loading, also called cache-aside, puts data in the cache only when it is asked for. "
    "The application reads the cache first; on a miss it reads the database and writes the "
    "result into the cache for next time, so only requested data is cached.",
)
STALE_CACHE = written(
    "note-test-cache#a1",
    "Why does my application read stale data from ElastiCache?",
    "With lazy loading the cache is filled only on a miss, so a changed record keeps its old "
    "copy in the cache until something removes it. Update the cache whenever you write to the "
    "database, delete the key when the record changes, or give every key a short TTL.",
)
LAZY_LOADING = replace(
    LAZY_LOADING,
    passage=replace(LAZY_LOADING.passage, context="lazy loading\nwhat does lazy loading mean"),
)
STALE_CACHE = replace(
    STALE_CACHE,
    passage=replace(
        STALE_CACHE.passage, context="elasticache stale data\ncache returning old values"
    ),
)


def test_a_student_asking_how_to_fix_a_problem_gets_the_fix_not_a_definition() -> None:
    """A definition reads close to any question naming its subject; asked how to fix stale
    reads, a student learns nothing from being told what lazy loading is."""
    vectors = EmbeddingSimilarity(MiniLMEmbedder())
    question = "With lazy loading my cache keeps serving stale data, how do I fix that?"
    answer = compose_extractive(question, [LAZY_LOADING, STALE_CACHE], similarity=vectors)

    assert [p.id for p in answer.written] == ["note-test-cache#a1"], answer.text


ENVELOPE_SECTION = Hit(
    passage=Passage(
        "note-test-kms#1",
        "note-test-kms",
        "AWS KMS: Envelope encryption",
        "GenerateDataKey returns a data key twice, in plaintext and encrypted under the KMS key. "
        "Encrypt the data locally with the plaintext key, then store the encrypted key beside "
        "the ciphertext.",
        ("DVA-C02",),
        "",
        "note",
    ),
    score=1.0,
    dense=0.7,
)
WHY_DATA_KEY = replace(
    written(
        "note-test-kms#a0",
        "Why use envelope encryption with GenerateDataKey instead of calling KMS Encrypt directly?",
        "Because Encrypt takes at most 4 KB and sends the data itself to KMS, while "
        "GenerateDataKey lets you encrypt data of any size locally with one call per data key.",
    ),
    dense=0.6,
)


SSE_COMPARISON = written(
    "note-test-s3#a0",
    "What is the difference between SSE-S3 and SSE-KMS?",
    "They differ in who manages the key. SSE-S3 keys are managed by S3 for you, while SSE-KMS "
    "keys live in AWS KMS, where a key policy controls who can decrypt and each use is logged.",
)
WHY_SSE_KMS = written(
    "note-test-s3#a1",
    "Why is SSE-KMS the answer for an audit trail of key use and not SSE-S3?",
    "Because every use of a KMS key is recorded in CloudTrail, while SSE-S3 keys are handled "
    "inside S3 and leave no record of their use that you can see.",
)


ROOT_SECTION = Hit(
    passage=Passage(
        "note-test-root#1",
        "note-test-root",
        "Root user: Protecting it",
        "Protect the root user with MFA, never give it access keys, and use other identities "
        "for daily work. Only a few tasks, such as closing the account, need root.",
        ("CLF-C02",),
        "",
        "note",
    ),
    score=1.0,
    dense=0.6,
)
ROOT_DAILY = replace(
    written(
        "note-test-root#a0",
        "Why is using the root user for daily tasks risky even with MFA turned on?",
        "MFA only protects the moment of sign-in; it does nothing to limit what happens once "
        "the root session is open, and that session can do anything in the account. No IAM "
        "policy can restrict the root user, so a mistaken click or a hijacked session can "
        "delete resources or close the account with nothing to stop it.",
    ),
    dense=0.75,
)


BILLING = written(
    "note-test-org#a0",
    "How does consolidated billing work in AWS Organizations?",
    "Consolidated billing gives the management account one bill for every account in the "
    "organization. AWS adds up the usage of all the accounts, so volume pricing tiers are "
    "reached sooner and the discounts are shared across the accounts.",
)
SHARED_DISCOUNTS = written(
    "note-test-org#a1",
    "Are volume discounts shared across accounts in an organization?",
    "Yes. With consolidated billing, AWS combines the usage of all accounts in the "
    "organization, so volume discounts and pricing tiers apply to the total and are shared "
    "across the accounts on the one bill.",
)


@pytest.mark.parametrize(
    ("question", "hits", "expected"),
    [
        # a note section reads closer to "why X and not Y?" but speaks only of X; the written
        # answer weighing both is quoted rather than sentences stitched from the note
        pytest.param(
            "Why is the answer GenerateDataKey and not just calling Encrypt? The file is only "
            "about 10 KB.",
            (ENVELOPE_SECTION, WHY_DATA_KEY),
            "note-test-kms#a0",
            id="both-sides-beat-a-closer-section",
        ),
        # "why X and not Y?" asks for the reason X wins, not for a comparison of the two
        pytest.param(
            "why is the answer SSE-KMS and not SSE-S3 when the requirement says they need an "
            "audit trail of when the key was used?",
            (SSE_COMPARISON, WHY_SSE_KMS),
            "note-test-s3#a1",
            id="a-why-not-the-difference",
        ),
        # no written answer names both sides as the student put them, but the one asking why
        # root is not for daily work answers it
        pytest.param(
            "The question asked about the root user and the answer was enable MFA and don't use "
            "it for daily tasks. Why not just give it a strong password and use it since it has "
            "all permissions anyway?",
            (ROOT_SECTION, ROOT_DAILY),
            "note-test-root#a0",
            id="a-why-whose-sides-no-answer-names",
        ),
        # each part has its own written answer, but the first answers both and the second
        # says it again: a student reads that as one answer repeated
        pytest.param(
            "How does consolidated billing work in AWS Organizations, and do the volume "
            "discounts get shared across accounts?",
            (BILLING, SHARED_DISCOUNTS),
            "note-test-org#a0",
            id="two-alike-answers-become-one",
        ),
    ],
)
def test_the_written_answer_a_student_would_want_is_quoted_alone(
    question: str, hits: tuple[Hit, ...], expected: str
) -> None:
    ids, text = quoted(question, *hits)

    assert ids == [expected], text
