"""The kind of answer a question asks for (principle 3 of ``policy``): an amount
for how many / how much, a name or a year for who / which / what year, a quantity in the
units of the measure asked; and the count a how-many question's passages bind."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.grounding.policy import question_constraints, states_name
from rag.grounding.quantities import MONEY_MARK, quantities, singular
from rag.grounding.terms import (
    FIGURE,
    contains_term,
    key_terms,
    name_phrases,
    normalize_figures,
    term_key,
    written_as_name,
)

__all__ = [
    "asks_amount",
    "asks_measure",
    "asks_name",
    "counted_words",
    "other_measure",
    "rebind_count",
    "states_amount",
    "states_asked_name",
    "year_from_text",
]


# "What was the contract value of ...?": a price asked without "how much"
_PRICE_ASKED = (
    r"\bwhat\s+(?:is|was|were|are)\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}?"
    r"(?:cost|costs|price|prices|fare|fares|fee|fees|budget|contract\s+value)"
    r"(?=\s+(?:of|for|to|per|in|at|on|paid|charged)\b|\s*[?,.;]|\s*$)"
)


_ASKS_AMOUNT = re.compile(
    r"\bhow (many|much)\b|\bby what factor\b"
    r"|\bwhat\b(\s+[\w-]+){0,3}\s+(percentage|share|fraction|proportion)\b|" + _PRICE_ASKED,
    re.IGNORECASE,
)


_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve twenty hundred "
    "thousand million billion trillion twice half double triple dozen dozens hundreds "
    "thousands millions all none every".split()
)


_WORD = re.compile(r"\w[\w.%'’×-]*")


_FORMULA = re.compile(r"\b[Oo]\s*\([^)]*\)|\b[a-zA-Z]\s*log\s*[a-zA-Z]\b|\b\d*[nNkK]\^?\d\b")


def _amounts(text: str) -> set[str]:
    words = (re.sub(r"[^\w%]+", "", m.group(0).lower()) for m in _WORD.finditer(text))
    found = {w for w in words if w and (any(c.isdigit() for c in w) or w in _NUMBER_WORDS)}
    return found | {re.sub(r"\s+", "", f) for f in _FORMULA.findall(text)}


def asks_amount(question: str) -> bool:
    """Whether ``question`` asks how many / how much: its answer must state an amount."""
    return bool(_ASKS_AMOUNT.search(question))


_COUNTED = re.compile(
    r"\bhow many\s+(?:of\s+)?(?:the\s+|its\s+|their\s+)?((?:[\w-]+\s*){1,3})", re.I
)


_VERBS = frozenset(
    "were was are is do does did have has had can could will would should may might "
    "in on at of for from to per by with".split()
)


_MONEY_ASKED = re.compile(
    r"\bhow much\b.*\b(cost|costs|price|spend|spent|pay|paid|dollars?|budget)\b|" + _PRICE_ASKED,
    re.I,
)


_PER_EACH = re.compile(r"\b(?:per|each|every)\s+[\w-]+|/\s*[\w-]+", re.IGNORECASE)


# a bare number right before "per X" is a rate: "batch size 32 per GPU"
_RATE = re.compile(rf"\b{FIGURE}\s*(?:per|each|every|/)\s*[\w-]+", re.IGNORECASE)


# "Sec. 7.1", "Fig. 3", "Table 2", "[12]": numbers that point somewhere, not amounts
_REFERENCE = re.compile(
    r"\b(?:(?:sec(?:tion)?|fig(?:ure)?|tab(?:le)?|eq(?:uation)?|chapter|appendix)\.?|pp?\.)"
    r"\s*\(?\d[\d.]*\)?|\[\d+(?:[,–-]\s*\d+)*\]",
    re.IGNORECASE,
)


def states_amount(sentence: str, question: str) -> bool:
    """Whether ``sentence`` states the amount ``question`` asks for (principle 3): a number,
    number word or formula the question does not already hold ("3X" answers "how much
    less than GPT-3?"), of the right kind: money for what something cost, and for
    "how many <things>" not only counts of other things ("247 papers" does not answer
    "how many people attended?")."""
    sentence = _REFERENCE.sub(" ", sentence)
    new = _amounts(sentence) - _amounts(question)
    if not new:
        return False
    if _MONEY_ASKED.search(question):
        return bool(MONEY_MARK.search(sentence))
    counted = counted_words(question)
    # "32 per GPU" describes each GPU; it does not say how many GPUs there were, nor
    # how many of anything else: rates are set aside before counts are looked for
    counting = _PER_EACH.sub(" ", _RATE.sub(" ", sentence))
    if not counted or any(contains_term(counting, w) for w in counted if len(w) >= 3):
        return True
    bare = [a for a in _amounts(counting) - _amounts(question) if any(c.isdigit() for c in a)]
    if not bare:
        return False
    units = [q.split(" ", 1)[1].lower() for q in quantities(counting)]
    # every number counts something else: "247 papers submitted" for "how many people"
    return len(units) < len(bare) or not units


def counted_words(question: str) -> list[str]:
    """The words naming what a how-many question counts: "hottest items" in "How many
    of the hottest items does it need to cache?"; none when it counts nothing."""
    m = _COUNTED.search(question)
    counted: list[str] = []
    for word in m.group(1).split() if m else []:
        if word.lower() in _VERBS:
            break
        counted.append(word)
    return counted


# a figure: a number ("1,450", "2.5", "3x"), a number word or a formula ("O(N log N)")
_FIGURE = (
    rf"(?P<fig>[Oo]\s*\([^)\n]*\)|{FIGURE}[x×]?|(?i:"
    + "|".join(sorted(_NUMBER_WORDS - {"all", "none", "every"}, key=len, reverse=True))
    + r"))"
)


def _binding(counted: Sequence[str]) -> re.Pattern[str]:
    """A figure written right before the ``counted`` words (the last one
    plural-insensitive), the figure in group "fig"."""
    *lead, last = counted
    phrase = r"\s+".join([*map(re.escape, lead), rf"{re.escape(singular(last))}(?:e?s)?"])
    return re.compile(rf"(?<![\w.,]){_FIGURE}(?=\s+{phrase}(?![\w-]))", re.IGNORECASE)


def _figure_key(figure: str) -> str:
    return normalize_figures(re.sub(r"\s+", "", figure).lower())


def rebind_count(sentence: str, question: str, passages: Sequence[str]) -> str:
    """``sentence`` with the count it gives for what ``question`` counts replaced by
    the passages' count (principle 3), or unchanged. Only when the sentence binds one
    figure to the counted words, the passages bind exactly one other figure to them,
    and each passage binding it holds every name of the question: a count of another
    subject's things ("the P100" asked, only "the V100" counted) is not borrowed."""
    counted = counted_words(question)
    if not counted:
        return sentence
    pattern = _binding(counted)
    said = list(pattern.finditer(sentence))
    if len({_figure_key(m["fig"]) for m in said}) != 1:
        return sentence
    bound = [(m["fig"], p) for p in passages for m in pattern.finditer(p)]
    found = {_figure_key(f) for f, _ in bound}
    if len(found) != 1 or found == {_figure_key(said[0]["fig"])}:
        return sentence
    names = key_terms(question)
    if not all(contains_term(p, n) for _, p in bound for n in names):
        return sentence
    m = said[0]
    return sentence[: m.start("fig")] + bound[0][0] + sentence[m.end("fig") :]


# What a measured quantity is given in (principle 3): the question's words naming it, the
# units it is written in. Only words with one sense: not "long" or "far" (a length or
# a time: "how far in advance"), "power" ("shore power") or "high".
_MEASURES = {
    "temperature": (
        r"\btemperatures?\b",
        r"°\s?[CF]?|º\s?[CF]|\bdeg(?:rees?)?\b|\bcelsius\b|\bfahrenheit\b|\bkelvin\b",
    ),
    "length": (
        r"\b(?:depths?|deep(?:er|est)?|heights?|tall(?:er|est)?|altitudes?|elevations?"
        r"|distances?)\b",
        r"(?:km|cm|mm|m|ft|mi|nmi)\b|\b(?:kilo|centi|milli)?met(?:re|er)s?\b|\bfeet\b"
        r"|\bfoot\b|\bmiles?\b|\binch(?:es)?\b",
    ),
    "mass": (
        r"\b(?:weights?|weigh(?:s|ed)?|mass|heav(?:y|ier|iest))\b",
        r"(?:kg|g|t|lbs?)\b|\b(?:kilo)?grams?\b|\btonnes?\b|\btons?\b",
    ),
    "duration": (
        r"\b(?:durations?|how long (?:did|does|do|will|would|has|have|had))\b",
        r"(?:ms|s|h|hrs?|min|mins)\b|\b(?:milli)?seconds?\b|\bminutes?\b|\bhours?\b"
        r"|\bdays?\b|\bweeks?\b|\bmonths?\b|\byears?\b",
    ),
    "speed": (
        r"\b(?:speeds?|velocit(?:y|ies)|how fast)\b",
        r"(?:km/h|kph|mph|m/s)(?!\w)|\bknots?\b",
    ),
}


_MEASURED = {
    kind: (re.compile(asked, re.IGNORECASE), re.compile(rf"({FIGURE})\s*(?:{unit})"))
    for kind, (asked, unit) in _MEASURES.items()
}


def asks_measure(question: str) -> str:
    """The one measured quantity ``question`` asks about ("temperature", "length",
    "mass", "duration", "speed"; principle 3), or "" when it names none or several."""
    kinds = [kind for kind, (asked, _) in _MEASURED.items() if asked.search(question)]
    return kinds[0] if len(kinds) == 1 else ""


def other_measure(sentence: str, question: str, kind: str) -> str:
    """The measure ``sentence`` gives instead of ``kind`` (principle 3): it states figures
    the question does not hold with units of another measure and none with ``kind``'s
    ("212 metres" for a temperature); "" when it gives ``kind`` or no measure at all."""
    found = {
        other
        for other, (_, unit) in _MEASURED.items()
        for m in unit.finditer(normalize_figures(sentence))
        if not contains_term(question, m.group(1))
    }
    return "" if kind in found or not found else sorted(found)[0]


# Named things a question can ask for (principle 3). Not "system", "model", "method" or
# "approach": those are often answered by a description ("a sequence-to-sequence model").
_NAMED_KINDS = (
    r"universit(?:y|ies)|compan(?:y|ies)|organi[sz]ations?|institutions?|labs?|laborator(?:y|ies)|"
    r"datasets?|data\s+sets?|benchmarks?|conferences?|venues?|journals?|countr(?:y|ies)|"
    r"cit(?:y|ies)|(?:programming\s+)?languages?|vendors?|sponsors?|providers?|"
    r"frameworks?|librar(?:y|ies)"
)


_ASKS_NAME = re.compile(
    rf"^\s*(?:and\s+)?who\b|\b(?:which|what)\s+(?:[\w-]+\s+){{0,2}}?(?:{_NAMED_KINDS})\b",
    re.IGNORECASE,
)


_ASKS_YEAR = re.compile(r"\b(?:which|what)\s+year\b", re.IGNORECASE)


_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


def asks_name(question: str) -> str:
    """ "name" or "year" when ``question`` asks for a named thing or a year (principle 3),
    else ""."""
    if _ASKS_YEAR.search(question):
        return "year"
    return "name" if _ASKS_NAME.search(question) else ""


def states_asked_name(sentence: str, question: str, kind: str, evidence: str | None = None) -> bool:
    """Whether ``sentence`` gives what ``asks_name`` found ``question`` asking for: a
    year, or a name (capitalised words, an acronym or CamelCase term) the question does
    not hold, written as a name in ``evidence`` (the cited passages) when given: the
    model capitalising a common phrase ("Mobile Harbour" for a crane type) names no one."""
    if kind == "year":
        return bool(set(_YEAR.findall(sentence)) - set(_YEAR.findall(question)))
    asked = {term_key(t) for t in key_terms(question)}
    # alone, "Berkeley" is a capitalised first word, which key_terms does not take for
    # a name: a name found in the sentence stays one
    return any(
        any(term_key(t) not in asked for t in key_terms(name) or [name])
        and (evidence is None or written_as_name(evidence, name))
        for name in name_phrases(sentence)
    )


def year_from_text(sentence: str, question: str, body: str, headings: Sequence[str]) -> bool:
    """Whether a year ``sentence`` gives for a which-year question comes from what the
    report says (principle 3): its section's ``body``, or a heading that also names what
    the question is about. A report's title and headings date the event it reports
    ("AI Systems Workshop 2017"), not the things presented there: "In which year did
    NVIDIA release Project Isaac?" is not answered by the workshop's year."""
    asked = question_constraints(question)
    for year in set(_YEAR.findall(sentence)) - set(_YEAR.findall(question)):
        if re.search(rf"\b{year}\b", body):
            return True
        if any(year in h and any(states_name(h, t) for t in asked) for h in headings):
            return True
    return False
