"""``rag documents`` (list, add, rename, remove reports) and ``rag feedback`` (readers'
verdicts, exported as draft eval items)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from rag.config import Settings
from rag.errors import RagError

if TYPE_CHECKING:
    from rag.ingest.documents import Collection

__all__ = ["documents_app", "feedback_app"]


def _fail(exc: Exception) -> NoReturn:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


documents_app = typer.Typer(no_args_is_help=True, help="List, add and remove reports.")


def _collection() -> Collection:
    from rag.index.embedding import SentenceTransformerEmbedder
    from rag.index.locations import index_location
    from rag.ingest.documents import Collection

    s = Settings()
    embedder = SentenceTransformerEmbedder(s.embedding_model)
    return Collection(
        s.seeds_path, index_location(s), embedder, s.chunk_overlap_tokens, s.max_upload_bytes
    )


@documents_app.command("list")
def documents_list() -> None:
    """The indexed reports: id, type, pages, chunks, name, title."""
    try:
        records = _collection().list()
    except RagError as exc:
        _fail(exc)
    if not records:
        typer.echo("no documents are indexed yet")
    for d in records:
        pages = d["pages"] or "-"
        line = f"{d['id']}  {d['type']:<8} {pages!s:>5}p {d['chunks']:>5} chunks  {d['name']}"
        typer.echo(f"{line}  {d.get('title') or ''}".rstrip())


@documents_app.command("add")
def documents_add(
    files: Annotated[list[Path], typer.Argument(help="Report files.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a document of the same name.")
    ] = False,
    title: Annotated[
        str | None, typer.Option(help="Its title (one file only; else the document's own).")
    ] = None,
) -> None:
    """Copy reports into the corpus and index them (each answerable when this returns);
    a file already indexed is reported, not added twice."""
    if title and len(files) > 1:
        _fail(RagError("--title names one document: give one file"))
    docs = _collection()
    for path in files:
        try:
            upload = docs.add(path.name, path.read_bytes(), replace=replace, title=title)
        except OSError as exc:
            _fail(RagError(f"cannot read {path}: {exc.strerror}"))
        except RagError as exc:
            _fail(exc)
        record = upload.record
        line = f"{upload.outcome} {record['id']}  {record['name']} ({record['chunks']} chunks)"
        line += f" {record.get('title', '')!r}"
        if upload.replaced:
            line += f"; replaced {upload.replaced['id']}"
        typer.echo(line)


@documents_app.command("remove")
def documents_remove(ids: Annotated[list[str], typer.Argument(help="Document ids.")]) -> None:
    """Remove reports from the corpus and the index."""
    docs = _collection()
    for doc_id in ids:
        try:
            record = docs.remove(doc_id)
        except RagError as exc:
            _fail(exc)
        typer.echo(f"removed {record['id']}  {record['name']}")


@documents_app.command("rename")
def documents_rename(
    doc_id: Annotated[str, typer.Argument(help="Document id.")],
    title: Annotated[str, typer.Argument(help='The new title ("" for its own title).')],
) -> None:
    """Set a report's title (nothing is re-embedded)."""
    try:
        record = _collection().rename(doc_id, title or None)
    except RagError as exc:
        _fail(exc)
    typer.echo(f"renamed {record['id']}  {record['name']}: {record['title']!r}")


feedback_app = typer.Typer(no_args_is_help=True, help="Readers' verdicts on answers.")


@feedback_app.command("export")
def feedback_export(
    out: Annotated[
        Path | None, typer.Option(help="Append the drafts to this JSONL file (else print).")
    ] = None,
) -> None:
    """Write the answers readers marked "wrong" as draft eval items (eval set format):
    question, the answer given and the note, with the expected terms (``must_include``)
    and the right ``answer`` left empty for an engineer to complete. ``rag eval`` refuses
    an item until its expected terms are filled in."""
    from rag.serving.feedback import FeedbackLog, draft_items

    log = FeedbackLog(Settings().feedback_path)
    items = draft_items(log.read())
    lines = "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)
    if out is None:
        typer.echo(lines, nl=False)
    else:
        have = set()
        if out.exists():
            have = {json.loads(x).get("id") for x in out.read_text().splitlines() if x.strip()}
        new = [i for i in items if i["id"] not in have]  # exported before: not twice
        with out.open("a", encoding="utf-8") as f:
            f.writelines(json.dumps(i, ensure_ascii=False) + "\n" for i in new)
        typer.echo(
            f"{len(new)} draft items appended to {out} ({len(items) - len(new)} there already)"
        )
    if not items:
        typer.secho('no answer has been marked "wrong" yet', fg=typer.colors.YELLOW, err=True)
