"""The PostgreSQL connection of ``RAG_VECTOR_STORE=postgres``: one pool per database URL
in a process, errors turned into ``StoreUnavailable``, and the versioned schema.

The service never starts a database: it connects to ``RAG_DATABASE_URL``. The schema is
created and upgraded explicitly by ``rag db init`` (``migrate_schema``), never at start-up:
a replica finding an older schema refuses to serve and says which command brings it up to
date, so two replicas of different versions cannot both try to change it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rag.errors import ConfigError, IndexMismatch, IndexNotFound, StoreUnavailable

if TYPE_CHECKING:
    import psycopg
    from psycopg_pool import ConnectionPool

__all__ = ["SCHEMA_VERSION", "Database", "database_for", "migrate_schema", "where"]

SCHEMA_VERSION = 1
_CONNECT_TIMEOUT_S = 3  # a database that does not answer is down: fail fast, never hang
_POOL_WAIT_S = 5.0
_STATEMENT_TIMEOUT_MS = 30_000
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public",
        # one row per build; its chunks, postings and documents are tables of its own
        """CREATE TABLE rag_builds (
            id text PRIMARY KEY,
            dim integer NOT NULL,
            manifest jsonb,
            complete boolean NOT NULL DEFAULT false,
            n_chunks integer,
            avgdl double precision,
            created_at timestamptz NOT NULL DEFAULT now(),
            superseded_at timestamptz)""",
        # the current-build pointer: a single row, changed in the transaction that
        # completes a build
        """CREATE TABLE rag_current (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            build_id text NOT NULL REFERENCES rag_builds (id))""",
    ),
}
_LOCK_SCHEMA = 7_321_001  # advisory lock keys: schema changes, and document writes
LOCK_WRITES = 7_321_002


def where(url: str, schema: str = "public") -> str:
    """``host:port/dbname`` of a URL (and the schema), for messages (never its password)."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        d = conninfo_to_dict(url)
    except Exception:  # a malformed URL: say so without echoing it
        return "the database (malformed RAG_DATABASE_URL)"
    place = (
        f"PostgreSQL at {d.get('host', 'localhost')}:{d.get('port', 5432)}/{d.get('dbname', '')}"
    )
    return place if schema == "public" else f"{place} (schema {schema})"


class Database:
    """A connection pool to one database; every use goes through ``connection``."""

    def __init__(self, url: str, schema: str = "public") -> None:
        try:
            import psycopg  # noqa: F401
            from psycopg_pool import ConnectionPool
        except ImportError as exc:  # pragma: no cover - both are dependencies
            raise ConfigError("RAG_VECTOR_STORE=postgres needs psycopg and psycopg-pool") from exc
        self.url = url
        self.schema = schema
        self.where = where(url, schema)
        self._registered: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()
        self.pool: ConnectionPool = ConnectionPool(
            url,
            min_size=0,
            max_size=8,
            timeout=_POOL_WAIT_S,
            open=False,
            check=ConnectionPool.check_connection,  # a connection the server dropped is replaced
            configure=self._configure,
            kwargs={
                "connect_timeout": _CONNECT_TIMEOUT_S,
                "options": _options(schema),
            },
        )
        self.pool.open(wait=False)

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Vectors travel in binary once pgvector is in the database; before ``rag db
        init`` there is no vector type yet, and the connection is registered later."""
        import psycopg
        from pgvector.psycopg import register_vector

        try:
            register_vector(conn)
        except psycopg.ProgrammingError:
            conn.rollback()
            return
        conn.commit()
        self._registered.add(conn)

    @contextmanager
    def connection(self, unbounded: bool = False) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection in a transaction (committed on success); a database that
        cannot be reached, or fails mid-query, raises ``StoreUnavailable`` naming it.
        Reads are cut off after 30 s; ``unbounded``: a build's writes (an HNSW graph
        over a million rows takes minutes) are not."""
        import psycopg
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection() as conn:
                if conn not in self._registered:
                    self._configure(conn)
                if unbounded:
                    conn.execute("SET LOCAL statement_timeout = 0")
                yield conn
        except (psycopg.OperationalError, psycopg.InterfaceError, PoolTimeout) as exc:
            raise StoreUnavailable(f"{self.where} is unreachable or failed: {_first(exc)}") from exc
        except psycopg.errors.UndefinedTable as exc:
            raise IndexNotFound(
                f"{self.where} has no rag schema: run `rag db init`, then `rag index`"
            ) from exc
        except psycopg.ProgrammingError as exc:
            if "vector" in str(exc) and "not found" in str(exc):
                raise IndexNotFound(
                    f"{self.where} lacks the pgvector extension: run `rag db init`"
                ) from exc
            raise

    def schema_version(self) -> int:
        """The schema version in the database (0: none)."""
        with self.connection() as conn:
            found = conn.execute("SELECT to_regclass('rag_schema') IS NOT NULL").fetchone()
            if not found or not found[0]:
                return 0
            row = conn.execute("SELECT max(version) FROM rag_schema").fetchone()
            return int(row[0] or 0) if row else 0

    def check_schema(self) -> None:
        """Refuse to serve over a schema this code does not match (``rag db init``)."""
        version = self.schema_version()
        if version == 0:
            raise IndexNotFound(f"{self.where} has no rag schema: run `rag db init`")
        if version != SCHEMA_VERSION:
            raise IndexMismatch(
                f"{self.where} has rag schema {version}; this service needs {SCHEMA_VERSION}: "
                "run `rag db init` with the newer of the two"
            )


def _options(schema: str) -> str:
    # the collection's schema first; pgvector's type from public
    return f"-c statement_timeout={_STATEMENT_TIMEOUT_MS} -c search_path={schema},public"


def migrate_schema(url: str, schema: str = "public") -> tuple[int, int]:
    """Create or upgrade the schema to ``SCHEMA_VERSION`` (``rag db init``): each step
    in one transaction, under a lock so two runs cannot interleave. Returns (before,
    after). A database newer than this code is refused, never downgraded."""
    import psycopg
    from psycopg import sql

    try:
        conn = psycopg.connect(
            url, connect_timeout=_CONNECT_TIMEOUT_S, autocommit=False, options=_options(schema)
        )
    except psycopg.OperationalError as exc:
        raise StoreUnavailable(f"{where(url, schema)} is unreachable: {_first(exc)}") from exc
    with conn:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_SCHEMA,))
        conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
        conn.execute("CREATE TABLE IF NOT EXISTS rag_schema (version integer NOT NULL)")
        row = conn.execute("SELECT max(version) FROM rag_schema").fetchone()
        before = int(row[0] or 0) if row else 0
        if before > SCHEMA_VERSION:
            raise IndexMismatch(
                f"{where(url, schema)} has rag schema {before}, newer than this code's "
                f"{SCHEMA_VERSION}"
            )
        for version in range(before + 1, SCHEMA_VERSION + 1):
            for statement in _MIGRATIONS[version]:
                conn.execute(statement)  # type: ignore[arg-type]  # our own constant SQL
            conn.execute("INSERT INTO rag_schema (version) VALUES (%s)", (version,))
    return before, SCHEMA_VERSION


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


_databases: dict[tuple[str, str], Database] = {}
_guard = threading.Lock()


def database_for(url: str, schema: str = "public") -> Database:
    """The process's one pool for ``url`` and ``schema`` (replicas in one process share it)."""
    with _guard:
        if (url, schema) not in _databases:
            _databases[(url, schema)] = Database(url, schema)
        return _databases[(url, schema)]
