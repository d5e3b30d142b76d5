"""Figures compared by the service, not by the model.

Asked "Which lasted longer: the cruise, or the heat wave?", the 1.5B model reads both
figures and then names the wrong winner ("lasted longer, 14 days compared to 16
days") or subtracts wrongly ("by 1,000 dollars"). Each side is asked on its own
(``rag.answer.asks.compared_figures``) and verified; when the answer then states
exactly two figures in one unit, the comparison is arithmetic, done here, and shown
as a note that names both figures it was computed from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from rag.grounding.quantities import singular
from rag.grounding.terms import DATE

__all__ = ["Figure", "comparison_note", "figures"]

_CURRENCY_WORDS = {
    "euro": "€",
    "euros": "€",
    "eur": "€",
    "dollar": "$",
    "dollars": "$",
    "usd": "$",
    "pound": "£",
    "pounds": "£",
    "gbp": "£",
}
_SCALE = {
    "thousand": Decimal(1_000),
    "k": Decimal(1_000),
    "million": Decimal(1_000_000),
    "m": Decimal(1_000_000),
    "billion": Decimal(1_000_000_000),
    "bn": Decimal(1_000_000_000),
}
_FIGURE = re.compile(
    r"(?<![\w.,-])(?:(?P<cur>[$€£¥])|(?P<code>EUR|USD|GBP)\s)?\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<scale>thousand|million|billion|bn|k|m)\b)?"
    r"(?:\s?(?P<unit>%|per\s?cent\b|°\s?[CF]\b|[A-Za-z][A-Za-z-]*))?",
    re.IGNORECASE,
)
# words after a number that say nothing of what it counts ("14 of the", "3 to 5")
_NO_UNIT = frozenset(
    "of to and or in on at for from than the a an by with is are was were as per out "
    "over under about each every which that".split()
)


@dataclass(frozen=True)
class Figure:
    """A number as written (``text``), its value with any scale applied, and its unit
    ("€", "%", "°c", a singular noun such as "day", or "" for a bare number)."""

    text: str
    value: Decimal
    unit: str


def _unit(cur: str | None, unit: str | None) -> str:
    """One spelling per unit, so that two figures can be told comparable: a currency
    symbol for its words ("euros" is "€"), "%" for "per cent", a noun in the singular;
    "" for a word that is no unit ("14 of")."""
    if cur:
        return cur
    if not unit:
        return ""
    low = re.sub(r"\s", "", unit.lower())
    if low in ("%", "percent"):
        return "%"
    if low.startswith("°"):
        return low
    if low in _CURRENCY_WORDS:
        return _CURRENCY_WORDS[low]
    if low in _NO_UNIT:
        return ""
    return singular(low)


def figures(text: str) -> list[Figure]:
    """The figures ``text`` states: amounts, counts, durations, percentages. Years and
    days of a month ("18 July", "July 18", "2023") are dates, not figures."""
    out = []
    dates = [d.span() for d in DATE.finditer(text)]
    for m in _FIGURE.finditer(text):
        num, unit = m["num"], m["unit"]
        if any(a <= m.start("num") < b for a, b in dates):
            continue
        if not m["cur"] and not unit and re.fullmatch(r"(?:19|20)\d\d", num):
            continue
        try:
            value = Decimal(num.replace(",", ""))
        except InvalidOperation:  # pragma: no cover - the pattern admits digits only
            continue
        currency = m["cur"] or (_CURRENCY_WORDS[m["code"].lower()] if m["code"] else None)
        scale = (m["scale"] or "").lower()
        if scale in ("k", "m") and (currency is None and not unit):
            scale = ""  # "3 m" alone may be metres: a scale only after a currency
        value *= _SCALE.get(scale, Decimal(1))
        if scale and unit and unit.lower() in _CURRENCY_WORDS:
            currency = _CURRENCY_WORDS[unit.lower()]
        if unit and _unit(None, unit):  # "31 days": the figure's text ends after its unit
            end = m.end()
        else:  # "14 of the ...": after the number (and its scale word)
            end = m.end("scale") if scale else m.end("num")
        out.append(Figure(text[m.start() : end].strip(), value, _unit(currency, unit)))
    return out


def _written(value: Decimal, like: Figure) -> str:
    """``value`` in the style of ``like``: its currency, scale word ("million") when the
    value is at least one of it, and unit; thousands separators from 10,000 up."""
    scaled = re.search(r"\d\s?(thousand|million|billion|bn)\b", like.text, re.IGNORECASE)
    factor = _SCALE[scaled[1].lower()] if scaled else Decimal(1)
    number_end = r"(?:\s?(?:thousand|million|billion|bn)\b)?" if scaled else ""
    if value < factor:  # 0.814 million is written 814,000
        factor, number_end = Decimal(1), r"(?:\s?(?:thousand|million|billion|bn)\b)?"
    shown = (value / factor).normalize()
    places = min(3, max(0, -int(shown.as_tuple().exponent)))
    number = f"{shown:,.{places}f}" if shown >= 10_000 else f"{shown:.{places}f}"
    if factor != 1 and scaled:
        number += f" {scaled[1]}"
    return re.sub(r"\d(?:[\d,]*\d)?(?:\.\d+)?" + number_end, number, like.text, count=1)


def comparison_note(texts: list[str], asked: list[str]) -> str:
    """A note comparing the two figures the answer ``texts`` state in one unit, leaving
    out the figures the question ``asked`` itself gives; "" when they state fewer or
    more than two, or in different units (pages and trees are not compared)."""
    given = {(f.value, f.unit) for q in asked for f in figures(q)}
    found: list[Figure] = []
    for text in texts:
        for f in figures(re.sub(r"\[\d+\]", "", text)):  # a passage number is no figure
            if (f.value, f.unit) not in given and all(
                (f.value, f.unit) != (g.value, g.unit) for g in found
            ):
                found.append(f)
    if len(found) != 2 or found[0].unit != found[1].unit:
        return ""
    a, b = found
    if a.value == b.value:
        return f"(Compared by the service: both figures are {a.text}.)"
    big, small = (a, b) if a.value > b.value else (b, a)
    diff = _written(big.value - small.value, big)
    if big.unit == "%":  # the difference of two shares is in points, not per cent
        diff = diff.replace("%", " percentage points")
    return f"(Compared by the service: {big.text} is more than {small.text}, by {diff}.)"
