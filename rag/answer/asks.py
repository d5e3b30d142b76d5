"""A question's parts: "What does X do, and which system is it built on?" asks two
things, and a small model answering it in one breath tends to answer one.

Splitting is by surface form only: a second question mark, a semicolon, or "and"
followed by a question word (after a preposition, maybe: "and on which system") or
an auxiliary that starts a new question, where the
text before it asks something itself. A part that
leans on the first ("which system is it built on?") keeps the first part's names
for retrieval (``retrieval_queries``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rag.grounding.citations import sentence_spans
from rag.grounding.kinds import asks_amount, asks_name, states_amount, states_asked_name
from rag.grounding.terms import key_terms
from rag.index.lexical import tokenize
from rag.types import Hit

__all__ = [
    "asked_sentence",
    "asks_for_several",
    "compared_figures",
    "evidence_budget",
    "named_reports",
    "question_parts",
    "report_clause",
    "retrieval_queries",
    "unanswered_parts",
]

_STARTERS = (
    r"what|which|who|whom|whose|how|why|when|where|is|are|was|were|does|do|did|can|could|"
    r"should|would|will|has|have|had|name|list"
)
# a question word may follow a preposition: "and on which system was it built?"
_PREPOSITION = (
    r"(?:for|in|on|at|to|from|by|with|of|under|into|over|through|during|after|before|"
    r"since|until|about|against|between|within)\s+"
)
_SPLIT = re.compile(
    rf"\?\s+(?=\S)|;\s*(?=(?:and\s+)?(?:{_STARTERS})\b)"
    rf"|,?\s+and\s+(?=(?:{_PREPOSITION})?(?:{_STARTERS})\b)",
    re.IGNORECASE,
)
_ASKS = re.compile(rf"\b({_STARTERS})\b", re.IGNORECASE)
_WHY = re.compile(r"\s*why\s*\??\s*", re.IGNORECASE)
# what a sentence giving a reason says: "because", "due to", "after its gearbox failed"
_REASON = re.compile(
    r"\b(?:because|due to|owing to|caused by|as a result|since|so that|in order to|"
    r"after|reason|led to|leading to|resulting from|to avoid|to prevent)\b",
    re.IGNORECASE,
)
_MIN_WORDS = 3
_ANSWERED = 0.5  # cosine at which a sentence is taken to answer a part
# a quoted title ("'Where we are, and where we should be going?'") is never split
_QUOTED = re.compile(r"(?<![\w])(['\"“‘])[^'\"”’]{3,}?['\"”’](?![\w])")


# "What are the three waves", "Which four problems": a count asked for
_COUNT = r"(?:two|three|four|five|six|seven|eight|nine|ten|several|\d+)"
# a plural noun in lower case ("techniques", "cranes"; not "Chorus", "its", "process")
_PLURAL = r"(?-i:[a-z][\w-]*[^s\W](?<!ss)(?<!us)(?<!is)s)"
_NOT_MODIFIER = (
    r"(?!(?:in|on|of|for|from|at|to|by|with|does|do|did|is|are|was|were|has|have|had)\b)"
)
_AUX = r"(?:does|do|did|are|were|have|had|can|could|would|should|will|was)\b"
_SEVERAL = re.compile(
    rf"\b(?:what|which)\s+(?:(?:are|were)\s+)?(?:the\s+)?(?:main\s+)?{_COUNT}\b"
    rf"|\bwhich\s+{_PLURAL}\b"
    rf"|\b(?:what|which)\s+(?:(?:are|were)\s+the\s+)?(?:main\s+)?"
    rf"(?:{_NOT_MODIFIER}[\w'-]+\s+){{0,3}}?{_PLURAL}\s+"
    rf"(?:(?:of|and)\s+(?:[\w-]+\s+){{1,2}}?)?{_AUX}"
    rf"|\b(?:what|which)\s+(?:are|were)\s+the\s+(?:main\s+)?(?:[\w-]+\s+){{0,2}}?{_PLURAL}\b"
    r"|^\s*what\s+(?:does|do|did)\b[^?]*\b(?:include|list|recommend|propose)\b",
    re.IGNORECASE,
)


def asks_for_several(question: str) -> bool:
    """Whether ``question`` asks for several things: a count ("What are the three
    waves"), a plural ("Which cranes", "What techniques does X use") or what something
    includes, lists, recommends or proposes. The small model tends to give the first
    item of a list and stop; such a question is asked for every item."""
    return bool(_SEVERAL.search(question))


def question_parts(question: str) -> list[str]:
    """The separate questions in ``question`` (one element when it asks one thing).

    A candidate part shorter than three words stays with its neighbour ("how and
    why"), so lists inside a question ("X, Y and Z") are not split."""
    q = question.strip()
    pieces: list[str] = []
    pos = 0
    quoted = [m.span() for m in _QUOTED.finditer(q)]
    for m in _SPLIT.finditer(q):
        if any(a < m.start() < b for a, b in quoted):
            continue
        piece = q[pos : m.start() + (1 if m.group(0).startswith("?") else 0)].strip(" ,;")
        rest = q[m.end() :]
        # each side must be a question of its own: "In X's talk, what ..." is one;
        # a closing "..., and why?" asks for the reason of what came before
        if (
            len(piece.split()) >= _MIN_WORDS
            and (len(rest.split()) >= _MIN_WORDS or _WHY.fullmatch(rest))
            and _ASKS.search(piece)
        ):
            pieces.append(piece)
            pos = m.end()
    pieces.append(q[pos:].strip(" ,;"))
    if len(pieces) == 1 and (sides := compared_figures(q)):
        return sides
    end = "?" if q.endswith("?") else ""
    return [p[0].upper() + p[1:] + ("" if p[-1] in ".?!" else end) for p in pieces if p]


def asked_sentence(part: str) -> str:
    """What ``part`` asks, without the statements before it: "Tianqi Chen spoke at both
    workshops. Which IR did he present in 2017?" asks "Which IR did he present in
    2017?". The statements are context for retrieval and the model; a note naming an
    unanswered part quotes only the question."""
    spans = sentence_spans(part)
    last = part[spans[-1][0] : spans[-1][1]].strip() if spans else part
    return last if len(spans) > 1 and _ASKS.match(last) else part


# "Which came first: the ship's return, or the peak demand day?", "Which cost more, A or
# B?": a choice between two things, each named at length
_CHOICE = re.compile(
    r"^\s*(?P<stem>(?:which|who|what)\b[^:,;?]{0,80}?)\s*[:,]\s*"
    r"(?P<a>[^?]+?),?\s+or\s+(?P<b>[^?]+?)\s*\??\s*$",
    re.IGNORECASE,
)

# A comparison of two figures asks for each of them: "Which lasted longer: A, or B?",
# "Between A and B, which is higher?", "By how much did A exceed B?", "How many more X
# did A handle than B?". Shown both sides at once, the small model compares figures it
# misread or answers for one side; asked one side at a time, it reads one figure.
_BETWEEN = re.compile(
    r"^\s*between\s+(?P<a>.+?)\s+and\s+(?P<b>.+?),\s*(?P<stem>(?:which|what)\b[^?]*?)\s*\??\s*$",
    re.IGNORECASE,
)
_AUXILIARY = r"did|does|do|will|would|could|has|have|had|is|was|were|are"
_EXCEED = re.compile(
    rf"^\s*by\s+how\s+(?:much|many|far|long)\b(?:\s+[\w-]+)?\s+(?P<aux>{_AUXILIARY})\s+"
    r"(?P<a>.+?)\s+(?:exceed|outnumber|outstrip|outlast)\s+(?P<b>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_MORE_THAN = re.compile(
    r"^\s*how\s+(?P<how>much|many)\s+(?P<comp>more|fewer|less|longer|shorter|larger|bigger|"
    r"higher|lower|greater|smaller|earlier|later)\s+(?P<noun>(?:[\w-]+\s+){0,3}?)"
    rf"(?P<aux>{_AUXILIARY})\s+(?P<a>.+?)\s+than\s+(?P<b>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_DIFFERENCE = re.compile(
    r"^\s*what\s+(?P<be>is|was)\s+the\s+(?:difference|gap)\s+between\s+(?P<a>.+?)\s+and\s+"
    r"(?P<b>.+?)\s*\??\s*$",
    re.IGNORECASE,
)
_PAST = frozenset({"did", "had", "was", "were"})
_BE = frozenset({"is", "was", "are", "were"})
_WHEN = frozenset({"first", "earlier", "later", "sooner"})
_LONG = frozenset({"longer", "shorter"})
_COMPARED = re.compile(
    r"\b(?:by\s+)?(?:the\s+)?(?P<comp>longer|shorter|earlier|later|first|sooner|more|fewer|"
    r"less|bigger|larger|greater|higher|lower|smaller|cheaper|costlier)\b"
    r"(?P<noun>(?:\s+(?!than\b)[\w-]+)?)",
    re.IGNORECASE,
)
# the past forms a comparison asks with ("Which lasted longer", "Which had more staff")
_VERB_BASE = {
    "had": "have",
    "has": "have",
    "came": "come",
    "rose": "rise",
    "grew": "grow",
    "took": "take",
    "cost": "cost",
    "costs": "cost",
    "spent": "spend",
    "made": "make",
    "won": "win",
    "fell": "fall",
    "paid": "pay",
    "sold": "sell",
    "lost": "lose",
    "ran": "run",
    "drew": "draw",
    "got": "get",
    "went": "go",
    "began": "begin",
}


def _base(verb: str) -> str:
    """The plain form of a past or third-person verb ("lasted" -> "last")."""
    low = verb.lower()
    if low in _VERB_BASE:
        return _VERB_BASE[low]
    if low.endswith("ied"):
        return low[:-3] + "y"
    if low.endswith("ed"):
        return low[:-2] if low[-3] not in "aeiou" and not low.endswith("sed") else low[:-1]
    return low[:-1] if low.endswith("s") and not low.endswith("ss") else low


def _side_question(stem: str, side: str) -> str:
    """What a choice's ``stem`` ("Which was out of action longer") asks of one ``side``:
    "How long was it out of action: <side>?". A stem naming the figure itself ("Which
    is the bigger sum") asks "What is <side>?"."""
    side = side.strip(" ,;:")
    rest = stem.split(maxsplit=1)[1] if len(stem.split()) > 1 else ""  # without "which"
    m = _COMPARED.search(rest)
    if not m:
        return f"{stem}: {side}?"
    before, after = rest[: m.start()].strip(), rest[m.end() :].strip()
    comp, noun = m["comp"].lower(), m["noun"].strip()
    first = before.split()[0].lower() if before else ""
    last = before.split()[-1].lower() if before else ""
    if last in _BE and not after:
        # "which is the bigger sum", "which number is bigger": the sides are figures
        return f"What {last} {side}?"
    if comp in _WHEN:  # "Which came first", "Which opened earlier": dates
        if not before or first in _BE:
            return f"When {first or 'was'} it: {side}?"
        return f"When did it {_base(before.split()[0])}: {side}?"
    if m.group(0).lower().startswith("by"):
        how = f"By what {noun}" if noun else "By how much"
    elif comp in _LONG:
        how = "How long"
    else:
        plural = noun.endswith("s") and not noun.endswith("ss")
        how = f"How {'many' if plural else 'much'}{' ' + noun if noun else ''}"
    verb, *tail = before.split() if before else ["was"]
    tail_text = " ".join([*tail, after]).strip()
    if verb.lower() in _BE:
        asked = f"{how} {verb.lower()} it {tail_text}".strip()
    else:
        # "Which costs more" asks in the present, "Which cost more" / "lasted" in the past
        aux = "does" if verb.lower().endswith("s") and not verb.lower().endswith("ss") else "did"
        asked = f"{how} {aux} it {_base(verb)} {tail_text}".strip()
    return f"{asked}: {side}?"


def compared_figures(question: str) -> list[str]:
    """The two questions a comparison of two figures asks, one per side, or none:
    "Which lasted longer: the cruise, or the heat wave?" asks "How long did it last: the
    cruise?" and "How long did it last: the heat wave?"; "By how much did A exceed B?"
    asks "What was A?" and "What was B?". Sides of fewer than two words ("red or
    blue") are no figures to look for."""
    if m := _EXCEED.match(question):
        be = "was" if m["aux"].lower() in _PAST else "is"
        return [f"What {be} {m['a']}?", f"What {be} {m['b']}?"]
    if m := _MORE_THAN.match(question):
        noun = m["noun"].strip()
        comp = m["comp"].lower()
        how = "How long" if comp in _LONG else "When" if comp in _WHEN else f"How {m['how']}"
        counted = f"{how} {noun + ' ' if noun else ''}"
        first = f"{counted}{m['aux']} {m['a']}?"
        # "... cost than the pilot did": the second side's verb is the first side's last word
        if ellipsis := re.fullmatch(rf"(.+?)\s+({_AUXILIARY})", m["b"].strip(), re.IGNORECASE):
            return [first, f"{counted}{ellipsis[2]} {ellipsis[1]} {m['a'].split()[-1]}?"]
        return [first, f"{how}: {m['b'].strip()}?"]
    if m := _DIFFERENCE.match(question):
        be = m["be"].lower()
        return [f"What {be} {m['a']}?", f"What {be} {m['b']}?"]
    m = _BETWEEN.match(question) or _CHOICE.match(question)
    if not m or min(len(m["a"].split()), len(m["b"].split())) < 2:
        return []
    return [_side_question(m["stem"], m["a"]), _side_question(m["stem"], m["b"])]


# where a question about two things turns from one to the other: "A, or B", "A and B",
# "more than B", "A: B", "A; B", a new sentence
_TURN = re.compile(r"\s*[:;]\s+|[.?!]\s+|,?\s+(?:or|and|than|versus|vs\.?)\s+|,\s+", re.I)


def report_clause(question: str, terms: list[str], others: list[str]) -> str:
    """The words of ``question`` about one of the things it names: its pieces (between
    "or", "and", "than", commas, colons) holding one of ``terms`` and none of
    ``others`` (the words naming the other things), joined; "" when no piece is about
    that thing alone. "Which was out longer: crane QC-2 while its gearbox was swapped,
    or turbine W-17 after its bearing failed?" is about W-17 in "turbine W-17 after its
    bearing failed"; "What did it cost Orm Valley Buses to run Dunmere's shuttle?"
    asks one thing of both."""
    mine, theirs = set(terms), set(others)
    pieces = []
    for piece in _TURN.split(question):
        words = set(tokenize(piece))
        if words & mine and not words & theirs:
            pieces.append(piece.strip(" ,;:?.!"))
    return ", ".join(pieces)


def retrieval_queries(question: str) -> list[str]:
    """One search query per part; a later part without names of its own borrows the
    names of the parts before it ("which system is it built on?" + "FrugalML"). A
    comparison of two figures is searched for each (``compared_figures``).

    A query of several lines is a chat follow-up joined with the turns it leans on
    (``rag.serving.conversation.standalone_query``): it is searched whole, as its lines are
    context for one question, not separate questions."""
    if "\n" in question.strip():
        return [question]
    parts = question_parts(question)
    if len(parts) <= 1:  # none when the question is only punctuation (",;")
        return parts or [question]
    out = [parts[0]]
    names = key_terms(parts[0])
    for part in parts[1:]:
        own = key_terms(part)
        out.append(part if own else f"{part} {' '.join(names)}".strip())
        names += own
    return out


def unanswered_parts(
    parts: list[str], sentences: list[str], similarity: Callable[[list[str], list[str]], Any]
) -> list[str]:
    """The parts no sentence answers: none shares a word of the part that the other
    parts lack ("university" in "Which university is she from?") other than the names of
    a subject the parts share (a sentence about the Velmar cranes names Velmar, and does
    not say how many containers the Velmar harbour handles), and none is close in meaning (MiniLM
    cosine below 0.5; ``similarity`` gives the parts × sentences matrix), or none gives
    what the part asks for when it asks for an amount, a name or a year (grounding rules
    3 and 7: "Riptide uses add and shift" does not say who founded Riptide)."""
    if len(parts) < 2 or not sentences:
        return []
    sims = similarity(parts, sentences)
    said = [set(tokenize(s)) for s in sentences]
    # when a part names nothing ("who built its cranes?"), the names of the others are
    # the question's shared subject, not what tells the parts apart
    named = [key_terms(p) for p in parts]
    names = set() if all(named) else {w for terms in named for t in terms for w in tokenize(t)}
    out = []
    for i, part in enumerate(parts):
        others = set().union(*(set(tokenize(q)) for j, q in enumerate(parts) if j != i))
        own = set(tokenize(part)) - others - names
        if _WHY.fullmatch(part):  # a bare "why?" is answered by a reason
            about = [j for j, sentence in enumerate(sentences) if _REASON.search(sentence)]
        else:
            about = [j for j, w in enumerate(said) if own & w or float(sims[i][j]) >= _ANSWERED]
        # a part asking for an amount, a name or a year is answered only by one
        amount, kind = asks_amount(part), asks_name(part)
        if amount:
            about = [j for j in about if states_amount(sentences[j], part)]
        if kind:
            about = [j for j in about if states_asked_name(sentences[j], part, kind)]
        if not about:
            out.append(part)
    return out


_TWO_REPORTS = 1.5  # the budget of a question asking about two reports, in budgets


_POSSESSIVE = re.compile(r"['’]s\b")


def named_reports(question: str, hits: list[Hit], owners: dict[str, str]) -> dict[str, list[str]]:
    """The retrieved reports ``question`` names, each with the question's terms that
    name it (``owners``: term -> the one report that term names), in question order.

    A report is named by a name or code only it holds ("Wexby", "QC-2"), or by two
    different words only it holds ("the clinic self-scheduling pilot"); a single plain
    word that happens to occur in one report ("come", "avoid") is a coincidence, not a
    subject, however often the question uses it ("how many ... how many").
    Only reports among ``hits`` count: retrieval passed over the others.
    """
    found = {hit.chunk.source for hit in hits}
    names = {t for term in key_terms(question) for t in tokenize(term)}
    words: dict[str, list[list[str]]] = {}
    seen: set[tuple[str, ...]] = set()
    for word in question.split():
        # "Dunmere's" is Dunmere: a report that alone writes the possessive is not named
        terms = [t for t in tokenize(_POSSESSIVE.sub("", word)) if owners.get(t) in found]
        if tuple(terms) in seen:
            continue  # a word used again is still one word
        seen.add(tuple(terms))
        for source in dict.fromkeys(owners[t] for t in terms):
            words.setdefault(source, []).append([t for t in terms if owners[t] == source])
    return {
        source: list(dict.fromkeys(t for ts in held for t in ts))
        for source, held in words.items()
        if len(held) >= 2 or any(t in names for ts in held for t in ts)
    }


def evidence_budget(named: dict[str, list[str]], budget: int) -> int:
    """``budget``, or half again as much when the question names two or more reports
    (``named``, from ``named_reports``): it asks about both, and one budget spent on
    the lines most like the whole question is mostly spent on one of them."""
    if len(named) >= 2:
        return round(budget * _TWO_REPORTS)
    return budget
