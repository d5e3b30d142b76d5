"""Request and response bodies; their Field examples make /docs self-explanatory."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

MAX_QUESTION_CHARS = 2000


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

    _check = field_validator("question")(_not_blank)


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: StrictStr = Field(max_length=MAX_QUESTION_CHARS, examples=["binarized multiplication"])
    k: StrictInt | None = Field(None, ge=1, le=50, description="Passages to return.")

    _check = field_validator("query")(_not_blank)


class Passage(BaseModel):
    rank: int
    score: float = Field(description="What ranked it: fused (hybrid), cosine or BM25 score.")
    dense: float | None = Field(None, description="Cosine similarity to the question.")
    lexical: float | None = Field(None, description="BM25 score, when it matched any term.")
    source: str = Field(examples=["001_561db33d66e26b4e.txt"])
    section: str = Field(examples=["MLSys 2020 > Session 7 > Riptide: Binarized NNs"])
    start: int
    end: int
    text: str


class CitationOut(BaseModel):
    n: int = Field(description="The [n] marker in the answer.")
    source: str
    section: str
    quote: str = Field(description="Exact text of the report: source_text[start:end].")
    start: int
    end: int
    score: float = Field(description="Retrieval score of the cited passage.")
    support: float | None = Field(
        None, description="How well the quote supports its answer sentence (0-1)."
    )


class SentenceOut(BaseModel):
    text: str
    supported: bool
    support: float
    citation: int | None = Field(description="Passage number [n] that supports it.")


class TimingsOut(BaseModel):
    embed_s: float
    search_s: float
    prompt_tokens: int
    answer_tokens: int
    ttft_s: float
    generation_s: float
    total_s: float


class AskResponse(BaseModel):
    question: str
    answer: str
    refused: bool = Field(description="True when the reports don't cover the question.")
    refusal_reason: str = Field("", description="Why the answer was refused.")
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
