"""The grounding policy in one place: what an answer must satisfy to be shown, and
when the service says "The reports don't cover this."

Each rule states a general principle (and is tested on text that is not from the
seed reports); none exists for one question:

1. **Figures and names are evidence-bound.** Every figure and proper name an answer
   sentence states occurs in the passage it is cited to (its text, section path or
   its document's metadata), after normalising spellings ("1,450" = "1450",
   "3x" = "3×", "two" = "2"). A figure with a unit needs that unit ("821 watts" is
   not "821 mm^2").
2. **The question's constraints hold in the evidence.** A year, venue or name the
   question sets ("in 2021", "at SOSP", "the Lakehouse paper") must be stated by the
   cited passages' sections or their documents' metadata (title, dated headings); else
   the answer is about something else ("Who wrote the Lakehouse paper?" answered with
   names from a list of other talks). For a question of several parts, one part's
   constraints met is enough: the other parts may be unanswered. An answer reached
   through another report may meet them there: in a shown passage of another report
   that the cited one meets in a name, code or date (``linked``): "the chief scientist
   of cruise RV14" is named in the cruise report, what she did in the library's.
3. **An amount question gets an amount.** "How many/much" is answered by a number, a
   number word or a formula ("O(N log N)"), not by prose; "how many X" by a count of
   X, not of other things, and not by a rate ("32 per GPU" says nothing of how many
   GPUs there were).
4. **A refusal speaks about the sources.** "The passages don't mention X" is a refusal;
   "X does not provide GPU support" is a claim to check like any other.
5. **Qualifiers stay.** When only part of a sentence is supported, the sentence may lose
   a trailing elaboration (", which means ..."), never a restriction ("but only ...",
   "except ...", "unless ..."): cutting those changes what is claimed.
6. **Names are looked for before they are refused.** Retrieval brings in a passage for
   every name of the question the corpus has (``rag.index.retrieval``); only a name the
   whole corpus lacks refuses before the model is called.
7. **A question asking for a name or a year gets one.** "Who ...", "which university /
   company / dataset / conference ..." is answered by a name the question does not
   already hold; "which year / in what year" by a year the report's text states (a
   title's year dates the report, not what it reports on). "The datasets were mixed
   types" names nothing: it is an answer about something else.
8. **A window saying the opposite does not support.** A claim about the daytime, a
   maximum, a season or a rise is not supported by a window that speaks only of the
   night, a minimum, another season or a fall ("the highest daytime temperature was
   27 °C" from "on the worst night the sensor did not fall below 27 °C"): the figure
   is there, its meaning is not. Each clause of the claim is read on its own: an
   elaboration copying the window's words (", 3 °C warmer than the lowest reading
   that night") does not license the first clause's opposite.
9. **A heading is what a passage is about, not what it says.** A sentence made only of
   a passage's heading words, when no line of the passages states them, restates the
   heading ("- Air Quality > 3.2 Compliance with emission limits" as an
   item of "Which limits were exceeded?"): it answers nothing.
10. **A count is read where the passages bind it.** The figure written right before
   the things a how-many question counts ("640 tensor cores", "O(NlogN) hottest
   items") is the passages' count of them. When the model writes another figure
   before the same words ("80 tensor cores", taken from "80 SM" on the same line) and
   the passages bind exactly one figure to them, in a passage holding every name of
   the question, that figure replaces the misread one (``rebind_count``); the
   sentence is then verified like any other.
11. **A bare figure answers only where its sentence says what is asked.** When all
   a sentence adds to the question is a figure ("Wiśniewska has worked at Ashcombe
   Water for 4 years"), the passage sentence giving that figure must state what the
   question asks of it, a word of the question that is neither a name nor the thing
   counted ("worked"): "the four years assumed in the business case" is a figure of
   something else (``asked_predicate``). So with a bare name answering "who ...":
   "Review facilitator: Jørgen Åstrand" does not say who chairs the forum the report
   was prepared for.
12. **A measured quantity is given in its own units.** A question naming one measure
   (a temperature, a depth or distance, a weight, a duration, a speed) is not answered
   by figures that carry only another measure's units ("the sea-surface temperature
   was 212 metres"): the figure is real, the quantity is not the one asked for
   (``asks_measure``, ``other_measure``).
13. **A figure stated of another subject answers only for it.** In a breakdown, a
   sentence giving figures of one kind for several named subjects ("the older Torvik
   turbines, whose availability was 86.4%, while the Skarnes turbines reached 96.9%"),
   each figure is its subject's: it does not support a claim about a subject that
   neither the claim nor the question names ("the cluster's availability was 96.9%"),
   in any window of the passage (``figure_of_another``). A sentence giving one
   subject's figures is about the passage's subject.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence

from rag.grounding.citations import sentence_spans
from rag.grounding.terms import (
    CLAUSE_BREAK,
    acronym,
    contains_quantity,
    contains_term,
    key_terms,
    link_terms,
    name_phrases,
    near_spelling,
    normalize_figures,
    quantities,
    singular,
    spells_out,
    table_cells,
    written_as_name,
)
from rag.index.lexical import tokenize
from rag.types import Hit

__all__ = [
    "absent_names",
    "asked_predicate",
    "asks_amount",
    "asks_measure",
    "asks_name",
    "claim_requirements",
    "contradicts",
    "coordinate_clauses",
    "figure_of_another",
    "evidence_lacks",
    "is_refusal",
    "leading_clauses",
    "linked",
    "other_measure",
    "passage_context",
    "question_constraints",
    "rebind_count",
    "restates_heading",
    "states_amount",
    "stem",
    "states_asked_name",
    "states_money",
    "states_name",
    "unknown_names",
    "year_from_text",
]


def passage_context(hit: Hit, metadata: dict[str, str]) -> str:
    """What a passage counts as saying for the figure and name rules: its text, its
    section path and its document's metadata (title, dated headings)."""
    return "\n".join([hit.chunk.text, hit.chunk.section, metadata.get(hit.chunk.source, "")])


def _present(haystack: str, term: str) -> bool:
    if term[:1] in _CURRENCIES:
        return states_money(haystack, term[1:])
    if " " in term:
        return contains_quantity(haystack, term)
    return contains_term(haystack, term) or spells_out(haystack, term)


def claim_requirements(claim: str, question: str = "") -> list[str]:
    """The figures (with their units, and as money when the claim writes them so) and
    names a passage must state to support ``claim``. Names the question itself gives
    are checked against the question's evidence instead (rule 2), so echoing them is
    not a new claim."""
    asked = {_key(t) for t in key_terms(question)}
    need = [t for t in key_terms(claim) if _key(t) not in asked]
    need += [q for q in quantities(claim) if _key(q.split()[0]) not in asked]
    money = (m.group(2) for m in _MONEY_FIGURE.finditer(claim))
    need += [f"€{n}" for n in money if _key(n) not in asked]  # any currency: "€" marks money
    return list(dict.fromkeys(need))


_CURRENCIES = "$€£¥"
# "€2,450", "$ 3.5m", "2,450 euros": a figure written as money (with its magnitude:
# "€1.16m" needs 1.16 million, which a passage may write "€1.16 million")
_MONEY_FIGURE = re.compile(
    rf"([{_CURRENCIES}])\s?(\d(?:[\d,.]*\d)?(?:\s?(?:million|billion|mn|bn|m)\b)?)",
    re.IGNORECASE,
)
_MONEY_MARK = re.compile(
    rf"[{_CURRENCIES}]|\b(?:euros?|dollars?|pounds?|eur|usd|gbp|cents?|pence)\b", re.IGNORECASE
)


def states_money(haystack: str, number: str) -> bool:
    """Whether ``haystack`` gives ``number`` as money (rule 1): on a line that names a
    currency, or in a table whose header row does ("| Cost (€) |"). "€2,450" is not
    supported by "carried 2,450 passengers": the figure is there, the money is not."""
    lines = haystack.splitlines()
    for i, line in enumerate(lines):
        if not contains_term(line, number):
            continue
        if _MONEY_MARK.search(line):
            return True
        j = i
        while j > 0 and table_cells(lines[j - 1]) is not None and table_cells(line) is not None:
            j -= 1
        if j < i and _MONEY_MARK.search(lines[j]):
            return True
    return False


# Words of one group exclude those of the others in a statement of fact (rule 8). Only
# groups whose words rarely carry another sense: not "day" ("the second day of the
# alert"), "fall" (a verb as often as a season) or "up"/"down".
_EXCLUSIVE: tuple[tuple[frozenset[str], ...], ...] = tuple(
    tuple(frozenset(g.split()) for g in groups)
    for groups in (
        ("daytime day-time", "night nights night-time nighttime overnight"),
        ("maximum highest peak", "minimum lowest"),
        ("spring", "summer", "autumn", "winter"),
        (
            "increase increased increases increasing rise rises rose risen grew grown growth",
            "decrease decreased decreases decreasing fell fallen drop dropped declined "
            "decline reduced reduction",
        ),
    )
)


def contradicts(claim: str, window: str) -> bool:
    """Whether ``window`` speaks of the opposite of what ``claim`` states (rule 8): a
    clause of the claim uses a word of one group (daytime, maximum, a season, a rise),
    and the window words of another group of the same kind but none of the clause's.
    Clause by clause: "the highest daytime temperature was 27 °C, 3 °C warmer than the
    lowest reading on the same night" copies the night's words into an elaboration,
    and its first clause still says the opposite of a window about the night."""
    seen = set(re.findall(r"[\w-]+", window.lower()))
    for clause in CLAUSE_BREAK.split(claim):
        said = set(re.findall(r"[\w-]+", clause.lower()))
        for groups in _EXCLUSIVE:
            mine = [g for g in groups if g & said]
            if len(mine) != 1 or mine[0] & seen:
                continue
            if any(g & seen for g in groups if g is not mine[0]):
                return True
    return False


def restates_heading(
    terms: set[str], asked: set[str], headings: Sequence[set[str]], lines: Sequence[set[str]]
) -> bool:
    """Whether a claim of ``terms`` (``tokenize``d) only restates a heading (rule 9): its
    terms are all in one passage's ``headings`` and its own (not ``asked``) terms are
    all in no line of ``lines``."""
    own = terms - asked
    return any(terms <= head for head in headings) and not any(own <= line for line in lines)


def _key(term: str) -> str:
    return re.sub(r"[^\w%]+|_", "", normalize_figures(term).lower())


def states_name(haystack: str, term: str) -> bool:
    """Whether ``haystack`` states ``term``, or a word one typo from it (reports have
    typos: "Project Issac" answers a question about Project Isaac), or an acronym
    written out ("DSL": "a domain-specific language")."""
    if contains_term(haystack, term) or spells_out(haystack, term):
        return True
    words = {w.lower() for w in re.findall(r"[^\W\d_]{5,}", haystack)}
    return any(near_spelling(term.lower(), w) for w in words)


def evidence_lacks(haystack: str, terms: Sequence[str]) -> tuple[str, ...]:
    """The ``terms`` that ``haystack`` does not state."""
    return tuple(t for t in terms if not _present(haystack, t))


def linked(cited: Sequence[Hit], shown: Sequence[Hit]) -> list[Hit]:
    """The passages of ``shown`` from reports none of ``cited`` comes from that state
    a name, code or date (``link_terms``) of a ``cited`` passage: the other report a
    two-report answer went through (rule 2). Passages of the cited reports themselves
    do not count: within one report, the constraint must be where the answer is."""
    sources = {h.chunk.source for h in cited}
    terms = {t for h in cited for t in link_terms(h.chunk.text)}
    return [
        h
        for h in shown
        if h.chunk.source not in sources and any(written_as_name(h.chunk.text, t) for t in terms)
    ]


def question_constraints(question: str) -> list[str]:
    """The names and figures the question sets ("at MLSys 2021", "the Lakehouse paper",
    "Zaharia's talk"; three characters or more): the cited evidence must state them
    (rule 2), or the answer is about something else."""
    terms = [t for t in key_terms(question) if len(t) >= 3 or t[0].isdigit()]
    return list(dict.fromkeys(terms))


def absent_names(question: str, found: Callable[[str], bool]) -> list[str]:
    """Names and figures of ``question`` (three characters or more; two-letter ones
    like "US" are too ambiguous) for which ``found`` is false (rule 6)."""
    terms = [t for t in key_terms(question) if len(t) >= 3 or any(c.isdigit() for c in t)]
    return list(dict.fromkeys(t for t in terms if not found(t)))


def unknown_names(
    names: Sequence[str], found: Callable[[str], bool], vocabulary: Collection[str]
) -> list[str]:
    """The ``names`` (from ``absent_names``) that ``found`` lacks and the corpus cannot
    be holding in another spelling (rule 6): no indexed word is one typo from it, and it
    is not an acronym beside names the corpus does hold (the report may spell it out:
    "P²'s DSL")."""
    absent = [t for t in names if not found(t)]
    some_present = len(absent) < len(names)
    return [
        t
        for t in absent
        if not any(near_spelling(t.lower(), v) for v in vocabulary)
        and not (some_present and acronym(t, 2, 5))
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
_RATE = re.compile(r"\b\d[\d.,]*\s*(?:per|each|every|/)\s*[\w-]+", re.IGNORECASE)


# "Sec. 7.1", "Fig. 3", "Table 2", "[12]": numbers that point somewhere, not amounts
_REFERENCE = re.compile(
    r"\b(?:(?:sec(?:tion)?|fig(?:ure)?|tab(?:le)?|eq(?:uation)?|chapter|appendix)\.?|pp?\.)"
    r"\s*\(?\d[\d.]*\)?|\[\d+(?:[,–-]\s*\d+)*\]",
    re.IGNORECASE,
)


def states_amount(sentence: str, question: str) -> bool:
    """Whether ``sentence`` states the amount ``question`` asks for (rule 3): a number,
    number word or formula the question does not already hold ("3X" answers "how much
    less than GPT-3?"), of the right kind: money for what something cost, and for
    "how many <things>" not only counts of other things ("247 papers" does not answer
    "how many people attended?")."""
    sentence = _REFERENCE.sub(" ", sentence)
    new = _amounts(sentence) - _amounts(question)
    if not new:
        return False
    if _MONEY_ASKED.search(question):
        return bool(_MONEY_MARK.search(sentence))
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


def asked_predicate(question: str) -> set[str]:
    """What ``question`` asks of its subject, as word stems: its words other than its
    names, the things it counts and "many"/"much" ("work" in "How many years has
    Wiśniewska worked at Ashcombe Water?"); rule 11."""
    names = {w for t in key_terms(question) for w in tokenize(t)}
    counted = {w for t in counted_words(question) for w in tokenize(t)}
    words = set(tokenize(question)) - names - counted - {"many", "much"}
    return {stem(w) for w in words}


def stem(word: str) -> str:
    """A word's first four letters: "worked", "works" and "working" are one stem."""
    return word[:4]


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
    r"(?P<fig>[Oo]\s*\([^)\n]*\)|\d[\d,.]*(?<![,.])[x×]?|(?i:"
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
    the passages' count (rule 10), or unchanged. Only when the sentence binds one
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


# What a measured quantity is given in (rule 12): the question's words naming it, the
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
    kind: (re.compile(asked, re.IGNORECASE), re.compile(rf"(\d[\d.,]*)\s*(?:{unit})"))
    for kind, (asked, unit) in _MEASURES.items()
}


def asks_measure(question: str) -> str:
    """The one measured quantity ``question`` asks about ("temperature", "length",
    "mass", "duration", "speed"; rule 12), or "" when it names none or several."""
    kinds = [kind for kind, (asked, _) in _MEASURED.items() if asked.search(question)]
    return kinds[0] if len(kinds) == 1 else ""


def other_measure(sentence: str, question: str, kind: str) -> str:
    """The measure ``sentence`` gives instead of ``kind`` (rule 12): it states figures
    the question does not hold with units of another measure and none with ``kind``'s
    ("212 metres" for a temperature); "" when it gives ``kind`` or no measure at all."""
    found = {
        other
        for other, (_, unit) in _MEASURED.items()
        for m in unit.finditer(normalize_figures(sentence))
        if not contains_term(question, m.group(1))
    }
    return "" if kind in found or not found else sorted(found)[0]


# Named things a question can ask for (rule 7). Not "system", "model", "method" or
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
    """ "name" or "year" when ``question`` asks for a named thing or a year (rule 7),
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
    asked = {_key(t) for t in key_terms(question)}
    # alone, "Berkeley" is a capitalised first word, which key_terms does not take for
    # a name: a name found in the sentence stays one
    return any(
        any(_key(t) not in asked for t in key_terms(name) or [name])
        and (evidence is None or written_as_name(evidence, name))
        for name in name_phrases(sentence)
    )


def year_from_text(sentence: str, question: str, body: str, headings: Sequence[str]) -> bool:
    """Whether a year ``sentence`` gives for a which-year question comes from what the
    report says (rule 7): its section's ``body``, or a heading that also names what
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


# A refusal is about the sources (rule 4): "the passages/reports/context/information
# don't ...", "no information", "not mentioned in the passages", "I cannot find".
_SOURCES = r"(passages?|reports?|context|text|documents?|sources?|information|notes|provided)"
_REFUSAL = re.compile(
    rf"\b{_SOURCES}\b[^.]{{0,40}}\b(do(es)?n'?t|do(es)? not|never|fail to)\b"
    r"[^.]{0,20}\b(cover|contain|mention|provide|say|discuss|include|specify|state|address"
    r"|give|answer|describe)"
    rf"|\bno (information|mention|details?|data)\b"
    rf"|\bnot (covered|mentioned|provided|discussed|stated|specified|given|described)\b"
    rf"[^.]{{0,30}}\b(in|by) (the|these|any) {_SOURCES}"
    r"|\b(cannot|can'?t|unable to|could not|couldn'?t) (answer|find|determine|tell)\b"
    rf"|^\s*(the )?{_SOURCES} (do(es)?n'?t|do(es)? not) ",
    re.IGNORECASE,
)


def is_refusal(text: str) -> bool:
    """Whether ``text`` says the sources do not answer (rule 4); a negative statement
    about the subject ("X does not support GPUs") is not one."""
    return bool(_REFUSAL.search(text))


# Where a sentence may be cut: before an elaboration. Restrictions (but, only, except,
# unless, if, when, while, although) are never cut off (rule 5).
_ELABORATION = re.compile(
    r",\s+(?=(?:which|and|so|making|allowing|meaning|thus|enabling|resulting)\b)"
    r"|;\s+|\s+(?=(?:which means|so that)\b)|\s+\((?!only|except|unless|but)"
)
_RESTRICTION = re.compile(
    r"^\W*(but|only|except|unless|if|when|while|although|though|provided|as long as|"
    r"not|never|without|however)\b",
    re.IGNORECASE,
)


_COORDINATE = re.compile(r",\s+and\s+|;\s+|,\s+(?=(?:but|while|whereas|although)\b)")


def coordinate_clauses(sentence: str) -> list[str]:
    """The independent clauses of ``sentence`` ("A, and B", "A; B", "A, but B"), each
    a claim of its own (at least three words; a later one capitalised, its "and"
    dropped, a "but" kept: the qualifier is part of the claim)."""
    out: list[str] = []
    pos = 0
    for m in _COORDINATE.finditer(sentence):
        out.append(sentence[pos : m.start()])
        pos = m.end()
    out.append(sentence[pos:])
    parts = [p.strip(" ,;") for p in out]
    if len(parts) < 2 or any(len(p.split()) < 3 for p in parts):
        return [sentence]
    return [parts[0]] + [p[0].upper() + p[1:] for p in parts[1:]]


def leading_clauses(sentence: str) -> list[str]:
    """The sentence cut before each later elaboration, longest first (at least three
    words each); no cut drops a restriction that follows it."""
    heads = []
    for m in _ELABORATION.finditer(sentence):
        rest = sentence[m.end() :]
        if _RESTRICTION.search(rest) or re.search(
            r"\b(but|only|except|unless)\b", rest[:40], re.IGNORECASE
        ):
            break  # everything after this point qualifies the claim
        heads.append(sentence[: m.start()].rstrip())
    return [h for h in reversed(heads) if len(h.split()) >= 3]


_CALENDAR = re.compile(
    r"^(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|(?:mon|tues|wednes|thurs|fri|satur|sun)day|q[1-4])$",
    re.IGNORECASE,
)


def _subjects(clause: str) -> list[str]:
    """The words of the names a clause states: not a figure with a suffix ("14x",
    "500M") nor a calendar word ("In March")."""
    words = (w.strip(".,;:()'’") for n in name_phrases(clause) for w in n.split())
    return [w for w in words if w[:1].isalpha() and not _CALENDAR.match(w)]


_KIND = re.compile(
    rf"(?P<cur>[{_CURRENCIES}]\s?)?(?P<num>\d(?:[\d,.]*\d)?)\s*(?P<after>%|[^\W\d_]+)?"
)


def _figures_of(clause: str) -> list[tuple[str, str]]:
    """Each figure of ``clause`` with its kind: "%", "money" or the word after it
    ("12 vans" -> "van")."""
    out = []
    for m in _KIND.finditer(normalize_figures(clause)):
        after = (m["after"] or "").lower()
        kind = "money" if m["cur"] or _MONEY_MARK.fullmatch(after) else singular(after)
        out.append((m["num"].replace(",", ""), kind))
    return out


def _numbers(text: str) -> set[str]:
    return {number for number, _ in _figures_of(text)}


def _owners(sentence: str, figure: str) -> list[list[str]] | None:
    """The subjects ``sentence`` gives ``figure`` of, when it is a breakdown: figures
    of one kind ("86.4%", "96.9%") in clauses naming different subjects (a "whose ..."
    clause naming none is about the clause before it). None when it is not."""
    found: list[tuple[str, str, frozenset[str]]] = []
    before: list[str] = []
    for clause in CLAUSE_BREAK.split(sentence):
        names = _subjects(clause) or before
        found += [(n, kind, frozenset(names)) for n, kind in _figures_of(clause) if names]
        before = _subjects(clause)
    mine = [(kind, names) for n, kind, names in found if n == figure]
    if not mine or any(
        not any(k == kind and other != names for _, k, other in found) for kind, names in mine
    ):
        return None
    return [sorted(names) for _, names in mine]


def figure_of_another(claim: str, window: str, question: str = "") -> bool:
    """Whether ``window`` gives a figure of ``claim`` (one the question does not give)
    only in breakdowns, sentences giving figures of one kind for several named subjects,
    and there only of subjects that neither the claim nor the question names (rule
    13): "the older Torvik turbines, whose availability was 86.4%, while the Skarnes
    turbines reached 96.9%" does not say the cluster reached 96.9%. A sentence giving
    one subject's figures is the passage's ("the fallback is to lease a crane for North
    Quay at 0.9 million euros a year" is the port's lease), and a claim naming nothing
    is not judged."""
    if not _subjects(claim):
        return False
    subject = f"{claim}\n{question}"
    sentences = [window[a:b] for a, b in sentence_spans(window)]
    for figure in _numbers(claim) - _numbers(question):
        stating = [s for s in sentences if figure in _numbers(s)]
        owners = [_owners(s, figure) for s in stating]
        if (
            stating
            and all(o is not None for o in owners)
            and not any(
                contains_term(subject, w) for o in owners for names in o or [] for w in names
            )
        ):
            return True
    return False
