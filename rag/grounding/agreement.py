"""A claim must agree with its evidence sentence, not just share its words.

Sharing every word and figure of a sentence is not saying what it says. The principle,
one function for each way a claim can share the words and say something else:

- ``figure_of_another``: a figure belongs to the subject it is attached to there. In a
  breakdown (figures of one kind for several named subjects) each figure is its
  subject's, and it does not answer for a subject that neither the claim nor the
  question names. (In a table, a figure belongs to its column: ``columns.misplaced``.)

- ``compares_with_itself``: a claim that compares a thing with itself states nothing
  ("cooling the Vantorre hall drew 3x less power compared to Vantorre").
- ``reverses``: a claim stating a comparison that its evidence sentence states the other
  way round is unsupported: the two sides swapped, or the comparative word turned into
  its opposite ("Vantorre is faster than Keldrith" against "Keldrith is faster than
  Vantorre", or against "Vantorre is slower than Keldrith"). Swapping both says the same
  thing ("Keldrith is slower than Vantorre") and stands.

The sides of a comparison are names (``name_phrases``): the thing after "than" or
"compared to" when it stands alone up to the clause's end, and the names before it. A
comparison between things that are not names is not judged.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rag.grounding.citations import sentence_spans
from rag.grounding.quantities import CURRENCIES, MONEY_MARK, singular
from rag.grounding.terms import CLAUSE_BREAK, FIGURE, contains_term, name_phrases, normalize_figures

__all__ = ["compares_with_itself", "figure_of_another", "reverses"]

_COMPARATOR = re.compile(
    r"\b(?:than|compared\s+(?:to|with)|versus|vs\.?|relative\s+to)\s+", re.IGNORECASE
)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
# comparative words in pairs of opposites: (up, down) on one scale
_SCALES = tuple(
    (frozenset(up.split()), frozenset(down.split()))
    for up, down in (
        ("more", "less fewer"),
        ("higher", "lower"),
        ("larger bigger greater", "smaller"),
        ("faster quicker", "slower"),
        ("better", "worse"),
        ("longer", "shorter"),
        ("earlier", "later"),
        ("costlier dearer", "cheaper"),
    )
)


@dataclass(frozen=True)
class _Comparison:
    before: tuple[str, ...]  # each name before the comparator, as lower-case words
    against: str  # the name right after it, likewise
    alone: bool  # that name is all the clause says after the comparator
    scale: int | None  # which pair of opposites its comparative word is from
    up: bool


def _names(text: str) -> list[str]:
    # a leading word counts: "Keldrith is ..." names Keldrith wherever it stands
    return name_phrases(f"of {text}")


def _key(name: str) -> str:
    return " ".join(re.findall(r"[^\W_]+", name.lower()))


@functools.lru_cache(maxsize=4096)
def _parse(sentence: str) -> _Comparison | None:
    """The comparison ``sentence`` states, when its sides are names (cached: a claim is
    read against every window that supports it, a window against every claim)."""
    m = _COMPARATOR.search(sentence)
    if m is None:
        return None
    before, after = sentence[: m.start()], sentence[m.end() :]
    after = _ARTICLE.sub("", CLAUSE_BREAK.split(after, 1)[0].strip()).rstrip(" .!?")
    names, against = _names(before), _names(after)
    if not names or not against or not after.startswith(against[0]) or "(" in after:
        return None  # no names, or a formula ("O(N)"): not judged
    if re.match(r"['’]s\b", after[len(against[0]) :]):
        return None  # "than Vantorre's": a property of it, perhaps at another time
    scale, up = None, True
    for word in reversed(re.findall(r"[a-z]+", before.lower())):
        found = [(i, word in ups) for i, (ups, downs) in enumerate(_SCALES) if word in ups | downs]
        if found:
            scale, up = found[0]
            break
    before_words = tuple(_key(n) for n in names)
    return _Comparison(before_words, _key(against[0]), after == against[0], scale, up)


def _among(name: str, names: tuple[str, ...]) -> bool:
    """Whether ``name`` is one of ``names``, or ends one ("Training Vantorre")."""
    return any(other == name or other.endswith(f" {name}") for other in names)


def compares_with_itself(claim: str) -> bool:
    """Whether ``claim`` compares a thing with itself: the one name after "than" or
    "compared to" is among the names before it."""
    c = _parse(claim)
    return c is not None and c.alone and _among(c.against, c.before)


def reverses(claim: str, window: str) -> bool:
    """Whether a sentence of ``window`` states the comparison ``claim`` states the other
    way round: the same two names on swapped sides, or the opposite word of the same
    scale; not both (which says the same thing)."""
    mine = _parse(claim)
    if mine is None or mine.scale is None:
        return False
    for start, end in sentence_spans(window):
        theirs = _parse(window[start:end])
        if theirs is None or theirs.scale != mine.scale:
            continue
        same = theirs.against == mine.against
        swapped = _among(theirs.against, mine.before) and _among(mine.against, theirs.before)
        if same == swapped:  # other sides, or a sentence naming both on each side
            continue
        if swapped != (theirs.up != mine.up):
            return True
    return False


# calendar words open clauses; they name no subject
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


_KIND = re.compile(rf"(?P<cur>[{CURRENCIES}]\s?)?(?P<num>{FIGURE})\s*(?P<after>%|[^\W\d_]+)?")


def _figures_of(clause: str) -> list[tuple[str, str]]:
    """Each figure of ``clause`` with its kind: "%", "money" or the word after it
    ("12 vans" -> "van")."""
    out = []
    for m in _KIND.finditer(normalize_figures(clause)):
        after = (m["after"] or "").lower()
        kind = "money" if m["cur"] or MONEY_MARK.fullmatch(after) else singular(after)
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
