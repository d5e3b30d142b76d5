"""Run ``eval/qa.jsonl`` through the public entry points and save the scored run.

In-process by default (``Pipeline``), or against a running server's ``/v1/search``,
``/v1/ask`` and (for conversations) ``/v1/chat/completions`` with ``url``.
Retrieval metrics always use a ranked list of ``RETRIEVAL_K`` passages from search
(for a chat turn, searched with the same standalone query the service builds), so
``--retrieval-only`` runs and full runs report the same retrieval numbers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from eval.metrics import summarize
from eval.sets import SEALED
from rag import Turn, standalone_query, write_atomic

__all__ = [
    "EVAL_DIR",
    "InProcess",
    "in_process",
    "load_chat",
    "load_qa",
    "run_eval",
    "save_run",
    "turns_for",
]

EVAL_DIR = Path(__file__).resolve().parent
RETRIEVAL_K = 10

Search = Callable[[str, int], list[dict[str, Any]]]
Ask = Callable[[list[Turn]], dict[str, Any]]


def load_qa(path: Path, kinds: list[str] | None = None, limit: int | None = None) -> list[dict]:
    """The eval questions, optionally filtered by kind and truncated."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if kinds:
        rows = [r for r in rows if r["kind"] in kinds]
    return rows[:limit] if limit else rows


def load_chat(path: Path, kinds: list[str] | None = None, limit: int | None = None) -> list[dict]:
    """One question per turn of the first ``limit`` conversations in ``eval/chat.jsonl``.

    Each carries its ``history``: the earlier user turns and, as the assistant's
    replies, their gold answers, so every turn is scored on the same conversation
    whatever the service answered before.
    """
    convs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    rows = []
    for conv in convs[:limit] if limit else convs:
        history: list[dict[str, str]] = []
        for i, turn in enumerate(conv["turns"], start=1):
            gold = {k: v for k, v in turn.items() if k != "user"}
            rows.append({"id": f"{conv['id']}.{i}", "question": turn["user"], **gold})
            rows[-1]["history"] = list(history)
            history += [
                {"role": "user", "content": turn["user"]},
                {"role": "assistant", "content": turn["answer"]},
            ]
    return [r for r in rows if r["kind"] in kinds] if kinds else rows


def turns_for(question: dict) -> list[Turn]:
    history = [Turn(m["role"], m["content"]) for m in question.get("history", [])]
    return [*history, Turn("user", question["question"])]


class InProcess:
    """Search/ask callables over locally loaded pipelines, one per corpus, sharing one
    embedder and one LLM (loaded once, only when answers are asked for).

    A corpus other than the configured one (the second eval corpus) is indexed into
    ``<index dir>/eval/<folder name>`` with the same embedder and chunker settings,
    re-embedded only when its files change.
    """

    def __init__(self, retrieval_only: bool) -> None:
        from rag import SentenceTransformerEmbedder, Settings

        self.settings = Settings()
        self.retrieval_only = retrieval_only
        self.embedder = SentenceTransformerEmbedder(self.settings.embedding_model)
        self.generator: Any = None
        self.meta: dict[str, Any] = {
            "embedding_model": self.settings.embedding_model,
            "top_k": self.settings.top_k,
            "retrieval_mode": self.settings.retrieval_mode,
        }

    def settings_for(self, corpus: Path | None) -> Any:
        """The settings serving ``corpus`` (None: the configured one), its index built
        (or brought up to date) first."""
        from rag import build_index, index_location, migrate_schema

        s = self.settings
        if corpus is not None:
            name = f"{corpus.parent.name}_{corpus.name}"  # "corpus2/docs", "dev2/docs"
            alias = s.qdrant_collection + "_eval_" + re.sub(r"\W", "_", name)
            update = {
                "seeds_dir": corpus,
                "index_dir": s.index_path / "eval" / name,
                "qdrant_collection": alias[:64],
                "database_schema": ("eval_" + re.sub(r"\W", "_", name)).lower()[:63],
            }
            s = s.model_copy(update=update)
            if s.vector_store == "postgres":  # a schema of its own, made as `rag db init` does
                migrate_schema(str(s.database_url), s.database_schema)
            build_index(corpus, index_location(s), self.embedder, s.chunk_overlap_tokens)
        return s

    def pipeline(self, corpus: Path | None) -> Any:
        """A ``Pipeline`` over ``corpus`` sharing this backend's embedder and LLM."""
        from rag import Pipeline, load_generator, load_retriever

        s = self.settings_for(corpus)
        if self.generator is None:
            self.generator = load_generator(s)
            self.meta["model"] = self.generator.name
        return Pipeline(s, load_retriever(s, self.embedder), self.generator)

    def for_corpus(self, corpus: Path | None) -> tuple[Search, Ask | None, dict[str, str]]:
        """(search, ask or None, the corpus texts by document name)."""
        from rag import hit_to_dict, load_retriever, read_sources

        if self.retrieval_only:
            s = self.settings_for(corpus)
            retriever = load_retriever(s, self.embedder)
            ask = None
        else:
            pipeline = self.pipeline(corpus)
            s, retriever = pipeline.settings, pipeline.current()

            def ask(turns: list[Turn]) -> dict[str, Any]:
                return pipeline.chat(turns).to_dict()

        texts = read_sources(s.seeds_path)[0]

        def search(q: str, k: int) -> list[dict[str, Any]]:
            return [hit_to_dict(h) for h in retriever.search(q, k)]

        return search, ask, texts


def in_process(retrieval_only: bool) -> tuple[Search, Ask | None, dict[str, Any]]:
    """Search/ask callables over the configured corpus (no LLM when retrieval-only)."""
    backend = InProcess(retrieval_only)
    search, ask, _ = backend.for_corpus(None)
    return search, ask, backend.meta


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

    def ask(turns: list[Turn]) -> dict[str, Any]:
        if len(turns) == 1:
            r = client.post("/v1/ask", json={"question": turns[0].content})
            r.raise_for_status()
            return r.json()
        messages = [{"role": t.role, "content": t.content} for t in turns]
        t0 = time.perf_counter()
        r = client.post("/v1/chat/completions", json={"model": "default", "messages": messages})
        r.raise_for_status()
        body = r.json()
        usage = body["usage"]
        return {
            "answer": body["choices"][0]["message"]["content"],
            **{k: body[k] for k in ("refused", "refusal_reason", "citations")},
            "passages": [],
            "timings": {
                "total_s": time.perf_counter() - t0,
                "prompt_tokens": usage["prompt_tokens"],
                "answer_tokens": usage["completion_tokens"],
            },
        }

    return search, (None if retrieval_only else ask), {"url": url}


def run_eval(
    questions: list[dict],
    search: Search,
    ask: Ask | None,
    progress: bool = True,
    texts: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """One record per question: gold fields, ranked passages, and the answer if asked.

    With the corpus ``texts``, each record also counts the answer sentences shown and
    how many of them carry a citation whose quote is exactly the report's text at its
    offsets (``verified_sentences``): the faithfulness check, made here against the
    files rather than trusted from the service.
    """
    records = []
    for q in tqdm(questions, desc="eval", unit="q", disable=not progress):
        rec = dict(q)
        rec["expected"] = rec.pop("answer")  # "answer" holds the service's answer below
        rec.pop("history", None)
        turns = turns_for(q)
        rec["query"] = standalone_query(turns)
        passages = search(rec["query"], RETRIEVAL_K)
        rec["passages"] = [
            {k: p[k] for k in ("rank", "source", "section", "score")} for p in passages
        ]
        if ask is not None:
            a = ask(turns)
            rec.update(
                answer=a["answer"],
                draft=a.get("draft", ""),
                refused=a["refused"],
                refusal_reason=a.get("refusal_reason", ""),
                sentences=a.get("sentences", []),
                citations=a["citations"],
                answer_passages=[
                    {k: p.get(k) for k in ("rank", "source", "section", "score", "text")}
                    for p in a["passages"]
                ],
                timings=a["timings"],
            )
            if texts is not None and not a["refused"]:
                rec.update(_faithfulness(a, texts))
        records.append(rec)
    return records


def _faithfulness(answer: dict[str, Any], texts: dict[str, str]) -> dict[str, int]:
    """Shown sentences, and those backed by a citation quoting the report exactly."""
    cites = {c["n"]: c for c in answer["citations"]}
    keep_all = "(unsupported)" in answer["answer"]  # RAG_KEEP_UNSUPPORTED shows them all
    shown = [s for s in answer.get("sentences", []) if s["supported"] or keep_all]
    verified = 0
    for s in shown:
        c = cites.get(s.get("citation"))
        if c and texts.get(c["source"], "")[c["start"] : c["end"]] == c["quote"]:
            verified += 1
    return {"shown_sentences": len(shown), "verified_sentences": verified}


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
    records: list[dict[str, Any]],
    meta: dict[str, Any],
    out_dir: Path,
    retrieval_only: bool,
    chat: bool = False,
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
        # a sealed set's items are never written down: its metrics above are all it keeps
        "records": [r for r in records if r.get("set") not in SEALED],
    }
    suffix = ("-chat" if chat else "") + ("-retrieval" if retrieval_only else "")
    path = out_dir / f"{now:%Y-%m-%d}-{sha}{suffix}.json"
    write_atomic(path, json.dumps(run, indent=1, ensure_ascii=False).encode())
    return path, run
