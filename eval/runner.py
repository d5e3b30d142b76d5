"""Run ``eval/qa.jsonl`` through the public entry points and save the scored run.

In-process by default (``Pipeline``), or against a running server's ``/v1/search``
and ``/v1/ask`` with ``url``. Retrieval metrics always use a ranked list of
``RETRIEVAL_K`` passages from search, so ``--retrieval-only`` runs and full runs
report the same retrieval numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.metrics import summarize
from rag.files import write_atomic

__all__ = ["EVAL_DIR", "load_qa", "run_eval", "save_run"]

EVAL_DIR = Path(__file__).resolve().parent
RETRIEVAL_K = 10

Search = Callable[[str, int], list[dict[str, Any]]]
Ask = Callable[[str], dict[str, Any]]


def load_qa(path: Path, kinds: list[str] | None = None, limit: int | None = None) -> list[dict]:
    """The eval questions, optionally filtered by kind and truncated."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if kinds:
        rows = [r for r in rows if r["kind"] in kinds]
    return rows[:limit] if limit else rows


def in_process(retrieval_only: bool) -> tuple[Search, Ask | None, dict[str, Any]]:
    """Search/ask callables over a locally loaded pipeline (no LLM when retrieval-only)."""
    from rag.config import Settings
    from rag.embedding import SentenceTransformerEmbedder
    from rag.pipeline import Pipeline, load_generator, load_retriever
    from rag.types import hit_to_dict

    settings = Settings()
    retriever = load_retriever(settings, SentenceTransformerEmbedder(settings.embedding_model))

    def search(q: str, k: int) -> list[dict[str, Any]]:
        return [hit_to_dict(h) for h in retriever.search(q, k)]

    meta = {"embedding_model": settings.embedding_model, "top_k": settings.top_k}
    if retrieval_only:
        return search, None, meta
    pipeline = Pipeline(settings, retriever, load_generator(settings))
    meta["model"] = pipeline.generator.name

    def ask(q: str) -> dict[str, Any]:
        return pipeline.answer(q).to_dict()

    return search, ask, meta


def over_http(url: str, retrieval_only: bool) -> tuple[Search, Ask | None, dict[str, Any]]:
    """Search/ask callables against a running server (bearer key from RAG_EVAL_API_KEY)."""
    import httpx

    headers = {}
    if key := os.environ.get("RAG_EVAL_API_KEY"):
        headers["Authorization"] = f"Bearer {key}"
    client = httpx.Client(base_url=url.rstrip("/"), timeout=600, headers=headers)

    def search(q: str, k: int) -> list[dict[str, Any]]:
        r = client.post("/v1/search", json={"query": q, "k": k})
        r.raise_for_status()
        return r.json()["passages"]

    def ask(q: str) -> dict[str, Any]:
        r = client.post("/v1/ask", json={"question": q})
        r.raise_for_status()
        return r.json()

    return search, (None if retrieval_only else ask), {"url": url}


def run_eval(
    questions: list[dict], search: Search, ask: Ask | None, progress: bool = True
) -> list[dict[str, Any]]:
    """One record per question: gold fields, ranked passages, and the answer if asked."""
    records = []
    for q in tqdm(questions, desc="eval", unit="q", disable=not progress):
        rec = dict(q)
        rec["expected"] = rec.pop("answer")  # "answer" holds the service's answer below
        passages = search(q["question"], RETRIEVAL_K)
        rec["passages"] = [
            {k: p[k] for k in ("rank", "source", "section", "score")} for p in passages
        ]
        if ask is not None:
            a = ask(q["question"])
            rec.update(
                answer=a["answer"],
                refused=a["refused"],
                refusal_reason=a.get("refusal_reason", ""),
                sentences=a.get("sentences", []),
                citations=a["citations"],
                answer_passages=[
                    {k: p[k] for k in ("rank", "source", "section", "score")} for p in a["passages"]
                ],
                timings=a["timings"],
            )
        records.append(rec)
    return records


def git_sha() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=EVAL_DIR,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "nogit"


def save_run(
    records: list[dict[str, Any]], meta: dict[str, Any], out_dir: Path, retrieval_only: bool
) -> tuple[Path, dict[str, Any]]:
    """Score the records and write ``<date>-<sha>[-retrieval].json``; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    sha = git_sha()
    run = {
        "meta": dict(
            meta,
            date=now.isoformat(timespec="seconds"),
            git_sha=sha,
            retrieval_only=retrieval_only,
            n=len(records),
        ),
        "metrics": summarize(records, retrieval_only=retrieval_only),
        "records": records,
    }
    suffix = "-retrieval" if retrieval_only else ""
    path = out_dir / f"{now:%Y-%m-%d}-{sha}{suffix}.json"
    write_atomic(path, json.dumps(run, indent=1, ensure_ascii=False).encode())
    return path, run
