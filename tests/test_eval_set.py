"""The eval sets are well formed: key terms really are in the documents they name,
gold sections exist in the index, and dev/test are disjoint and stratified."""

from __future__ import annotations

from collections import Counter

import pytest

from eval.metrics import normalize
from eval.sets import SETS, load_set
from rag.ingest.loaders import load_document

KINDS = {
    "factoid",
    "numeric",
    "list",
    "paraphrase",
    "multi-hop",
    "two-part",
    "unanswerable",
}
FIELDS = {"id", "question", "answer", "must_include", "sources", "section", "kind", "set"}


def _texts(name: str, seed_texts: dict[str, str]) -> dict[str, str]:
    corpus = SETS[name].corpus
    if corpus is None:
        return seed_texts
    # through the loaders: the sealed documents are Word, PDF and HTML files
    return {p.name: load_document(p.name, p.read_bytes()).text for p in sorted(corpus.iterdir())}


@pytest.mark.parametrize("name", list(SETS))
def test_shape_and_key_terms(name, seed_texts):
    rows = load_set(SETS[name])
    texts = _texts(name, seed_texts)
    norm = {n: normalize(t) for n, t in texts.items()}
    assert len(rows) >= 40
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert FIELDS <= set(r), r["id"]
        assert r["kind"] in KINDS and r["question"].strip() and r["answer"].strip()
        assert all(s in texts for s in r["sources"]), r["id"]
        if r["kind"] == "unanswerable":
            assert r["sources"] == [] and r["must_include"] == [], r["id"]
        else:
            assert r["must_include"] and r["sources"], r["id"]
        for term in r["must_include"]:
            assert any(normalize(term) in norm[s] for s in r["sources"]), (r["id"], term)
    kinds = Counter(r["kind"] for r in rows)
    assert kinds["unanswerable"] >= 10 and kinds["two-part"] >= 5 and kinds["list"] >= 5


def test_dev_and_test_are_disjoint_and_stratified():
    dev, test = load_set(SETS["dev"]), load_set(SETS["test"])
    assert not {r["id"] for r in dev} & {r["id"] for r in test}
    dev = [r for r in dev if not r["id"].startswith("nm-")]  # the dev-only near-misses
    dk, tk = Counter(r["kind"] for r in dev), Counter(r["kind"] for r in test)
    assert set(dk) == set(tk) and all(abs(dk[k] - tk[k]) <= 2 for k in dk)


def test_second_corpus_uses_other_formats():
    docs = SETS["corpus2"].corpus
    assert docs is not None
    texts = [p.read_text(encoding="utf-8") for p in docs.iterdir()]
    assert len(texts) >= 4
    assert not any(line.startswith("#") for t in texts for line in t.splitlines())
    assert any(not t.isascii() for t in texts)  # non-ASCII names
    assert sum(t.count("|") for t in texts) >= 10  # tables


def test_gold_sections_exist(retriever):
    sections = {(c.source, normalize(c.section)) for c in retriever.store.chunks}
    for name in ("dev", "test"):
        for r in load_set(SETS[name]):
            if r["section"]:
                gold = normalize(r["section"])
                assert any(src in r["sources"] and gold in sec for src, sec in sections), r["id"]


def test_sealed_sets_hold_enough_of_every_hard_kind():
    """Issue 33's floor: 100 sealed questions or more, at least 15 each of questions over
    two reports, two-part questions, lists and near-miss unanswerable ones."""
    from eval.sets import SEALED

    rows = [r for name in SEALED for r in load_set(SETS[name])]
    kinds = Counter(r["kind"] for r in rows)
    assert len(rows) >= 100
    assert all(kinds[k] >= 15 for k in ("multi-hop", "two-part", "list", "unanswerable"))
