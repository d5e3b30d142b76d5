"""Vector search at scale: FAISS flat vs FAISS HNSW vs Qdrant local mode vs PostgreSQL
with pgvector (exact scan, HNSW) on synthetic corpora of generated vectors and text.

    .venv/bin/python bench/scale.py [--sizes 100000 1000000] [--queries 200] [--out FILE]
        [--backends faiss-flat faiss-hnsw qdrant-local postgres-exact postgres-hnsw]

The Postgres backends use ``RAG_BENCH_DATABASE_URL``, or else a server this script
starts from the ``pgserver`` wheel's binaries (as the tests do); for them "memory
added" is the size of the build's tables and indexes in the database.

Each (backend, size) runs in its own process, so memory is that backend's alone. The
corpus is generated from a fixed seed: 384-dimensional unit vectors around 2,000
cluster centres (real embeddings cluster by topic; uniform noise would flatter HNSW)
and a 30-word text per chunk drawn from a Zipf vocabulary for the lexical side.
Queries are perturbed corpus vectors. For each run: build time (vectors and the
lexical index), resident memory added, single-query dense p50/p99, hybrid
(dense + lexical, fused) p50, and dense recall@10 against exact search; then the same
restricted to 10 of the documents (a question asked within chosen reports: the filter
inside the index), with its recall@10 against exact search over those documents. Backends
go through the library's own ``FaissVectors`` / ``QdrantVectors`` / ``PostgresVectors``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DIM = 384
CLUSTERS = 2000
WORDS = 30
VOCAB = 50_000


def corpus(n: int, seed: int = 7) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    vecs = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for i in range(0, n, step):
        m = min(step, n - i)
        which = rng.integers(0, CLUSTERS, m)
        vecs[i : i + m] = centres[which] + 0.9 * rng.standard_normal((m, DIM)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ranks = np.minimum(rng.zipf(1.3, (n, WORDS)), VOCAB)
    texts = [" ".join(f"w{r}" for r in row) for row in ranks]
    return vecs, texts


def queries(vecs: np.ndarray, texts: list[str], q: int) -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(11)
    pick = rng.integers(0, len(vecs), q)
    qs = vecs[pick] + 0.05 * rng.standard_normal((q, DIM)).astype(np.float32)
    qs /= np.linalg.norm(qs, axis=1, keepdims=True)
    return qs, [" ".join(texts[i].split()[:4]) for i in pick]


def exact_top10(vecs: np.ndarray, qs: np.ndarray) -> np.ndarray:
    out = []
    for i in range(0, len(qs), 50):
        scores = qs[i : i + 50] @ vecs.T
        out.append(np.argsort(-scores, axis=1)[:, :10])
    return np.concatenate(out)


def depths(index, qs: np.ndarray, truth: np.ndarray, efs, set_ef) -> dict[int, dict]:
    """Recall@10 and p50 of one graph searched at each depth in ``efs``."""
    out = {}
    for ef in efs:
        set_ef(ef)
        ms, got = [], []
        for v in qs:
            t = time.perf_counter()
            got.append([i for i, _ in index.search(v, 10)])
            ms.append((time.perf_counter() - t) * 1000)
        r = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(got, truth, strict=True)])
        out[ef] = {"recall_at_10": round(float(r), 3), "p50_ms": round(float(np.median(ms)), 2)}
    return out


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def one(backend: str, n: int, q: int) -> dict[str, object]:
    import faiss

    from rag import HNSW_ABOVE, FaissVectors, PostgresVectors, QdrantLocation, QdrantVectors

    vecs, texts = corpus(n)
    qs, qtexts = queries(vecs, texts, q)
    truth = exact_top10(vecs, qs)
    sources = [f"doc{i // 50}" for i in range(n)]
    docs = n // 50
    within = {f"doc{d}" for d in range(0, docs, max(1, docs // 10))}  # 10 spread documents
    allowed = np.array([i for i in range(n) if sources[i] in within])
    truth_within = allowed[exact_top10(vecs[allowed], qs)]
    before = rss_mb()
    t0 = time.perf_counter()
    index: FaissVectors | QdrantVectors | PostgresVectors
    if backend.startswith("faiss"):
        # the index type the embedded default would choose for a corpus above/below
        index = FaissVectors.empty(DIM, 0 if backend == "faiss-flat" else HNSW_ABOVE + 1)
        index.upsert(range(n), vecs, texts, sources)
        _ = index.lexical  # bm25s indexes on first use: part of the build
    elif backend.startswith("postgres"):
        from rag import PostgresLocation, Settings, migrate_schema

        url, schema = os.environ["RAG_BENCH_DATABASE_URL"], f"bench_{n}_{backend[9:]}"
        migrate_schema(url, schema)
        s = Settings(vector_store="postgres", database_url=url, database_schema=schema)
        location = PostgresLocation.from_settings(s)
        index = location.new_index(DIM, n)
        for i in range(0, n, 20_000):
            sl = slice(i, min(n, i + 20_000))
            index.upsert(range(sl.start, sl.stop), vecs[sl], texts[sl], sources[sl])
        if backend == "postgres-hnsw":
            index.create_hnsw()
    else:
        from qdrant_client import QdrantClient

        client = QdrantClient(":memory:")
        location = QdrantLocation(client, "bench", ROOT / "index" / "bench-cache")
        index = location.new_index(DIM, n)
        for i in range(0, n, 20_000):
            sl = slice(i, min(n, i + 20_000))
            index.upsert(range(sl.start, sl.stop), vecs[sl], texts[sl], sources[sl])
    build_s = time.perf_counter() - t0
    added = rss_mb() - before
    if isinstance(index, PostgresVectors):
        added = index.size_mb()
    del vecs
    faiss.omp_set_num_threads(1)  # one query per request; the server runs requests side by side
    found = []
    dense_ms = []
    for v in qs:
        t = time.perf_counter()
        hits = index.search(v, 10)
        dense_ms.append((time.perf_counter() - t) * 1000)
        found.append([i for i, _ in hits])
    hybrid_ms = []
    for v, text in zip(qs[:50], qtexts[:50], strict=True):
        t = time.perf_counter()
        index.search_hybrid(text, v, 20, 20.0, 1.5)
        hybrid_ms.append((time.perf_counter() - t) * 1000)
    recall = float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))
    within_ms, found_within = [], []
    for v in qs[:100]:
        t = time.perf_counter()
        hits = index.search(v, 10, within)
        within_ms.append((time.perf_counter() - t) * 1000)
        found_within.append([i for i, _ in hits])
    recall_within = float(
        np.mean(
            [len(set(f) & set(t)) / 10 for f, t in zip(found_within, truth_within, strict=False)]
        )
    )
    hybrid_within_ms = []
    for v, text in zip(qs[:50], qtexts[:50], strict=True):
        t = time.perf_counter()
        index.search_hybrid(text, v, 20, 20.0, 1.5, within)
        hybrid_within_ms.append((time.perf_counter() - t) * 1000)
    sweep = {}
    if backend == "faiss-hnsw":  # recall and speed for other search depths, same graph
        assert isinstance(index, FaissVectors)
        hnsw = faiss.downcast_index(index.index.index).hnsw
        default_ef = hnsw.efSearch
        sweep = depths(
            index, qs, truth, (64, 128, 256, 512), lambda ef: setattr(hnsw, "efSearch", ef)
        )
        hnsw.efSearch = default_ef
    if backend == "postgres-hnsw":  # the same for pgvector's graph
        assert isinstance(index, PostgresVectors)
        pg = index
        sweep = depths(
            pg, qs, truth, (64, 128, 256, 512, 1000), lambda ef: setattr(pg, "ef_search", ef)
        )
    return {
        "backend": backend,
        "chunks": n,
        "build_s": round(build_s, 1),
        "memory_mb": round(added),
        "dense_p50_ms": round(float(np.percentile(dense_ms, 50)), 2),
        "dense_p99_ms": round(float(np.percentile(dense_ms, 99)), 2),
        "hybrid_p50_ms": round(float(np.percentile(hybrid_ms, 50)), 2),
        "recall_at_10": round(recall, 3),
        "within_10_docs": {
            "dense_p50_ms": round(float(np.percentile(within_ms, 50)), 2),
            "hybrid_p50_ms": round(float(np.percentile(hybrid_within_ms, 50)), 2),
            "recall_at_10": round(recall_within, 3),
        },
        "ef_search_sweep": sweep,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument(
        "--backends",
        nargs="+",
        default=["faiss-flat", "faiss-hnsw", "qdrant-local", "postgres-exact", "postgres-hnsw"],
    )
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--one", nargs=2, metavar=("BACKEND", "N"), help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], int(args.one[1]), args.queries)))
        return
    server = None
    if any(b.startswith("postgres") for b in args.backends) and not os.environ.get(
        "RAG_BENCH_DATABASE_URL"
    ):
        from tests.pg_server import PgServer, new_root

        # memory for building a large HNSW graph, and a cache that holds 1M vectors
        server = (
            PgServer(new_root())
            .init()
            .start(
                "-c maintenance_work_mem=4GB -c shared_buffers=2GB "
                "-c max_parallel_maintenance_workers=1"
            )
        )
        os.environ["RAG_BENCH_DATABASE_URL"] = server.url
    try:
        rows = run(args)
    finally:
        if server is not None:
            server.stop("fast")
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")


def run(args: argparse.Namespace) -> list[dict[str, object]]:
    rows = []
    for n in args.sizes:
        for backend in args.backends:
            cmd = [
                sys.executable,
                __file__,
                "--one",
                backend,
                str(n),
                "--queries",
                str(args.queries),
            ]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{backend} at {n}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(
                f"{backend:13} {n:>9,} chunks  build {row['build_s']:>7} s  "
                f"mem +{row['memory_mb']:>6} MB  dense p50 {row['dense_p50_ms']:>8} ms  "
                f"p99 {row['dense_p99_ms']:>8} ms  hybrid p50 {row['hybrid_p50_ms']:>8} ms  "
                f"recall@10 {row['recall_at_10']}",
                flush=True,
            )
            w = row["within_10_docs"]
            print(
                f"    within 10 documents: dense p50 {w['dense_p50_ms']} ms  hybrid p50 "
                f"{w['hybrid_p50_ms']} ms  recall@10 {w['recall_at_10']}",
                flush=True,
            )
            for ef, r in row["ef_search_sweep"].items():
                print(f"    efSearch {ef:>4}: recall@10 {r['recall_at_10']}  p50 {r['p50_ms']} ms")
    return rows


if __name__ == "__main__":
    main()
