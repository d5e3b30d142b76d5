"""A question asking for several things is asked for every item, and the degenerate
draft that request sometimes gets ("- - [1]": markers, no item, seen from the 1.5B
model on long unbulleted passages) is asked again the plain way instead of refused.

The generator here replays that behaviour; retrieval, the prompt, verification and
the pipeline are the real ones."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator

import pytest

from rag.answer.prompt import ANSWER_CUE, LIST_CUE
from rag.serving.pipeline import Pipeline

DOC = (
    "# Velmar harbour festival\n\n## Sponsors\n\n"
    "The festival had four silver sponsors: Ostrander Heavy Works, Pimtendyar Marine, "
    "Kelso Ropes and Tamsin Paints.\n"
)
ANSWER = (
    "The festival had four silver sponsors: Ostrander Heavy Works, Pimtendyar Marine, "
    "Kelso Ropes and Tamsin Paints [1]."
)


class MarkersModel:
    """Writes only list markers when asked for every item; answers when asked plainly."""

    name, n_ctx, concurrency = "markers", 4096, 1

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cues: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt(self, messages) -> int:
        return sum(self.count_tokens(m["content"]) for m in messages)

    def stream(self, messages, max_tokens, temperature, stop=None, cancel=None) -> Iterator[str]:
        user = messages[-1]["content"]
        self.cues.append(LIST_CUE if user.endswith(LIST_CUE) else ANSWER_CUE)
        yield from ["- ", "- ", "[1]"] if user.endswith(LIST_CUE) else re.findall(r"\S+\s*", ANSWER)


@pytest.fixture
def pipeline(tmp_path, invented):
    s, retriever = invented(tmp_path, {"velmar.md": DOC}, answer_cache_size=0)
    model = MarkersModel()
    return Pipeline(s, retriever, model), model  # type: ignore[arg-type]


def test_a_draft_of_bare_list_markers_is_asked_again_the_plain_way(pipeline):
    pipe, model = pipeline
    answer = pipe.answer("Which companies sponsored the Velmar harbour festival?")
    assert model.cues == [LIST_CUE, ANSWER_CUE]
    assert not answer.refused, answer.to_dict()
    assert "Kelso Ropes" in answer.text and answer.citations
    assert answer.timings.prompt_tokens > 0


def test_a_question_asking_for_one_thing_is_asked_once(pipeline):
    pipe, model = pipeline
    answer = pipe.answer("Who was the first silver sponsor of the Velmar harbour festival?")
    assert model.cues == [ANSWER_CUE]
    assert not answer.refused, answer.to_dict()
