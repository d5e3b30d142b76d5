"""A table's figure belongs to its column (and its row to its label): the header rows a
table row is read with, also when evidence selection cut the table apart, and whether a
claim gives a figure that stands only under another column than the one it names."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.grounding.tables import header_index, table_blocks, table_cells
from rag.grounding.terms import (
    FIGURE,
    contains_term,
    number_digits,
)
from rag.index.lexical import tokenize
from rag.types import Hit

__all__ = [
    "column_words",
    "continued_headers",
    "misplaced",
    "row_headers",
    "support_words",
]


def continued_headers(hits: Sequence[Hit]) -> dict[int, str]:
    """For each piece that starts inside a table whose header row is in an earlier piece
    of the same section, that header row."""
    out: dict[int, str] = {}
    last: dict[tuple[str, str], list[str]] = {}  # (report, section) -> its last table
    for h, hit in enumerate(hits):
        key = (hit.chunk.source, hit.chunk.section)
        lines = hit.chunk.text.strip().splitlines()
        before = last.get(key)
        first = table_cells(lines[0]) if lines else None
        if before and first is not None and len(first) == len(table_cells(before[0]) or []):
            if lines[0].strip() != before[0].strip():
                out[h] = before[0]
        blocks = table_blocks(hit.chunk.text)
        if blocks:
            last[key] = [out[h], *blocks[-1]] if h in out and len(blocks) == 1 else blocks[-1]
    return out


def row_headers(
    hits: Sequence[Hit], windows: list[tuple[int, int, int]], continued: dict[int, str]
) -> dict[int, list[str]]:
    """For each window that is one table row (not a header), its table's header cells
    (``continued``: the header rows of tables that pieces continue)."""
    out: dict[int, list[str]] = {}
    for i, (h, s, e) in enumerate(windows):
        text = hits[h].chunk.text
        line = text[s:e]
        cells = table_cells(line)
        if cells is None or "\n" in line.strip():
            continue
        lines = [*text[:s].splitlines(), line]
        top = header_index(lines, len(lines) - 1)
        # the table starts above the window in this piece, or in an earlier piece
        first = lines[top] if top is not None and top < len(lines) - 1 else None
        head = continued.get(h, first) if top == 0 else first
        header = table_cells(head) if head else None
        if header is None or head is None or head.strip() == line.strip():
            continue
        if len(header) == len(cells):
            out[i] = header
    return out


def column_words(row: str, header: list[str] | None, figures: list[str]) -> set[str]:
    """The words of the column labels over the cells of ``row`` that hold one of
    ``figures``: "3.53" in the "Mosaica Labels" column of "| Weighted total | 3.53 |"
    is Mosaica Labels' figure, and no other column's."""
    if header is None:  # most windows: no table row
        return set()
    cells = table_cells(row) or []
    return {
        w
        for cell, label in zip(cells, header, strict=False)
        if any(contains_term(cell, f) for f in figures)
        for w in support_words(label)
    }


# a value: digits with their separators, sign, unit symbol or magnitude ("3.53",
# "83.7%", "€1.16m"), not a code with letters in front ("QC-4", "H100")
_NUMBER = re.compile(rf"[$€£¥+-]?{FIGURE}\s?(?:%|[a-zA-Z]{{1,2}})?")


def misplaced(claim: str, figures: list[str], tables: list[list[str]]) -> bool:
    """Whether ``claim`` names a column of one of ``tables`` (rows of lines, the header
    first) and gives a figure that the table holds only under other columns."""
    for block in tables:
        labels = table_cells(block[0]) or []
        named = {j for j, label in enumerate(labels) if j and label and contains_term(claim, label)}
        if not named:
            continue
        rows = [table_cells(line) or [] for line in block[1:]]
        for figure in figures:
            if not _NUMBER.fullmatch(figure):
                continue  # a code ("QC-4") names a row; it is not a value
            # the first column labels the rows: a figure there is no value either
            columns = {
                j for row in rows for j, cell in enumerate(row) if j and contains_term(cell, figure)
            }
            if columns and not columns & named:
                return True
    return False


def support_words(text: str) -> set[str]:
    """The words support is counted in, numbers as digits: an answer's "2 bottles"
    states the "Two of the 12 bottles" of its passage."""
    return set(tokenize(number_digits(text)))
