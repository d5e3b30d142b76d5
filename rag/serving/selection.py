"""Questions asked within chosen documents, and what an answer says about its sources.

A caller names documents by their stable ids (``GET /v1/documents``); retrieval is then
restricted to them inside the index (``Retriever.scoped``). An id the index does not
hold is an error naming it, never silently dropped: a question asked "within A and B"
that quietly searched only A would answer a narrower question than the one asked.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

from rag.answer.prompt import REFUSAL
from rag.errors import InvalidQuery, UnknownDocuments
from rag.index.store import Store
from rag.types import Answer, Delta, StreamEvent

__all__ = ["refusal_within", "select", "title_of", "titled"]


def title_of(store: Store, source: str) -> str:
    """The title of document ``source`` (its name when it has none)."""
    record = store.manifest.get("documents", {}).get(source, {})  # not a copy of them all
    return str(record.get("title") or source)


def select(ids: Sequence[str] | None, store: Store) -> frozenset[str] | None:
    """The source names of documents ``ids`` (None: every document). Raises
    ``UnknownDocuments`` naming each id no indexed document has, ``InvalidQuery`` for
    an empty selection (a question within nothing has no answer to look for)."""
    if ids is None:
        return None
    if not ids:
        raise InvalidQuery("documents is empty: leave it out to ask every report")
    by_id = store.names_by_id
    unknown = [i for i in dict.fromkeys(ids) if i not in by_id]
    if unknown:
        listed = ", ".join(repr(i) for i in unknown)
        raise UnknownDocuments(
            f"no indexed document has id {listed} (GET /v1/documents lists them)"
        )
    return frozenset(by_id[i] for i in ids)


def refusal_within(n: int) -> str:
    """The refusal when ``n`` chosen documents do not cover a question: it says whose
    silence it is, so a reader knows to widen the selection."""
    if n == 1:
        return "The selected report doesn't cover this."
    return f"The {n} selected reports don't cover this."


def titled(
    events: Iterator[StreamEvent], store: Store, within: frozenset[str] | None
) -> Iterator[StreamEvent]:
    """``events`` with each citation's document title beside its id, and, for a question
    asked ``within`` some documents, the refusal naming the selection."""
    refusal = refusal_within(len(within)) if within is not None else REFUSAL
    for event in events:
        if isinstance(event, Delta) and event.text == REFUSAL:
            yield Delta(refusal)
        elif isinstance(event, Answer):
            shown = {h.chunk.source for h in event.passages} | {c.source for c in event.citations}
            titles = {name: title_of(store, name) for name in shown}
            citations = [replace(c, title=titles[c.source]) for c in event.citations]
            text = refusal if event.refused and event.text == REFUSAL else event.text
            build = str(store.manifest.get("build_id", ""))
            yield replace(event, citations=citations, text=text, titles=titles, build_id=build)
        else:
            yield event
