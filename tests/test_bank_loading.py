"""A malformed bank is rejected whole, naming the file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.bank import Bank
from knowledge.loader import BankError, load_banks, parse_bank_text

SAMPLE = (Path(__file__).parent / "fixtures" / "bank" / "sample.yaml").read_text()


def problems_of(text: str) -> list[str]:
    with pytest.raises(BankError) as caught:
        parse_bank_text(text, "bank.yaml")
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            count += 1
            if count == occurrence:
                return number
    raise AssertionError(needle)


def test_the_sample_bank_loads() -> None:
    assert len(parse_bank_text(SAMPLE, "bank.yaml")) == 6


def test_bad_yaml_names_the_line() -> None:
    broken = SAMPLE.replace("    tags: [sqs]\n", "    tags: [sqs\n", 1)
    (problem,) = problems_of(broken)
    assert problem.startswith("bank.yaml:")
    assert "not valid YAML" in problem


def test_a_missing_field_names_the_item_line_and_field() -> None:
    broken = SAMPLE.replace("    trap: Confusing canary with linear.\n", "", 1)
    (problem,) = problems_of(broken)
    item_line = line_of(broken, "- id: t-dep-1")
    assert (
        problem == f"bank.yaml:{item_line}: items[3].trap (item t-dep-1): is missing: the exam trap"
    )


def test_an_answer_key_naming_no_option_is_rejected_at_the_options_line() -> None:
    broken = SAMPLE.replace(
        "      - text: Canary\n        correct: true",
        "      - text: Canary\n        correct: false",
    )
    (problem,) = problems_of(broken)
    options_line = line_of(broken, "- text: Canary")  # where the options list begins
    assert problem.startswith(f"bank.yaml:{options_line}: items[3].options (item t-dep-1):")
    assert "names no option" in problem


@pytest.mark.parametrize(
    ("old", "new", "field", "message"),
    [
        (
            "domain: Deployment",
            "domain: Shipping",
            "items[3].domain",
            "not in the DVA-C02 exam guide",
        ),
        (
            "Which two features does an SQS FIFO queue offer? (Choose two.)",
            "Which features does an SQS FIFO queue offer?",
            "items[1].options",
            "must say '(Choose two.)'",
        ),
        (
            "why: Linear shifts equal increments at intervals.",
            "why: Unlike option A, linear shifts in increments.",
            "items[3].options[2].why",
            "by its letter",
        ),
        (
            "https://docs.aws.amazon.com/codedeploy/latest/userguide/deployment-configurations.html",
            "http://example.com/page",
            "items[3].references",
            "https URL",
        ),
        (
            "difficulty: medium\n    question: Which deployment",
            "difficulty: extreme\n    question: Which deployment",
            "items[3].difficulty",
            "Input should be",
        ),
        ("      - text: Rolling\n", "      - text: Linear\n", "items[3].options", "same text"),
    ],
)
def test_content_defects_are_named(old: str, new: str, field: str, message: str) -> None:
    broken = SAMPLE.replace(old, new, 1)
    assert broken != SAMPLE
    problems = problems_of(broken)
    assert any(f" {field} " in p and message in p for p in problems), problems


def test_every_problem_in_a_file_is_listed_at_once() -> None:
    broken = SAMPLE.replace("domain: Deployment", "domain: Shipping").replace(
        "    trap: Confusing elasticity with durability.\n", ""
    )
    problems = problems_of(broken)
    assert len(problems) == 2


def test_duplicate_ids_across_files_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(SAMPLE)
    (tmp_path / "b.yaml").write_text(SAMPLE)
    with pytest.raises(BankError) as caught:
        load_banks([tmp_path])
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 6  # one per item of the second file, none twice
    assert all(p.startswith(f"{tmp_path / 'b.yaml'}:") for p in problems)
    assert all("duplicate id" in p and f"first at {tmp_path / 'a.yaml'}:" in p for p in problems)


def test_one_bad_file_rejects_the_whole_load(tmp_path: Path) -> None:
    (tmp_path / "good.yaml").write_text(SAMPLE)
    (tmp_path / "bad.yaml").write_text("format: 1\nitems: [1, 2]\n")
    with pytest.raises(BankError) as caught:
        Bank.load([tmp_path])
    assert all("bad.yaml" in str(p) for p in caught.value.problems)


def test_an_unsupported_format_version_is_named() -> None:
    problems = problems_of(SAMPLE.replace("format: 1", "format: 2", 1))
    assert problems == [
        "bank.yaml:1: format: bank format 2 is not supported; this version reads format 1"
    ]


def test_an_option_without_a_rationale_is_rejected_in_our_banks() -> None:
    broken = SAMPLE.replace("        why: Route 53 is DNS.\n", "", 1)
    (problem,) = problems_of(broken)
    assert (
        f"bank.yaml:{line_of(broken, '- text: Amazon Route 53')}: items[0].options[1].why"
        in problem
    )
    assert "needs a rationale" in problem
    # a teacher's import may leave rationales out
    assert len(parse_bank_text(broken, "bank.yaml", complete=False)) == 6


def test_a_choose_n_question_whose_key_has_another_size_is_rejected() -> None:
    broken = SAMPLE.replace(
        "      - text: Unlimited throughput without batching\n        correct: false",
        "      - text: Unlimited throughput without batching\n        correct: true",
    )
    (problem,) = problems_of(broken)
    assert "items[1].options" in problem
    assert "3 options are marked correct, so the question must say '(Choose three.)'" in problem


def test_a_near_duplicate_question_is_named_with_both_places() -> None:
    copy = SAMPLE.split("  - id: t-dev-2")[0].split("items:\n")[1]
    copy = copy.replace("t-dev-1", "t-dev-9").replace(
        "Which service buffers messages", "Which AWS service buffers messages"
    )
    problems = problems_of(SAMPLE + copy)
    assert len(problems) == 1
    assert problems[0].startswith(f"bank.yaml:{line_of(SAMPLE + copy, '- id: t-dev-9')}: question:")
    assert "near-duplicate of t-dev-1 at bank.yaml:3" in problems[0]
