"""Compact evidence: the lines of the retrieved passages that bear on the question.

Prompt processing is the latency on a small CPU (about 0.6 s per 100 tokens here), and
the 1.5B model reads a few focused lines better than three whole sections. So each
retrieved passage is cut down to its sentences and lines most like the question
(MiniLM cosine plus the share of the question's terms they hold), each kept with its
heading path and neighbours where a list or a lead-in continues, and a table row with
its table's header row, under a token budget.

Every selected piece is an exact span of its report (``Chunk`` invariant), so
verification quotes and offsets are as exact as with whole passages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from rag.answer.asks import retrieval_queries
from rag.grounding.citations import sentence_spans
from rag.grounding.tables import header_index, table_cells
from rag.grounding.terms import contains_term, link_terms, written_as_name
from rag.index.lexical import tokenize
from rag.types import Chunk, Hit

__all__ = ["has_words", "select_evidence"]

Encode = Callable[[list[str]], np.ndarray]
_LEXICAL_WEIGHT = 0.5
_GAP = 2  # selected units at most this many units apart are joined into one span
_KEEP_SHARE = 0.5  # passages whose best line scores below this share of the best are dropped
_LIST_BUDGET = 1.5  # a list under a chosen lead-in may run this far past the token budget
_LINKS = 2  # lines of another report brought in by what a report's best line names


def _units(chunk: Chunk) -> list[tuple[int, int]]:
    return sentence_spans(chunk.text)


def select_evidence(
    question: str,
    hits: list[Hit],
    encode: Encode,
    count_tokens: Callable[[str], int],
    budget: int,
    context: str = "",
    lookup: Callable[[str, set[str]], Hit | None] | None = None,
) -> list[Hit]:
    """``hits`` cut to their most relevant spans, about ``budget`` tokens in all.

    Units (sentences, list lines) are ranked over all passages; the best are taken
    until the budget is spent, the best unit of every passage first, so each passage
    the retriever chose keeps its strongest line. A unit ending in ":" brings the
    lines it introduces, and a list item its lead-in, so its list is read whole.
    Units of one passage close together are joined into one span, so a list stays
    whole. Passages keep their order and numbering comes later.

    Lines are scored against each part of the question (and, for a chat follow-up,
    the ``context`` query built from the conversation) and keep their best score.

    A name or date of a report's best line that the other reports' passages lack is
    looked up with ``lookup`` (name, those reports -> a passage of one of them stating
    it) and the selection made again with that passage: the question may reach the
    second report only through the first ("the chair of the Riders' Forum" is
    Bożena Wiśniewska; her post is in the other report).
    """
    units = [
        (h, s, e)
        for h, hit in enumerate(hits)
        for s, e in _units(hit.chunk)
        if not _is_heading(hit.chunk.text[s:e], hit.chunk) and has_words(hit.chunk.text[s:e])
    ]
    if not units:
        return hits
    texts = [hits[h].chunk.text[s:e] for h, s, e in units]
    indents = [_indent(hits[h].chunk.text, s) for h, s, _ in units]
    heads = [set(tokenize(hit.chunk.section)) for hit in hits]
    # each part of a compound question scores the lines on its own: a line answering
    # the second part must not lose to every line about the first
    parts = retrieval_queries(question)
    if context and context != question:
        parts.append(context)  # a chat follow-up: what it asks now, and the conversation
    vecs = encode([*parts, *texts])
    # a table row is read with its column labels, as a line is with its section heading
    labels: list[set[str]] = []
    for i in range(len(units)):
        header = _table_header(units, texts, i)
        labels.append(set(tokenize(texts[header])) if header is not None else set())
    # a term every passage holds (the document's title words, when all passages come
    # from one report) cannot tell their lines apart: only the others are counted
    held = [set(tokenize(hit.chunk.text)) | heads[h] for h, hit in enumerate(hits)]
    common = set.intersection(*held) if len(held) > 1 else set()
    score = np.zeros(len(units))
    for p, part in enumerate(parts):
        asked = set(tokenize(part)) - common or set(tokenize(part))
        cosine = np.clip(vecs[len(parts) :] @ vecs[p], 0, 1)
        lexical = np.array(
            [
                len(asked & (set(tokenize(t)) | heads[h] | labels[i])) / max(1, len(asked))
                for i, (t, (h, _, _)) in enumerate(zip(texts, units, strict=True))
            ]
        )
        score = np.maximum(score, _LEXICAL_WEIGHT * lexical + (1 - _LEXICAL_WEIGHT) * cosine)
    for i in range(len(units)):
        if _is_header(units, texts, i):
            score[i] = 0.0  # labels without values: read with the rows that need them
    best = {h: max(score[i] for i, u in enumerate(units) if u[0] == h) for h, _, _ in units}
    top = max(best.values())
    # a passage whose best line is far below the best passage's adds noise, not evidence
    keep = {h for h, b in best.items() if b >= _KEEP_SHARE * top}
    order = [i for i in sorted(range(len(units)), key=lambda i: -score[i]) if units[i][0] in keep]
    firsts = [next(i for i in order if units[i][0] == h) for h in sorted(keep)]
    chosen: set[int] = set()
    spent = 0

    opened: set[int] = set()

    def cost(i: int) -> int:
        """A line's tokens, plus its passage's header when it is the passage's first."""
        head = 0 if units[i][0] in opened else count_tokens(hits[units[i][0]].chunk.section) + 12
        return count_tokens(texts[i]) + head

    def take(i: int) -> None:
        nonlocal spent
        if i not in chosen:
            spent += cost(i)
            chosen.add(i)
            opened.add(units[i][0])

    # the passage retrieval ranked first is read whole when it fits in half the budget:
    # terse notes ("Volta NVlink / 300GB/sec/processor") answer in lines that share no
    # word with the question
    lead = [i for i, u in enumerate(units) if u[0] == 0]
    if lead and sum(count_tokens(texts[i]) for i in lead) <= budget // 2:
        for i in lead:
            take(i)
    for i in [*firsts, *order]:
        if i in chosen:
            continue
        if chosen and spent + cost(i) > budget:
            continue
        take(i)
        same = [j for j in (i - 1, i + 1) if 0 <= j < len(units) and units[j][0] == units[i][0]]
        for j in same:  # a neighbour on each side: the line's subject, its continuation
            if spent + cost(j) <= budget:
                take(j)
        header = _table_header(units, texts, i)
        if header is not None:  # a row's figures mean nothing without their column labels
            take(header)
    # a question spanning two reports reaches the second through the first: "the
    # hottest day of the heat wave" is 18 July in one report, and only the other
    # report's line on 18 July holds the output that day
    linked, unlinked = _linked(question, hits, units, texts, score, chosen)
    if lookup is not None and unlinked:
        others = {hit.chunk.source for hit in hits}
        for term, source in unlinked:
            extra = lookup(term, others - {source})
            if extra is not None:
                return select_evidence(
                    question, [*hits, extra], encode, count_tokens, budget, context
                )
    for i in linked:
        if spent + cost(i) > _LIST_BUDGET * budget:
            continue
        take(i)
        header = _table_header(units, texts, i)
        if header is not None:
            take(header)
        elif i > 0 and units[i - 1][0] == units[i][0] and not _is_row(texts[i - 1]):
            # "The programme was led by ...": the line before names the programme
            if spent + cost(i - 1) <= _LIST_BUDGET * budget:
                take(i - 1)
    # a chosen list item brings its lead-in ("The team recommends, with estimated
    # costs:"): its siblings are the other answers the list gives, and the model picks
    # among items it sees ("one H90 main bearing" in a stock item, "main bearings" in
    # the replacement item before it)
    for i in sorted(chosen, key=lambda i: -score[i]):
        head = _lead_in(units, texts, indents, i)
        if head is not None and spent + cost(head) <= _LIST_BUDGET * budget:
            take(head)
    # a chosen lead-in ("The three layers are:", "- Silver" over indented items) brings
    # the lines under it, however it was chosen, the best lead-ins first: a list is
    # read whole, after the lines that answer on their own
    for i in sorted(chosen, key=lambda i: -score[i]):
        for j in _children(units, texts, indents, i):
            if spent + cost(j) <= _LIST_BUDGET * budget:
                take(j)
    return _merged(_spans(hits, units, sorted(chosen)))


def _linked(
    question: str,
    hits: list[Hit],
    units: list[tuple[int, int, int]],
    texts: list[str],
    score: np.ndarray,
    chosen: set[int],
) -> tuple[list[int], list[tuple[str, str]]]:
    """Up to ``_LINKS`` unchosen lines of other reports, each holding a name or date
    (``link_terms``) that the question does not hold but a report's best chosen line
    does: the best-scoring such line per link, the best reports' links first and the
    rarest links of each first; and the links (term, its report) no other report's
    passage holds."""
    source = [hits[h].chunk.source for h, _, _ in units]
    anchors: dict[str, int] = {}
    for i in sorted(chosen, key=lambda i: -score[i]):
        anchors.setdefault(source[i], i)
    out: list[int] = []
    unlinked: list[tuple[str, str]] = []
    for a in anchors.values():
        terms = [t for t in link_terms(texts[a]) if not contains_term(question, t)]
        writers = {t: [i for i in range(len(units)) if written_as_name(texts[i], t)] for t in terms}
        # the rarest first: a name on every other line ("Ashcombe Water" throughout
        # the heat-wave review) is what the reports are about, not what links them
        for term in sorted(terms, key=lambda t: len(writers[t])):
            holders = [i for i in writers[term] if source[i] != source[a]]
            found = [i for i in holders if i not in chosen and i not in out]
            if found:
                out.append(max(found, key=lambda i: score[i]))
            elif not holders:
                unlinked.append((term, source[a]))
            if len(out) >= _LINKS:
                return out, unlinked
    return out, unlinked


def _lead_in(
    units: list[tuple[int, int, int]], texts: list[str], indents: list[int | None], i: int
) -> int | None:
    """The line ending in ":" that list item ``i`` stands under, in its passage, with
    only other items of its list between them; None when ``i`` is not such an item."""
    if not _is_item(texts[i]) or indents[i] is None:
        return None
    j = i - 1
    while j >= 0 and units[j][0] == units[i][0]:
        if texts[j].rstrip().endswith(":") and (indents[j] or 0) <= (indents[i] or 0):
            return j
        if indents[j] is not None and not _is_item(texts[j]):
            return None
        j -= 1
    return None


def _indent(text: str, start: int) -> int | None:
    """Columns of white space before ``start`` on its line; None when the unit starts
    mid-line (a second sentence of a line)."""
    before = text[text.rfind("\n", 0, start) + 1 : start]
    return None if before.strip() else len(before.expandtabs(4))


def _children(
    units: list[tuple[int, int, int]], texts: list[str], indents: list[int | None], i: int
) -> list[int]:
    """The units under unit ``i`` in its passage's outline: the lines after it indented
    deeper (with the rest of their lines), and after a line ending in ":" its list items
    at the same depth."""
    out: list[int] = []
    base = indents[i]
    if base is None:
        return out
    lead_in = texts[i].rstrip().endswith(":")
    j = i + 1
    while j < len(units) and units[j][0] == units[i][0]:
        depth = indents[j]
        if depth is None:
            if j - 1 != i and j - 1 not in out:
                break
        elif not (depth > base or (lead_in and depth == base and _is_item(texts[j]))):
            break
        out.append(j)
        j += 1
    return out


_MARKUP = re.compile(r"<[^>]*>?|!?\[[^\]]*\]\([^)]*\)|https?://\S+|<!--|-->")


def has_words(text: str) -> bool:
    """Whether a line says anything once markup is gone: an image tag, a bare link or
    front matter is no evidence and costs tokens; a word is ("- Qualcomm" in a list of
    sponsors, "| Tern | 8.1 |" in a table). A draft of list markers and passage numbers
    alone ("- - [1]") says nothing either."""
    return re.search(r"[^\W\d_]{2,}", _MARKUP.sub(" ", text)) is not None


def _is_heading(text: str, chunk: Chunk) -> bool:
    """A heading line: the passage header already names it."""
    line = text.strip().lstrip("#").strip()
    return text.lstrip().startswith("#") or line in chunk.heading_path


def _is_row(text: str) -> bool:
    return table_cells(text) is not None


def _table_header(units: list[tuple[int, int, int]], texts: list[str], i: int) -> int | None:
    """The first row of the table that row ``i`` belongs to (its header), if that is
    another unit of the same passage."""
    lo = i
    while lo > 0 and units[lo - 1][0] == units[i][0]:
        lo -= 1
    head = header_index(texts[lo : i + 1], i - lo)
    return None if head is None or lo + head == i else lo + head


def _is_header(units: list[tuple[int, int, int]], texts: list[str], i: int) -> bool:
    """The first row of a table with rows under it."""
    nxt = i + 1
    return (
        nxt < len(units)
        and units[nxt][0] == units[i][0]
        and _is_row(texts[i])
        and _table_header(units, texts, nxt) == i
    )


def _is_item(text: str) -> bool:
    head = text.lstrip()[:1]
    return head in ("-", "*", "•") or head.isdigit() or head == "("


def _merged(pieces: list[Hit]) -> list[Hit]:
    """Pieces of one section that overlap (or meet), joined into one at the first one's
    place. Neighbouring chunks of a long section share their boundary lines, so lines
    chosen from both would otherwise be shown twice, as two passages, out of order
    ("80 SM, 5120 cores 640 tensor cores" in one, the lines after it in another)."""
    out: list[Hit] = []
    for hit in pieces:
        c = hit.chunk
        for k, kept in enumerate(out):
            o = kept.chunk
            if o.source != c.source or o.heading_path != c.heading_path:
                continue
            first, second = (o, c) if o.start <= c.start else (c, o)
            if second.start > first.end:
                continue  # lines between them were not chosen
            text = first.text + second.text[first.end - second.start :]
            end = max(first.end, second.end)
            out[k] = replace(kept, chunk=Chunk(c.source, c.heading_path, text, first.start, end))
            break
        else:
            out.append(hit)
    if len(out) < len(pieces):
        return _merged(out)  # a joined piece may now reach another
    return [replace(hit, rank=r) for r, hit in enumerate(out, start=1)]


def _spans(hits: list[Hit], units: list[tuple[int, int, int]], chosen: list[int]) -> list[Hit]:
    """One hit per run of chosen units of a passage (gaps of up to ``_GAP`` filled)."""
    out: list[Hit] = []
    for h, hit in enumerate(hits):
        mine = [i for i in chosen if units[i][0] == h]
        if not mine:
            continue
        runs: list[list[int]] = [[mine[0]]]
        for i in mine[1:]:
            if i - runs[-1][-1] <= _GAP + 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            s, e = units[run[0]][1], units[run[-1]][2]
            c = hit.chunk
            piece = Chunk(c.source, c.heading_path, c.text[s:e], c.start + s, c.start + e)
            out.append(replace(hit, chunk=piece))
    return [replace(hit, rank=r) for r, hit in enumerate(out, start=1)]
