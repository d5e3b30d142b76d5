"""Extracted blocks as report text, the same for every format: a table's rows as
pipe-delimited lines, blocks joined with at most one blank line between them."""

from __future__ import annotations

import re

__all__ = ["join_blocks", "table_rows"]


def table_rows(rows: list[list[str]]) -> list[str]:
    out = []
    for cells in rows:
        cells = [re.sub(r"\s+", " ", c).strip() for c in cells]
        if any(cells):
            out.append("| " + " | ".join(cells) + " |")
    return out


def join_blocks(lines: list[str]) -> str:
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
