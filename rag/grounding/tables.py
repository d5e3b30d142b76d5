"""One table reader: what a table row is (pipe-delimited or aligned in columns), the
tables of a text, and the header row over a row: a table gives a figure's unit or subject
once, in its column's label."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["ALIGNED_GAP", "header_index", "table_blocks", "table_cells"]


# the gap between two cells of a column-aligned plain-text table
ALIGNED_GAP = re.compile(r"(?<=\S)(?: {2,}|\t+)(?=\S)")


def table_cells(line: str) -> list[str] | None:
    """The cells of a table row, pipe-delimited or aligned in columns by runs of
    spaces or tabs (at least three cells), else None. The one definition of a row
    for chunking, evidence and grounding: they must agree on what a table is."""
    if "|" in line:
        return [c.strip() for c in line.strip().strip("|").split("|")]
    cells = ALIGNED_GAP.split(line.strip())
    return cells if len(cells) >= 3 else None


def table_blocks(text: str) -> list[list[str]]:
    """The tables of ``text``: runs of consecutive lines that are table rows."""
    blocks: list[list[str]] = []
    run: list[str] = []
    for line in [*text.splitlines(), ""]:
        if table_cells(line) is not None:
            run.append(line)
        elif run:
            blocks.append(run)
            run = []
    return blocks


def header_index(lines: Sequence[str], i: int) -> int | None:
    """The index of the first row of the table that line ``i`` is a row of (``i`` itself
    when it is that first row), None when line ``i`` is no table row: the header a row
    is read with."""
    if table_cells(lines[i]) is None:
        return None
    while i > 0 and table_cells(lines[i - 1]) is not None:
        i -= 1
    return i
