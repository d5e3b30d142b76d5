"""The PostgreSQL store: what a one-document upload costs (against FAISS files), and how
far a hot standby lags behind the primary.

    .venv/bin/python bench/postgres.py [--uploads 5] [--out FILE]

Starts a primary and a hot standby (``pg_basebackup -R``, streaming) from the
``pgserver`` wheel's binaries, as the tests do, and indexes the seeds into the primary.
Then, ``--uploads`` times on each backend, adds a short report through ``Collection``
(FAISS: a corpus folder and index files) and removes it again; the add is timed. Lag:
from an add's return on the primary until the standby names the new build current,
read every millisecond on the standby. Prints medians.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag import (  # noqa: E402
    Collection,
    PostgresLocation,
    SentenceTransformerEmbedder,
    Settings,
    build_index,
    migrate_schema,
)
from tests.pg_server import PgServer, new_root  # noqa: E402


def report(i: int) -> bytes:
    return f"# Survey {i}\n\nBuoy {i} of the harbour survey reads {i + 3} knots.\n".encode()


def uploads(collection: Collection, n: int, on_added=None) -> list[float]:
    times = []
    for i in range(n):
        t = time.perf_counter()
        record = collection.add(f"survey{i}.md", report(i)).record
        times.append(time.perf_counter() - t)
        if on_added is not None:
            on_added()
        collection.remove(record["id"])
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--uploads", type=int, default=5)
    ap.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = ap.parse_args()
    embedder = SentenceTransformerEmbedder()
    seeds = Settings().seeds_path
    work = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    primary = PgServer(new_root()).init().start()
    standby = None
    try:
        migrate_schema(primary.url)
        standby = primary.standby(new_root()).start()

        def location(url: str, name: str) -> PostgresLocation:
            s = Settings(vector_store="postgres", database_url=url, index_dir=work / name)
            return PostgresLocation.from_settings(s)

        on_primary, on_standby = location(primary.url, "p"), location(standby.url, "s")
        build_index(seeds, on_primary, embedder)
        lags: list[float] = []

        def lag() -> None:
            t, build = time.perf_counter(), on_primary.current_build()
            while on_standby.current_build() != build:
                time.sleep(0.001)
            lags.append(time.perf_counter() - t)

        pg = uploads(Collection(work / "pg-corpus", on_primary, embedder), args.uploads, lag)
        corpus = work / "corpus"
        shutil.copytree(seeds, corpus)
        build_index(corpus, work / "faiss", embedder)
        faiss = uploads(Collection(corpus, work / "faiss", embedder), args.uploads)
    finally:
        if standby is not None:
            standby.stop("fast")
        primary.stop("fast")
        shutil.rmtree(work, ignore_errors=True)
    result = {
        "uploads": args.uploads,
        "upload_faiss_median_s": round(statistics.median(faiss), 3),
        "upload_postgres_median_s": round(statistics.median(pg), 3),
        "standby_lag_median_ms": round(statistics.median(lags) * 1000, 1),
        "standby_lag_max_ms": round(max(lags) * 1000, 1),
    }
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
