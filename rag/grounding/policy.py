"""The grounding policy: what an answer sentence must satisfy to be shown, and when the
service says "The reports don't cover this."

Eight principles, each one sentence, each tested on invented text that shares no name
with any eval set (``tests/test_grounding.py``, ``test_verification.py``,
``test_agreement.py``). A check that exists for one eval question is a fit, not a
principle: ``bench/replay.py --deletions`` shows what deleting each sentence-level check
flips on the saved tuning runs, and the two that flipped only the question they were
written for (a window "speaking of the opposite" by fixed word groups, and a bare figure
needing its sentence to say what is asked) were deleted (``docs/experiments.md``).

1. **Figures and names are evidence-bound** (this module): every figure, name and unit
   a sentence states occurs in the passage it is cited to (its text, section path or its
   document's metadata), however it is spelt ("1,450" = "1450", "€1.16m" = "€1.16
   million", "two" = "2"; "821 watts" is not "821 mm^2"); and a name of the question is
   looked for in the whole corpus before the question is refused for lacking it.
2. **The question's constraints hold in the evidence** (``question_constraints``): a
   year, venue or name the question sets must be stated by the cited passages' sections
   or their documents' metadata, or the answer is about something else; one part of a
   compound question, or one report of a question about several, may meet its own.
3. **The answer is of the kind asked for** (``kinds.py``): an amount for how many / how
   much (a count of the things counted, read where the passages bind it; money for a
   price), a name for who / which, a year the report's text states for which year, a
   quantity in the units of the measure asked.
4. **A claim agrees with its evidence sentence** (``agreement.py``, ``columns.py``): a
   figure belongs to the subject it is attached to there (its clause's subject in a
   breakdown, its column in a table), and a comparison stated the other way round, or of
   a thing with itself, is not what the sentence says.
5. **A sentence says something** (``restates_heading``): one that only echoes the
   question or restates a passage's heading words answers nothing.
6. **Qualifiers stay** (``leading_clauses``, ``coordinate_clauses``): a sentence may lose
   a trailing elaboration it cannot support, never a restriction ("but only ...",
   "unless ..."), and two facts joined by "and" are shown when each has its own support.
7. **A refusal speaks about the sources** (``is_refusal``): "the passages don't mention
   X" is a refusal; "X does not provide GPU support" is a claim to check like any other.
8. **An order in a passage is not an answer** (``verification.py``): a sentence addressed
   to the reader copied from a passage that gives the assistant orders repeats the order.
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
    are checked against the question's evidence instead (principle 2), so echoing them is
    not a new claim."""
    asked = {term_key(t) for t in key_terms(question)}
    need = [t for t in key_terms(claim) if term_key(t) not in asked]
    need += [q for q in quantities(claim) if term_key(q.split()[0]) not in asked]
    money = (m.group(2) for m in MONEY_FIGURE.finditer(claim))
    need += [f"€{n}" for n in money if term_key(n) not in asked]  # any currency: "€" marks money
    return list(dict.fromkeys(need))


def states_money(haystack: str, number: str) -> bool:
    """Whether ``haystack`` gives ``number`` as money (principle 1): on a line that names a
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
    """Whether a claim of ``terms`` (``tokenize``d) only restates a heading (principle 5): its
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
    two-report answer went through (principle 2). Passages of the cited reports themselves
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
    (principle 2), or the answer is about something else."""
    terms = [t for t in key_terms(question) if len(t) >= 3 or t[0].isdigit()]
    return list(dict.fromkeys(terms))


def absent_names(question: str, found: Callable[[str], bool]) -> list[str]:
    """Names and figures of ``question`` (three characters or more; two-letter ones
    like "US" are too ambiguous) for which ``found`` is false (principle 1)."""
    terms = [t for t in key_terms(question) if len(t) >= 3 or any(c.isdigit() for c in t)]
    return list(dict.fromkeys(t for t in terms if not found(t)))


def unknown_names(
    names: Sequence[str], found: Callable[[str], bool], vocabulary: Collection[str]
) -> list[str]:
    """The ``names`` (from ``absent_names``) that ``found`` lacks and the corpus cannot
    be holding in another spelling (principle 1): no indexed word is one typo from it, and it
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


# A refusal is about the sources (principle 7): "the passages/reports/context/information
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
    """Whether ``text`` says the sources do not answer (principle 7); a negative statement
    about the subject ("X does not support GPUs") is not one."""
    return bool(_REFUSAL.search(text))


# Where a sentence may be cut: before an elaboration. Restrictions (but, only, except,
# unless, if, when, while, although) are never cut off (principle 6).
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
