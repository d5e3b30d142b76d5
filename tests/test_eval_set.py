"""The eval set is well formed and its key terms really are in the reports it names."""

from __future__ import annotations

import json

import pytest

from eval.metrics import normalize
from eval.runner import EVAL_DIR

KINDS = {"factoid", "numeric", "list", "paraphrase", "multi-hop", "unanswerable"}
FIELDS = {"id", "question", "answer", "must_include", "sources", "section", "kind"}


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = (EVAL_DIR / "qa.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_shape_and_counts(rows, seed_texts):
    assert len(rows) >= 80
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == FIELDS, r["id"]
        assert r["kind"] in KINDS
        assert r["question"].strip() and r["answer"].strip()
        assert all(s in seed_texts for s in r["sources"]), r["id"]
        if r["kind"] == "unanswerable":
            assert r["sources"] == [] and r["must_include"] == []
        else:
            assert 1 <= len(r["must_include"]) <= 4 and r["sources"], r["id"]
    kinds = [r["kind"] for r in rows]
    assert kinds.count("unanswerable") >= 12
    assert {s for r in rows for s in r["sources"]} == set(seed_texts)
    assert any(len(r["sources"]) == 2 for r in rows if r["kind"] == "multi-hop")


def test_key_terms_occur_in_named_sources(rows, seed_texts):
    texts = {name: normalize(t) for name, t in seed_texts.items()}
    for r in rows:
        for term in r["must_include"]:
            assert any(normalize(term) in texts[s] for s in r["sources"]), (r["id"], term)


def test_gold_sections_exist(rows, retriever):
    sections = {(c.source, normalize(c.section)) for c in retriever.store.chunks}
    for r in rows:
        if r["section"]:
            gold = normalize(r["section"])
            assert any(src in r["sources"] and gold in sec for src, sec in sections), r["id"]
