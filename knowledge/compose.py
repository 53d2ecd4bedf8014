"""The offline answer: the sentences of one or two passages that answer the question.

No model writes anything. Stitching the top sentences of five passages reads as a collage and
drifts to topics nobody asked about, so the composer rescores the retrieved passages by what
they say (knowledge/rerank.py), takes the passage that answers best and, from it, the sentences
that bear on the question, in the order they were written. A question in several parts ("how
does X work, and why can't I ...?") gets each part answered from its best passage; a comparison
("X vs Y") gets a part for each side, or says which side the material does not cover.

What never reaches an answer: cheat-sheet lines ("symptom → fix") and "Exam trap:" lines (they
read as fragments, and the prose beside them says the same), an item's scenario ("Here the
company...", "With 90-second jobs..."), lines about the exam rather than the subject, and a
sentence that repeats one already given. A written answer whose question is the student's (see
knowledge/written_match.py), or one per part of a question in two parts, is quoted whole: it was
written to be read on its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from knowledge.passages import Passage
from knowledge.questions import (
    ASKING,
    ASKING_TERMS,
    comparison_sides,
    distinct_terms,
    implied_sides,
    question_parts,
    terms,
)
from knowledge.rerank import STOPWORDS, Similarity, TermSimilarity, key_terms
from knowledge.retrieval import Hit
from knowledge.written_match import (
    ASKS_WHY,
    asked_as,
    asks_no_more,
    defines_one_side,
    is_definition,
    is_trouble,
    names_every_side,
    opens_as_asked,
    plain_terms,
    same_question,
    sides_asked_by,
    speaks_of_every_part,
)

MAX_WORDS = 120
RETOLD = 0.7  # two written answers this alike in meaning tell the student the same thing
SHORT_QUESTION = 12  # words: every name in a question this short is its subject
SIDE_WORDS = 45  # a comparison of three gets this many words a side
CANDIDATES = 36  # passages rescored: retrieval's top few plus the sections beside them
KIND_WEIGHT = {"answer": 1.0, "note": 1.0, "question": 0.85, "option": 0.65, "trap": 0.6}
WRITTEN_RANKS = 10  # a written answer quoted whole must be among retrieval's first few
MAX_WRITTEN_PARTS = 2  # a question in more parts than this reads better composed
# a part asking what something is ("what is appspec.yml", "where does WAF fit in")
ASKS_WHAT = re.compile(
    r"(?:so\s+|and\s+)?(?:what(?:'s|\s+is|\s+are|\s+does)|whats|where\s+does)\b", re.IGNORECASE
)
KEEP_SHARE = 0.7  # a sentence under this share of the best one's score is a digression
FILL_SHARE = 0.45  # ...but never one under this share of the best one's score
WHOLE_WORDS = 50  # a passage this short is quoted whole
ENOUGH_WORDS = 100  # a passage's sentences are added, best first, until the answer says this much
READ_ON_WORDS = 55  # kept sentences shorter than this read on after the best one
SECOND_SHARE = 0.75  # a second passage must score this share of the best one
THIN_WORDS = 30  # a best passage saying less than this takes the next one beside it
OTHER_PASSAGE = 0.9  # another passage answers a part when it beats the anchor by this much
SAME_TERMS = 0.6  # a sentence sharing this share of its terms with one given repeats it
TIPS_WEIGHT = 0.8
HEADING_BONUS = 0.2  # a side of a comparison prefers the note section headed with its name
PRIOR_WEIGHT = 0.7  # a passage's score: this much retrieval's view, the rest what it says
RANK_DISCOUNT = 0.35
BESIDE_RANKS = 2  # a section added beside a retrieved one ranks this far after it
HEADING_TERM = 0.5  # a question's term in a note section's heading counts this much more
SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
LABELS = re.compile(r"(?=\b(?:Exam trap|Takeaway|Remember|Exam cue|Question):)")
LABEL = re.compile(r"^(Exam trap|Takeaway|Remember|Exam cue|Question):\s*")
ARROW = "→"
CUE_SHARE = 0.5  # a cheat-sheet line is quoted when this share of its cue is asked
CUE_LEAD_WORDS = 12  # an arrow after fewer words than this closes a cue, not a sequence
CUE_WORDS = 30  # a line with an arrow and fewer words is a cheat-sheet line
ANAPHORA = re.compile(
    r"^(this|that|these|those|it|they|then|also|so|both|in return|instead|however|otherwise|"
    r"likewise|similarly|as a result|in turn)\b"
    # ...or a pronoun in its first few words ("With cloud computing it can instead pay...").
    r"|^(?:[\w'-]+,?\s+){1,4}(?:it|they|them|these|those|its|their)\b(?!-)",
    re.IGNORECASE,
)
# An item's explanation talks about its scenario and its options; neither was shown.
SCENARIO_OPENING = re.compile(
    r"^(here|in this (scenario|case|question|situation)|for this (company|team|workload)|"
    r"this (company|team|startup|scenario|requirement))\b",
    re.IGNORECASE,
)
OPTION_TALK = re.compile(
    r"\b(the other (options?|choices|answers|advantages|services)|this option|that option|"
    r"none of the other|the (right|correct|wrong) (answer|option|choice)|is the answer|"
    r"the (cheapest|best|simplest|fastest|most \w+) (way|option|choice|fix|answer))\b",
    re.IGNORECASE,
)
ABOUT_THE_EXAM = re.compile(
    r"\b(most tested|exam cues?|the clue|exam tips?|on the exam|the exam (asks|wants|expects)|"
    r"is the answer whenever)\b",
    re.IGNORECASE,
)
DOCUMENTED_FIGURE = re.compile(
    r"\b(default|limit|maximum|minimum|at most|at least|up to|quota|per second|per month)\b",
    re.IGNORECASE,
)
# Who a scenario is about: "the startup" in an explanation points at a story never shown.
ACTORS = frozenset(
    {"company", "startup", "team", "developer", "developers", "studio", "bank", "retailer"}
    | {"store", "hospital", "organization", "business", "agency", "school", "university"}
    | {"manager", "engineer", "cfo", "firm", "department", "insurer", "publisher", "shop"}
    | {"customer", "architect", "administrator", "admin", "analyst", "group", "lab", "museum"}
)
NUMBER = re.compile(r"\b\d[\d,.]*\b")


@dataclass(frozen=True)
class Composed:
    text: str
    source_ids: tuple[str, ...]
    passage_ids: tuple[str, ...] = ()
    written: tuple[Passage, ...] = ()  # written answers quoted whole, cited by their links


@dataclass
class _Source:
    """One rescored passage and the sentences of it an answer may quote."""

    hit: Hit
    sentences: list[str]
    rank: int = 0  # retrieval's order
    terms: set[str] = field(default_factory=set)  # its stemmed words
    scores: list[float] = field(default_factory=list)  # the question, then each part
    fit: list[list[float]] = field(default_factory=list)  # per query, per sentence


def _introduced(stem: str) -> set[str]:
    """Words the scenario introduced with "a"/"an" ("A new startup..."): "the startup" in an
    explanation then points at the scenario, which the student never saw."""
    found: set[str] = set()
    for match in re.finditer(r"\b(?:a|an)\s+((?:[\w-]+\s+){0,2}[\w-]+)", stem, re.IGNORECASE):
        found.update(w.lower() for w in match.group(1).split())
    return found - STOPWORDS


def is_scenario(sentence: str, stem: str, question: str) -> bool:
    """Whether an item's sentence speaks of its scenario or its options rather than the
    subject: "Here ...", "the other options", "the startup" (a startup the scenario
    introduced), a figure of the scenario ("with 90-second jobs") that is no documented
    default or limit, or four words of the scenario repeated."""
    if SCENARIO_OPENING.match(sentence) or OPTION_TALK.search(sentence):
        return True
    if not stem:
        return False
    figures = set(NUMBER.findall(sentence)) & set(NUMBER.findall(stem))
    for figure in figures - set(NUMBER.findall(question)):
        at = sentence.find(figure)
        if not DOCUMENTED_FIGURE.search(sentence[max(0, at - 25) : at + len(figure) + 30]):
            return True
    named = {m.lower() for m in re.findall(r"\bthe ([\w-]+)", sentence, re.IGNORECASE)}
    if named & ACTORS & _introduced(stem):
        return True
    words = re.findall(r"[a-z0-9]+", sentence.lower())
    grams = [words[i : i + 4] for i in range(len(words) - 3)]
    scenario = " ".join(re.findall(r"[a-z0-9]+", stem.lower()))
    return any(" ".join(g) in scenario for g in grams if len(set(g) - STOPWORDS - {"s"}) >= 3)


def quotable_sentences(hit: Hit, stem: str = "", question: str = "") -> list[str]:
    """The passage's sentences an answer may quote, in their own order: no cheat-sheet or
    trap lines, no questions, nothing about the exam itself, nothing from the scenario."""
    kept: list[str] = []
    item = hit.passage.kind in {"question", "option", "trap"}
    for raw in hit.passage.text.splitlines():
        line = re.sub(r"\*\*|`", "", raw.strip()).lstrip("-* ").strip()
        if not line:
            continue
        if ARROW in line and len(line.split()) < CUE_WORDS:
            if _cue_answers(line, question):
                kept.append(line)
            continue  # a cheat-sheet line only when its cue is the question asked
        for part in filter(None, (p.strip() for p in LABELS.split(line))):
            label = LABEL.match(part)
            if label and label.group(1) != "Takeaway":
                continue
            part = LABEL.sub("", part)
            for sentence in SENTENCE.split(part):
                if (
                    len(sentence.split()) < 4
                    or (ARROW in sentence and _is_cue(sentence))
                    or sentence.rstrip('"”').endswith("?")
                    or ABOUT_THE_EXAM.search(sentence)
                    or (item and is_scenario(sentence, stem, question))
                ):
                    continue
                kept.append(sentence[0].upper() + sentence[1:])
    return kept


def _is_cue(sentence: str) -> bool:
    """A cheat-sheet cue ('"Reduce read load" → ElastiCache'), not a sequence of steps
    ("ApplicationStop → DownloadBundle → ...") inside a sentence."""
    before = sentence.split(ARROW)[0].strip()
    return before.startswith(('"', "“")) or len(before.split()) < CUE_LEAD_WORDS


def _cue_answers(line: str, question: str) -> bool:
    """Whether a cheat-sheet line's cue ("Messages processed twice" → ...) is what the
    question asks: most of the cue's terms are in it."""
    cue = key_terms(line.split(ARROW)[0])
    return len(cue) >= 2 and len(cue & key_terms(question)) >= CUE_SHARE * len(cue)


NAME = re.compile(r"(?<=[a-z0-9,;:()] )[A-Z][A-Za-z0-9-]+|\b[A-Z0-9]{2,}[A-Za-z0-9-]*")


def missing_terms(question: str, chosen: Sequence[Hit], hits: Sequence[Hit] = ()) -> list[str]:
    """Names in the question (services, features, APIs) that none of the material found
    mentions. Only names count: "manager" missing is paraphrase, "Lambda" missing is a gap;
    a name found somewhere in the material but left out of the answer is no gap to report."""
    said = set().union(*(terms(f"{h.passage.title} {h.passage.text}") for h in [*chosen, *hits]))
    words = re.findall(r"[A-Za-z][A-Za-z0-9-]+", question)
    asked = [w for w in words if w.lower() not in STOPWORDS | ASKING and len(w) > 2]
    known = {w.lower() for w in NAME.findall(question)}
    names = [w for w in asked if w.lower() in known]
    return list(dict.fromkeys(w for w in names if not terms(w) <= said))


def _sources(question: str, hits: Sequence[Hit], stems: Mapping[str, str]) -> list[_Source]:
    """The candidates with their quotable sentences. A section added beside a retrieved note
    section (score 0) ranks just after its note's best section. Written answers rank apart
    from the rest: a note's many written answers rank high for their own questions, which
    says nothing of which of its sections answers when none of them is quoted."""
    found = []
    first: dict[str, int] = {}
    others = 0  # passages other than written answers so far
    for rank, hit in enumerate(hits[:CANDIDATES]):
        if hit.passage.kind != "answer":
            rank, others = others, others + 1
            first.setdefault(hit.passage.source_id, rank)
        stem = stems.get(hit.passage.source_id, hit.passage.context)
        sentences = quotable_sentences(hit, stem, question)
        if sentences:
            beside = hit.score == 0.0 and hit.dense is None
            order = first.get(hit.passage.source_id, rank) + BESIDE_RANKS if beside else rank
            found.append(_Source(hit, sentences, order, terms(" ".join(sentences))))
    return found


def _prior(wanted: set[str], source: _Source) -> float:
    """Retrieval's view, as the composer weighs it: the question's terms the passage holds,
    discounted by rank, lowered for an option's or a trap's verdict (they judge one choice in
    a scenario the student has not seen) and halved for a bare line."""
    text = " ".join(source.sentences)
    held = len(wanted & terms(text)) + HEADING_TERM * len(wanted & terms(_heading(source)))
    score = (held + 0.5) / (1 + RANK_DISCOUNT * source.rank)
    score *= KIND_WEIGHT.get(source.hit.passage.kind, 0.8)
    return score / 2 if len(text.split()) < 15 else score


def _heading(source: _Source) -> str:
    """A note section's own heading ("CodeDeploy appspec lifecycle hooks"), which says what
    it is about; an item's title is its scenario and says nothing."""
    title = source.hit.passage.title
    if source.hit.passage.kind != "note" or ": " not in title:
        return ""  # an item's title, or a note's own title that every section shares
    return title.split(": ", 1)[1]


def _titled(source: _Source) -> str:
    text = " ".join(source.sentences)
    heading = _heading(source)
    return f"{heading}. {text}" if heading else text


def _score_passages(queries: Sequence[str], sources: list[_Source], similarity: Similarity) -> None:
    """Each passage's score for the whole question and for each part: half retrieval's view
    (terms and rank), half what its text says (cosine with vectors)."""
    texts = [_titled(s) for s in sources]
    matrix = similarity(list(queries), texts)
    for query, row in zip(queries, matrix, strict=True):
        wanted = terms(query)
        priors = [_prior(wanted, source) for source in sources]
        top = max(priors) or 1.0
        for index, source in enumerate(sources):
            weight = KIND_WEIGHT.get(source.hit.passage.kind, 0.8)
            if "exam tips" in source.hit.passage.title.lower():
                weight *= TIPS_WEIGHT  # a section of cues, not an explanation
            said = row[index] * weight
            source.scores.append(PRIOR_WEIGHT * priors[index] / top + (1 - PRIOR_WEIGHT) * said)


def _fit_sentences(
    queries: Sequence[str], sources: list[_Source], chosen: Sequence[int], similarity: Similarity
) -> None:
    """How well each sentence of the chosen passages answers the question (row 0) and each
    part (rows 1..: half the part, half the whole question, so a part keeps its subject)."""
    sentences = [t for i in chosen for t in sources[i].sentences]
    matrix = similarity(list(queries), sentences)
    offset = 0
    for i in chosen:
        count = len(sources[i].sentences)
        whole = matrix[0][offset : offset + count]
        sources[i].fit = [whole] + [
            [0.5 * a + 0.5 * b for a, b in zip(row[offset : offset + count], whole, strict=True)]
            for row in matrix[1:]
        ]
        offset += count


@dataclass
class _Plan:
    """Which passages answer which query (0: the whole question, 1..: its parts or sides)."""

    roles: dict[int, list[int]] = field(default_factory=dict)  # source -> queries it answers
    must: dict[int, dict[str, set[str]]] = field(default_factory=dict)  # sides it must name

    def add(self, source: int, query: int) -> None:
        self.roles.setdefault(source, [])
        if query not in self.roles[source]:
            self.roles[source].append(query)


def _written_whole(
    sources: list[_Source],
    similarity: Similarity,
    question: str,
    sides: Sequence[str] | None,
    ranks: int = WRITTEN_RANKS,
) -> _Source | None:
    """The written answer whose question is closest to this one (see `_fitting_written`)."""
    fitting = _fitting_written(sources, similarity, question, sides, ranks)
    return fitting[0] if fitting else None


def _fitting_written(
    sources: list[_Source],
    similarity: Similarity,
    question: str,
    sides: Sequence[str] | None,
    ranks: int = WRITTEN_RANKS,
) -> list[_Source]:
    """The written answers among the first few candidates whose question is nearly this one
    (judged only with vectors: shared words say too little about whether two questions are
    one), or nearly its asking part when the student wrapped it in context ("The practice
    question said ... Why ...?"; a question in two parts is matched whole). A comparison's
    written answer must name every side.
    Otherwise written answers are left out: their sentences answer a narrower question."""
    bar = getattr(similarity, "same_question", None)
    written = [s for s in sources if s.hit.passage.kind == "answer" and s.rank < ranks]
    if bar is None or not written:
        return []
    parts = question_parts(question)
    asked = _asking_forms(question, parts)
    # "...CloudTrail, but I thought CloudWatch"; "why X and not Y?" has a "why" answer of its own
    if sides and sides == implied_sides(question) and not ASKS_WHY.search(question):
        asked.append(f"What is the difference between {' and '.join(sides)}?")
    written = [s for s in written if not defines_one_side(s.hit.passage, question, sides)]
    phrasings, closeness = _closeness(written, similarity, asked)
    fitting = [
        i
        for i, (source, phrasing) in enumerate(phrasings)
        if same_question(closeness[i], phrasing, question, similarity)
        and _may_define(source, phrasing, question, parts)
        and names_every_side(source.hit.passage, sides)
        and speaks_of_every_part(_said(source), parts)
        and opens_as_asked(source.hit.passage.text, question)
    ]
    found: list[_Source] = []
    for i in sorted(fitting, key=lambda i: -closeness[i]):
        if all(phrasings[i][0] is not other for other in found):
            found.append(phrasings[i][0])
    return found


def _may_define(source: _Source, phrasing: str, question: str, parts: Sequence[str]) -> bool:
    """Whether a written answer, if it says what something is, may answer this question. A
    definition reads close to any question naming its words ("What is a Lambda execution
    role?" to "When does Lambda reuse the execution environment?", at 0.78), so its few words
    must nearly all be asked; and it tells a student asking how to fix a cache that keeps
    serving stale data what lazy loading is, not how to fix it."""
    if not is_definition(source.hit.passage.title):
        return True
    # the trouble must be asked about, not told as context ("I'd never heard of it")
    asks_what = any(ASKS_WHAT.match(part.strip()) for part in parts)
    troubled = any(is_trouble(part) for part in parts)
    return asks_no_more(phrasing, question) and (asks_what or not troubled)


def _asking_forms(question: str, parts: Sequence[str]) -> list[str]:
    """The question, and its asking part alone when the student wrapped one part in context
    ("The practice question said ... Why ...?"); a question in two parts is matched whole."""
    return [question, *(parts if len(parts) == 1 and parts[0] != question else [])]


def _closeness(
    written: Sequence[_Source], similarity: Similarity, asked: Sequence[str]
) -> tuple[list[tuple[_Source, str]], list[float]]:
    """Each way a written answer's question is put, and how close it reads to the nearest of
    the forms the student asked in."""
    phrasings = [(s, p) for s in written for p in asked_as(s.hit.passage)]
    if not phrasings:
        return [], []
    matrix = similarity(list(asked), [p for _, p in phrasings])
    return phrasings, [max(column) for column in zip(*matrix, strict=True)]


def _nearest_written(
    sources: list[_Source], similarity: Similarity, question: str, sides: Sequence[str] | None
) -> _Source | None:
    """When no written answer asks this question, the one whose question is nearest, if near
    enough: written to be read whole, it reads better than sentences stitched from notes,
    even when it was written for a question put a little differently. A comparison's must
    still weigh every side, and its opening must fit what was asked."""
    floor = getattr(similarity, "nearest_question", None)
    written = [
        s
        for s in sources
        if s.hit.passage.kind == "answer"
        and s.rank < WRITTEN_RANKS
        and opens_as_asked(s.hit.passage.text, question)
        and names_every_side(s.hit.passage, sides)
        and not defines_one_side(s.hit.passage, question, sides)
    ]
    if floor is None or not written:
        return None
    parts = question_parts(question)
    phrasings, closeness = _closeness(written, similarity, _asking_forms(question, parts))
    near = [
        i
        for i, (source, phrasing) in enumerate(phrasings)
        if closeness[i] >= floor
        and _may_define(source, phrasing, question, parts)
        and not (is_trouble(phrasing) and not is_trouble(question))
        and speaks_of_every_part(_said(source), parts)
    ]
    if not near:
        return None
    chosen = phrasings[max(near, key=lambda i: closeness[i])][0]
    # a note section may read closer, but it speaks of one side; this one weighs them all
    return chosen if sides or _reads_closer_than_notes(chosen, sources) else None


def _reads_closer_than_notes(written: _Source, sources: list[_Source]) -> bool:
    """Whether retrieval found the written answer closer to the question than any note
    section or item passage among its first few: when a note section reads closer, the
    note holds the answer and the written one was written for a neighbouring question."""
    if written.hit.dense is None:
        return True
    others = [
        s.hit.dense
        for s in sources
        if s.hit.passage.kind != "answer" and s.rank < WRITTEN_RANKS and s.hit.dense is not None
    ]
    return not others or written.hit.dense >= max(others)


def _written_per_part(
    sources: list[_Source], similarity: Similarity, parts: Sequence[str], whole: _Source | None
) -> list[_Source] | None:
    """A question in two parts ("what is appspec.yml, and in what order do the hooks run?")
    answered by two written answers, one asking each part, in the order asked; None unless
    every part has its own, or when the answer matching the whole question asks each part
    too (a comparison of reserved and provisioned concurrency answers "reserved vs
    provisioned? does reserved stop cold starts?" alone). Each part was also retrieved alone,
    so its written answer may rank anywhere among the candidates."""
    if not 2 <= len(parts) <= MAX_WRITTEN_PARTS:
        return None
    fitting = [_part_answers(sources, similarity, part) for part in parts]
    if whole is not None and all(whole in found for found in fitting):
        return None
    answered: list[_Source] = []
    for found in fitting:
        if not found or found[0] in answered:
            return None
        answered.append(found[0])
    return answered


def _part_answers(sources: list[_Source], similarity: Similarity, part: str) -> list[_Source]:
    """The written answers asking one part. Only a part asking what something is gets a
    definition: "Is the TAM the only real difference?" after "Enterprise vs Business?" is no
    question about what a TAM is, and "What is a Technical Account Manager?" beside the
    comparison reads as a glossary entry stitched on."""
    found = _fitting_written(sources, similarity, part, comparison_sides(part), CANDIDATES)
    asks_what = bool(ASKS_WHAT.match(part.strip()))
    return [s for s in found if asks_what or not is_definition(s.hit.passage.title)]


def _written_per_side(
    sources: list[_Source], question: str, sides: Sequence[str] | None
) -> list[_Source] | None:
    """A comparison answered by written answers that each ask about some of its sides ("trusted
    advisor vs aws config", then "What is Amazon Inspector?"), the fewest that weigh every
    side, in the order the sides were asked; None when a side has none, or when together they
    leave a part of the question unspoken of."""
    written = [
        s
        for s in sources
        if s.hit.passage.kind == "answer" and opens_as_asked(s.hit.passage.text, question)
    ]
    if not (sides and written):
        return None
    asks = [sides_asked_by(s.hit.passage, question, sides) for s in written]
    left = set(range(len(sides)))
    chosen: list[int] = []
    while left:
        best = max(range(len(written)), key=lambda i: (len(asks[i] & left), -written[i].rank))
        if not asks[best] & left:
            return None
        chosen.append(best)
        left -= asks[best]
    chosen.sort(key=lambda i: min(asks[i]))
    answered = [written[i] for i in chosen]
    said = " ".join(_said(s) for s in answered)
    return answered if speaks_of_every_part(said, question_parts(question)) else None


def _without_retold_definitions(answered: list[_Source]) -> list[_Source]:
    """Written answers to quote together, less a definition of what another of them already
    weighs: "What is write-through caching?" after "lazy loading vs write-through" retells
    one side of it ("What is a CloudWatch dashboard?" after "Trusted Advisor vs the Health
    Dashboard" does not: it names all its subject)."""
    weighing = [
        plain_terms(s.hit.passage.title) for s in answered if not is_definition(s.hit.passage.title)
    ]

    def retold(source: _Source) -> bool:
        subject = plain_terms(source.hit.passage.title) - ASKING_TERMS
        return any(subject <= other for other in weighing)

    kept = [s for s in answered if not (is_definition(s.hit.passage.title) and retold(s))]
    return kept or answered


def _without_retold(
    answered: list[_Source],
    similarity: Similarity,
    parts: Sequence[str],
    sides: Sequence[str] | None,
) -> list[_Source]:
    """One of two written answers alone when it already speaks of every part and side and
    the other reads as much the same answer: "How does consolidated billing work, and are
    volume discounts shared?" answered twice over is read as one answer repeated."""
    if len(answered) != 2 or getattr(similarity, "same_question", None) is None:
        return answered
    whole = [
        s
        for s in answered
        if speaks_of_every_part(_said(s), parts) and names_every_side(s.hit.passage, sides)
    ]
    if not whole:
        return answered
    first, second = (s.hit.passage.text for s in answered)
    return whole[:1] if similarity([first], [second])[0][0] >= RETOLD else answered


def _said(source: _Source) -> str:
    return f"{source.hit.passage.title} {source.hit.passage.text}"


def _mentions(source: _Source, side: str) -> bool:
    """Whether the passage names this side (a note's heading counts; an item's title is its
    scenario, which is never quoted)."""
    said = " ".join(source.sentences)
    if source.hit.passage.kind == "note":
        said = f"{source.hit.passage.title} {said}"
    return terms(side) <= terms(said)


def _side_score(source: _Source, side: str, query: int) -> float:
    """How well a passage answers the question and one side of it; a note section whose
    heading names that side is about it."""
    score = source.scores[0] + source.scores[query]
    titled = source.hit.passage.kind == "note" and terms(side) <= terms(source.hit.passage.title)
    return score + HEADING_BONUS if titled else score


def _plan_sides(
    sources: list[_Source], sides: Sequence[str], plan: _Plan, offset: int
) -> list[str]:
    """A passage for each side of a comparison: the one naming it that best answers the
    question and that side (its score at `offset` + the side's number). Returns the sides no
    passage names."""
    missing = []
    for number, side in enumerate(sides, start=1):
        named = [i for i, s in enumerate(sources) if _mentions(s, side)]
        if not named:
            distinct = distinct_terms(side, sides) - ASKING_TERMS
            if not any(distinct & s.terms for s in sources):
                missing.append(side)  # not even named in part: the material lacks it
            continue
        index = max(named, key=lambda i: _side_score(sources[i], side, offset + number))
        plan.add(index, number)
        plan.must.setdefault(index, {})[side] = distinct_terms(side, sides)
    return missing


def _plan_parts(sources: list[_Source], parts: int, anchor: int, plan: _Plan) -> None:
    """Each part from the anchor when it answers it nearly as well as any passage, otherwise
    from the passage that answers that part best."""
    plan.add(anchor, 0)
    for query in range(1, parts + 1):
        best = max(range(len(sources)), key=lambda s: sources[s].scores[query])
        good = sources[anchor].scores[query] >= sources[best].scores[query] * OTHER_PASSAGE
        plan.add(anchor if good else best, query)


def _plan_names(question: str, sources: list[_Source], plan: _Plan) -> None:
    """A name a short question asks about ("a Parallel state") that the chosen passages never
    say is taken from the best passage that does, with its sentence naming it."""
    if len(question.split()) > SHORT_QUESTION:
        return  # a long question names things in passing ("CloudWatch shows 30%")
    chosen = set().union(*(sources[i].terms for i in plan.roles))
    names = {w for w in NAME.findall(question) if terms(w) - ASKING_TERMS}
    for name in sorted(names):
        wanted = terms(name) - ASKING_TERMS
        if wanted <= chosen:
            continue
        naming = [i for i, s in enumerate(sources) if wanted <= s.terms]
        if naming:
            index = max(naming, key=lambda i: sources[i].scores[0])
            plan.add(index, 0)
            plan.must.setdefault(index, {})[name] = wanted
            chosen |= sources[index].terms


def _plan_second(sources: list[_Source], anchor: int, plan: _Plan, wanted: set[str]) -> None:
    """The next best passage on the same subject joins the anchor when it scores nearly as
    well, or at any score when the anchor says little alone."""
    thin = sum(len(t.split()) for t in sources[anchor].sentences) < THIN_WORDS
    top = sources[anchor].scores[0]
    shared = sources[anchor].terms & wanted
    for index in sorted(range(len(sources)), key=lambda i: -sources[i].scores[0]):
        if index in plan.roles:
            continue
        if sources[index].scores[0] < top * SECOND_SHARE and not thin:
            return
        same = sources[index].hit.passage.source_id == sources[anchor].hit.passage.source_id
        if same or (shared and shared <= sources[index].terms):
            plan.add(index, 0)
            return


def _chosen_sentences(
    source: _Source, queries: Sequence[int], must: Mapping[str, set[str]]
) -> list[int]:
    """The sentences of one passage that answer its queries: each query's best and every
    sentence nearly as good, then the next best up to a short paragraph; a side of a
    comparison it stands for keeps its best sentence naming that side."""
    fits = source.fit[queries[0]]
    if sum(len(t.split()) for t in source.sentences) <= WHOLE_WORDS:
        return list(range(len(source.sentences)))  # a short passage keeps to one point
    keep: set[int] = set()
    for query in queries:
        top = max(source.fit[query])
        keep |= {i for i, f in enumerate(source.fit[query]) if f >= top * KEEP_SHARE and f > 0}
        keep.add(source.fit[query].index(top))
    floor = max(fits) * FILL_SHARE
    for i in sorted(range(len(fits)), key=lambda i: -fits[i]):
        if sum(len(source.sentences[k].split()) for k in keep) >= ENOUGH_WORDS:
            break
        if fits[i] >= floor:
            keep.add(i)
    _read_on(source, keep, fits.index(max(fits)))
    for wanted in must.values():
        if not any(wanted & terms(source.sentences[i]) for i in keep):
            about = [i for i, t in enumerate(source.sentences) if wanted & terms(t)]
            if about:
                keep.add(max(about, key=lambda i: fits[i]))
    return sorted(keep)


def _read_on(source: _Source, keep: set[int], best: int) -> None:
    """A bare definition ("Jitter adds randomness to each wait.") says what, not why: when the
    kept sentences are this short, the sentences right after the best one (its own
    explanation, in the writer's order) are kept too."""
    words = sum(len(source.sentences[k].split()) for k in keep)
    for following in range(best + 1, len(source.sentences)):
        if words >= READ_ON_WORDS:
            break
        if following not in keep:
            keep.add(following)
            words += len(source.sentences[following].split())


def _repeats(
    sentence: str, given: Sequence[str], before: Sequence[str], similarity: Similarity
) -> bool:
    """Whether a sentence says again what one already given says: most of its terms shared,
    or (with vectors) a paraphrase of one from another passage ("The fix is a longer
    visibility timeout..."); sentences of one passage are related, not repeated, by design."""
    mine = key_terms(sentence)
    for other in given:
        theirs = key_terms(other)
        if len(mine & theirs) >= SAME_TERMS * max(1, min(len(mine), len(theirs))):
            return True
    bar = getattr(similarity, "repeats_at", None)
    return bool(bar and before and max(similarity([sentence], list(before))[0]) >= bar)


def _restates(block: Sequence[str], given: Sequence[str], similarity: Similarity) -> bool:
    """Whether a second passage's paragraph retells the first one in other words (two
    explanations of Spot Instances read as one said twice)."""
    bar = getattr(similarity, "restates_at", None)
    if not (bar and block and given):
        return False
    return similarity([" ".join(block)], [" ".join(given)])[0][0] >= bar


def _render(
    sources: list[_Source], plan: _Plan, max_words: int, similarity: Similarity
) -> tuple[str, list[Hit]]:
    """The chosen sentences, a paragraph per passage, within the word budget. A sentence
    opening with "It"/"This" keeps the sentence before it, or is left out; a sentence
    repeating one already given is left out, and so is a paragraph retelling the ones before."""
    blocks: list[str] = []
    given: list[str] = []
    used: list[Hit] = []
    for index, queries in plan.roles.items():
        source = sources[index]
        chosen = set(_chosen_sentences(source, queries, plan.must.get(index, {})))
        chosen |= {i - 1 for i in chosen if i > 0 and ANAPHORA.match(source.sentences[i])}
        if given and _restates([source.sentences[i] for i in sorted(chosen)], given, similarity):
            continue
        block: list[str] = []
        lines: list[str] = []
        words = sum(len(t.split()) for t in given)
        for i in sorted(chosen):
            sentence = source.sentences[i]
            length = len(sentence.split())
            if words + length > max_words and words:
                continue
            if _repeats(sentence, [*given, *block, *lines], given, similarity):
                continue
            if ANAPHORA.match(sentence) and not block:  # what it points at is not shown
                continue
            (lines if ARROW in sentence else block).append(sentence)
            words += length
        if block or lines:
            blocks.append("\n".join(filter(None, [" ".join(block), *(f"- {t}" for t in lines)])))
            given.extend(block + lines)
            used.append(source.hit)
    return "\n\n".join(blocks), used


def _cheat_sheet(hits: Sequence[Hit]) -> str:
    """Only cheat-sheet lines were found: shown as a list, one line each."""
    lines = [
        line.strip().lstrip("-* ").strip()
        for hit in hits[:1]
        for line in hit.passage.text.splitlines()
        if ARROW in line
    ]
    return "\n".join(f"- {line}" for line in lines)


def _plan(
    question: str, sources: list[_Source], parts: Sequence[str], anchor: int
) -> tuple[_Plan, list[str], list[str]]:
    """Which passages answer what, the queries to fit sentences against, and the sides of a
    comparison the material does not name."""
    plan = _Plan()
    sides = comparison_sides(question)
    if sides:
        missing = _plan_sides(sources, sides, plan, len(parts) if len(parts) > 1 else 0)
        if len(plan.roles) > 1 or (missing and plan.roles):
            return plan, [question, *sides], missing
        anchor = next(iter(plan.roles), anchor)  # one passage names both sides
        plan = _Plan()
    if sides:
        plan.add(anchor, 0)
        plan.must[anchor] = {side: distinct_terms(side, sides) for side in sides}
    _plan_parts(sources, len(parts) if len(parts) > 1 else 0, anchor, plan)
    _plan_second(sources, anchor, plan, terms(question))
    _plan_names(question, sources, plan)
    return plan, [question, *(parts if len(parts) > 1 else [])], []


def compose_extractive(
    question: str,
    hits: Sequence[Hit],
    max_words: int = MAX_WORDS,
    similarity: Similarity | None = None,
    stems: Mapping[str, str] | None = None,
) -> Composed:
    """One explanation from the passage(s) that answer the question, saying what it misses.
    `stems` maps an item's id to its scenario, so that no sentence about it is quoted."""
    similarity = similarity or TermSimilarity()
    sources = _sources(question, hits, stems or {})
    if not sources:
        return _composed(_cheat_sheet(hits), list(hits[:1]))
    parts = question_parts(question)
    sides = comparison_sides(question)
    queries = [question, *(parts if len(parts) > 1 else []), *(sides or ())]
    if quoted := _quoted_written(sources, similarity, question, parts, sides):
        return quoted
    # "why X and not Y?" prefers a written answer weighing both, but the one that asks what
    # the student asked in other words ("bump the retry count") beats sentences stitched
    why_not = sides and ASKS_WHY.search(question)
    if why_not and (quoted := _quoted_written(sources, similarity, question, parts, None)):
        return quoted
    sources = [s for s in sources if s.hit.passage.kind != "answer"] or sources
    _score_passages(queries, sources, similarity)
    budget = max(max_words, SIDE_WORDS * len(sides or ()))
    text, used, missing = "", [], []
    while not text and sources:
        anchor = max(range(len(sources)), key=lambda i: sources[i].scores[0])
        plan, fit_queries, missing = _plan(question, sources, parts, anchor)
        _fit_sentences(fit_queries, sources, list(plan.roles), similarity)
        text, used = _render(sources, plan, budget, similarity)
        # every sentence chosen pointed at something never shown: the next best passages
        sources = [s for i, s in enumerate(sources) if i not in plan.roles]
    if not text:
        return _composed(_cheat_sheet(hits), list(hits[:1]))
    for side in missing:
        text += f"\n\nThe study material does not cover {side}."
    if names := missing_terms(question, used, hits):
        named = ", ".join(names)
        text += f"\n\nThe study material only partly covers this: it says nothing about {named}."
    return _composed(text, used)


def _quoted_written(
    sources: list[_Source],
    similarity: Similarity,
    question: str,
    parts: Sequence[str],
    sides: Sequence[str] | None,
) -> Composed | None:
    """The written answer(s) that answer the question whole, if any: the one asking it, one
    per part or per side, or the nearest when near enough."""
    written = _written_whole(sources, similarity, question, sides)
    answered = _written_per_part(sources, similarity, parts, written)
    if written and not (answered and written in answered):
        return _quoting([written])
    if answered or (answered := _written_per_side(sources, question, sides)):
        answered = _without_retold(_without_retold_definitions(answered), similarity, parts, sides)
        return _quoting(answered)
    if nearest := _nearest_written(sources, similarity, question, sides):
        return _quoting([nearest])
    return None


def _quoting(answered: Sequence[_Source]) -> Composed:
    """Written answers quoted whole, in order, each its own paragraph."""
    whole = _composed("\n\n".join(s.hit.passage.text for s in answered), [s.hit for s in answered])
    return replace(whole, written=tuple(s.hit.passage for s in answered))


def _composed(text: str, chosen: Sequence[Hit]) -> Composed:
    return Composed(
        text=text,
        source_ids=tuple(dict.fromkeys(h.passage.source_id for h in chosen)),
        passage_ids=tuple(h.passage.id for h in chosen),
    )
