"""One PostgreSQL build's tables as a ``VectorIndex``: dense search by pgvector (an exact
scan, or HNSW above ``HNSW_ABOVE`` chunks), BM25 as bm25s scores it computed in SQL from
the postings, and both fused by reciprocal rank fusion in one query. The builds
themselves (tables made, completed, switched) are ``rag/index/postgres.py``'s."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.index.lexical import tokenize
from rag.index.pg_db import Database
from rag.index.vectors import Within

if TYPE_CHECKING:
    from psycopg import sql as sql_t

__all__ = ["HNSW_ABOVE", "PostgresVectors", "tables"]

# Below this many chunks an exact scan is fast enough and exact, as FAISS's flat index;
# above, pgvector's HNSW (measured in bench/pg_scale.py; the README has the numbers).
HNSW_ABOVE = 50_000
# FAISS's HNSW settings (rag/index/vectors.py): pgvector's defaults (m 16,
# ef_construction 64) reach recall@10 0.938 at most at 1M chunks (bench/scale.py)
_HNSW_M = 32
_HNSW_EF_CONSTRUCTION = 80
# HNSW search depth by size (bench/scale.py, recall@10 / p50): 100k chunks, ef 128:
# 1.0 / 5.9 ms (ef 512 costs 26 ms there); 1M chunks, ef 512: 0.977 / 7.5 ms (256: 0.932)
_HNSW_EF_SEARCH = ((500_000, 128), (None, 512))
_K1, _B = 1.2, 0.75  # bm25s's constants and its Lucene form (no k1 + 1 factor)

_LEXICAL = """
q AS (SELECT term, count(*)::float8 AS qn FROM unnest(%(terms)s::text[]) AS term GROUP BY term),
df AS (SELECT p.term, count(*)::float8 AS df FROM {postings} p JOIN q USING (term)
       GROUP BY p.term),
lex AS (SELECT p.id, sum(q.qn * ln(1 + (%(n)s - df.df + 0.5) / (df.df + 0.5))
                        * p.tf / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.dl / %(avgdl)s)))
               AS score
        FROM {postings} p JOIN q USING (term) JOIN df USING (term) /*only*/ GROUP BY p.id),
lexr AS (SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS r
         FROM lex WHERE score > 0 ORDER BY score DESC, id LIMIT %(k)s)"""
_DENSE = """
dense AS (SELECT id, dist, row_number() OVER (ORDER BY dist, id) AS r
          FROM (SELECT id, embedding <#> %(v)s AS dist FROM {chunks}
                ORDER BY dist LIMIT %(k)s) d)"""
# Restricted to some documents: the filter is in the query, and the dense side scans
# those documents' rows exactly ("+ 0" keeps the planner off HNSW, which would filter
# its ef_search candidates afterwards and could return fewer than k).
_DENSE_WITHIN = """
dense AS (SELECT id, dist, row_number() OVER (ORDER BY dist, id) AS r
          FROM (SELECT id, embedding <#> %(v)s AS dist FROM {chunks}
                WHERE source = ANY(%(within)s)
                ORDER BY (embedding <#> %(v)s) + 0 LIMIT %(k)s) d)"""
_LEX_WITHIN = "WHERE p.id IN (SELECT id FROM {chunks} WHERE source = ANY(%(within)s))"


def _ident(build: str, kind: str) -> sql_t.Identifier:
    from psycopg import sql

    return sql.Identifier(f"rag_{kind}_{build}")


def tables(build: str) -> dict[str, sql_t.Identifier]:
    return {k: _ident(build, k) for k in ("chunks", "postings", "documents")}


class PostgresVectors:
    """The ``VectorIndex`` protocol over one build's tables."""

    def __init__(self, db: Database, build: str, dim: int) -> None:
        self.db = db
        self.build = build
        self._dim = dim
        self._t = tables(build)
        self._stats: tuple[int, float] | None = None  # chunks and mean BM25 length
        self.ef_search: int | None = None  # HNSW search depth; None: by size (at most 1000)

    def _sql(self, text: str) -> sql_t.Composed:
        from psycopg import sql

        return sql.SQL(text).format(**self._t)  # type: ignore[arg-type]

    @property
    def dim(self) -> int:
        return self._dim

    def stats(self) -> tuple[int, float]:
        """(chunks, mean chunk length in BM25 terms): BM25's N and avgdl."""
        if self._stats is None:
            with self.db.connection() as conn:
                row = conn.execute(self._sql("SELECT count(*), avg(dl) FROM {chunks}")).fetchone()
            n = int(row[0]) if row else 0
            self._stats = (n, float(row[1]) if row and row[1] else 1.0)
        return self._stats

    def __len__(self) -> int:
        return self.stats()[0]

    def upsert(
        self, ids: Sequence[int], vectors: np.ndarray, texts: Sequence[str], sources: Sequence[str]
    ) -> None:
        ids = [int(i) for i in ids]
        with self.db.connection(unbounded=True) as conn:
            conn.execute(self._sql("DELETE FROM {postings} WHERE id = ANY(%s)"), (ids,))
            conn.execute(self._sql("DELETE FROM {chunks} WHERE id = ANY(%s)"), (ids,))
            chunks = self._sql(
                "COPY {chunks} (id, source, dl, embedding) FROM STDIN (FORMAT BINARY)"
            )
            postings = self._sql("COPY {postings} (term, id, tf, dl) FROM STDIN (FORMAT BINARY)")
            terms = [Counter(tokenize(t)) for t in texts]
            # bm25s indexes an empty text as one placeholder term: its length is 1
            lengths = [max(1, sum(tf.values())) for tf in terms]
            with conn.cursor().copy(chunks) as copy:
                copy.set_types(["int4", "text", "int4", "vector"])
                for i, source, dl, vec in zip(ids, sources, lengths, vectors, strict=True):
                    copy.write_row((i, source, dl, np.asarray(vec, dtype=np.float32)))
            with conn.cursor().copy(postings) as copy:
                copy.set_types(["text", "int4", "int4", "int4"])
                for i, tf, dl in zip(ids, terms, lengths, strict=True):
                    for term, n in tf.items():
                        copy.write_row((term, i, n, dl))
        self._stats = None

    def delete_document(self, source: str) -> None:
        with self.db.connection() as conn:
            conn.execute(
                self._sql(
                    "DELETE FROM {postings} WHERE id IN (SELECT id FROM {chunks} WHERE source = %s)"
                ),
                (source,),
            )
            conn.execute(self._sql("DELETE FROM {chunks} WHERE source = %s"), (source,))
        self._stats = None

    def size_mb(self) -> float:
        """What the build's tables and their indexes take in the database."""
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                "WHERE c.relname = ANY(%s) AND c.relkind = 'r'",
                ([f"rag_{k}_{self.build}" for k in ("chunks", "postings", "documents")],),
            ).fetchone()
        return float(row[0] or 0) / 2**20 if row else 0.0

    def create_hnsw(self) -> None:
        """pgvector's HNSW graph over the dense vectors (built once the rows are in)."""
        from psycopg import sql

        with self.db.connection(unbounded=True) as conn:
            conn.execute(
                sql.SQL(
                    "CREATE INDEX ON {} USING hnsw (embedding vector_ip_ops) "
                    "WITH (m = {}, ef_construction = {})"
                ).format(
                    self._t["chunks"], sql.Literal(_HNSW_M), sql.Literal(_HNSW_EF_CONSTRUCTION)
                )
            )

    def _params(
        self, query: str, vector: np.ndarray | None, k: int, within: Within
    ) -> dict[str, Any]:
        n, avgdl = self.stats()
        params: dict[str, Any] = {"terms": tokenize(query), "n": n, "avgdl": avgdl, "k": k}
        params.update(k1=_K1, b=_B)
        if vector is not None:
            params["v"] = np.asarray(vector, dtype=np.float32)
        if within is not None:
            params["within"] = sorted(within)
        return params

    def _ef_search(self) -> int:
        if self.ef_search is not None:
            return int(self.ef_search)
        n = self.stats()[0]
        return next(ef for limit, ef in _HNSW_EF_SEARCH if limit is None or n <= limit)

    def _query(self, text: str, params: dict[str, Any]) -> list[tuple[int, float]]:
        if "within" in params:
            text = text.replace(_DENSE, _DENSE_WITHIN).replace("/*only*/", _LEX_WITHIN)
        with self.db.connection() as conn:
            if self.ef_search is not None or self.stats()[0] > HNSW_ABOVE:
                conn.execute(f"SET LOCAL hnsw.ef_search = {self._ef_search()}")
            rows = conn.execute(self._sql(text), params).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def search(self, query: np.ndarray, k: int, within: Within = None) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        params = self._params("", query, k, within)
        return self._query("WITH" + _DENSE + " SELECT id, -dist FROM dense ORDER BY r", params)

    def search_lexical(self, query: str, k: int, within: Within = None) -> list[tuple[int, float]]:
        if k <= 0 or not tokenize(query):
            return []
        return self._query(
            "WITH" + _LEXICAL + " SELECT id, score FROM lexr ORDER BY r",
            self._params(query, None, k, within),
        )

    def search_hybrid(
        self,
        query: str,
        vector: np.ndarray,
        k: int,
        rrf_k: float,
        lexical_weight: float,
        within: Within = None,
    ) -> list[tuple[int, float]]:
        """Dense and BM25 top-``k`` fused by weighted RRF in one query, as
        ``rag.index.vectors.rrf`` fuses them (each list adds w / (rrf_k + rank))."""
        if k <= 0:
            return []
        params = self._params(query, vector, k, within) | {"rrf": rrf_k, "w": lexical_weight}
        fused = (
            "WITH"
            + _DENSE
            + ","
            + _LEXICAL
            + """,
            fused AS (SELECT id, sum(w / (%(rrf)s + r)) AS score FROM (
                SELECT id, r, 1.0::float8 AS w FROM dense
                UNION ALL SELECT id, r, %(w)s::float8 FROM lexr) x GROUP BY id)
            SELECT id, score FROM fused ORDER BY score DESC, id"""
        )
        return self._query(fused, params)

    def cosines(self, vector: np.ndarray, ids: Sequence[int]) -> dict[int, float]:
        return {int(i): float(v @ vector) for i, v in zip(ids, self.vectors(ids), strict=True)}

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        wanted = [int(i) for i in ids]
        with self.db.connection() as conn:
            rows = conn.execute(
                self._sql("SELECT id, embedding FROM {chunks} WHERE id = ANY(%s)"), (wanted,)
            ).fetchall()
        by_id = {int(i): np.asarray(_array(v), dtype=np.float32) for i, v in rows}
        if not wanted:
            return np.zeros((0, self._dim), dtype=np.float32)
        return np.stack([by_id[i] for i in wanted])


def _array(value: Any) -> Any:
    """A vector as numpy: pgvector gives a ``Vector`` in binary, an array in text."""
    to_numpy = getattr(value, "to_numpy", None)
    return to_numpy() if to_numpy is not None else value
