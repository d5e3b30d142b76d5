"""A claim must agree with its evidence sentence, not just share its words.

Sharing every word and figure of a sentence is not saying what it says. Two principles,
each one function:

- ``compares_with_itself``: a claim that compares a thing with itself states nothing
  ("the Vantorre run emitted 14x less CO2e compared to Vantorre").
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

import re
from dataclasses import dataclass

from rag.grounding.citations import sentence_spans
from rag.grounding.terms import CLAUSE_BREAK, name_phrases

__all__ = ["compares_with_itself", "reverses"]

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
    before: tuple[frozenset[str], ...]  # the words of each name before the comparator
    against: frozenset[str]  # the words of the name right after it
    alone: bool  # that name is all the clause says after the comparator
    scale: int | None  # which pair of opposites its comparative word is from
    up: bool


def _names(text: str) -> list[str]:
    # a leading word counts: "Keldrith is ..." names Keldrith wherever it stands
    return name_phrases(f"of {text}")


def _words(name: str) -> frozenset[str]:
    return frozenset(re.findall(r"[^\W_]+", name.lower()))


def _parse(sentence: str) -> _Comparison | None:
    """The comparison ``sentence`` states, when its sides are names."""
    m = _COMPARATOR.search(sentence)
    if m is None:
        return None
    before, after = sentence[: m.start()], sentence[m.end() :]
    after = _ARTICLE.sub("", CLAUSE_BREAK.split(after, 1)[0].strip()).rstrip(" .!?")
    names, against = _names(before), _names(after)
    if not names or not against or not after.startswith(against[0]):
        return None
    if re.match(r"['’]s\b", after[len(against[0]) :]):
        return None  # "than Vantorre's": a property of it, perhaps at another time
    scale, up = None, True
    for word in reversed(re.findall(r"[a-z]+", before.lower())):
        found = [(i, word in ups) for i, (ups, downs) in enumerate(_SCALES) if word in ups | downs]
        if found:
            scale, up = found[0]
            break
    before_words = tuple(_words(n) for n in names)
    return _Comparison(before_words, _words(against[0]), after == against[0], scale, up)


def _among(name: frozenset[str], names: tuple[frozenset[str], ...]) -> bool:
    return any(name <= other for other in names)


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
