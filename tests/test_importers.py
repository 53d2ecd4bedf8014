"""GIFT, Aiken and CSV imports: the right items, stable ids, and every defect at its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.importers import ImportDefaults, parse_import
from knowledge.importers.aiken import parse_aiken
from knowledge.importers.common import NO_DOMAIN, NO_EXAM
from knowledge.importers.csv_format import parse_csv
from knowledge.importers.gift import parse_gift
from knowledge.loader import BankError, BankProblem, Located

SAMPLES = Path(__file__).parent / "fixtures" / "imports"
GIFT = (SAMPLES / "sample.gift").read_text(encoding="utf-8")
AIKEN = (SAMPLES / "sample.txt").read_text(encoding="utf-8")
CSV = (SAMPLES / "sample.csv").read_text(encoding="utf-8")
DVA = ImportDefaults(exam="DVA-C02", domain="development")
CLF = ImportDefaults(exam="clf-c02", domain="Cloud Technology and Services")
NONE = ImportDefaults()


def problems_of(fmt: str, text: str, defaults: ImportDefaults = DVA) -> list[BankProblem]:
    with pytest.raises(BankError) as caught:
        parse_import(text, f"upload.{fmt}", fmt, defaults)
    return caught.value.problems


def correct_texts(entry: Located) -> list[str]:
    return [option.text for option in entry.item.options if option.correct]


def line_of(text: str, needle: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    raise AssertionError(needle)


# --- GIFT -------------------------------------------------------------------------------------


def test_gift_sample_parses_into_the_expected_items() -> None:
    kms, secrets, sub, lifecycle = parse_gift(GIFT, "sample.gift", DVA)

    assert kms.line == line_of(GIFT, "::KMS envelope::")
    assert kms.item.id == "gift-kms-envelope"
    assert (kms.item.exam, kms.item.domain) == ("DVA-C02", "Security")  # from $CATEGORY
    assert kms.item.question == (
        "Which AWS KMS operation returns a data key for\nclient-side envelope encryption?"
    )  # multi-line, [markdown] marker stripped
    assert correct_texts(kms) == ["GenerateDataKey"]
    assert kms.item.options[1].why.startswith("Encrypt works on up to 4 KB")
    assert kms.item.explanation.startswith("Envelope encryption encrypts data locally")
    assert (kms.item.version, kms.item.difficulty, kms.item.tags) == (1, "medium", [])

    assert secrets.item.choose == 2  # weights: positive is correct
    assert correct_texts(secrets) == ["AWS Secrets Manager", "AWS Systems Manager Parameter Store"]
    assert secrets.item.options[2].why == "CloudFront is a CDN."
    assert secrets.item.explanation == ""

    assert sub.item.domain == "Deployment"  # a later $CATEGORY takes over
    assert sub.item.id == "gift-template-syntax-fn-sub"
    assert sub.item.question == (
        'Which CloudFormation function turns "${Bucket}-logs" into a name, '
        "where Bucket = the bucket's name?"
    )
    assert correct_texts(sub) == ["Fn::Sub"]
    assert (
        sub.item.options[1].why
        == "Join concatenates values with a delimiter # it has no placeholders."
    )
    assert sub.item.options[2].why == "Ref returns one value ~ it does not substitute."

    # A category without an exam or domain in it: the defaults apply.
    assert (lifecycle.item.exam, lifecycle.item.domain) == (
        "DVA-C02",
        "Development with AWS Services",
    )
    assert lifecycle.item.id.startswith("gift-")
    assert correct_texts(lifecycle) == ["Moving or expiring objects after a set time"]
    assert all(option.why == "" for option in lifecycle.item.options)


def test_gift_ids_are_stable_across_parses() -> None:
    first = [entry.item.id for entry in parse_gift(GIFT, "sample.gift", DVA)]
    again = [entry.item.id for entry in parse_gift(GIFT, "sample.gift", DVA)]
    assert first == again
    assert len(set(first)) == len(first)


def test_gift_category_alone_is_enough_without_defaults() -> None:
    text = (
        "$CATEGORY: CLF-C02/billing\n\n"
        "Which tool forecasts next month's AWS bill? {=AWS Cost Explorer ~AWS Artifact}\n"
    )
    (entry,) = parse_gift(text, "c.gift", NONE)
    assert (entry.item.exam, entry.item.domain) == ("CLF-C02", "Billing, Pricing, and Support")


def test_gift_missing_word_answers_become_a_blank() -> None:
    text = "Amazon S3 stores data as {=objects ~blocks ~files} in buckets.\n"
    (entry,) = parse_gift(text, "m.gift", DVA)
    assert entry.item.question == "Amazon S3 stores data as _____ in buckets."


def test_gift_html_marker_drops_tags() -> None:
    text = "[html]<p>Which service is a <b>CDN</b>?</p> {=Amazon CloudFront ~Amazon SQS}\n"
    (entry,) = parse_gift(text, "h.gift", DVA)
    assert entry.item.question == "Which service is a CDN?"


@pytest.mark.parametrize(
    ("answers", "kind"),
    [
        ("{T}", "true/false"),
        ("{FALSE#Right, it is regional.#It is regional.}", "true/false"),
        ("{=Amazon S3 =S3}", "short answer"),
        ("{=Lambda -> functions =S3 -> objects}", "matching"),
        ("{#5:1}", "numeric"),
        ("{}", "essay"),
    ],
)
def test_gift_unsupported_types_are_named_at_their_line(answers: str, kind: str) -> None:
    text = (
        "// one good question, then an unsupported one\n"
        "Which service is serverless compute? {=AWS Lambda ~Amazon EC2}\n"
        "\n"
        f"::Other:: An Amazon S3 bucket lives in one Region. {answers}\n"
    )
    (problem,) = problems_of("gift", text)
    assert problem.line == 4
    assert problem.field == "question"
    assert problem.message == (
        f"unsupported GIFT question type: {kind}; "
        "only multiple choice and multiple answers can be quizzed"
    )


def test_gift_unclosed_brace_is_reported_at_its_line() -> None:
    text = (
        "Which service sends email from an application?\n"
        "{\n"
        "=Amazon SES\n"
        "~Amazon SNS mobile push\n"
        "\n"
        "Which service resolves DNS names? {=Amazon Route 53 ~Amazon VPC}\n"
    )
    (problem,) = problems_of("gift", text)
    assert (problem.line, problem.field) == (2, "options")
    assert "never closed" in problem.message


def test_gift_blank_line_inside_braces_is_forgiven() -> None:
    text = "Which service resolves DNS names? {\n=Amazon Route 53\n\n~Amazon VPC\n}\n"
    (entry,) = parse_gift(text, "b.gift", DVA)
    assert correct_texts(entry) == ["Amazon Route 53"]


def test_gift_without_exam_or_domain_names_the_question() -> None:
    text = "// no category\n\nWhich service stores objects? {=Amazon S3 ~Amazon EBS}\n"
    problems = problems_of("gift", text, NONE)
    assert [(p.line, p.field, p.message) for p in problems] == [
        (3, "exam", NO_EXAM),
        (3, "domain", NO_DOMAIN),
    ]
    assert NO_EXAM == "no exam given: add --exam (DVA-C02 or CLF-C02)"


def test_gift_unknown_exam_in_category_is_reported_at_the_category() -> None:
    text = "$CATEGORY: SAA-C03/Design\n\nWhich service stores objects? {=Amazon S3 ~Amazon EBS}\n"
    (problem,) = problems_of("gift", text)
    assert (problem.line, problem.field) == (1, "exam")
    assert "SAA-C03" in problem.message


def test_gift_last_question_broken_returns_nothing() -> None:
    text = GIFT + "\n::Broken:: Which service is a queue? {=Amazon SQS}\n"
    problems = problems_of("gift", text)
    assert [(p.line, p.field) for p in problems] == [(line_of(text, "::Broken::"), "question")]
    assert "short answer" in problems[0].message


def test_gift_several_broken_questions_are_all_listed() -> None:
    text = (
        "Which service is a queue? {=Amazon SQS ~%abc%Amazon SNS}\n"
        "\n"
        "Which service is a CDN? {~Amazon S3 ~Amazon EC2}\n"
        "\n"
        "Which database is serverless? {=Amazon Aurora Serverless ~Amazon RDS for Oracle\n"
        "\n"
        "Which service is good? {=Amazon SQS ~Amazon SQS}\n"
    )
    problems = problems_of("gift", text)
    assert [(p.line, p.field) for p in problems] == [
        (1, "options"),
        (3, "options"),
        (5, "options"),
        (7, "options"),
    ]
    assert "weight" in problems[0].message
    assert "no option is marked correct" in problems[1].message
    assert "never closed" in problems[2].message
    assert "same text" in problems[3].message


def test_gift_duplicate_titles_give_duplicate_ids() -> None:
    text = (
        "::Same:: Which service is a queue? {=Amazon SQS ~Amazon SNS}\n\n"
        "::Same:: Which service resolves DNS names? {=Amazon Route 53 ~Amazon VPC}\n"
    )
    (problem,) = problems_of("gift", text)
    assert (problem.line, problem.field) == (3, "id")
    assert "duplicate id 'gift-same'" in problem.message


# --- Aiken ------------------------------------------------------------------------------------


def test_aiken_sample_parses_into_the_expected_items() -> None:
    fargate, patching, savings = parse_aiken(AIKEN, "sample.txt", CLF)
    assert [fargate.line, patching.line, savings.line] == [1, 8, 14]
    assert correct_texts(fargate) == ["AWS Fargate"]
    assert patching.item.question == (
        "Under the AWS shared responsibility model,\n"
        "who patches the guest operating system of an Amazon EC2 instance?"
    )
    assert correct_texts(patching) == ["The customer"]  # `A)` style options
    assert correct_texts(savings) == ["Savings Plans"]  # no blank line before it
    for entry in (fargate, patching, savings):
        assert (entry.item.exam, entry.item.domain) == ("CLF-C02", "Cloud Technology and Services")
        assert entry.item.id.startswith("aiken-")
        assert all(option.why == "" for option in entry.item.options)
        assert entry.item.explanation == ""


def test_aiken_ids_are_stable_across_parses() -> None:
    first = [entry.item.id for entry in parse_aiken(AIKEN, "a.txt", CLF)]
    assert first == [entry.item.id for entry in parse_aiken(AIKEN, "a.txt", CLF)]


def test_aiken_domain_key_is_accepted() -> None:
    entries = parse_aiken(AIKEN, "a.txt", ImportDefaults("CLF-C02", "security"))
    assert {entry.item.domain for entry in entries} == {"Security and Compliance"}


def test_aiken_answer_missing_is_reported_at_the_question() -> None:
    text = (
        "Which service stores objects?\n"
        "A. Amazon S3\n"
        "B. Amazon EBS\n"
        "Which service is a managed queue?\n"
        "A. Amazon SQS\n"
        "B. Amazon Kinesis Video Streams\n"
        "ANSWER: A\n"
    )
    (problem,) = problems_of("aiken", text)
    assert (problem.line, problem.field) == (1, "answer")
    assert "ANSWER is missing" in problem.message


def test_aiken_answer_naming_a_missing_letter_is_reported_at_the_answer() -> None:
    text = "Which service stores objects?\nA. Amazon S3\nB. Amazon EBS\nANSWER: D\n"
    (problem,) = problems_of("aiken", text)
    assert (problem.line, problem.field) == (4, "answer")
    assert "ANSWER: D names no option" in problem.message


def test_aiken_options_out_of_sequence_and_too_few_options() -> None:
    text = (
        "Which service stores objects?\n"
        "A. Amazon S3\n"
        "C. Amazon EBS\n"
        "ANSWER: A\n"
        "\n"
        "Which service is a CDN?\n"
        "A. Amazon CloudFront\n"
        "ANSWER: A\n"
    )
    problems = problems_of("aiken", text)
    assert [(p.line, p.field) for p in problems] == [(3, "options"), (6, "options")]
    assert "expected B. but found C." in problems[0].message
    assert "at least 2 options" in problems[1].message


def test_aiken_without_defaults_is_reported_once() -> None:
    problems = problems_of("aiken", AIKEN, NONE)
    assert [(p.line, p.field, p.message) for p in problems] == [
        (1, "exam", NO_EXAM),
        (1, "domain", NO_DOMAIN),
    ]


def test_aiken_last_question_broken_returns_nothing() -> None:
    text = AIKEN + "\nWhich service is a data warehouse?\nA. Amazon Redshift\nB. Amazon SQS\n"
    (problem,) = problems_of("aiken", text, CLF)
    assert problem.line == line_of(text, "data warehouse")
    assert "ANSWER is missing" in problem.message


def test_aiken_several_broken_questions_are_all_listed() -> None:
    text = (
        "Which service stores objects?\nA. Amazon S3\nB. Amazon EBS\nANSWER: A, B\n\n"
        "Which service is a queue?\nA. Amazon SQS\nB. Amazon SNS\nANSWER: Z\n\n"
        "Which service is a CDN?\nA. Amazon CloudFront\nB. AWS Shield\n"
    )
    problems = problems_of("aiken", text, CLF)
    assert [(p.line, p.field) for p in problems] == [(4, "answer"), (9, "answer"), (11, "answer")]


# --- CSV --------------------------------------------------------------------------------------


def test_csv_sample_parses_into_the_expected_items() -> None:
    streams, deploy = parse_csv(CSV, "sample.csv", NONE)
    assert streams.line == 2
    assert streams.item.id.startswith("csv-")
    assert (streams.item.exam, streams.item.domain) == ("DVA-C02", "Development with AWS Services")
    assert correct_texts(streams) == ["DynamoDB Streams"]
    assert streams.item.options[1].why == "DAX is a read cache."
    assert streams.item.explanation.startswith("Streams plus a Lambda trigger")
    assert streams.item.difficulty == "easy"
    assert streams.item.tags == ["dynamodb", "streams"]
    assert streams.item.follow_ups == [
        "What is a stream view type?",
        "How long are stream records kept?",
    ]
    assert streams.item.references == [
        "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html"
    ]

    assert deploy.line == 3  # the line where the record starts
    assert deploy.item.id == "dva-dep-csv-1"
    assert deploy.item.domain == "Deployment"
    assert deploy.item.question.endswith("first?\n(Choose two.)")
    assert correct_texts(deploy) == ["Canary", "Linear"]
    assert deploy.item.difficulty == "medium"


def test_csv_ids_are_stable_across_parses() -> None:
    first = [entry.item.id for entry in parse_csv(CSV, "a.csv", NONE)]
    assert first == [entry.item.id for entry in parse_csv(CSV, "a.csv", NONE)]


def test_csv_defaults_fill_empty_exam_and_domain() -> None:
    text = "question,option_a,option_b,answer\nWhich service is a queue?,Amazon SQS,Amazon EC2,A\n"
    (entry,) = parse_csv(text, "d.csv", DVA)
    assert (entry.item.exam, entry.item.domain) == ("DVA-C02", "Development with AWS Services")
    assert entry.item.id.startswith("csv-")


def test_csv_header_problems_are_at_line_one() -> None:
    text = "question,option_a,option_b,correct\nWhich service is a queue?,Amazon SQS,Amazon EC2,A\n"
    problems = problems_of("csv", text)
    assert [(p.line, p.field) for p in problems] == [(1, "header"), (1, "header")]
    assert "unknown column 'correct'" in problems[0].message
    assert "missing required column 'answer'" in problems[1].message


def test_csv_answer_naming_an_empty_option_is_reported_at_its_record() -> None:
    text = (
        "question,option_a,option_b,option_c,answer\n"
        '"Which service is a\nmanaged queue?",Amazon SQS,Amazon EC2,,A\n'
        "Which service is a CDN?,Amazon CloudFront,Amazon EBS,,C\n"
    )
    (problem,) = problems_of("csv", text)
    assert (problem.line, problem.field) == (4, "answer")
    assert problem.message == "answer names C but option_c is empty"


def test_csv_missing_exam_and_domain() -> None:
    text = "question,option_a,option_b,answer\nWhich service is a queue?,Amazon SQS,Amazon EC2,A\n"
    problems = problems_of("csv", text, NONE)
    assert [(p.line, p.field, p.message) for p in problems] == [
        (2, "exam", NO_EXAM),
        (2, "domain", NO_DOMAIN),
    ]


def test_csv_last_row_broken_returns_nothing() -> None:
    text = CSV + ",DVA-C02,nosuchdomain,Which service is a queue?,Amazon SQS,Amazon EC2,,,A\n"
    (problem,) = problems_of("csv", text, NONE)
    assert (problem.line, problem.field) == (5, "domain")
    assert "'nosuchdomain' is not in the DVA-C02 exam guide" in problem.message


def test_csv_several_broken_rows_are_all_listed() -> None:
    text = (
        "id,question,option_a,option_b,answer,difficulty\n"
        "Bad Id,Which service is a queue?,Amazon SQS,Amazon EC2,A,\n"
        ",Which service is a CDN?,Amazon CloudFront,Amazon EBS,,\n"
        ",Which service stores objects?,Amazon S3,Amazon EBS,A,tricky\n"
        ',Which service resolves DNS names?,Amazon Route 53,Amazon VPC,"A,B",\n'
    )
    problems = problems_of("csv", text)
    assert [(p.line, p.field) for p in problems] == [
        (2, "id"),
        (3, "answer"),
        (4, "difficulty"),
        (5, "options"),
    ]
    assert "every option is marked correct" in problems[3].message


def test_csv_documented_example_imports() -> None:
    doc = (Path(__file__).parents[1] / "knowledge" / "importers" / "CSV.md").read_text()
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    first, second = parse_csv(example, "CSV.md", NONE)
    assert first.item.choose == 1
    assert second.item.choose == 2
    assert second.item.domain == "Security and Compliance"


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("gift", "// only a comment\n\n$CATEGORY: DVA-C02/Security\n"),
        ("aiken", "\n\n"),
        ("csv", "question,option_a,option_b,answer\n"),
    ],
)
def test_a_file_without_questions_is_a_problem(fmt: str, text: str) -> None:
    (problem,) = problems_of(fmt, text)
    assert (problem.line, problem.message) == (1, "no questions found in the file")


def test_csv_unclosed_quote_is_reported_at_its_record() -> None:
    text = (
        "question,option_a,option_b,answer\n"
        "Which service is a queue?,Amazon SQS,Amazon EC2,A\n"
        '"Which service is a CDN?,Amazon CloudFront,Amazon EBS,A\n'
    )
    (problem,) = problems_of("csv", text)
    assert problem.line == 3
    assert "never closed" in problem.message
