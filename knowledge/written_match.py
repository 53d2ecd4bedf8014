"""Whether a typed question asks what a written one asks, so that its checked answer can be
quoted whole: close in meaning (the embedder's cosine, judged by the composer), naming little the
written question does not, speaking of every side and every part asked, and not a symptom's
answer given to a question about how something works. Students type shorthand, drop hyphens and
contractions and pluralise acronyms; the terms are compared the way they type them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from knowledge.passages import Passage
from knowledge.questions import ASKING_TERMS, comparison_sides, distinct_terms, terms
from knowledge.rerank import Similarity

WRITTEN_TERMS = 0.75  # the share of a written question's terms the student's question holds
FAIRLY_CLOSE_TERMS = 0.6  # ...or this share, when the two questions are fairly close
CLOSE_TERMS = 0.5  # ...or this share, when the two questions are very close in meaning
NEARLY_SAME_TERMS = 1 / 3  # ...or this, when they are nearly the same in meaning
SIDE_TERMS = 0.6  # a written answer names this share of what tells a compared side apart
ANSWER_TERMS = 0.5  # a written answer to a question in parts speaks of this share of each
CONTRACTION = re.compile(r"(?:n't|'s|'re|'ll|'ve|'d|'m)\b")
IDENTIFIER = re.compile(r"\b\w+_\w+\b|\b[A-Z]?[a-z]+(?:[A-Z][a-z0-9]+)+\b")  # a state, an API
TROUBLE = re.compile(
    r"\b(?:not|never|no longer|cannot|cant|can't|won't|isn't|doesn't|didn't|aren't|fails?|"
    r"failed|failing|errors?|denied|stuck|broken|throttl\w*|tim(?:es?|ed|ing) out|timeouts?|"
    r"stale|slow(?:er|s)?|crash\w*|spik\w*|jumped|went up|suddenly|duplicat\w*|rejected|"
    r"blocked|lost|unexpected(?:ly)?|keeps? \w+ing|old values|"
    r"fix(?:es|ed)?|429)\b"
    r"|\b(?:40\d|50\d)\b(?!\s*(?:ms|milliseconds|[kmgt]b|seconds|requests|rps|items|%))",
    re.IGNORECASE,
)
# How students shorten the names of things ("lambda env vars", "dynamo table").
SHORT_FORMS = {
    "env": "environment",
    "envs": "environments",
    "var": "variable",
    "vars": "variables",
    "db": "database",
    "dbs": "databases",
    "creds": "credentials",
    "perms": "permissions",
    "repo": "repository",
    "repos": "repositories",
    "msg": "message",
    "msgs": "messages",
    "acct": "account",
    "accts": "accounts",
    "mgmt": "management",
    "config": "configuration",
    "dynamo": "dynamodb",
    "ddb": "dynamodb",
    "app": "application",
    "apps": "applications",
    "prod": "production",
    "auth": "authentication",
    "dedup": "deduplication",
    "xray": "x-ray",
    "dedupe": "deduplication",
    "tam": "technical account manager",
    "tams": "technical account managers",
    # ...and where the stemmer parts one word's forms ("invok" and "invoc")
    "invocation": "invoking",
    "invocations": "invoking",
}
DEFINITION = re.compile(
    r"^(?:what(?:'s| is| are)|whats) (?!the difference\b)[^,;]{1,60}\?$"
    r"|^what does [^,;]{1,60} do\?$",
    re.IGNORECASE,
)
SHORTHAND = re.compile(r"\b(?:" + "|".join(SHORT_FORMS) + r")\b")
TIMING_OUT = re.compile(r"\btim(?:e|es|ed|ing) out\b")  # "timing out" is a "timeout"
NEGATION = re.compile(r"\b(?:can't|cant|cannot|won't|wont)\b")
OPENS_WITH_REASON = re.compile(r"Because\b")
# "Yes", "No", or a short sentence replying to one: "Not by default.", "Not when one
# partition key causes the heat." ("Not quite: PrivateLink is..." goes on to say what is)
OPENS_WITH_VERDICT = re.compile(r"(?:Yes|No)\b|(?:Not|Partly|Neither)\b[^.:;]{0,50}\.(?:\s|$)")
ASKS_WHY = re.compile(r"\bwhy\b|\bhow come\b", re.IGNORECASE)
# "why didn't my budget stop it?" can be answered "No, not by default"; "why Athena and not
# Redshift?" cannot be answered "Yes"
ASKS_WHY_NOT = re.compile(
    r"\bwhy\s+(?:not|(?:did|does|is|was|wo|ca|are|do|should|would|has|have)n'?t|wont|cant)\b",
    re.IGNORECASE,
)
YES_NO_SPLIT = re.compile(
    r"(?<=[?!.,;])\s+|\s+[-–—]\s+|\s+(?:and|or|but|so)\s+(?=(?:is|are|does|do|can|should)\b)",
    re.IGNORECASE,
)
YES_NO = re.compile(
    r"(?:so\s+|and\s+|but\s+|or\s+)?(?:is|are|does|do|did|can|could|should|would|will|was|were|"
    r"has|have|am|isn'?t|aren'?t|doesn'?t|don'?t|won'?t|wont|can'?t|cant|shouldn'?t)\b",
    re.IGNORECASE,
)
ACRONYM_PLURAL = re.compile(r"\b([A-Z]{2,})s\b")  # "SCPs" names what "SCP" names


def opens_as_asked(answer: str, question: str) -> bool:
    """Whether a written answer's opening fits what the student asked: one opening "Because"
    answers a why, one opening "Yes" or "No" a question that can be answered so ("is it...?",
    "why didn't it...?"); given to "What is a stage variable?", "Because it keeps one API
    definition..." answers a question never asked."""
    opening = answer.lstrip()
    if OPENS_WITH_REASON.match(opening):
        return bool(ASKS_WHY.search(question))
    if OPENS_WITH_VERDICT.match(opening):
        chunks = filter(None, (c.strip() for c in YES_NO_SPLIT.split(question)))
        return any(YES_NO.match(c) for c in chunks) or bool(ASKS_WHY_NOT.search(question))
    return True


def is_definition(title: str) -> bool:
    """Whether a written answer says what one thing is ("What is Amazon Inspector?")."""
    return bool(DEFINITION.match(title.strip())) and comparison_sides(title) is None


def defines_one_side(passage: Passage, question: str, sides: Sequence[str] | None) -> bool:
    """Whether a written answer says what one of the compared things is ("What is Enterprise
    Support?" for "business vs enterprise support"): given whole, it leaves the other out."""
    if not sides or not is_definition(passage.title):
        return False
    return len(sides_asked_by(passage, question, sides)) == 1


def same_question(closeness: float, phrasing: str, question: str, similarity: Similarity) -> bool:
    """Close in meaning and naming little the student did not ask about: most of what the
    written question names when merely close, half when very close ("my lambda times out
    calling dynamodb after I put it in a VPC" is "Why can my Lambda function no longer reach
    S3 or DynamoDB after I attach it to a VPC?")."""
    if is_trouble(phrasing) and not is_trouble(question):
        return False  # "Why is my function not reading from SQS?" is no "How does it read?"
    if closeness >= (getattr(similarity, "nearly_same_question", None) or 1.0):
        return asks_no_more(phrasing, question, NEARLY_SAME_TERMS)
    if closeness >= (getattr(similarity, "close_question", None) or 1.0):
        return asks_no_more(phrasing, question, CLOSE_TERMS)
    if closeness >= (getattr(similarity, "fairly_close_question", None) or 1.0):
        return asks_no_more(phrasing, question, FAIRLY_CLOSE_TERMS)
    same = getattr(similarity, "same_question", None) or 1.0
    return closeness >= same and asks_no_more(phrasing, question)


def is_trouble(text: str) -> bool:
    """Whether a question reports something going wrong rather than asking how it works."""
    return bool(TROUBLE.search(text.replace("’", "'")))


def speaks_of_every_part(said_text: str, parts: Sequence[str]) -> bool:
    """Whether written answers (their questions and text) speak of each part of a question
    in several ("can it reach the internet, and what role lets it write logs?" needs both)."""
    if len(parts) < 2:
        return True
    said = plain_terms(said_text)
    wanted = [plain_terms(part) - ASKING_TERMS for part in parts]
    # a part naming less than two things ("how do I tell which one?") follows on the one before
    return all(len(w & said) >= ANSWER_TERMS * len(w) for w in wanted if len(w) > 1)


def names_every_side(passage: Passage, sides: Sequence[str] | None) -> bool:
    """Whether a written answer speaks of each thing a comparison weighs (an answer on
    "rolling vs rolling with additional batch" does not answer "... vs immutable"); a side
    told apart by several words ("uploading over the internet or setting up Direct Connect")
    needs most of them."""
    said = plain_terms(f"{passage.title} {passage.text}")
    wanted = [_plain_distinct(side, sides) for side in sides or ()]
    return all(len(w & said) >= math.ceil(SIDE_TERMS * len(w)) for w in wanted)


def sides_asked_by(passage: Passage, question: str, sides: Sequence[str]) -> frozenset[int]:
    """Which sides of the student's comparison a written answer's question is about, when it
    asks nothing the student did not: "What is Amazon Inspector?" is about one side of
    "config vs trusted advisor vs inspector", "trusted advisor vs aws config" about two."""
    best: frozenset[int] = frozenset()
    for phrasing in asked_as(passage):
        if is_trouble(phrasing) and not is_trouble(question):
            continue
        if not asks_no_more(phrasing, question):
            continue
        said = plain_terms(phrasing)
        named = frozenset(
            number
            for number, side in enumerate(sides)
            if (wanted := _plain_distinct(side, sides))
            and len(wanted & said) >= math.ceil(SIDE_TERMS * len(wanted))
        )
        best = max(best, named, key=len)
    return best


def _plain_distinct(side: str, sides: Sequence[str]) -> set[str]:
    """The terms that tell this side from the others, spelt as `plain_terms` spells them."""
    return distinct_terms(side, sides, plain_terms) - ASKING_TERMS


def asked_as(passage: Passage) -> list[str]:
    """The ways a written answer's question is put: its title, then a common question's
    other phrasings (its context, one per line)."""
    return [passage.title, *filter(None, passage.context.splitlines())]


def asks_no_more(title: str, question: str, share: float = WRITTEN_TERMS) -> bool:
    """Whether a written answer's question names nothing the student's question does not
    ("What is the maximum visibility timeout?" asks more than "What is visibility timeout?")."""
    typed = set(re.findall(r"[a-z0-9_]+", question.lower()))
    if any(name.lower() not in typed for name in IDENTIFIER.findall(title)):
        return False  # ROLLBACK_COMPLETE is not UPDATE_ROLLBACK_FAILED
    asked = plain_terms(question)
    sides = comparison_sides(title) or ()
    if any(not _plain_distinct(side, sides) <= asked for side in sides):
        return False  # "API key vs authorizer" asks more than "What is an authorizer?"
    named = plain_terms(title) - ASKING_TERMS
    return len(named & asked) >= share * len(named)


def plain_terms(text: str) -> set[str]:
    """Terms as a student may type them: "dead letter" is "dead-letter", "don't" is "do",
    and "SCPs" names what "SCP" names."""
    text = ACRONYM_PLURAL.sub(r"\1", text.replace("’", "'")).lower()
    text = NEGATION.sub(lambda m: "will not" if m.group(0).startswith("wo") else "can not", text)
    text = SHORTHAND.sub(lambda m: SHORT_FORMS[m.group(0)], text)
    text = TIMING_OUT.sub("timeout", text)
    return terms(CONTRACTION.sub("", text).replace("-", " "))
