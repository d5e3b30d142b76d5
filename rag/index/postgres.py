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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.errors import IndexNotFound, ReadOnlyStore
from rag.index.pg_db import LOCK_WRITES, Database, database_for
from rag.index.pg_vectors import HNSW_ABOVE, PostgresVectors, tables
from rag.index.store import Store, check_manifest, check_parent
from rag.types import Chunk

if TYPE_CHECKING:
    from rag.config import Settings

__all__ = ["PostgresLocation"]

_KEEP_SUPERSEDED_S = 300.0  # a replaced build stays this long for answers running on it
_KEEP_UNFINISHED_S = 3600.0  # an unfinished build this young may be in progress elsewhere
_RUN_INDEX = "run `rag index` to build it"


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
        t = tables(build)
        with self.db.connection() as conn:
            conn.execute("INSERT INTO rag_builds (id, dim) VALUES (%s, %s)", (build, dim))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE {} (id integer PRIMARY KEY, source text NOT NULL, "
                    "heading_path text[], text text, start_ integer, end_ integer, "
                    "dl integer NOT NULL, embedding vector({}) NOT NULL)"
                ).format(t["chunks"], sql.Literal(int(dim)))
            )
            # a question within some documents reads only their rows (and a delete finds them)
            conn.execute(sql.SQL("CREATE INDEX ON {} (source)").format(t["chunks"]))
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
        build, t = vectors.build, tables(vectors.build)
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
            for table in tables(build).values():
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
            t = tables(build)
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


def _json(value: dict[str, Any]) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)
