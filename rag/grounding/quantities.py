"""Quantities: a figure with its unit ("821 watts", "12 vans"), the forms of a unit
("km" = "kilometre"), and whether a passage states a quantity, beside its figure or in
the label of the table column the figure stands in; and money, a figure written with
its currency."""

from __future__ import annotations

import re

from rag.grounding.tables import header_index, table_cells
from rag.grounding.terms import FIGURE, fold_figures, searchable, term_pattern

__all__ = [
    "CURRENCIES",
    "MONEY_FIGURE",
    "MONEY_MARK",
    "contains_quantity",
    "quantities",
    "singular",
]


# Words after a number that are not its unit ("90% of", "1.7 to 2.9 times").
_NOT_UNIT = frozenset(
    "of to and or in on at for from than the a an more less fewer times per by with "
    "compared vs versus over under up about around nearly almost is are was were but if "
    "as that which who when while so into this these those it its has have had".split()
)


_QUANTITY = re.compile(
    r"(?<![\w.,-])([~$<>≈]?\d(?:[\d.,]*\d)?[%+a-zA-Z]*)[ \t]+([A-Za-z][A-Za-z-]+)"
    r"(?:[ \t]+([A-Za-z][A-Za-z-]+))?"
)


# a compound modifier before the counted noun: "6,870 ban-related contacts" counts
# contacts, as "6,870 contacts about the ban" does; "12 full-time staff" counts staff
_MODIFIER = re.compile(r"[a-z]+(?:-[a-z]+)+", re.IGNORECASE)


def quantities(text: str) -> list[str]:
    """Numbers with the unit word right after them: "821 watts", "14x energy".

    A passage that has the number with another unit ("821 mm^2") does not support
    the claim, though the number alone matches. A number followed by punctuation
    ("300,000x, training ...") has no unit."""
    out = []
    for m in _QUANTITY.finditer(fold_figures(text)):
        num, unit = m.group(1), m.group(2)
        if (
            m.group(3)
            and _MODIFIER.fullmatch(unit)
            and unit.lower() not in _UNIT_FORMS
            and m.group(3).lower() not in _NOT_UNIT
        ):
            unit = m.group(3)
        if re.fullmatch(r"(19|20)\d\d", num) or unit.lower() in _NOT_UNIT:
            continue  # a year, or a word that is not a unit ("90% of")
        out.append(f"{num} {unit}")
    return out


# One unit written long or short: "8 minutes" is "8 min", "3 hours" is "3 hrs". Not
# one letter: "212 m" may be metres, minutes or millions.
_UNIT_GROUPS = (
    "minute min",
    "hour hr",
    "second sec",
    "millisecond msec ms",
    "kilometre kilometer km",
    "metre meter",
    "centimetre centimeter cm",
    "millimetre millimeter mm",
    "kilogram kg",
    "tonne ton",
    "kilowatt kw",
    "megawatt mw",
    "gigawatt gw",
    "kilowatt-hour kwh",
    "megawatt-hour mwh",
    "gigawatt-hour gwh",
    "kilobyte kb",
    "megabyte mb",
    "gigabyte gb",
    "terabyte tb",
    "year yr",
    "week wk",
)


_UNIT_FORMS = {form: group.split() for group in _UNIT_GROUPS for form in group.split()}


def _unit_pattern(stem: str) -> str:
    """``stem`` or its short forms, plural-insensitive, as a regex body."""
    forms = _UNIT_FORMS.get(stem, [stem])
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + ")"


def singular(word: str) -> str:
    """``word`` without a plural "s" ("cores" -> "core"; "gas", "bus" kept): what a
    pattern then matches with an optional "s"/"es"."""
    return word[:-1] if word.lower().endswith("s") and len(word) > 3 else word


def contains_quantity(haystack: str, quantity: str) -> bool:
    """Whether the number of ``quantity`` occurs with its unit word within the next
    three words (plural-insensitive, a unit's short form counting: "8 minutes" is "8
    min"): "98% accuracy" matches "98+% detection accuracy". A part counted out of a
    whole counts the whole's things: "two of the 12 sample bottles on the rosette"
    states "2 rosette bottles" (the words after "of the" name what is counted; no
    other figure may come between)."""
    num, unit = quantity.rsplit(" ", 1)
    number = term_pattern(num).removesuffix("(?![^\\W_])")
    stem = singular(unit.lower())
    unit_word = rf"{_unit_pattern(stem)}(?:e?s)?(?![a-z])"
    pattern = rf"{number}(?![0-9])[^\w\n]*(?:[\w^]+[^\w\n]+){{0,2}}{unit_word}"
    partitive = (
        rf"{number}(?![0-9]) of (?:the|its|their|these|those|all) (?:{FIGURE} )?"
        rf"(?:[a-z-]+ ){{0,4}}{unit_word}"
    )
    hay = searchable(haystack)
    if re.search(pattern, hay) is not None or re.search(partitive, hay) is not None:
        return True
    return _in_table_column(hay, number, stem)


def _in_table_column(hay: str, number: str, unit: str) -> bool:
    """Whether ``number`` is a cell of a table whose header row names ``unit``: a
    table gives a figure's unit once, in its column's header ("| p50 ms |", "Days
    out" over a column of day counts), pipe-delimited or aligned in columns."""
    named = re.compile(rf"(?<![a-z]){_unit_pattern(unit)}(?:e?s)?(?![a-z])")
    cell = re.compile(rf"{number}(?![0-9])")
    lines = hay.splitlines()
    for i, line in enumerate(lines):
        head = header_index(lines, i)
        if head is None or head == i or not any(cell.match(c) for c in table_cells(line) or []):
            continue
        if any(named.search(h) for h in table_cells(lines[head]) or []):
            return True
    return False


CURRENCIES = "$€£¥"


# "€2,450", "$ 3.5m", "2,450 euros": a figure written as money (with its magnitude:
# "€1.16m" needs 1.16 million, which a passage may write "€1.16 million")
MONEY_FIGURE = re.compile(
    rf"([{CURRENCIES}])\s?({FIGURE}(?:\s?(?:million|billion|mn|bn|m)\b)?)",
    re.IGNORECASE,
)


MONEY_MARK = re.compile(
    rf"[{CURRENCIES}]|\b(?:euros?|dollars?|pounds?|eur|usd|gbp|cents?|pence)\b", re.IGNORECASE
)
