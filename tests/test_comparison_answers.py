"""Comparisons answered from written answers: one per side when none weighs every side, and
sides named only in the message's context ("...but I thought CloudWatch. Why them?")."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.study import StudyIndex
from knowledge.bank import Bank
from knowledge.embeddings import MiniLMEmbedder
from knowledge.notes import load_notes
from knowledge.passages import Passage
from knowledge.questions import comparison_sides, question_parts
from knowledge.rerank import EmbeddingSimilarity
from knowledge.vector_index import open_client
from knowledge.written_match import (
    defines_one_side,
    is_trouble,
    opens_as_asked,
    same_question,
    speaks_of_every_part,
)

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG_DOCS = "https://docs.aws.amazon.com/config/latest/developerguide/WhatIsConfig.html"
INSPECTOR_DOCS = "https://docs.aws.amazon.com/inspector/latest/user/what-is-inspector.html"
TRAIL_DOCS = "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-user-guide.html"
CONFIG_VS_ADVISOR = (
    "AWS Config records how each of your resources is configured over time and checks that "
    "configuration against rules you choose, while Trusted Advisor runs checks that AWS "
    "defines across cost, performance, security, fault tolerance and service limits. Use "
    "Config to prove a resource follows your own rules and to see what changed; use Trusted "
    "Advisor for AWS's best-practice recommendations on the account as a whole."
)
INSPECTOR = (
    "Amazon Inspector scans EC2 instances, container images in Amazon ECR and Lambda functions "
    "for known software vulnerabilities and unintended network exposure, and gives each "
    "finding a risk score. It runs continuously once turned on and rescans when a new "
    "vulnerability is published. Pick Inspector when a question is about known CVEs in the "
    "software your own workloads run."
)
ROLE_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html"
EXECUTION_ROLE = (
    "A Lambda execution role is the IAM role Lambda assumes when it runs your function: its "
    "trust policy lets the Lambda service assume it, and its permission policies decide which "
    "AWS services and resources the function's code may call, such as writing logs to "
    "CloudWatch Logs or reading one S3 bucket. Pick the execution role whenever the question "
    "is about what the function itself is allowed to do."
)
TRAIL_WATCH_CONFIG = (
    "CloudTrail records who did what in the account: every API call, with the identity that "
    "made it, the time, the source IP address and the result, which is what an audit needs. "
    "CloudWatch watches how resources and applications behave, through metrics, logs, alarms "
    "and dashboards. AWS Config records how each resource is configured over time. Ask "
    "CloudTrail who deleted a security group, CloudWatch why CPU stayed at 90 percent, and "
    "Config what the group's rules were last week."
)
BODY = """
## What it is
{name} is one of the services a team uses to keep an AWS account healthy and safe. It works
across the resources of an account and reports what it finds in the console, through its API
and as events that other services can act on, so that people and automation can respond to
what it reports without logging in to every resource one by one.

## How it is priced
It is priced by how much it evaluates or records, with no upfront commitment, and it can be
turned on for a whole organization from a delegated administrator account. Findings and
records are kept for a period that the service documents and can be exported to Amazon S3 for
longer retention or for analysis in other tools.

## Where it fits
Governance questions on the exam often set it beside its neighbours; what tells them apart is
what each one looks at: configuration, API activity, performance, best practices or software
vulnerabilities. Reading what each one looks at is usually enough to pick the right one.
"""


def note(note_id: str, name: str, question: str, answer: str, docs: str, also: str = "") -> str:
    asked_as = f"\n    asked_as:\n      - {also}" if also else ""
    return f"""---
id: {note_id}
title: {name}
exams: [CLF-C02]
tags: [governance]
references:
  - {docs}
reviewed: 2026-11
questions:
  - question: {question}{asked_as}
    answer: >-
      {answer}
    sources:
      - {docs}
---
{BODY.format(name=name)}"""


def answerer_over(root: Path, written: dict[str, tuple[str, ...]]):  # type: ignore[no-untyped-def]
    """An answerer over a note per written answer (title, question, answer, docs[, also])
    and the fixture bank, indexed with the bundled model."""
    notes = root / "notes"
    notes.mkdir()
    for name, fields in written.items():
        (notes / f"{name}.md").write_text(note(f"note-{name}", *fields), encoding="utf-8")
    study = StudyIndex(load_notes(notes), MiniLMEmbedder(), lambda: open_client(root / "chroma"))
    answerer, _ = study.ensure(Bank.load([FIXTURES / "bank"]))
    return answerer


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    written = {
        "aws-config": (
            "AWS Config",
            "What is the difference between AWS Config and Trusted Advisor?",
            CONFIG_VS_ADVISOR,
            CONFIG_DOCS,
            "",
        ),
        "inspector": (
            "Amazon Inspector",
            "What is Amazon Inspector?",
            INSPECTOR,
            INSPECTOR_DOCS,
            "",
        ),
        "cloudtrail": (
            "AWS CloudTrail",
            "What is the difference between CloudTrail, CloudWatch and AWS Config?",
            TRAIL_WATCH_CONFIG,
            TRAIL_DOCS,
            "cloudtrail vs cloudwatch",
        ),
        "lambda": (
            "AWS Lambda",
            "What is a Lambda execution role?",
            EXECUTION_ROLE,
            ROLE_DOCS,
            "lambda execution role",
        ),
    }
    return answerer_over(tmp_path_factory.mktemp("comparisons"), written)


def ask(answerer, question: str):  # type: ignore[no-untyped-def]
    return answerer.extractive(question, answerer.retrieve(question))


def test_a_three_way_comparison_gets_a_written_answer_for_every_side(answerer) -> None:  # type: ignore[no-untyped-def]
    """No written answer weighs all three: the one on Config and Trusted Advisor, then the
    one on Inspector, each whole and in the order asked, citing both pages."""
    answer = ask(answerer, "aws config vs trusted advisor vs inspector... which one checks what")

    assert answer.text == f"{CONFIG_VS_ADVISOR}\n\n{INSPECTOR}", answer.text
    assert [source.id for source in answer.sources] == [CONFIG_DOCS, INSPECTOR_DOCS]


def test_sides_named_only_in_the_context_find_the_written_comparison(answerer) -> None:  # type: ignore[no-untyped-def]
    question = (
        "The practice question asked which service records who made API calls and the answer "
        "was CloudTrail, but I thought CloudWatch did that. What's the actual difference "
        "between them?"
    )

    assert ask(answerer, question).text == TRAIL_WATCH_CONFIG


def test_a_side_with_no_written_answer_is_not_passed_over(answerer) -> None:  # type: ignore[no-untyped-def]
    """GuardDuty has no written answer and no note: the two written answers found are not
    offered as if they weighed it."""
    answer = ask(answerer, "inspector vs guardduty vs aws config which one finds threats")

    assert CONFIG_VS_ADVISOR not in answer.text
    assert "does not cover guardduty" in answer.text, answer.text


def test_a_definition_is_not_given_for_a_question_about_something_else(answerer) -> None:  # type: ignore[no-untyped-def]
    """Its few words read close to many questions: "What is a Lambda execution role?" is no
    answer to when Lambda reuses its execution environment."""
    answer = ask(answerer, "When does Lambda reuse the execution environment?")

    assert EXECUTION_ROLE not in answer.text


def test_a_definition_of_one_side_is_not_given_for_the_comparison() -> None:
    """The answer to "What is Enterprise Support?" speaks of business-critical systems, but
    it answers "business vs enterprise support" only in part."""
    sides = ("business", "enterprise support plan")
    question = "business vs enterprise support plan - how do i tell which one the question wants?"
    enterprise = Passage(
        id="note-support#a1",
        source_id="note-support",
        kind="answer",
        exams=("CLF-C02",),
        domain="billing",
        title="What is Enterprise Support?",
        text="Enterprise Support gives a designated TAM and a 15-minute response when a "
        "business-critical system is down.",
    )
    both = replace(enterprise, title="When do I need Enterprise Support instead of Business?")

    assert defines_one_side(enterprise, question, sides)
    assert not defines_one_side(both, question, sides)


@pytest.mark.parametrize(
    ("question", "sides"),
    [
        (
            "How do I estimate what it will cost? Is that Cost Explorer or the Pricing Calculator?",
            ("Cost Explorer", "Pricing Calculator"),
        ),
        (
            "When should a company pay for Enterprise Support instead of Business Support?",
            ("Enterprise Support", "Business Support"),
        ),
        (
            "aws config vs trusted advisor vs inspector... im so confused",
            ("aws config", "trusted advisor", "inspector"),
        ),
        (
            "rolling vs rolling with additional batch vs immutable",
            ("rolling", "rolling with additional batch", "immutable"),
        ),
        ("I picked Amazon SQS but the answer was SNS. Which one is for fan-out?", ("SQS", "SNS")),
        (
            "how do we move 80 TB when our internet is slow? snowball, snowmobile or datasync",
            ("snowball", "snowmobile", "datasync"),
        ),
        (
            "could i have caught it sooner, budgets or cost anomaly detection or something else",
            ("budgets", "cost anomaly detection"),
        ),
        (
            "cloudtrail vs cloudwatch vs config i always mix these up. which one tells me who",
            ("cloudtrail", "cloudwatch", "config"),
        ),
        (
            "what is an edge location actually? is it the same thing as a local zone or a "
            "regional edge cache",
            ("edge location", "local zone", "regional edge cache"),
        ),
        ("Is a GSI different from an LSI in how it uses capacity?", ("GSI", "LSI")),
        ("whats the diff between an alias and a version?", ("alias", "version")),
        (
            "The answer was Secrets Manager, but I thought SSM Parameter Store does the same "
            "thing. What's actually the difference?",
            ("Secrets Manager", "SSM Parameter Store"),
        ),
        (
            "I picked Cost Explorer for estimating a new workload, but the answer was Pricing "
            "Calculator. Why is Cost Explorer wrong there?",
            ("Cost Explorer", "Pricing Calculator"),
        ),
        (
            "Why is PrivateLink the answer here and not a VPC endpoint? I thought those were "
            "the same thing.",
            ("PrivateLink", "VPC endpoint"),
        ),
        (
            "Why was Macie the correct answer and not GuardDuty? I thought GuardDuty also "
            "monitors S3.",
            ("Macie", "GuardDuty"),
        ),
        ("Why is my Lambda function not picking up messages from the queue?", None),
        (
            "The answer was DynamoDB Query, not Scan. What's the difference in RCUs?",
            ("DynamoDB Query", "Scan"),
        ),
        (
            "Why is increasing the visibility timeout the fix here and not increasing the "
            "retention period?",
            ("increasing the visibility timeout", "increasing the retention period"),
        ),
        (
            "how do you connect a vpc to the internet, internet gateway or nat gateway? i always "
            "pick the wrong one",
            ("internet gateway", "nat gateway"),
        ),
        ("why is the answer 10 RCU and not 20? i rounded up", None),
        (
            "I keep mixing up AWS Organizations and AWS Control Tower. When would a company "
            "use one vs the other?",
            ("Organizations", "Control Tower"),
        ),
        ("Can I use Lambda or do I need EC2?", None),
        ("Is consolidated billing just one bill or is there a real discount?", None),
        ("one bill for all our accounts, is that organizations or something else", None),
        ("I set up a NAT gateway. Why does my Lambda function still time out?", None),
        # the answer named after "why is the answer", and a pick without "I"
        (
            "Why is the answer Route 53 and not CloudFront for sending users to the region "
            "with the lowest latency?",
            ("Route 53", "CloudFront"),
        ),
        (
            "picked API Gateway caching, answer was DAX. why dax if the api just reads from "
            "dynamo anyway??",
            ("API Gateway caching", "DAX"),
        ),
        (
            "Why is the answer GenerateDataKey and not just calling Encrypt? The file is "
            "only about 10 KB.",
            ("GenerateDataKey", "Encrypt"),
        ),
        # the side is what follows the clause before "vs"
        (
            "what is the appspec file and what goes in it for EC2 deployments vs Lambda "
            "deployments",
            ("EC2 deployments", "Lambda deployments"),
        ),
        ("why is the answer the Reliability pillar? it sounded like ops to me", None),
        # "why X and not Y" with no pick named, and no question mark
        (
            "why dynamodb streams + lambda and not TTL for the 'react to every item change' "
            "question",
            ("dynamodb streams + lambda", "TTL"),
        ),
        (
            "why was the answer an IAM role and not an IAM group for giving an app on ec2 "
            "access to s3",
            ("IAM role", "IAM group"),
        ),
        (
            "why buildspec.yml and not appspec.yml here?? i always mix up which file goes with "
            "codebuild vs codedeploy",
            ("buildspec.yml", "appspec.yml"),
        ),
        (
            "Why is lift-and-shift called 'rehost' and not 'relocate'? What is relocate even "
            "for then?",
            ("rehost", "relocate"),
        ),
        (
            "why would a company deploy across multiple AZs instead of multiple regions for "
            "high availability",
            ("multiple AZs", "multiple regions"),
        ),
        ("why does my lambda time out and not return an error", None),
    ],
)
def test_what_a_comparison_weighs(question: str, sides: tuple[str, ...] | None) -> None:
    assert comparison_sides(question) == sides


def test_what_am_i_missing_is_no_part_of_its_own() -> None:
    """It asks for the cause of what the student described, not about something new."""
    question = "my api returns 502 but the lambda logs say it succeeded?? what am i missing"

    assert question_parts(question) == [question.removesuffix(" what am i missing")]


def test_a_tam_is_a_technical_account_manager() -> None:
    """A part asking about "the dedicated TAM" is spoken of by an answer naming the
    designated Technical Account Manager."""
    parts = ["When should I pay for Enterprise Support?", "Is the dedicated TAM the difference?"]
    said = (
        "Pay for Enterprise Support when outages are costly: it adds a designated Technical "
        "Account Manager who knows your environment."
    )

    assert speaks_of_every_part(said, parts)


def test_a_fairly_close_question_needs_three_fifths_of_what_the_written_one_names() -> None:
    """Between 0.70 and 0.78 of cosine, "initialize the SDK client outside the handler, why
    does that matter?" is the written question on clients and connections outside the
    handler; "an ECS task reading S3" is not the CDK's "Lambda reading S3"."""
    similarity = EmbeddingSimilarity(MiniLMEmbedder())
    typed = (
        "The explanation said to initialize the SDK client outside the Lambda handler. "
        "Why does that matter if the function works fine either way?"
    )
    written = "Why should I create SDK clients and database connections outside the Lambda handler?"
    ecs = (
        "How do I give an ECS task permission to read from an S3 bucket without putting "
        "access keys in the container or environment variables?"
    )
    cdk = "How do I give a Lambda function permission to read an S3 bucket in the CDK?"
    close, other = similarity([typed, ecs], [written, cdk])[0][0], similarity([ecs], [cdk])[0][0]

    assert 0.70 <= close < 0.78 and 0.70 <= other < 0.78  # the band this tier reads
    assert same_question(close, written, typed, similarity)
    assert not same_question(other, cdk, ecs, similarity)


CONCURRENCY_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/provisioned-concurrency.html"
ENVIRONMENT_DOCS = "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html"
PROVISIONED = (
    "Provisioned concurrency keeps a number of execution environments initialized before "
    "requests arrive, so the calls they serve start without a cold start. It is set on a "
    "published version or an alias and billed for as long as it is configured, so it pays "
    "off for latency-sensitive APIs with steady or predictable traffic."
)
COLD_START = (
    "A cold start happens when Lambda must create a new execution environment before running "
    "your handler: it downloads the code, starts the runtime and runs your initialization "
    "code. That happens on the first request, when traffic scales out to more environments, "
    "and after an idle environment was recycled; warm requests reuse one and skip it."
)
RESERVED = (
    "Reserved concurrency sets aside part of the account's concurrency for one function, "
    "guaranteeing it that many concurrent executions and capping it there. Other functions "
    "cannot use the reserved share, and it costs nothing extra. Use it to protect a critical "
    "function from busy neighbours or to limit the load it puts on a database."
)
RESERVED_VS_PROVISIONED = (
    "Reserved concurrency decides how many environments a function may use; provisioned "
    "concurrency decides how many are already warm. Reserving sets aside and caps part of the "
    "account's pool at no charge, but it initializes nothing, so cold starts still happen. "
    "Provisioned concurrency keeps environments initialized so requests skip the cold start, "
    "and you pay while it is allocated."
)


@pytest.fixture(scope="module")
def lambda_answerer(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    written = {
        "lambda-concurrency": (
            "Lambda provisioned concurrency",
            "What is Lambda provisioned concurrency and when is it worth paying for?",
            PROVISIONED,
            CONCURRENCY_DOCS,
        ),
        "lambda-environment": (
            "Lambda execution environment",
            "When does a Lambda cold start happen?",
            COLD_START,
            ENVIRONMENT_DOCS,
        ),
        "lambda-reserved": (
            "Lambda reserved concurrency",
            "What is reserved concurrency?",
            RESERVED,
            CONCURRENCY_DOCS,
        ),
        "lambda-scaling": (
            "Lambda concurrency",
            "What is the difference between reserved and provisioned concurrency?",
            RESERVED_VS_PROVISIONED,
            CONCURRENCY_DOCS,
        ),
    }
    return answerer_over(tmp_path_factory.mktemp("parts"), written)


def test_a_question_in_two_parts_gets_the_written_answer_to_each(lambda_answerer) -> None:  # type: ignore[no-untyped-def]
    """The answer on provisioned concurrency speaks of cold starts too, but it never says when
    one happens: the answer written for that part comes first, then the one for the other."""
    question = (
        "When does a Lambda cold start actually happen, and when is provisioned concurrency "
        "worth paying for?"
    )

    answer = ask(lambda_answerer, question)

    assert answer.text == f"{COLD_START}\n\n{PROVISIONED}", answer.text
    assert [source.id for source in answer.sources] == [ENVIRONMENT_DOCS, CONCURRENCY_DOCS]


def test_a_written_answer_asking_both_parts_is_given_alone(lambda_answerer) -> None:  # type: ignore[no-untyped-def]
    """The comparison answers whether reserving concurrency stops cold starts too: the
    definition of one side would only say part of it again."""
    question = (
        "whats the diff between reserved concurrency and provisioned concurrency? "
        "does reserved also get rid of cold starts?"
    )

    assert ask(lambda_answerer, question).text == RESERVED_VS_PROVISIONED


def test_a_definition_is_not_given_beside_a_comparison_that_weighs_it(lambda_answerer) -> None:  # type: ignore[no-untyped-def]
    """The comparison already says what reserved concurrency is: its definition beside it
    would say the same thing twice."""
    question = (
        "What is reserved concurrency? What is the difference between reserved and provisioned "
        "concurrency?"
    )

    assert ask(lambda_answerer, question).text == RESERVED_VS_PROVISIONED


@pytest.mark.parametrize(
    ("opening", "question", "fits"),
    [
        ("Because it keeps one API definition.", "What is an API Gateway stage variable?", False),
        ("Because it keeps one API definition.", "why use a stage variable for aliases", True),
        ("No: rotation keeps the old material.", "How do I enable automatic rotation?", False),
        (
            "No, a conditional write is the mechanism.",
            "what is a conditional write and is that the same thing as optimistic locking",
            True,
        ),
        ("No, not by default: a budget only alerts.", "why didn't my budget stop it?", True),
        ("Yes. Redshift Spectrum reads S3.", "why athena and not redshift for s3 logs?", False),
        ("Yes, both need the policy.", "Does the caller need a policy too?", True),
        ("Use a presigned URL.", "How do I let a browser upload to S3?", True),
        ("Not by default. A delete adds a marker.", "How does S3 replication work?", False),
        ("Not by default. A delete adds a marker.", "does replication copy deletes?", True),
        ("Not quite: PrivateLink is the technology.", "What is AWS PrivateLink?", True),
    ],
)
def test_a_written_answer_opens_as_the_question_asks(
    opening: str, question: str, fits: bool
) -> None:
    """An answer opening "Because" was written for a why, one opening "No" for a question
    that can be answered no; quoted for another question, its first word answers nothing."""
    assert opens_as_asked(opening, question) is fits


@pytest.mark.parametrize(
    ("question", "troubled"),
    [
        ("my cache keeps serving stale data, how do I fix that?", True),
        ("api gateway returns 502 with lambda proxy integration", True),
        ("how many concurrent executions for 100 requests a second at 500 ms each?", False),
        ("How does a Lambda function reach DynamoDB?", False),
    ],
)
def test_a_question_reporting_something_wrong_is_read_as_trouble(
    question: str, troubled: bool
) -> None:
    """Trouble decides which written answers fit: a fix for a symptom, not a definition; a
    duration in milliseconds is no HTTP error code."""
    assert is_trouble(question) is troubled
