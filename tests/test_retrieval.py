from __future__ import annotations

import copy

import pytest

CASES = [
    ("How does Riptide make binarized multiplication fast?", "001_561db33d66e26b4e.txt"),
    ("What does FrugalML do when the base API is not confident?", "002_e83699b88746142b.txt"),
    (
        "Which tracing system did Facebook present for end-to-end performance analysis?",
        "003_b0b85c14b122427e.txt",
    ),
    ("What did Dave Patterson say about carbon emissions of training?", "000_9719e1315226662f.txt"),
    (
        "How many papers were submitted to MLSys 2022 and what was the acceptance rate?",
        "004_9b10ea87354c9c7a.txt",
    ),
]


@pytest.mark.parametrize(("question", "source"), CASES)
def test_distinctive_question_ranks_its_report_first(retriever, question, source):
    hits = retriever.search(question, 5)
    assert hits[0].chunk.source == source, [(h.chunk.source, h.chunk.section) for h in hits]
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert hits[0].score >= hits[-1].score


def test_section_is_the_right_one(retriever):
    hit = retriever.search("binarized neural networks Riptide", 1)[0]
    assert "Riptide" in hit.chunk.section
    hit = retriever.search("FrugalML prediction APIs", 1)[0]
    assert "FrugalML" in hit.chunk.section


# A tiny corpus, not from the seeds, where generic words outscore a rare name: many
# short sections about solving problems, and one long section that names "Mistral" once.
_GENERIC = "".join(
    f"## Team {t}\nThe main problem team {t} had to solve was {w}; they solved the problem.\n"
    for t, w in zip(
        "ABCDEFGH",
        [
            "flaky tests",
            "slow builds",
            "noisy alerts",
            "slow deploys",
            "stale caches",
            "hot shards",
            "lost logs",
            "late reports",
        ],
        strict=True,
    )
)
_LONG = (
    "Our batch scheduler has run since 2019 on three clusters with a shared quota. "
    "It places jobs by priority, then by the age of the request, and it keeps a ledger of "
    "every placement so that capacity reviews can replay a week of decisions. Operators "
    "can pin a job to a cluster, drain a cluster before maintenance, or cap a tenant. "
) * 3
DOCS = {
    "ops.txt": "# Operations review\n"
    + _GENERIC
    + "## Scheduler\n"
    + _LONG
    + "Mistral retries each failed job twice before paging the on-call engineer.\n"
    + "## Storage\nWhen a disk fills up, old logs are pruned first and archives second.\n",
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, embedder):
    from rag.config import Settings
    from rag.ingest.indexing import build_index
    from rag.serving.loading import load_retriever

    seeds = tmp_path_factory.mktemp("docs")
    for name, text in DOCS.items():
        (seeds / name).write_text(text, encoding="utf-8")
    s = Settings(seeds_dir=seeds, index_dir=tmp_path_factory.mktemp("idx"))
    build_index(s.seeds_path, s.index_path, embedder)
    return {
        mode: load_retriever(s.model_copy(update={"retrieval_mode": mode}), embedder)
        for mode in ("hybrid", "dense", "bm25")
    }


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_a_named_thing_is_looked_for_in_every_mode(tiny, mode):
    hits = tiny[mode].search("What problem does Mistral solve?", 2)
    assert any("Mistral" in h.chunk.text for h in hits), [h.chunk.section for h in hits]
    assert all(h.dense is not None for h in hits)  # the relevance gate reads it in every mode


def test_each_part_of_a_compound_question_is_retrieved(tiny):
    q = "Which problem did team C have to solve and what happens when a disk fills up?"
    sections = {h.chunk.section for h in tiny["hybrid"].search(q, 2)}
    assert any("Storage" in s for s in sections) and any("Team C" in s for s in sections)


CONTENTS_DOC = (
    "# Tooling summit notes\n"
    "## Contents\n"
    "- Keynote\n- Community Awards\n- Build speed panel\n- Closing remarks\n"
    "## Keynote\n"
    "The keynote argued that projects should publish their build times and test "
    "flakiness every release, and that the summit should reward projects that do.\n"
    "## Community Awards\n"
    "- Quillwort: a streaming parser for lockfiles\n"
    "- Marlinspike: incremental linking for large monorepos\n"
    "- Parquetry: a cache server for compiler outputs\n"
    "## Build speed panel\n"
    "Panelists compared remote execution with local caching for projects of every size.\n"
    "## Closing remarks\n"
    "The organisers thanked the projects, the speakers and the volunteers of the summit.\n"
)


@pytest.fixture(scope="module")
def with_contents(tmp_path_factory, embedder):
    from rag.config import Settings
    from rag.ingest.indexing import build_index
    from rag.serving.loading import load_retriever

    seeds = tmp_path_factory.mktemp("docs")
    (seeds / "summit.md").write_text(CONTENTS_DOC, encoding="utf-8")
    s = Settings(seeds_dir=seeds, index_dir=tmp_path_factory.mktemp("idx"))
    build_index(s.seeds_path, s.index_path, embedder)
    return load_retriever(s, embedder)


def test_a_section_named_by_its_heading_is_found(with_contents):
    """The section's body (project names) shares no word with the question, and the
    keynote's words outrank it; the heading is what the question names. A longer
    ranking starts with the shorter one (names are looked for in the first ``depth``)."""
    q = "Which projects received Community Awards at the summit?"
    [hit] = with_contents.search(q, 1)
    assert hit.chunk.section.endswith("Community Awards")
    shallow = copy.copy(with_contents)
    shallow.depth = 1  # an answer reading one passage: a ranking of ten starts with it
    assert shallow.search(q, 10)[0].chunk == hit.chunk


def test_a_question_within_two_reports_gets_its_full_k_from_them(retriever):
    """Scoped to two reports, every passage comes from them and there are still k of
    them (the store filters while it searches), though the question's best passages
    are in another report; unscoped, that other report comes first."""
    question = "What does FrugalML do when the base API is not confident?"
    names = sorted(retriever.store.documents)
    elsewhere = retriever.search(question, 5)[0].chunk.source
    chosen = [n for n in names if n != elsewhere][:2]
    for k in (5, 12):
        hits = retriever.scoped(chosen).search(question, k)
        assert len(hits) == k and {h.chunk.source for h in hits} <= set(chosen)
    assert retriever.scoped(None) is retriever
