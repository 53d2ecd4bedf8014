"""Moodle GIFT: the multiple choice and multiple answers questions a quiz can ask.

Supported: `//` comments, blank lines between questions, `$CATEGORY:` lines (an exam code and a
domain name or key in the path apply to the questions that follow), `::Title::`, the
`[html]`/`[markdown]`/`[plain]`/`[moodle]` markers, `=right`/`~wrong` answers with `#feedback`,
`~%50%` weights (positive means correct), `####general feedback`, the escapes `\\~ \\= \\# \\{
\\} \\:`, and answers in the middle of the text ("missing word", shown as a blank).

Every other GIFT type (true/false, short answer, matching, numeric, essay, description) is
reported by name: the bot can only quiz questions with options to pick.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from knowledge.catalog import find_exam
from knowledge.importers import ImportDefaults, item_id, too_many
from knowledge.importers.common import Placer, base_item, finish, validate_item
from knowledge.loader import BankProblem, Located

SPECIAL = "~=#{}:"
# Escaped special characters become private-use characters while parsing, then turn back.
_HIDE = {char: chr(0xE000 + index) for index, char in enumerate(SPECIAL)}
_SHOW = str.maketrans({hidden: char for char, hidden in _HIDE.items()})
_ESCAPE = re.compile(r"\\([~=#{}:])")
EXAM_CODE = re.compile(r"\b[A-Za-z]{3}-[Cc]\d{2}\b")  # AWS exam codes: SAA-C03, DVA-C02...
FORMAT_MARKER = re.compile(r"^\s*\[(html|markdown|plain|moodle)\]", re.IGNORECASE)
WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
CATEGORY = re.compile(r"^\$CATEGORY:\s*(.*)$", re.IGNORECASE)
BLANK = "_____"


def _hide(text: str) -> str:
    return _ESCAPE.sub(lambda match: _HIDE[match.group(1)], text)


def _show(text: str) -> str:
    return text.translate(_SHOW)


def _unsupported(kind: str) -> str:
    return (
        f"unsupported GIFT question type: {kind}; "
        "only multiple choice and multiple answers can be quizzed"
    )


@dataclass(frozen=True)
class _Category:
    """What a `$CATEGORY:` line says about the questions after it."""

    exam: str | None = None
    hints: tuple[str, ...] = ()
    broken: bool = False  # names an exam we do not know; reported once at the category line


@dataclass
class _Block:
    """One question's lines (comments and category lines removed) with their line numbers."""

    lines: list[tuple[int, str]]

    @property
    def text(self) -> str:
        return "\n".join(text for _, text in self.lines)

    def line_at(self, index: int) -> int:
        """The file line of a character offset in `text`."""
        return self.lines[self.text.count("\n", 0, index)][0]


def _category(path: str, file: str, line: int) -> tuple[_Category, list[BankProblem]]:
    segments = [segment.strip() for segment in path.split("/") if segment.strip()]
    found: set[str] = set()
    problems: list[BankProblem] = []
    for code in EXAM_CODE.findall(path):
        exam = find_exam(code)
        if exam is None:
            message = f"unknown exam {code!r} in the category; use DVA-C02 or CLF-C02"
            problems.append(BankProblem(file, line, "exam", message))
        else:
            found.add(exam.code)
    for segment in segments:
        exam = find_exam(segment)
        if exam is not None:
            found.add(exam.code)
    if len(found) > 1:
        message = f"the category names two exams ({', '.join(sorted(found))}); name one"
        problems.append(BankProblem(file, line, "exam", message))
    hints = tuple(
        hint for segment in segments if (hint := EXAM_CODE.sub("", segment).strip(" -_:"))
    )
    exam_code = found.pop() if len(found) == 1 else None
    return _Category(exam_code, hints, broken=bool(problems)), problems


def _html_to_text(text: str) -> str:
    """[html] questions are shown in a chat: keep line breaks, drop the tags."""
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</p\s*>", "\n\n", text)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _clean(text: str, markup: str) -> str:
    """Escapes back to characters, markup dropped, each line trimmed."""
    text = _show(text)
    if markup == "html":
        text = _html_to_text(text)
    text = "\n".join(line.strip() for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _one_line(text: str, markup: str) -> str:
    return " ".join(_clean(text, markup).split())


def _kind(answers: str) -> str | None:
    """The GIFT question type of an answer block, in Moodle's order; None for choices."""
    if not answers.strip():
        return "essay"
    if answers.lstrip().startswith("#"):
        return "numeric"
    if "~" in answers:
        return None
    if "=" in answers and "->" in answers:
        return "matching"
    if answers.split("#", 1)[0].strip().upper() in ("T", "F", "TRUE", "FALSE"):
        return "true/false"
    return "short answer"


def parse_gift(text: str, file: str, defaults: ImportDefaults) -> list[Located]:
    """Parse a GIFT file; raise BankError listing every problem with its line."""
    placer = Placer(defaults, file)
    problems: list[BankProblem] = []
    located: list[Located] = []
    category = _Category()
    pending: list[tuple[_Category, _Block]] = []
    lines: list[tuple[int, str]] = []

    def end_block() -> None:
        if lines:
            pending.append((category, _Block(list(lines))))
            lines.clear()

    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("//"):
            continue
        if not stripped:
            end_block()
            continue
        found = CATEGORY.match(stripped)
        if found:
            end_block()
            category, category_problems = _category(found.group(1), file, number)
            problems.extend(category_problems)
            continue
        lines.append((number, _hide(raw.rstrip())))
    end_block()

    blocks = _join_open_blocks(pending)
    if defaults.max_items is not None and len(blocks) > defaults.max_items:
        raise too_many(file, defaults.max_items)
    for place, block in blocks:
        entry, block_problems = _parse_block(block, place, placer, file)
        problems.extend(block_problems)
        if entry is not None:
            located.append(entry)
    return finish(located, problems, file)


def _first_brace(text: str) -> str | None:
    for char in text:
        if char in "{}":
            return char
    return None


def _join_open_blocks(
    blocks: list[tuple[_Category, _Block]],
) -> list[tuple[_Category, _Block]]:
    """A blank line inside the braces is forgiven: a block whose `{` is still open takes the next
    block when that one starts by closing it (and so cannot be a question of its own)."""
    joined: list[tuple[_Category, _Block]] = []
    for place, block in blocks:
        if joined:
            previous = joined[-1][1].text
            if previous.count("{") > previous.count("}") and _first_brace(block.text) == "}":
                joined[-1][1].lines.extend(block.lines)
                continue
        joined.append((place, _Block(list(block.lines))))
    return joined


def _parse_block(
    block: _Block, place: _Category, placer: Placer, file: str
) -> tuple[Located | None, list[BankProblem]]:
    """One question: title, text, one answer block; an item or every problem found in it."""
    text = block.text
    line = block.lines[0][0]
    problems: list[BankProblem] = []
    title: str | None = None
    start = 0
    titled = re.match(r"\s*::(.*?)::", text, re.DOTALL)
    if titled:
        title = " ".join(_show(titled.group(1)).split())
        start = titled.end()
    elif text.lstrip().startswith("::"):
        problems.append(
            BankProblem(file, line, "title", "the title opens with '::' but is never closed")
        )
        return None, problems

    opening = text.find("{", start)
    closing = text.find("}", start)
    if closing != -1 and (opening == -1 or closing < opening):
        message = "a '}' with no '{' before it; write \\} for a literal brace"
        return None, [BankProblem(file, block.line_at(closing), "options", message)]
    if opening == -1:
        message = _unsupported("description (no answers in braces)")
        return None, [BankProblem(file, line, "question", message)]
    closing = text.find("}", opening + 1)
    if closing == -1:
        message = "the '{' that opens the answers is never closed with '}'"
        return None, [BankProblem(file, block.line_at(opening), "options", message)]
    nested = text.find("{", opening + 1, closing)
    if nested != -1:
        message = "a '{' inside the answers; close them with '}' or write \\{ for a literal brace"
        return None, [BankProblem(file, block.line_at(nested), "options", message)]
    tail = text[closing + 1 :]
    for char, what in (("{", "a second answer block"), ("}", "a '}' after the answers")):
        if char in tail:
            index = closing + 1 + tail.index(char)
            message = f"{what}; separate questions with a blank line"
            return None, [BankProblem(file, block.line_at(index), "options", message)]

    head = text[start:opening]
    markup = "moodle"
    marker = FORMAT_MARKER.match(head)
    if marker:
        markup = marker.group(1).lower()
        head = head[marker.end() :]
    question = _clean(head, markup)
    if tail.strip():  # Moodle's "missing word" layout: the answers fill a blank in the text
        question = f"{question} {BLANK} {_clean(tail, markup)}".strip()
    reported: set[str] = set()
    if not _clean(head, markup):
        reported.add("question")
        problems.append(
            BankProblem(file, line, "question", "the question has no text before its '{'")
        )

    answers = text[opening + 1 : closing]
    explanation = ""
    general = answers.find("####")
    if general != -1:
        explanation = _clean(answers[general + 4 :], markup)
        answers = answers[:general]
    kind = _kind(answers)
    if kind is not None:
        problems.append(BankProblem(file, line, "question", _unsupported(kind)))
        return None, problems
    options, option_problems = _options(answers, opening + 1, block, markup, file)
    if option_problems:
        reported.add("options")
        problems.extend(option_problems)

    # A category naming an unknown exam is reported once, at its own line.
    exam, exam_problems = (None, []) if place.broken else placer.exam(place.exam, line)
    domain, domain_problems = placer.domain(exam, None, line, hints=place.hints)
    problems.extend([*exam_problems, *domain_problems])
    if exam is None:
        reported.add("exam")
    if domain is None:
        reported.add("domain")
    data: dict[str, Any] = base_item(
        item_id("gift", title, question, placer.defaults.id_space), exam, domain
    )
    data.update(question=question, options=options, explanation=explanation)
    item, item_problems = validate_item(data, file, line, reported)
    problems.extend(item_problems)
    if item is None or problems or place.broken:
        return None, problems
    return Located(item, file, line), []


def _options(
    answers: str, offset: int, block: _Block, markup: str, file: str
) -> tuple[list[dict[str, Any]], list[BankProblem]]:
    """`=right#why ~wrong ~%50%partly right`: the options and the problems of each answer."""
    problems: list[BankProblem] = []
    marks = [match.start() for match in re.finditer(r"[=~]", answers)]
    if answers[: marks[0]].strip():
        message = "text before the first answer; start each answer with = (right) or ~ (wrong)"
        problems.append(BankProblem(file, block.line_at(offset), "options", message))
    options: list[dict[str, Any]] = []
    for begin, end in zip(marks, [*marks[1:], len(answers)], strict=True):
        answer_line = block.line_at(offset + begin)
        body = answers[begin + 1 : end]
        correct = answers[begin] == "="
        weight = WEIGHT.match(body)
        if weight:
            correct = float(weight.group(1)) > 0
            body = body[weight.end() :]
        elif body.lstrip().startswith("%"):
            message = "a weight is written like %50% or %-100% before the answer's text"
            problems.append(BankProblem(file, answer_line, "options", message))
            continue
        option_text, _, why = body.partition("#")
        option_text = FORMAT_MARKER.sub("", option_text)
        if not _one_line(option_text, markup):
            message = "an answer has no text after its '=' or '~'"
            problems.append(BankProblem(file, answer_line, "options", message))
            continue
        options.append(
            {
                "text": _one_line(option_text, markup),
                "correct": correct,
                "why": _one_line(why, markup),
            }
        )
    return options, problems
