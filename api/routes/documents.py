"""/v1/documents: list, read, upload and delete reports (thin over ``rag.ingest.documents``).

Reading is open to every caller the keys let in; adding and deleting also need
``RAG_DOCUMENT_WRITES=true``. An upload is answerable when its response returns.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)
from starlette.concurrency import run_in_threadpool

from api.deps import PipelineDep
from api.schemas import (
    ERROR_RESPONSES,
    MAX_TITLE_CHARS,
    DocumentAdded,
    DocumentDeleted,
    DocumentList,
    DocumentOut,
    DocumentRename,
    DocumentSection,
    DocumentText,
)
from rag import Collection, Pipeline

router = APIRouter(prefix="/v1/documents", tags=["documents"])

_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    **dict.fromkeys((403, 404, 409, 415), ERROR_RESPONSES[422]),
}
_READ_ERRORS: dict[int | str, dict[str, Any]] = {**ERROR_RESPONSES, 404: ERROR_RESPONSES[422]}


def get_collection(request: Request, pipeline: PipelineDep) -> Collection:
    collection: Collection | None = getattr(request.app.state, "collection", None)
    if collection is None:
        s = pipeline.settings
        collection = Collection(
            s.seeds_path,
            pipeline.builds.location,
            pipeline.retriever.embedder,
            s.chunk_overlap_tokens,
            s.max_upload_bytes,
            current=lambda: pipeline.store,
        )
        request.app.state.collection = collection
    return collection


CollectionDep = Annotated[Collection, Depends(get_collection)]


def writes_allowed(request: Request) -> None:
    if not request.app.state.settings.document_writes:
        raise HTTPException(
            403, "document writes are disabled on this server (set RAG_DOCUMENT_WRITES=true)"
        )


@router.get("", response_model=DocumentList, responses=ERROR_RESPONSES)
async def list_documents(
    request: Request, pipeline: PipelineDep, collection: CollectionDep
) -> dict[str, Any]:
    """The indexed reports, and whether this server accepts uploads and deletes."""
    writable = request.app.state.settings.document_writes
    if writable:  # a replica reading a read-only standby takes no writes either
        writable = not await run_in_threadpool(collection.read_only)
    return {"object": "list", "data": collection.list(), "writable": writable}


@router.get("/{doc_id}", response_model=DocumentOut, responses=_READ_ERRORS)
async def get_document(
    doc_id: str, pipeline: PipelineDep, collection: CollectionDep
) -> dict[str, Any]:
    """One report's record."""
    return collection.get(doc_id)


@router.get("/{doc_id}/text", response_model=DocumentText, responses=_READ_ERRORS)
async def document_text(
    doc_id: str,
    pipeline: PipelineDep,
    collection: CollectionDep,
    start: Annotated[int, Query(ge=0, description="First character (citation `start`).")] = 0,
    end: Annotated[int | None, Query(ge=0, description="End character (exclusive).")] = None,
) -> dict[str, Any]:
    """The extracted text of a report between two offsets, e.g. a citation's quote with
    context around it (``start - 300`` .. ``end + 300``)."""
    return collection.text(doc_id, start, end)


@router.get("/{doc_id}/section", response_model=DocumentSection, responses=_READ_ERRORS)
async def document_section(
    doc_id: str,
    pipeline: PipelineDep,
    collection: CollectionDep,
    start: Annotated[int, Query(ge=0, description="The quote's first character.")],
    end: Annotated[int, Query(ge=0, description="The quote's end (exclusive).")],
) -> dict[str, Any]:
    """The section around a quote (a citation's ``start``..``end``) rendered as safe
    HTML, the quote marked: what the page's source panel shows."""
    return await run_in_threadpool(collection.section, doc_id, start, end)


@router.post(
    "",
    response_model=DocumentAdded,
    status_code=201,
    responses={**_WRITE_ERRORS, 200: {"model": DocumentAdded}},
    dependencies=[Depends(writes_allowed)],
)
async def add_document(
    file: Annotated[UploadFile, File(description="The report: PDF, DOCX, HTML, Markdown, text.")],
    pipeline: PipelineDep,
    collection: CollectionDep,
    response: Response,
    replace: Annotated[
        bool, Query(description="Replace the document of the same name (else 409).")
    ] = False,
    title: Annotated[
        str | None,
        Form(max_length=MAX_TITLE_CHARS, description="Its title (else the document's own)."),
    ] = None,
) -> dict[str, Any]:
    """Add a report; it is indexed when this returns. A name already taken by other
    content is 409 unless ``replace=true``; bytes already indexed return that document
    (200), never a second copy."""
    data = await file.read()
    upload = await run_in_threadpool(collection.add, file.filename or "", data, replace, title)
    if upload.result is not None:
        await run_in_threadpool(_switch, pipeline)
    if upload.outcome != "added":
        response.status_code = 200
    return {**upload.record, "outcome": upload.outcome, "replaced": upload.replaced}


@router.patch(
    "/{doc_id}",
    response_model=DocumentOut,
    responses=_WRITE_ERRORS,
    dependencies=[Depends(writes_allowed)],
)
async def rename_document(
    doc_id: str, body: DocumentRename, pipeline: PipelineDep, collection: CollectionDep
) -> dict[str, Any]:
    """Set a report's title (null: back to its own title). Nothing is re-embedded: the
    new build differs from the last only in its document records."""
    record = await run_in_threadpool(collection.rename, doc_id, body.title)
    await run_in_threadpool(_switch, pipeline)
    return record


@router.delete(
    "/{doc_id}",
    response_model=DocumentDeleted,
    responses=_WRITE_ERRORS,
    dependencies=[Depends(writes_allowed)],
)
async def delete_document(
    doc_id: str, pipeline: PipelineDep, collection: CollectionDep
) -> dict[str, Any]:
    """Remove a report from the corpus and the index."""
    record = await run_in_threadpool(collection.remove, doc_id)
    await run_in_threadpool(_switch, pipeline)
    return {"id": record["id"], "name": record["name"], "deleted": True}


def _switch(pipeline: Pipeline) -> None:
    pipeline.reload()
