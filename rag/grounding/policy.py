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

from rag.grounding.quantities import (
    CURRENCIES,
    MONEY_FIGURE,
    MONEY_MARK,
    contains_quantity,
    quantities,
)
from rag.grounding.tables import header_index
from rag.grounding.terms import (
    acronym,
    contains_term,
    key_terms,
    link_terms,
    near_spelling,
    spells_out,
    term_key,
    written_as_name,
)
from rag.types import Hit

__all__ = [
    "absent_names",
    "claim_requirements",
    "coordinate_clauses",
    "evidence_lacks",
    "is_refusal",
    "leading_clauses",
    "linked",
    "passage_context",
    "question_constraints",
    "restates_heading",
    "states_money",
    "states_name",
    "unknown_names",
]


def passage_context(hit: Hit, metadata: dict[str, str]) -> str:
    """What a passage counts as saying for the figure and name rules: its text, its
    section path and its document's metadata (title, dated headings)."""
    return "\n".join([hit.chunk.text, hit.chunk.section, metadata.get(hit.chunk.source, "")])


def _present(haystack: str, term: str) -> bool:
    if term[:1] in CURRENCIES:
        return states_money(haystack, term[1:])
    if " " in term:
        return contains_quantity(haystack, term)
    return contains_term(haystack, term) or spells_out(haystack, term)


def claim_requirements(claim: str, question: str = "") -> list[str]:
    """The figures (with their units, and as money when the claim writes them so) and
    names a passage must state to support ``claim``. Names the question itself gives
    are checked against the question's evidence instead (rule 2), so echoing them is
    not a new claim."""
    asked = {term_key(t) for t in key_terms(question)}
    need = [t for t in key_terms(claim) if term_key(t) not in asked]
    need += [q for q in quantities(claim) if term_key(q.split()[0]) not in asked]
    money = (m.group(2) for m in MONEY_FIGURE.finditer(claim))
    need += [f"€{n}" for n in money if term_key(n) not in asked]  # any currency: "€" marks money
    return list(dict.fromkeys(need))


def states_money(haystack: str, number: str) -> bool:
    """Whether ``haystack`` gives ``number`` as money (rule 1): on a line that names a
    currency, or in a table whose header row does ("| Cost (€) |"). "€2,450" is not
    supported by "carried 2,450 passengers": the figure is there, the money is not."""
    lines = haystack.splitlines()
    for i, line in enumerate(lines):
        if not contains_term(line, number):
            continue
        if MONEY_MARK.search(line):
            return True
        head = header_index(lines, i)
        if head is not None and head < i and MONEY_MARK.search(lines[head]):
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
