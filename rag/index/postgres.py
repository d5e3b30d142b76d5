"""PostgreSQL with pgvector as the store and catalogue: ``RAG_VECTOR_STORE=postgres``.

Each build has three tables of its own, named after it: its chunks (catalogue, BM25
length and a ``vector(dim)``), its postings (term, chunk, term frequency) and its
documents (extracted text, page starts, sha256 under a unique constraint). ``rag_builds``
lists the builds and ``rag_current`` holds the one current build. A build is written
while no reader sees it, and becomes current in the transaction that completes it, so a
replica loads the old build or the new one, never a part; a replica polls the pointer
(``rag.serving.builds``) and switches without a restart, and answers already running
finish on their build (the one before it is kept, and any build is kept a while after
it was superseded).

Scores equal the FAISS backend's: dense is the inner product of normalised vectors
(exact scan below ``HNSW_ABOVE`` chunks, pgvector's HNSW above), BM25 is bm25s's
Lucene formula computed from the postings in SQL, and hybrid search fuses both
rankings by reciprocal rank fusion in the same query (one round trip).

Writers on different replicas take one advisory lock for the whole build
(``writing``), so they queue instead of losing each other's changes; the build's
parent is still checked when it switches.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.errors import IndexNotFound, ReadOnlyStore
from rag.index.lexical import tokenize
from rag.index.pg_db import LOCK_WRITES, Database, database_for
from rag.index.store import Store, check_manifest, check_parent
from rag.types import Chunk

if TYPE_CHECKING:
    from psycopg import sql as sql_t

    from rag.config import Settings

__all__ = ["HNSW_ABOVE", "PostgresLocation", "PostgresVectors"]

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
_KEEP_SUPERSEDED_S = 300.0  # a replaced build stays this long for answers running on it
_KEEP_UNFINISHED_S = 3600.0  # an unfinished build this young may be in progress elsewhere
_RUN_INDEX = "run `rag index` to build it"

_LEXICAL = """
q AS (SELECT term, count(*)::float8 AS qn FROM unnest(%(terms)s::text[]) AS term GROUP BY term),
df AS (SELECT p.term, count(*)::float8 AS df FROM {postings} p JOIN q USING (term)
       GROUP BY p.term),
lex AS (SELECT p.id, sum(q.qn * ln(1 + (%(n)s - df.df + 0.5) / (df.df + 0.5))
                        * p.tf / (p.tf + %(k1)s * (1 - %(b)s + %(b)s * p.dl / %(avgdl)s)))
               AS score
        FROM {postings} p JOIN q USING (term) JOIN df USING (term) GROUP BY p.id),
lexr AS (SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS r
         FROM lex WHERE score > 0 ORDER BY score DESC, id LIMIT %(k)s)"""
_DENSE = """
dense AS (SELECT id, dist, row_number() OVER (ORDER BY dist, id) AS r
          FROM (SELECT id, embedding <#> %(v)s AS dist FROM {chunks}
                ORDER BY dist LIMIT %(k)s) d)"""


def _ident(build: str, kind: str) -> sql_t.Identifier:
    from psycopg import sql

    return sql.Identifier(f"rag_{kind}_{build}")


def _tables(build: str) -> dict[str, sql_t.Identifier]:
    return {k: _ident(build, k) for k in ("chunks", "postings", "documents")}


class PostgresVectors:
    """The ``VectorIndex`` protocol over one build's tables."""

    def __init__(self, db: Database, build: str, dim: int) -> None:
        self.db = db
        self.build = build
        self._dim = dim
        self._t = _tables(build)
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

    def _params(self, query: str, vector: np.ndarray | None, k: int) -> dict[str, Any]:
        n, avgdl = self.stats()
        params: dict[str, Any] = {"terms": tokenize(query), "n": n, "avgdl": avgdl, "k": k}
        params.update(k1=_K1, b=_B)
        if vector is not None:
            params["v"] = np.asarray(vector, dtype=np.float32)
        return params

    def _ef_search(self) -> int:
        if self.ef_search is not None:
            return int(self.ef_search)
        n = self.stats()[0]
        return next(ef for limit, ef in _HNSW_EF_SEARCH if limit is None or n <= limit)

    def _query(self, text: str, params: dict[str, Any]) -> list[tuple[int, float]]:
        with self.db.connection() as conn:
            if self.ef_search is not None or self.stats()[0] > HNSW_ABOVE:
                conn.execute(f"SET LOCAL hnsw.ef_search = {self._ef_search()}")
            rows = conn.execute(self._sql(text), params).fetchall()
        return [(int(i), float(s)) for i, s in rows]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        if k <= 0:
            return []
        return self._query(
            "WITH" + _DENSE + " SELECT id, -dist FROM dense ORDER BY r", self._params("", query, k)
        )

    def search_lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        if k <= 0 or not tokenize(query):
            return []
        return self._query(
            "WITH" + _LEXICAL + " SELECT id, score FROM lexr ORDER BY r",
            self._params(query, None, k),
        )

    def search_hybrid(
        self, query: str, vector: np.ndarray, k: int, rrf_k: float, lexical_weight: float
    ) -> list[tuple[int, float]]:
        """Dense and BM25 top-``k`` fused by weighted RRF in one query, as
        ``rag.index.vectors.rrf`` fuses them (each list adds w / (rrf_k + rank))."""
        if k <= 0:
            return []
        params = self._params(query, vector, k) | {"rrf": rrf_k, "w": lexical_weight}
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


class PostgresLocation:
    """Builds as table sets in one database, ``rag_current`` naming the current one."""

    def __init__(self, db: Database, cache_root: Path) -> None:
        self.db = db
        self._cache_root = cache_root

    @classmethod
    def from_settings(cls, settings: Settings) -> PostgresLocation:
        from rag.errors import ConfigError

        if not settings.database_url:
            raise ConfigError("RAG_VECTOR_STORE=postgres needs RAG_DATABASE_URL")
        db = database_for(settings.database_url, settings.database_schema)
        return cls(db, settings.index_path / "docs")

    @property
    def cache_root(self) -> Path:
        return self._cache_root

    def current_build(self) -> str | None:
        with self.db.connection() as conn:
            row = conn.execute("SELECT build_id FROM rag_current").fetchone()
        return str(row[0]) if row else None

    def current_manifest(self) -> dict[str, Any] | None:
        with self.db.connection() as conn:
            row = conn.execute(
                "SELECT b.manifest FROM rag_current c JOIN rag_builds b ON b.id = c.build_id"
            ).fetchone()
        return dict(row[0]) if row else None

    def read_only(self) -> bool:
        """Whether this database is a hot standby (it takes no writes)."""
        with self.db.connection() as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the database's writer lock for a whole build: writers on every replica
        queue here (released with the session if this process dies). A standby refuses."""
        if self.read_only():
            raise ReadOnlyStore(
                f"this replica reads a read-only standby ({self.db.where}): "
                "send document writes to a replica of the primary"
            )
        key = (LOCK_WRITES, self.db.schema)  # one lock per collection (schema)
        with self.db.connection() as conn:
            conn.autocommit = True
            conn.execute("SELECT pg_advisory_lock(%s::int, hashtext(%s))", key)
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s::int, hashtext(%s))", key)
                conn.autocommit = False

    def new_index(self, dim: int, size: int) -> PostgresVectors:
        """Empty tables for a new build (listed as unfinished, not current)."""
        from psycopg import sql

        self.db.check_schema()
        build = f"{time.strftime('%Y%m%d%H%M%S')}_{uuid.uuid4().hex[:8]}"
        t = _tables(build)
        with self.db.connection() as conn:
            conn.execute("INSERT INTO rag_builds (id, dim) VALUES (%s, %s)", (build, dim))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (id integer PRIMARY KEY, source text NOT NULL, "
                    "heading_path text[], text text, start_ integer, end_ integer, "
                    "dl integer NOT NULL, embedding vector({}) NOT NULL)"
                ).format(t["chunks"], sql.Literal(int(dim)))
            )
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (term text NOT NULL, id integer NOT NULL, "
                    "tf integer NOT NULL, dl integer NOT NULL, PRIMARY KEY (term, id))"
                ).format(t["postings"])
            )
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (name text PRIMARY KEY, text text NOT NULL, "
                    "page_starts integer[] NOT NULL, sha256 text NOT NULL UNIQUE)"
                ).format(t["documents"])
            )
        return PostgresVectors(self.db, build, dim)

    def save(self, store: Store) -> str:
        """Complete ``store``'s build (its catalogue, documents and, when large, its HNSW
        graph: no reader sees them yet), then make it current in one short transaction."""
        from psycopg import sql

        vectors = store.vectors
        if not isinstance(vectors, PostgresVectors) or vectors.db is not self.db:
            raise TypeError("a Postgres build is made with PostgresLocation.new_index")
        build, t = vectors.build, _tables(vectors.build)
        manifest = dict(store.manifest, build_id=build, built_at=time.time())
        records = manifest.get("documents", {})
        with self.db.connection(unbounded=True) as conn:
            conn.execute(
                "CREATE TEMP TABLE catalogue (id integer, heading_path text[], "
                "text text, start_ integer, end_ integer) ON COMMIT DROP"
            )
            with conn.cursor().copy("COPY catalogue FROM STDIN") as copy:
                for i, c in enumerate(store.chunks):
                    copy.write_row((i, list(c.heading_path), c.text, c.start, c.end))
            conn.execute(
                sql.SQL(
                    "UPDATE {} c SET heading_path = k.heading_path, text = k.text, "
                    "start_ = k.start_, end_ = k.end_ FROM catalogue k WHERE c.id = k.id"
                ).format(t["chunks"])
            )
            with conn.cursor().copy(sql.SQL("COPY {} FROM STDIN").format(t["documents"])) as copy:
                for name, (text, pages) in sorted(store.texts.items()):
                    copy.write_row((name, text, list(pages), records[name]["sha256"]))
            n, avgdl = vectors.stats()
        if n > HNSW_ABOVE:
            vectors.create_hnsw()
        with self.db.connection() as conn:
            conn.execute(
                "UPDATE rag_builds SET manifest = %s, complete = true, n_chunks = %s, "
                "avgdl = %s WHERE id = %s",
                (_json(manifest), n, avgdl, build),
            )
            # the switch: the pointer row locked, the parent checked, the pointer moved
            row = conn.execute("SELECT build_id FROM rag_current FOR UPDATE").fetchone()
            check_parent(store.manifest, str(row[0]) if row else None)
            if row:
                conn.execute("UPDATE rag_builds SET superseded_at = now() WHERE id = %s", row)
            conn.execute(
                "INSERT INTO rag_current (one, build_id) VALUES (true, %s) "
                "ON CONFLICT (one) DO UPDATE SET build_id = excluded.build_id",
                (build,),
            )
        store.manifest = manifest
        self._prune(keep=build)
        return build

    def _prune(self, keep: str) -> None:
        """Drop builds no reader needs: not current, not the one before it, superseded
        a while ago (or unfinished for long: a writer that died)."""
        with self.db.connection() as conn:
            rows = conn.execute(
                """SELECT id FROM rag_builds WHERE id <> %(keep)s
                   AND id <> (SELECT coalesce(max(id), '') FROM rag_builds
                              WHERE complete AND id <> %(keep)s)
                   AND ((complete AND superseded_at < now() - make_interval(secs => %(old)s))
                        OR (NOT complete
                            AND created_at < now() - make_interval(secs => %(young)s)))""",
                {"keep": keep, "old": _KEEP_SUPERSEDED_S, "young": _KEEP_UNFINISHED_S},
            ).fetchall()
        for (build,) in rows:
            self._drop(str(build))

    def _drop(self, build: str) -> None:
        from psycopg import sql

        with self.db.connection() as conn:
            for table in _tables(build).values():
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
            conn.execute("DELETE FROM rag_builds WHERE id = %s", (build,))

    def drop_unfinished(self, vectors: PostgresVectors) -> None:
        """Remove a build that will never be made current."""
        self._drop(vectors.build)

    def load(self, embedding_model: str | None = None, dim: int | None = None) -> Store:
        """The current build, read in one snapshot."""
        from psycopg import sql

        self.db.check_schema()
        with self.db.connection() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot
            row = conn.execute(
                "SELECT b.id, b.manifest, b.dim FROM rag_current c "
                "JOIN rag_builds b ON b.id = c.build_id"
            ).fetchone()
            if row is None:
                raise IndexNotFound(f"no current build in {self.db.where}: {_RUN_INDEX}")
            build, manifest, stored_dim = str(row[0]), dict(row[1]), int(row[2])
            check_manifest(manifest, embedding_model, dim)
            t = _tables(build)
            chunks = [
                Chunk(source, tuple(path or ()), text or "", start or 0, end or 0)
                for source, path, text, start, end in conn.execute(
                    sql.SQL(
                        "SELECT source, heading_path, text, start_, end_ FROM {} ORDER BY id"
                    ).format(t["chunks"])
                )
            ]
            texts = {
                str(name): (str(text), list(pages))
                for name, text, pages in conn.execute(
                    sql.SQL("SELECT name, text, page_starts FROM {}").format(t["documents"])
                )
            }
        vectors = PostgresVectors(self.db, build, stored_dim)
        return Store(chunks, vectors, manifest, texts)

    def __repr__(self) -> str:
        return f"PostgresLocation({self.db.where!r})"


def _array(value: Any) -> Any:
    """A vector as numpy: pgvector gives a ``Vector`` in binary, an array in text."""
    to_numpy = getattr(value, "to_numpy", None)
    return to_numpy() if to_numpy is not None else value


def _json(value: dict[str, Any]) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)
