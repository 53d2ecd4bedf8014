"""Reading a typed answer: letters, option numbers, several letters, or the option's text.

The result is either the chosen positions (as presented, from 0) or a hint that tells the
student what to send instead. A hint is never counted as an answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

LETTERS = "ABCDEF"
# Only single, linear patterns here: a message is user input of any length, and a pattern with
# two quantifiers over the same characters backtracks quadratically on long runs of spaces.
ANSWER_PARTS = re.compile(r"[^\s,;/&]+|[,;/&]")  # words, and each separator mark alone
AND_WORD = re.compile(r"\band\b")
ANSWER_TOKEN = re.compile(r"[a-f1-6]")
# Typed answers never need more than this; longer text is a question, not an answer.
MAX_ANSWER_CHARS = 1000
FUZZY_ENOUGH = 0.8
CLEAR_MARGIN = 0.08
NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four"}
# Words that name no option on their own: "the" must not pick whichever option contains it.
STOPWORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "i", "in", "is", "it"}
    | {"of", "on", "or", "the", "to", "use", "with", "its", "answer", "option", "this", "that"}
)


@dataclass(frozen=True)
class Parsed:
    choices: tuple[int, ...] | None = None
    hint: str | None = None


def letter(position: int) -> str:
    return LETTERS[position]


def letter_range(count: int) -> str:
    return f"A-{LETTERS[count - 1]}"


def clean_input(text: str) -> str:
    """What the student meant to type: NFKC (fullwidth "Ｂ" is "B") without invisible format
    characters (zero-width spaces, direction marks) that phones and copy-paste add."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def answer_shaped(text: str) -> bool:
    """Letters or option numbers alone ("B", "a, c", "2"): an answer, not a question."""
    return _tokens(clean_input(text).strip().lower().rstrip(").").strip()) is not None


def _tokens(cleaned: str) -> list[str] | None:
    """Single answer tokens separated by spaces or one mark each ("a, c", "a/c"); None for
    anything else, including a mark with nothing on one side ("A;;", ", c")."""
    tokens: list[str] = []
    after_mark = True  # the start counts as a mark: a leading separator is not an answer
    for part in ANSWER_PARTS.findall(cleaned):
        if part in ",;/&":
            if after_mark:
                return None
            after_mark = True
        elif ANSWER_TOKEN.fullmatch(part):
            tokens.append(part)
            after_mark = False
        else:
            return None
    return tokens if tokens and not after_mark else None


def _normalise(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _positions_from_tokens(text: str, count: int) -> list[int] | None:
    """'b', 'B)', '2', 'A,C', 'a c', 'a and c'; None when the text is not of that shape."""
    cleaned = text.strip().lower().strip(".!:)(").strip()
    cleaned = re.sub(r"(?<=[a-f1-6])[).:]", "", cleaned)
    tokens = _tokens(AND_WORD.sub(",", cleaned))
    if tokens is None:
        return None
    return [ord(t) - ord("a") if t.isalpha() else int(t) - 1 for t in tokens]


def _positions_from_run(text: str, choose: int) -> list[int] | None:
    """'AC': a run of distinct letters and nothing else (counted against `choose` later)."""
    cleaned = text.strip().lower()
    if not 2 <= len(cleaned) <= 6 or not re.fullmatch(r"[a-f]+", cleaned):
        return None
    if len(set(cleaned)) != len(cleaned) or (choose > 1 and len(cleaned) != choose):
        return None
    return [ord(t) - ord("a") for t in cleaned]


def _match_text(text: str, options: tuple[str, ...]) -> Parsed | None:
    """An option named by (a close match of) its text; a hint when two fit equally well."""
    wanted = _normalise(text)
    if len(wanted) < 2 or all(word in STOPWORDS for word in wanted.split()):
        return None
    normalised = [_normalise(o) for o in options]
    exact = [i for i, o in enumerate(normalised) if o == wanted]
    if exact:
        return Parsed(choices=(exact[0],))
    containing = [i for i, o in enumerate(normalised) if re.search(rf"\b{re.escape(wanted)}\b", o)]
    if len(containing) == 1:
        return Parsed(choices=(containing[0],))
    if len(containing) > 1:
        return Parsed(hint=_ambiguous(containing, options))
    scores = sorted(
        ((SequenceMatcher(None, wanted, o).ratio(), i) for i, o in enumerate(normalised)),
        reverse=True,
    )
    best, best_index = scores[0]
    if best < FUZZY_ENOUGH or len(wanted) < 4:
        return None
    close = [i for score, i in scores if best - score < CLEAR_MARGIN]
    if len(close) > 1:
        return Parsed(hint=_ambiguous(close, options))
    return Parsed(choices=(best_index,))


def _ambiguous(positions: list[int], options: tuple[str, ...]) -> str:
    named = " or ".join(f"{letter(i)}) {_short(options[i])}" for i in sorted(positions))
    return f"Did you mean {named}? Reply with the letter."


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def usage_hint(count: int, choose: int) -> str:
    if choose == 1:
        return (
            f"Reply with one letter ({letter_range(count)}), the option's number or its text; "
            "or /skip, /stop."
        )
    return (
        f"Choose {NUMBER_WORDS.get(choose, choose)}: reply with {choose} letters like "
        f"{','.join(LETTERS[:choose])} (from {letter_range(count)}); or /skip, /stop."
    )


def parse_answer(text: str, options: tuple[str, ...], choose: int) -> Parsed:
    """Turn a typed reply into chosen positions, or a hint saying what to send."""
    count = len(options)
    if len(text) > MAX_ANSWER_CHARS:
        return Parsed(hint=f"That is too long for an answer. {usage_hint(count, choose)}")
    text = clean_input(text)
    positions = _positions_from_tokens(text, count) or _positions_from_run(text, choose)
    if positions is None:
        matched = _match_text(text, options)
        if matched is None and choose > 1:
            matched = _match_several(text, options, choose)
        if matched is None:
            return Parsed(hint=f"That doesn't look like an answer. {usage_hint(count, choose)}")
        if matched.hint:
            return matched
        positions = list(matched.choices or ())
    if any(p >= count for p in positions):
        return Parsed(hint=f"There are only {count} options here. {usage_hint(count, choose)}")
    return check_count(sorted(set(positions)), count, choose)


def check_count(unique: list[int], count: int, choose: int) -> Parsed:
    """Too many picks is ambiguous and gets a hint; too few on a choose-N item is a complete,
    gradable answer (it can only be partly right), as when submitting early on the exam."""
    if not unique or len(unique) <= choose:
        return Parsed(choices=tuple(unique)) if unique else Parsed(hint=usage_hint(count, choose))
    if choose == 1:
        return Parsed(hint=f"This question has one answer. {usage_hint(count, choose)}")
    return Parsed(
        hint=f"This question asks for {NUMBER_WORDS.get(choose, choose)} answers, "
        f"you gave {len(unique)}. {usage_hint(count, choose)}"
    )


def _match_several(text: str, options: tuple[str, ...], choose: int) -> Parsed | None:
    """Option texts separated by ';' or newlines, for choose-N items."""
    parts = [p for p in re.split(r"[;\n]", text) if p.strip()]
    if len(parts) != choose:
        return None
    chosen: list[int] = []
    for part in parts:
        matched = _match_text(part, options)
        if matched is None or matched.hint:
            return matched
        chosen.extend(matched.choices or ())
    return Parsed(choices=tuple(chosen))
