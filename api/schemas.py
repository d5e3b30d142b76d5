"""Request and response bodies; their Field examples make /docs self-explanatory."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)

MAX_QUESTION_CHARS = 2000
MAX_SELECTED = 1000  # documents one question may be asked within
MAX_TITLE_CHARS = 200


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty or only whitespace")
    return value


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: StrictStr = Field(
        max_length=MAX_QUESTION_CHARS,
        examples=["What does FrugalML do when the base API is not confident?"],
    )
    top_k: StrictInt | None = Field(None, ge=1, le=20, description="Passages to retrieve.")
    documents: list[StrictStr] | None = Field(
        None,
        max_length=MAX_SELECTED,
        description="Ask within these documents only (ids from GET /v1/documents); "
        "an unknown id is 422. Leave out to ask every report.",
    )
    stream: StrictBool = Field(
        False, description="Server-sent events: text deltas, then the full answer object."
    )

    _check = field_validator("question")(_not_blank)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: StrictStr = Field(max_length=MAX_QUESTION_CHARS, examples=["binarized multiplication"])
    k: StrictInt | None = Field(None, ge=1, le=50, description="Passages to return.")
    documents: list[StrictStr] | None = Field(
        None,
        max_length=MAX_SELECTED,
        description="Search within these documents only (ids from GET /v1/documents); "
        "an unknown id is 422. Leave out to ask every report.",
    )

    _check = field_validator("query")(_not_blank)


class Passage(BaseModel):
    rank: int
    score: float = Field(description="What ranked it: fused (hybrid), cosine or BM25 score.")
    dense: float | None = Field(None, description="Cosine similarity to the question.")
    lexical: float | None = Field(None, description="BM25 score, when it matched any term.")
    source: str = Field(examples=["001_561db33d66e26b4e.txt"])
    title: str = Field("", description="The document's title (`source` is its stable name).")
    section: str = Field(examples=["MLSys 2020 > Session 7 > Riptide: Binarized NNs"])
    start: int
    end: int
    text: str


class CitationOut(BaseModel):
    n: int = Field(description="The [n] marker in the answer.")
    source: str = Field(description="The document's stable name (GET /v1/documents).")
    title: str = Field("", description="The document's title, for display.")
    section: str
    quote: str = Field(description="Exact text of the report: source_text[start:end].")
    start: int
    end: int
    score: float = Field(description="Retrieval score of the cited passage.")
    support: float | None = Field(
        None, description="How well the quote supports its answer sentence (0-1)."
    )
    page: int | None = Field(None, description="Page of the quote (PDF reports).")


class SentenceOut(BaseModel):
    text: str
    supported: bool
    support: float
    citation: int | None = Field(description="Passage number [n] that supports it.")


class TimingsOut(BaseModel):
    embed_s: float
    search_s: float
    select_s: float = Field(0.0, description="Choosing the evidence lines for the prompt.")
    queue_s: float = Field(0.0, description="Time spent waiting behind other requests.")
    prompt_tokens: int
    reused_prompt_tokens: int = Field(
        0, description="Prompt tokens taken from llama.cpp's KV cache (the shared prefix)."
    )
    answer_tokens: int
    ttft_s: float
    generation_s: float
    verify_s: float = Field(0.0, description="Checking the answer against the evidence.")
    total_s: float
    generations: int = Field(0, description="Model calls the answer took (at most 3).")


class AskResponse(BaseModel):
    question: str
    answer: str
    refused: bool = Field(description="True when the reports don't cover the question.")
    refusal_reason: str = Field("", description="Why the answer was refused.")
    query: str = Field("", description="What retrieval searched for.")
    finish_reason: str = Field(
        "stop",
        description='"length" when the token cap was hit; "busy" when a later generation '
        "for the question found the model's queue full (the answer ends with a note).",
    )
    draft: str = Field(
        "",
        description="The model's raw text before verification (empty when no model was "
        "called); what `answer` keeps of it is only what the passages support.",
    )
    cached: bool = Field(
        False, description="Served from the answer cache: same question, same index build."
    )
    build_id: str = Field("", description="The index build that answered.")
    citations: list[CitationOut]
    sentences: list[SentenceOut] = Field(
        description="Every sentence the model wrote, with whether the passages support it."
    )
    passages: list[Passage]
    timings: TimingsOut


class SearchResponse(BaseModel):
    query: str
    passages: list[Passage]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


MAX_MESSAGES = 64


def _text_of(content: Any) -> Any:
    """Plain text of a message: a string, or the ``text`` parts of a list joined."""
    if content is None or isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ValueError("content must be a string or a list of text parts")
    texts = []
    for part in content:
        if not isinstance(part, dict) or part.get("type") != "text":
            raise ValueError('only text parts ({"type": "text", "text": ...}) are supported')
        if not isinstance(part.get("text"), str):
            raise ValueError("a text part needs a string 'text'")
        texts.append(part["text"])
    return "\n".join(texts)


class ChatMessage(BaseModel):
    """An OpenAI chat message; ``developer`` is what newer clients call ``system``."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: StrictStr | None = Field(
        None, description="A string, or a list of text parts (joined with newlines)."
    )

    _text = field_validator("content", mode="before")(_text_of)

    @model_validator(mode="after")
    def _needs_text(self) -> ChatMessage:
        if self.role != "assistant" and self.content is None:
            raise ValueError(f"a {self.role} message needs content")
        return self


class ChatRequest(BaseModel):
    """OpenAI's chat-completions request. Fields it does not use (``n``, ``tools``,
    ``logprobs``...) are ignored, as OpenAI clients send many of them."""

    model_config = ConfigDict(extra="ignore")

    model: StrictStr | None = Field(None, description="Any name; the served model answers.")
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: StrictBool = False
    max_tokens: StrictInt | None = Field(None, ge=1, description="Capped at the server's limit.")
    max_completion_tokens: StrictInt | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0.0, le=2.0, allow_inf_nan=False)
    stop: StrictStr | list[StrictStr] | None = Field(None, description="Up to 4 sequences.")
    user: StrictStr | None = Field(None, max_length=256)
    top_k: StrictInt | None = Field(None, ge=1, le=20, description="Passages to retrieve.")
    documents: list[StrictStr] | None = Field(
        None,
        max_length=MAX_SELECTED,
        description="Ask within these documents only (ids from GET /v1/documents); "
        "an unknown id is 422. Leave out to ask every report.",
    )

    @field_validator("stop")
    @classmethod
    def _stops(cls, value: str | list[str] | None) -> str | list[str] | None:
        stops = [value] if isinstance(value, str) else value or []
        if len(stops) > 4 or any(not s or len(s) > 64 for s in stops):
            raise ValueError("stop takes up to 4 non-empty sequences of at most 64 characters")
        return value


class ChatChoice(BaseModel):
    index: int
    message: dict[str, str]
    finish_reason: str
    logprobs: None = None


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatResponse(BaseModel):
    id: str
    object: Literal["chat.completion"]
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[CitationOut] = Field(description="The same citations as /v1/ask gives.")
    refused: bool
    refusal_reason: str
    query: str = Field(description="What retrieval searched for, history included.")
    build_id: str = Field("", description="The index build that answered.")
    passages: list[Passage] = Field(
        default_factory=list, description="The passages the answer was drawn from."
    )


class ModelCard(BaseModel):
    id: str
    object: Literal["model"]
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"]
    data: list[ModelCard]


class DocumentOut(BaseModel):
    id: str = Field(description="Stable id of the document (from its path in the corpus).")
    name: str = Field(description="Path relative to the corpus folder.", examples=["q3/report.pdf"])
    title: str = Field(
        "",
        description="What to call it: its own title (or the one set by upload or PATCH), "
        "with what tells it apart when another document's title is the same.",
    )
    title_set: bool = Field(False, description="Whether a person set the title.")
    type: str = Field(description="pdf, docx, html, markdown or text.")
    pages: int | None = Field(None, description="Page count (PDF), else null.")
    chunks: int = Field(description="Passages indexed from it.")
    sha256: str = Field(description="sha256 of the file's bytes.")
    indexed_at: float = Field(description="When its text was extracted and embedded (Unix time).")
    chars: int = Field(0, description="Length of its extracted text (what offsets index).")


class DocumentAdded(DocumentOut):
    outcome: Literal["added", "replaced", "existing"] = Field(
        description="added (201); replaced: a document of the same name, asked for with "
        "replace=true (200); existing: these bytes were indexed already, under this record's "
        "name, and nothing was written (200)."
    )
    replaced: DocumentOut | None = Field(None, description="The document it replaced.")


class DocumentList(BaseModel):
    object: Literal["list"] = "list"
    data: list[DocumentOut]
    writable: bool = Field(
        False, description="Whether this server accepts uploads and deletes (RAG_DOCUMENT_WRITES)."
    )


class DocumentText(BaseModel):
    id: str
    name: str
    start: int
    end: int
    length: int = Field(description="Length of the whole extracted text.")
    text: str = Field(description="Extracted text [start:end]; citation offsets index it.")
    page: int | None = Field(None, description="Page holding `start` (PDF), else null.")


class DocumentRename(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: StrictStr | None = Field(
        max_length=MAX_TITLE_CHARS,
        description="The new title; null (or empty) goes back to the document's own title.",
        examples=["Harbour operations review, 2024"],
    )


class DocumentSection(BaseModel):
    id: str
    name: str
    title: str = ""
    start: int = Field(description="Where the shown span starts in the extracted text.")
    end: int
    length: int = Field(description="Length of the whole extracted text.")
    page: int | None = Field(None, description="Page of the quote (PDF), else null.")
    html: str = Field(
        description="The span rendered from Markdown and sanitized (nh3): headings, lists "
        'and tables as HTML, images as their alt text, the quote as <mark class="quote">.'
    )


class DocumentDeleted(BaseModel):
    id: str
    name: str
    deleted: Literal[True] = True


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 413, 422, 503)
}
# With "stream": true the 200 is server-sent events instead of JSON: each event's
# ``data`` is one JSON object (a delta, the final answer or an error) or ``[DONE]``.
_SSE_EVENT = {
    "type": "object",
    "properties": {"data": {"type": "string"}, "event": {"type": "string"}},
    "required": ["data"],
}
STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    200: {"content": {"text/event-stream": {"schema": _SSE_EVENT}}},
}


class FeedbackCitation(BaseModel):
    model_config = ConfigDict(extra="ignore")

    n: int | None = None
    source: StrictStr = Field(max_length=1000)
    title: StrictStr = Field("", max_length=1000)
    section: StrictStr = Field("", max_length=2000)
    quote: StrictStr = Field("", max_length=5000)
    start: int | None = None
    end: int | None = None


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: Literal["helpful", "wrong"]
    question: StrictStr = Field(min_length=1, max_length=MAX_QUESTION_CHARS)
    answer: StrictStr = Field(max_length=20_000)
    citations: list[FeedbackCitation] = Field(default_factory=list, max_length=50)
    build_id: StrictStr = Field("", max_length=200, description="The index build that answered.")
    note: StrictStr = Field(
        "", max_length=2000, description="What was wrong, in the reader's words."
    )
    refused: StrictBool = False
    documents: list[StrictStr] | None = Field(None, max_length=MAX_SELECTED)

    _check = field_validator("question")(_not_blank)


class FeedbackOut(BaseModel):
    id: str
    at: float = Field(description="When it was kept (Unix time).")
    rating: Literal["helpful", "wrong"]
