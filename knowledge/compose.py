"""The offline answer: one or two passages that answer the question, in their own order.

No model writes anything. Stitching the top sentences of five passages reads as a collage and
drifts to topics nobody asked about, so the composer picks the passage that answers best and at
most one more on the same subject, and quotes their sentences in the order they were written.
Comparison questions ("X vs Y") get a part for each side. Cheat-sheet lines ("symptom → fix")
and labelled parts ("Exam trap:", "Takeaway:") stay on lines of their own: run into a paragraph
they read as fragments. When the question names something none of the chosen passages mentions,
the answer says so instead of pretending to cover it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import Stemmer

from knowledge.retrieval import Hit

MAX_WORDS = 120
SECOND_SHARE = 0.5  # a passage scoring at most half the best one adds drift, not answer
KIND_WEIGHT = {"option": 0.7, "trap": 0.8}
THIN_WORDS = 15  # a best passage shorter than this always takes a second one on its subject
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
LABELS = re.compile(r"(?=\b(?:Exam trap|Takeaway|Remember):)")
ARROW = "→"
_STEMMER = Stemmer.Stemmer("english")
STOPWORDS = frozenset(
    {"a", "an", "the", "of", "to", "in", "on", "for", "and", "or", "is", "are", "was", "be"}
    | {"by", "as", "at", "it", "its", "this", "that", "with", "from", "how", "what", "why"}
    | {"when", "which", "who", "does", "do", "did", "can", "should", "would", "i", "my", "me"}
    | {"you", "your", "we", "our", "not", "no", "vs", "versus", "there", "their", "them"}
    | {"they", "if", "then", "than", "so", "into", "about"}
)
# Words a question uses to ask, not to name a subject: their absence is no gap in coverage.
ASKING = frozenset(
    {"difference", "between", "use", "using", "choose", "pick", "work", "works", "happen"}
    | {"happens", "mean", "means", "need", "actually", "actual", "instead", "way", "best"}
    | {"people", "someone", "thing", "things", "get", "make", "set", "keep", "keeps", "like"}
    | {"used", "give", "gives", "will", "one", "two", "both", "each", "every", "time", "much"}
    | {"many", "aws", "amazon", "exam", "question", "answer", "really", "just", "put", "run"}
    | {"compare", "versus", "better", "good", "bad", "wrong", "right", "fix", "help", "want"}
    | {"have", "has", "had", "been", "being", "still", "why", "whats", "what's", "go", "goes"}
)
COMPARISON = (
    re.compile(r"difference between (?P<x>.+?) and (?P<y>.+)", re.IGNORECASE),
    re.compile(r"compare (?P<x>.+?) (?:and|with|to) (?P<y>.+)", re.IGNORECASE),
    re.compile(r"(?P<x>[\w .'/-]+?)\s+(?:vs\.?|versus)\s+(?P<y>.+)", re.IGNORECASE),
    re.compile(r"(?:use|choose|pick) (?P<x>.+?) (?:instead of|over|or) (?P<y>.+)", re.IGNORECASE),
)
SIDE_END = re.compile(
    r"[?,:;(]|\s[-–—]\s|\s(?:vs\.?|versus|in|for|on|when|if|which|so|to|workflows?)\s",
    re.IGNORECASE,
)
ANAPHORA = re.compile(r"^(this|that|these|those|it|they|then|also|so)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Composed:
    text: str
    source_ids: tuple[str, ...]
    passage_ids: tuple[str, ...] = ()


def terms(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9][a-z0-9-]*", text.lower())
    return set(_STEMMER.stemWords([w for w in words if w not in STOPWORDS]))


@dataclass(frozen=True)
class _Piece:
    text: str
    line: bool  # a cheat-sheet or labelled line, shown on its own


def _pieces(text: str) -> list[_Piece]:
    """The passage split into prose sentences and stand-alone lines, in their own order;
    questions are left out (they answer nothing)."""
    pieces: list[_Piece] = []
    for raw in text.splitlines():
        line = re.sub(r"\*\*|`", "", raw.strip()).lstrip("-* ").strip()
        if not line:
            continue
        if ARROW in line:
            pieces.append(_Piece(line, True))
            continue
        for part in filter(None, (p.strip() for p in LABELS.split(line))):
            labelled = bool(LABELS.match(part)) and ":" in part[:12]
            for sentence in [part] if labelled else SENTENCE.split(part):
                if len(sentence.split()) >= 4 and not sentence.endswith("?"):
                    pieces.append(_Piece(sentence, labelled))
    return pieces


def _passage_score(wanted: set[str], hit: Hit, rank: int) -> float:
    """How well a passage answers: the question's terms it holds, discounted by rank, and
    halved for a bare line, and lowered for an option's or a trap's verdict: those judge one
    choice in a scenario the student has not seen, while a note is written to teach."""
    score = (len(wanted & terms(hit.passage.text)) + 0.5) / (1 + 0.35 * rank)
    score *= KIND_WEIGHT.get(hit.passage.kind, 1.0)
    return score / 2 if len(hit.passage.text.split()) < THIN_WORDS else score


def pick_passages(question: str, hits: Sequence[Hit]) -> list[Hit]:
    """The best passage and at most one more that scores over half as well on the same
    subject (any score when the best is a bare line): more passages bring more topics, not
    more answer."""
    if not hits:
        return []
    wanted = terms(question)
    scored = sorted(
        ((_passage_score(wanted, h, r), r, h) for r, h in enumerate(hits)),
        key=lambda s: (-s[0], s[1]),
    )
    top_score, _, best = scored[0]
    shared = wanted & terms(best.passage.text)
    thin = len(best.passage.text.split()) < THIN_WORDS  # one line explains nothing alone
    for score, _, hit in scored[1:]:
        if score <= top_score * SECOND_SHARE and not thin:
            break
        same_subject = hit.passage.source_id == best.passage.source_id or (
            shared and shared <= terms(hit.passage.text)
        )
        if same_subject:
            return [best, hit]
    return [best]


def _chosen_pieces(wanted: set[str], hit: Hit, budget: int) -> list[_Piece]:
    """The passage's pieces that bear on the question, in their own order, within `budget`
    words. The opening sentence stays (it names the subject); other pieces must share a term
    with the question. A passage that fits the budget is kept whole."""
    pieces = _pieces(hit.passage.text)
    if sum(len(p.text.split()) for p in pieces) <= budget:
        return pieces  # fits whole: a list reads best complete
    keep: list[_Piece] = []
    words = 0
    for index, piece in enumerate(pieces):
        overlap = len(wanted & terms(piece.text))
        if overlap < 1 and not (index == 0 and not piece.line) and len(pieces) > 3:
            continue
        length = len(piece.text.split())
        if words + length > budget:
            if words:
                continue
            piece = _Piece(" ".join(piece.text.split()[:budget]) + "…", piece.line)
            length = budget
        keep.append(piece)
        words += length
    return keep


def _render(pieces: Sequence[_Piece]) -> str:
    """Prose runs as a paragraph; a cheat-sheet or labelled piece gets a line of its own."""
    blocks: list[str] = []
    prose: list[str] = []
    for piece in pieces:
        if not piece.line:
            prose.append(piece.text)
            continue
        if prose:
            blocks.append(" ".join(prose))
            prose = []
        blocks.append(f"- {piece.text}" if ARROW in piece.text else piece.text)
    if prose:
        blocks.append(" ".join(prose))
    return "\n".join(blocks)


def comparison_sides(question: str) -> tuple[str, str] | None:
    """The two things a comparison question weighs ("X vs Y", "difference between X and Y",
    "use X instead of Y"), or None when it asks about one thing."""
    for pattern in COMPARISON:
        if match := pattern.search(question):
            x = match.group("x").strip(" ?.")
            x = re.sub(r"^.*\b(?:between|use|choose|pick|compare)\s+", "", x, flags=re.I)
            y = SIDE_END.split(f"{match.group('y')} ", maxsplit=1)[0].strip(" ?.")
            if terms(x) - terms(y) and terms(y) - terms(x):
                return x, y
    return None


def _side_hit(side: set[str], wanted: set[str], hits: Sequence[Hit]) -> Hit | None:
    """The best-scoring passage that names this side of a comparison."""
    named = [(r, h) for r, h in enumerate(hits) if side <= terms(h.passage.text)]
    if not named:
        return None
    return max(named, key=lambda rh: (_passage_score(wanted, rh[1], rh[0]), -rh[0]))[1]


NAME = re.compile(r"(?<=[a-z0-9,;:()] )[A-Z][A-Za-z0-9-]+|\b[A-Z0-9]{2,}[A-Za-z0-9-]*")


def missing_terms(question: str, chosen: Sequence[Hit], hits: Sequence[Hit] = ()) -> list[str]:
    """Names in the question (services, features, APIs) that no chosen passage mentions.
    Only names count: "manager" or "again" missing is paraphrase, "Lambda" missing is a gap.
    A name is a capitalised word in the question or in the retrieved material."""
    said = set().union(*(terms(f"{h.passage.title} {h.passage.text}") for h in chosen))
    known = {w.lower() for h in hits for w in NAME.findall(h.passage.text)}
    words = re.findall(r"[A-Za-z][A-Za-z0-9-]+", question)
    asked = [w for w in words if w.lower() not in STOPWORDS | ASKING and len(w) > 2]
    known |= {w.lower() for w in NAME.findall(question)}
    names = [w for w in asked if w.lower() in known]
    return list(dict.fromkeys(w for w in names if not terms(w) <= said))


def _comparison(question: str, hits: Sequence[Hit], max_words: int) -> Composed | None:
    """A part for each side of a comparison, or a sentence saying which side is missing.
    None when both sides are in one passage: the ordinary answer then covers both."""
    sides = comparison_sides(question)
    if sides is None:
        return None
    wanted = terms(question)
    x, y = sides
    found = [
        _side_hit(terms(x) - terms(y), wanted, hits),
        _side_hit(terms(y) - terms(x), wanted, hits),
    ]
    if found[0] is not None and found[0] is found[1]:
        return None
    parts: list[str] = []
    chosen: list[Hit] = []
    for side, hit in zip(sides, found, strict=True):
        if hit is None:
            parts.append(f"The study material does not cover {side}.")
            continue
        side_wanted = wanted & terms(side) | wanted
        parts.append(_render(_chosen_pieces(side_wanted, hit, max_words // 2)))
        chosen.append(hit)
    if not chosen:
        return None
    return _composed("\n\n".join(parts), chosen)


def _composed(text: str, chosen: Sequence[Hit]) -> Composed:
    return Composed(
        text=text,
        source_ids=tuple(dict.fromkeys(h.passage.source_id for h in chosen)),
        passage_ids=tuple(h.passage.id for h in chosen),
    )


def compose_extractive(question: str, hits: Sequence[Hit], max_words: int = MAX_WORDS) -> Composed:
    """One explanation from the passage(s) that answer the question, saying what it misses."""
    if compared := _comparison(question, hits, max_words):
        return compared
    wanted = terms(question)
    chosen = pick_passages(question, hits)
    pieces: list[_Piece] = []
    for hit in chosen:
        budget = max_words - sum(len(p.text.split()) for p in pieces)
        if budget > 10:
            pieces.extend(_chosen_pieces(wanted, hit, budget))
    text = _render(pieces)
    if missing := missing_terms(question, chosen, hits):
        named = ", ".join(missing)
        text += f"\n\nThe study material only partly covers this: it says nothing about {named}."
    return _composed(text, chosen)
