"""What we ship: every bank and note loads, and the DVA-C02 starter set is complete."""

from __future__ import annotations

from collections import Counter

from knowledge.bank import Bank
from knowledge.catalog import EXAMS
from knowledge.notes import load_notes


def test_shipped_bank_loads_and_covers_every_dva_domain() -> None:
    bank = Bank.load()
    dva = bank.select("DVA-C02")
    per_domain = Counter(item.domain for item in dva)
    assert len(dva) >= 24
    for domain in EXAMS["DVA-C02"].domain_names():
        assert per_domain[domain] >= 6, domain
    assert sum(item.choose >= 2 for item in dva) >= 4


def test_shipped_bank_covers_the_starter_topics() -> None:
    text = {
        item.id: " ".join([item.question, item.explanation, *item.tags]).lower()
        for item in Bank.load().select("DVA-C02")
    }
    for topic in ("step functions", "fifo", "jitter", "secrets manager"):
        assert any(topic in t for t in text.values()), topic


def test_shipped_notes_load() -> None:
    notes = load_notes()
    assert all(note.sections() for note in notes)


def test_banks_follow_the_exam_guide_weights_within_three_points() -> None:
    bank = Bank.load()
    minimum = {"DVA-C02": 130, "CLF-C02": 65}
    for code, exam in EXAMS.items():
        items = bank.select(code)
        assert len(items) >= minimum[code]
        for domain in exam.domains:
            share = sum(item.domain == domain.name for item in items) / len(items)
            assert abs(share - domain.weight) <= 0.03, (code, domain.name, round(share, 3))
        assert sum(item.choose > 1 for item in items) / len(items) >= 0.15


def test_every_product_topic_has_an_item() -> None:
    """The seed topics of the product brief, each found in some item's text or tags."""
    topics = {
        "serialization": ("serializ", "marshal", "base64"),
        "secrets manager vs parameter store": ("parameter store",),
        "unit testing with the sdk stubber": ("stubber",),
        "canary deployments": ("canary",),
        "lambda in a vpc reaching rds": ("rds proxy", "vpc"),
        "dynamodb encryption at rest": ("encryption at rest",),
        "sts federation": ("assumerolewithwebidentity", "federat"),
        "backoff and jitter": ("jitter",),
        "sqs fifo message groups": ("message group",),
        "kms automatic rotation": ("automatic rotation", "automatic key rotation"),
        "api gateway stage variables": ("stage variable",),
        "api gateway mock integration": ("mock integration",),
        "git branching with codecommit": ("codecommit",),
        "sam cli local testing": ("sam local",),
        "dynamodb query vs scan": ("scan",),
        "codepipeline stages": ("codepipeline",),
        "step functions orchestration": ("step functions",),
    }
    texts = [
        " ".join([i.question, i.explanation, *i.tags, *(o.text for o in i.options)]).lower()
        for i in Bank.load().select("DVA-C02")
    ]
    missing = [t for t, words in topics.items() if not any(w in x for x in texts for w in words)]
    assert missing == []
    clf = [" ".join([i.question, *i.tags]).lower() for i in Bank.load().select("CLF-C02")]
    assert any("step functions" in t or "step-functions" in t for t in clf)


def test_the_key_is_not_given_away_by_length() -> None:
    """Neither the longest nor the shortest option is a reliable tell, in either exam.

    With four options a key placed without regard to length is longest (or shortest) in
    about a quarter of single-answer items; a bank where it is far from that teaches
    students to pick by length instead of by knowledge.
    """
    bank = Bank.load()
    for exam in EXAMS:
        single = [item for item in bank.select(exam) if item.choose == 1]
        longest = sum(max(item.options, key=lambda o: len(o.text)).correct for item in single)
        shortest = sum(min(item.options, key=lambda o: len(o.text)).correct for item in single)
        assert 0.12 <= longest / len(single) <= 0.35, f"{exam}: longest {longest}/{len(single)}"
        assert 0.12 <= shortest / len(single) <= 0.35, f"{exam}: shortest {shortest}/{len(single)}"


def test_every_shipped_follow_up_has_its_written_answer() -> None:
    """A tapped suggestion is answered from text we wrote and checked, never stitched."""
    missing = [
        (item.id, len(item.follow_up_answers))
        for item in Bank.load().items()
        if len(item.follow_up_answers) != len(item.follow_ups)
    ]
    assert missing == []
