"""What a typed question asks: the terms that name its subject, its parts and the things it
compares. Both the composer and the written-answer matcher read questions this way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import Stemmer

from knowledge.rerank import STOPWORDS, WORD, key_terms

_STEMMER = Stemmer.Stemmer("english")
# Words a question uses to ask, not to name a subject: their absence is no gap in coverage.
ASKING = frozenset(
    {"difference", "diff", "between", "use", "using", "choose", "pick", "work", "works", "happen"}
    | {"happens", "mean", "means", "need", "actually", "actual", "instead", "way", "best"}
    | {"people", "someone", "thing", "things", "get", "make", "set", "keep", "keeps", "like"}
    | {"used", "give", "gives", "will", "one", "two", "both", "each", "every", "time", "much"}
    | {"many", "aws", "amazon", "exam", "question", "answer", "really", "just", "put", "run"}
    | {"compare", "versus", "better", "good", "bad", "wrong", "right", "fix", "help", "want"}
    | {"have", "has", "had", "been", "being", "still", "why", "whats", "what's", "go", "goes"}
    | {"all", "again", "exactly", "ever", "anymore", "now"}
)
ASKING_TERMS = set(_STEMMER.stemWords(sorted(ASKING | {"aws", "amazon", "term", "terms"})))
VERSUS = re.compile(r"(?P<x>[\w .'/-]+?)\s+(?:vs\.?|versus)\s+(?P<y>.+)", re.IGNORECASE)
COMPARISON = (
    re.compile(r"\b(?:differences?|diff) between (?P<x>.+?) and (?P<y>.+)", re.IGNORECASE),
    re.compile(r"compare (?P<x>.+?) (?:and|with|to) (?P<y>.+)", re.IGNORECASE),
    VERSUS,
    re.compile(
        r"(?:use|choose|pick|pay for|go with) (?P<x>.+?) (?:instead of|over|or) "
        r"(?!(?:is|are|do|does|can|will|should|would|not|something|anything)\b)(?P<y>.+)",
        re.IGNORECASE,
    ),
    # "Is that Cost Explorer or the Pricing Calculator?" (not "... or is there a discount?")
    re.compile(
        r"\b(?:is|was) (?:it|that|this) (?!just\b|really\b|only\b)"
        r"(?P<x>(?:[\w.'/-]+ ){0,4}[\w.'/-]+) or (?!(?:is|are|was|do|does|did|can|will|would|"
        r"there|it|not|just|something|anything|someone|another|other|what|how|why)\b)"
        r"(?P<y>.+)",
        re.IGNORECASE,
    ),
)
SIDE_END = re.compile(
    r"[?,:;(]|\.\.+|…|\.\s|\s[-–—]\s|\s(?:vs\.?|versus|in|for|on|when|if|which|so|to|workflows?)\s"
    r"|\s(?:i|im|i'm|we|my|our|they|you)\s",  # "config i always mix these up"
    re.IGNORECASE,
)
# "..., or is it always wrong?" puts the part before it another way: no second part.
PART_SPLIT = re.compile(
    r",?\s+(?:and|but)\s+(?=(?:why|how|what|which|when|whose|where|who|can|could|is|are|"
    r"does|do|should)\b)",
    re.IGNORECASE,
)
# "is it the same thing as X or Y", "is X different from Y"
SAME_AS = re.compile(
    r"\b(?:is|are|isn't|aren't)\s+(?P<x>[\w .'/-]{1,40}?)\s+(?:really\s+|actually\s+)?"
    r"(?:the same(?: thing)? as|any different from|diff?e?rent (?:from|than))\s+(?P<y>.+)",
    re.IGNORECASE,
)
PRONOUNS = frozenset({"it", "that", "this", "they", "these", "those"})
OWNERS = PRONOUNS | {"my", "our", "your", "their", "its", "his", "her", "we", "i", "you"}
# words standing in for things named elsewhere ("when would I use one vs the other?")
STAND_INS = PRONOUNS | {"one", "other", "another", "them", "each", "both", "either", "neither"}
# the thing a question asks about before "is it the same as ...": "what is an edge location"
ASKED_ABOUT = re.compile(
    r"\bwhat(?:'s| is| are| does)\s+(?:an?\s+|the\s+)?(?P<x>[\w .'/-]{2,40}?)"
    r"(?:\s+(?:actually|exactly|really|mean|do))?\s*[?.!]",
    re.IGNORECASE,
)
ARTICLE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)
# the clause before the thing a side names: "what goes in it for EC2 deployments"
X_LEAD = re.compile(r"\s(?:for|in|on|about)\s", re.IGNORECASE)
# "...instead of just relying on point-in-time recovery" weighs point-in-time recovery
LEAD_IN = re.compile(
    r"^(?:just\s+|simply\s+|only\s+)?(?:relying\s+on|using|calling)\s+", re.IGNORECASE
)
# "what am I missing?" follows on from the part before it; it asks nothing of its own
HELPLESS = frozenset({"am", "miss", "missing", "do", "doing", "wrong", "here", "see", "know"})
LISTED_WORDS = 5  # a listed side names a thing in a few words; a longer item is a clause
VAGUE = re.compile(
    r"^(?:something|anything|someone|somewhere|neither|both|none|all|what|which|other)"
    r"(?:\s+(?:else|other|of them|of these|one))?$",
    re.IGNORECASE,
)
# "...what's the difference between them?", "which one do I use?"
POINTS_BACK = re.compile(
    r"\b(?:difference|differ|compare|which one|better|instead|same thing)\b.*"
    r"\b(?:them|the two|these|those|both|each other|which one|it)\b"
    r"|\bwhich one\b|\bthe difference\b(?!\s+between\b)"
    r"|\bone\s+(?:vs\.?|versus|or|over|instead of)\s+the\s+other\b",
    re.IGNORECASE,
)
# "I picked Cost Explorer, but the answer was Pricing Calculator. Why?" weighs the two
PICKED = re.compile(
    r"\b(?:i\s+(?:choose|thought(?:\s+it\s+was)?|answered)|(?:i\s+|it\s+)?(?:picked|chose|"
    r"selected|went\s+with|guessed)|(?:correct\s+|right\s+)?answer\s+(?:was|is|said)|"
    # "why is the answer Route 53 and not CloudFront"
    r"why\s+(?:is|was)\s+the\s+(?:correct\s+|right\s+|best\s+)?answer(?!\s+(?:was|is|said)\b)|"
    r"why\s+not(?:\s+just)?(?:\s+use)?|(?:,|\band|\bbut)\s+not(?:\s+just)?|instead\s+of|"
    r"rather\s+than)\s+"
    r"(?P<side>(?:(?!\s(?:and|but)\s+not\b|\sinstead\s+of\b|\srather\s+than\b)[^,.;:?!])+)"
    # "why is PrivateLink the answer here", "why was Macie the correct answer"
    r"|\bwhy\s+(?:is|was|did|does)\s+(?:it\s+pick\s+)?(?P<answer>[\w .:/-]{1,40}?)\s+"
    r"(?:the\s+)?(?:(?:correct|right|best|better)\s+)?(?:answer|correct|right|better|chosen|"
    r"picked|recommended|fix|solution)\b",
    re.IGNORECASE,
)
# "why dynamodb streams + lambda and not TTL?", "why was the answer an IAM role and not a group"
WHY_NOT_SIDES = re.compile(
    r"^\s*why\s+(?:(?:is|was|are|were|do|does|did|would|should|could|can|use|pick|choose|go|"
    r"with|deploy|need|want|we|i|you|it|they|the|a|an|company|someone|people|correct|right|"
    r"best|answer|fix|solution|to|say|says|said|recommend|suggest|across|in|on|for)\s+)*"
    r"(?P<x>[^,;:?!]{1,60}?)\s*,?\s+(?:and\s+not|but\s+not|not|instead\s+of|rather\s+than)\s+"
    r"(?:just\s+)?(?P<y>[^,;:?!]+)",
    re.IGNORECASE,
)
# what follows a side's name: "Trusted Advisor (the correct answer) here", "appspec.yml here"
SIDE_TAIL = re.compile(
    r"(?:\s+(?:is|was|the|correct|right|best|better|answer|option|choice|fix|here|there|"
    r"then))+$",
    re.IGNORECASE,
)
CHOICE_TALK = re.compile(
    r"\b(?:answer|picked|chose|choose|correct|thought|why not|fix|solution)\b", re.I
)
PICKED_END = re.compile(
    r"\s(?:but|and|because|since|for|as|which|when|instead|so|then|over|is|was|would|"
    r"could|should|does|did|do|can|will|seemed|looked|were|are|also|gives?|gave|has|had)\b"
    r"|\s(?:vs\.?|versus)\s",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"(?<=[?!.])\s+")
NAME_RUN = re.compile(r"\b[A-Z][A-Za-z0-9-]*(?:\s+[A-Z][A-Za-z0-9-]*)*")
NOT_NAMES = frozenset(
    {"AWS", "Amazon", "I", "I'm", "API", "APIs", "ID", "IP", "HTTP", "HTTPS", "URL", "JSON"}
    | {"SDK", "CLI", "KB", "MB", "GB", "TB", "OK", "The", "But", "And", "So", "Why", "What"}
    | {"How", "When", "Which", "If", "It", "This", "That", "My", "We", "Our", "In", "On"}
)
ASKS = re.compile(
    r"^(why|how|what|which|when|whose|where|who|can|could|is|are|does|do|should|whats|diff)\b",
    re.IGNORECASE,
)


def terms(text: str) -> set[str]:
    words = WORD.findall(text.lower())
    return set(_STEMMER.stemWords([w for w in words if w not in STOPWORDS]))


def _sentences(text: str) -> list[str]:
    """A message cut after each "?", "!" or "." that ends a sentence."""
    return [c.strip() for c in SENTENCE_END.split(text.strip()) if c.strip()]


def question_parts(question: str) -> list[str]:
    """The questions a message asks ("how does X work, and why can't I ...?" is two); the
    statements around them ("I thought deleting it was enough.") are context, not parts."""
    chunks = _sentences(question)
    parts: list[str] = []
    for chunk in chunks:
        if not (chunk.endswith("?") or ASKS.match(chunk)):
            continue
        for piece in PART_SPLIT.split(chunk):
            if len(key_terms(piece) - HELPLESS) >= 2:
                parts.append(piece.strip(" ,"))
    return parts or [question]


def _chain(question: str) -> tuple[str, ...] | None:
    """The things an "X vs Y vs Z" question weighs, when it weighs more than two."""
    chain = re.split(r"\s+(?:vs\.?|versus)\s+", question, flags=re.IGNORECASE)
    if len(chain) < 3:
        return None
    if any(re.search(r"[?!.;:]|\s[-–—]\s", middle) for middle in chain[1:-1]):
        return None  # "X vs Y - when do I need one vs the other?" weighs two things
    first = re.split(r"[,.:;?!]\s*", chain[0])[-1].strip(" '\"")
    last = SIDE_END.split(f"{chain[-1]} ", maxsplit=1)[0].strip(" ?.'\"")
    sides = (first, *(c.strip(" '\"") for c in chain[1:-1]), last)
    # "rolling vs rolling with additional batch" weighs two things, one named inside the other
    named = [frozenset(terms(s)) for s in sides]
    return sides if all(named) and len(set(named)) == len(named) else None


def comparison_sides(question: str) -> tuple[str, ...] | None:
    """The things a comparison question weighs ("X vs Y", "difference between X and Y",
    "use X instead of Y", "X vs Y vs Z", or "the answer was X, but I thought Y... what's the
    difference between them?"), or None when it asks about one thing."""
    if chained := _chain(question):
        return chained
    if why_not := _why_not_sides(question):
        return why_not
    return _named_sides(question) or _listed_sides(question) or implied_sides(question)


def _why_not_sides(question: str) -> tuple[str, ...] | None:
    """The two things a "why X and not Y?" question opens with weighing; what follows it
    ("...i always mix up codebuild vs codedeploy") is context."""
    match = WHY_NOT_SIDES.match(_sentences(question)[0])
    if not match:
        return None
    x = SIDE_TAIL.sub("", match.group("x")).strip(" '\"")
    x = _bare(re.split(r"\s*['\"‘’“”]\s*", x)[-1])  # "lift-and-shift called 'rehost'"
    y = PICKED_END.split(f"{LEAD_IN.sub('', match.group('y').strip())} ", maxsplit=1)[0]
    y = SIDE_END.split(f"{y} ", maxsplit=1)[0]
    y = _bare(SIDE_TAIL.sub("", y.strip(" '\".")))
    sides = (x.strip(" '\""), y.strip(" '\""))
    named = [frozenset(terms(side)) for side in sides]
    if not all(named) or named[0] == named[1]:
        return None
    if any(
        len(side.split()) > LISTED_WORDS + 1
        or ASKS.match(side)
        or side.split()[0].lower() in OWNERS
        or not re.search(r"[A-Za-z]{3,}", side)  # "10 RCU and not 20" weighs no two things
        for side in sides
    ):
        return None  # "why does my lambda time out and not return an error" weighs nothing
    return sides


def _picked_sides(question: str) -> tuple[str, ...] | None:
    """What a student picked and what the answer was ("I picked Cost Explorer ..., but the
    answer was Pricing Calculator. Why is Cost Explorer wrong?"): a question about a practice
    answer weighs the two, as "X vs Y" would."""
    chunks = _sentences(question)
    asks = any(c.endswith("?") or ASKS.match(c) for c in chunks)
    if not (CHOICE_TALK.search(question) and asks):
        return None
    sides: list[str] = []
    for match in PICKED.finditer(question):
        side = PICKED_END.split(f"{match.group('side') or match.group('answer')} ", maxsplit=1)[0]
        side = re.sub(r"^(?:that|to|on|option\s+\w)\s+", "", side.strip(" '\""))
        side = _bare(LEAD_IN.sub("", side))
        side = side.strip(" '\"")
        names_a_thing = re.search(r"[A-Za-z]{3,}", side)  # "10 RCU and not 20" weighs none
        if names_a_thing and len(side.split()) <= LISTED_WORDS and not ASKS.match(side):
            sides.append(side)
    sides = [side for side in sides if side.split()[0].lower() not in PRONOUNS | {"about"}]
    # "I thought GuardDuty also monitors S3" names no more than GuardDuty
    sides = [x for x in sides if not any(terms(y) < terms(x) for y in sides)]
    sides = list({frozenset(terms(side)): side for side in reversed(sides)}.values())[::-1]
    named = [frozenset(terms(side)) for side in sides]
    if not 2 <= len(sides) <= 3 or not all(named) or len(set(named)) != len(named):
        return None
    return tuple(sides)


def _listed_sides(question: str) -> tuple[str, ...] | None:
    """The things a message ending in a list weighs ("...when our internet is slow? snowball,
    snowmobile or datasync"; "how could I have caught it, budgets or cost anomaly detection or
    something else"), less the vague ones."""
    chunks = _sentences(question)
    asked = [c for c in chunks if c.endswith("?") and re.search(r"\sor\s", c)]
    last = (asked or chunks)[-1].strip(" ?!.")
    if not re.search(r"\sor\s", last):
        return None
    items = [i.strip(" '\"") for i in re.split(r",\s*(?:or\s+)?|\s+or\s+", last) if i.strip()]
    while items and (ASKS.match(items[0]) or len(items[0].split()) > LISTED_WORDS):
        items.pop(0)  # the clause the list follows ("how could I have caught it sooner")
    items = [re.sub(r"^(?:a|an|the|just)\s+", "", i, flags=re.I) for i in items]
    named = [i for i in items if not VAGUE.match(i)]
    if any(ASKS.match(i) or len(i.split()) > LISTED_WORDS for i in named) or len(named) < 2:
        return None
    sets = [frozenset(terms(i)) for i in named]
    return tuple(named) if all(sets) and len(set(sets)) == len(sets) else None


def _same_as_sides(question: str) -> tuple[str, ...] | None:
    """ "What is an edge location? Is it the same thing as a local zone or a regional edge
    cache?" weighs the thing asked about against each named after "the same as"."""
    match = SAME_AS.search(question)
    if not match:
        return None
    x = _bare(match.group("x").strip())
    if x.lower() in PRONOUNS:
        asked = ASKED_ABOUT.search(question[: match.start()])
        x = asked.group("x").strip() if asked else ""
    tail = SIDE_END.split(f"{match.group('y')} ", maxsplit=1)[0].strip(" ?.'\"")
    others = [_bare(other) for other in re.split(r"\s+or\s+", tail)]
    sides = tuple(side for side in [x, *others] if side)
    named = [frozenset(terms(side)) for side in sides]
    return sides if len(sides) >= 2 and all(named) and len(set(named)) == len(named) else None


def _named_sides(question: str) -> tuple[str, ...] | None:
    if same := _same_as_sides(question):
        return same
    for pattern in COMPARISON:
        if match := pattern.search(question):
            x = match.group("x").strip(" ?.'\"")
            x = re.sub(r"^.*\b(?:between|use|choose|pick|compare)\s+", "", x, flags=re.I)
            if pattern is VERSUS:  # "what goes in it for EC2 deployments vs Lambda ..."
                x = X_LEAD.split(x)[-1]
            x = _bare(x).strip(" '\"")
            y = SIDE_END.split(f"{LEAD_IN.sub('', match.group('y'))} ", maxsplit=1)[0]
            y = y.strip(" ?.'\"")
            y = _bare(y).strip(" '\"")
            if {x.lower(), y.lower()} & STAND_INS:
                continue  # "use one vs the other" weighs what the context named
            if terms(x) - terms(y) and terms(y) - terms(x):
                return x, y
    return None


def _bare(side: str) -> str:
    """A side without its article: "the Pricing Calculator" names "Pricing Calculator"."""
    return ARTICLE.sub("", side)


def implied_sides(question: str) -> tuple[str, ...] | None:
    """The things a question weighs without saying "X vs Y": the services its context named
    before "what's the difference between them?", or what the student picked and what the
    answer was."""
    return context_sides(question) or _picked_sides(question)


def context_sides(question: str) -> tuple[str, ...] | None:
    """The things a question weighs when it asks "what's the difference between them?" of
    the services its context named ("the answer was CloudTrail, but I thought CloudWatch")."""
    chunks = _sentences(question)
    asking = [c for c in chunks if c.endswith("?") or ASKS.match(c)]
    if not asking or not POINTS_BACK.search(asking[-1]) or len(_names(asking[-1])) > 1:
        return None
    context = " ".join(c for c in chunks if c not in asking[-1:])
    names = list(dict.fromkeys(_names(context)))
    return tuple(names) if 2 <= len(names) <= 3 else None


def _names(text: str) -> list[str]:
    """The services and features a sentence names, as written ("CloudTrail", "Elastic
    Beanstalk", "SQS"): capitalised words past a sentence's first, less "AWS" and the like."""
    found = []
    for match in NAME_RUN.finditer(text):
        words = [w for w in match.group(0).split() if w not in NOT_NAMES]
        at_start = match.start() == 0 or text[: match.start()].rstrip().endswith((".", "?", "!"))
        if at_start and words and words[0] == match.group(0).split()[0]:
            words = words[1:] if not re.search(r"[A-Z].*[A-Z]", words[0]) else words
        if words:
            found.append(" ".join(words))
    return found


def distinct_terms(
    side: str, sides: Sequence[str], read: Callable[[str], set[str]] = terms
) -> set[str]:
    """The terms that tell this side from the other ("immutable" in "immutable deployment"),
    as `read` reads them (the matcher reads them as students type them)."""
    others = set().union(*(read(s) for s in sides if s != side))
    return read(side) - others or read(side)
