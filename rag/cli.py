"""The ``rag`` command: index, models, search, ask, chat, serve, eval (``documents``
and ``feedback`` in ``rag/cli_documents.py``)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from rag.config import Settings
from rag.errors import RagError
from rag.types import Answer, Delta, StreamEvent

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Question answering over reports."
)


def _fail(exc: Exception) -> NoReturn:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@app.command()
def index(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Files or folders to index (default: the corpus, RAG_SEEDS_DIR)."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Re-embed every document.")] = False,
) -> None:
    """Index the reports: PDF, DOCX, HTML, Markdown and text, folders recursively.

    Only new or changed documents are extracted and embedded; deleted ones are dropped.
    """
    from rag.index.embedding import SentenceTransformerEmbedder
    from rag.index.locations import index_location, writing
    from rag.ingest.indexing import build_index

    s = Settings()
    try:
        embedder = SentenceTransformerEmbedder(s.embedding_model)
        location = index_location(s)
        with writing(location):  # a shared index: after any upload a replica is making
            result = build_index(
                paths or s.seeds_path,
                location,
                embedder,
                s.chunk_overlap_tokens,
                force,
                progress=True,
            )
    except RagError as exc:
        _fail(exc)
    state = f"built ({result.embedded} embedded)" if result.rebuilt else "up to date"
    typer.echo(f"index {state}: {result.chunks} chunks from {result.sources} reports")
    if not result.sources:
        typer.secho("no documents are indexed yet", fg=typer.colors.YELLOW, err=True)
    for name in result.skipped:
        typer.secho(f"skipped unreadable file: {name}", fg=typer.colors.YELLOW, err=True)


db_app = typer.Typer(no_args_is_help=True, help="The PostgreSQL store's schema.")
app.add_typer(db_app, name="db")


@db_app.command("init")
def db_init() -> None:
    """Create or upgrade the schema at RAG_DATABASE_URL (RAG_VECTOR_STORE=postgres).

    Explicit, never at start-up: a replica over an older schema refuses to serve and
    names this command. Safe to run again; a database newer than this code is refused."""
    from rag.index.pg_db import migrate_schema

    s = Settings()
    if not s.database_url:
        _fail(RagError("RAG_DATABASE_URL is not set"))
    try:
        before, after = migrate_schema(str(s.database_url), s.database_schema)
    except RagError as exc:
        _fail(exc)
    state = f"upgraded from {before} to {after}" if before != after else "up to date"
    typer.echo(f"schema {state} (version {after})")


from rag.cli_documents import documents_app, feedback_app  # noqa: E402

app.add_typer(documents_app, name="documents")
app.add_typer(feedback_app, name="feedback")


@app.command()
def models(
    path: Annotated[
        bool, typer.Option("--path", help="Print only the model file's path (for scripts).")
    ] = False,
) -> None:
    """Assemble and verify the default model (or check RAG_MODEL_PATH), then evaluate a
    short prompt with it in a child process and show llama.cpp's CPU features."""
    from rag.answer.models import resolve_model
    from rag.answer.selfcheck import run_selfcheck

    s = Settings()
    try:
        model = resolve_model(s.model_path, s.models_path, s.model_sha256)
        if path:
            typer.echo(str(model))
            return
        check = run_selfcheck(model, s.n_threads)
    except RagError as exc:
        _fail(exc)
    typer.echo(f"model ready: {model.name}")
    typer.echo(
        f"llama.cpp {check.get('version')}: self-check passed in {check['seconds']} s; "
        f"CPU features: {' '.join(check.get('cpu_features') or [])}"
    )
    if check.get("cmake_args"):
        typer.echo(f"built with: {check['cmake_args']}")


@app.command()
def search(query: str, k: Annotated[int, typer.Option("--k", "-k", min=1, max=50)] = 5) -> None:
    """Show the passages retrieval ranks highest for QUERY (no LLM)."""
    from rag.index.embedding import SentenceTransformerEmbedder
    from rag.serving.loading import load_retriever

    s = Settings()
    try:
        retriever = load_retriever(s, SentenceTransformerEmbedder(s.embedding_model))
        hits = retriever.search(query, k)
    except RagError as exc:
        _fail(exc)
    for h in hits:
        c = h.chunk
        typer.echo(f"{h.rank}. {h.score:.3f}  {c.source}  {c.section}")
        typer.echo("   " + c.text[:200].replace("\n", " ") + ("…" if len(c.text) > 200 else ""))


def _stream_answer(events: Iterator[StreamEvent]) -> Answer:
    """Print the verified sentences as they come; return the final answer."""
    final: Answer | None = None
    for event in events:
        if isinstance(event, Answer):
            final = event
        elif isinstance(event, Delta):
            typer.echo(event.text, nl=False)
    typer.echo()
    assert final is not None
    return final


def _print_sources(final: Answer) -> None:
    if final.citations:
        typer.echo("Sources:")
        for c in final.citations:
            typer.echo(f"  [{c.n}] {c.source} ({c.start}-{c.end}) {c.section}")
            typer.echo(f'      "{c.quote}"')
    elif final.refused and final.passages:
        typer.echo("Closest passages:")
        for h in final.passages:
            typer.echo(f"  {h.chunk.source} {h.chunk.section}")
    t = final.timings
    typer.secho(
        f"{t.total_s:.1f}s total, {t.prompt_tokens} prompt tokens, first token {t.ttft_s:.1f}s",
        fg=typer.colors.BRIGHT_BLACK,
        err=True,
    )


@app.command()
def ask(
    question: str,
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=20)] = None,
) -> None:
    """Answer QUESTION from the reports and list the sources it cites."""
    from rag.serving.pipeline import Pipeline

    try:
        pipeline = Pipeline.from_settings(Settings())
        final = _stream_answer(pipeline.stream(question, top_k))
    except RagError as exc:
        _fail(exc)
    _print_sources(final)


@app.command()
def chat(
    top_k: Annotated[int | None, typer.Option("--top-k", min=1, max=20)] = None,
) -> None:
    """Talk with the reports: follow-up questions use the conversation so far.

    Answers stream in sentence by sentence, each verified, then their sources.
    Type /new to start over, /quit (or Ctrl-D) to leave.
    """
    from rag.serving.conversation import Turn
    from rag.serving.pipeline import Pipeline

    try:
        pipeline = Pipeline.from_settings(Settings())
    except RagError as exc:
        _fail(exc)
    typer.echo("Ask about the reports. /new starts over, /quit leaves.")
    turns: list[Turn] = []
    while True:
        try:
            line = input("\nyou> ").strip()
        except (EOFError, KeyboardInterrupt):
            typer.echo()
            return
        if line in ("/quit", "/exit"):
            return
        if line == "/new":
            turns = []
            continue
        if not line:
            continue
        try:
            final = _stream_answer(pipeline.chat_stream([*turns, Turn("user", line)], top_k))
        except RagError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            continue
        _print_sources(final)
        turns += [Turn("user", line), Turn("assistant", final.text)]


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
) -> None:
    """Load the index and model, then serve the HTTP API."""
    import uvicorn

    from api import logs
    from api.app import create_app
    from rag.serving.pipeline import Pipeline

    s = Settings()
    try:
        pipeline = Pipeline.from_settings(s)
    except RagError as exc:
        _fail(exc)
    host, port = host or s.host, port or s.port
    url = f"http://{host}:{port}"
    typer.echo(f"\nServing on {url}  (API docs: {url}/docs). Try:\n")
    typer.echo(
        f"  curl -s {url}/v1/ask -H 'Content-Type: application/json' \\\n"
        """    -d '{"question": "What does FrugalML do when the base API is not confident?"}'\n"""
    )
    typer.echo(f"  OpenAI clients: base_url={url}/v1 (POST /v1/chat/completions)\n")
    logs.configure()
    uvicorn.run(
        create_app(pipeline=pipeline),
        host=host,
        port=port,
        log_config=None,
        access_log=False,  # api.middleware logs each request, with its id
        timeout_graceful_shutdown=int(s.shutdown_grace_s),
    )


@app.command("eval")
def eval_(
    url: Annotated[str | None, typer.Option(help="Evaluate a running server instead.")] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N questions of each set.")
    ] = None,
    kind: Annotated[list[str] | None, typer.Option(help="Only these kinds (repeatable).")] = None,
    id_: Annotated[
        list[str] | None,
        typer.Option(
            "--id", help="Only these questions (repeatable): re-run what a change touches."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Eval sets to run: dev, test, dev2, dev3, dev4, corpus2, sealed, "
            "sealed-docs (repeatable; default all; sealed sets report aggregates only).",
        ),
    ] = None,
    retrieval_only: Annotated[bool, typer.Option(help="No LLM: retrieval metrics only.")] = False,
    qa: Annotated[
        str | None, typer.Option(help="A custom eval file (JSONL) instead of the sets.")
    ] = None,
    chat: Annotated[
        bool, typer.Option("--chat", help="Score the conversations of eval/chat.jsonl.")
    ] = False,
    out: Annotated[str, typer.Option(help="Folder for results.")] = "eval/results",
    compare: Annotated[
        tuple[str, str] | None, typer.Option(help="Print deltas between two run JSONs.")
    ] = None,
    gate: Annotated[
        str | None,
        typer.Option(help="Fail if hit@5 or section hit@3 is >2 points below this run JSON."),
    ] = None,
) -> None:
    """Score the eval sets side by side: retrieval, answers, citations, refusals, latency,
    and where each wrong answer lost its key terms (retrieval, reading, grounding)."""
    from eval.command import run

    try:
        run(url, limit, kind, id_, set_, retrieval_only, qa, chat, out, compare, gate)
    except (RagError, ValueError, RuntimeError) as exc:
        _fail(exc)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("faiss.loader", "sentence_transformers", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
