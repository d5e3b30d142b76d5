"""A generation that loops is stopped: greedy decoding that starts repeating a block
("Moloco, Mosaic ML, Netflix, Microsoft, Moloco, ...", seen from the 1.5B model on a
list question) never recovers and would run to ``max_answer_tokens``.

The generator here replays that behaviour token by token (and honours ``max_tokens``
as llama.cpp does); retrieval, verification and the pipeline are the real ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from rag.answer.generation import repeating_tail
from rag.serving.pipeline import Pipeline

DOC = (
    "# Harbour sponsors\n\n## Silver sponsors\n\n"
    "The Velmar harbour festival had four silver sponsors: Ostrander Heavy Works, "
    "Pimtendyar Marine, Kelso Ropes and Tamsin Paints.\n"
)
LOOP = "Pimtendyar Marine, Kelso Ropes, Tamsin Paints, "


class LoopingModel:
    """Writes one sentence start, then repeats a block until told to stop."""

    name, n_ctx, concurrency = "looping", 4096, 1

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.produced = 0

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def count_prompt(self, messages) -> int:
        return sum(self.count_tokens(m["content"]) for m in messages)

    def stream(self, messages, max_tokens, temperature, stop=None, cancel=None) -> Iterator[str]:
        pieces = ["The ", "silver ", "sponsors ", "were ", "Ostrander ", "Heavy ", "Works, "]
        while len(pieces) < max_tokens:
            pieces += [w + " " for w in LOOP.split()]
        for piece in pieces[:max_tokens]:
            self.produced += 1
            yield piece


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory, invented):
    s, retriever = invented(tmp_path_factory.mktemp("velmar"), {"velmar.md": DOC}, second_looks=0)
    model = LoopingModel()
    return Pipeline(s, retriever, model), model  # type: ignore[arg-type]


def test_a_looping_generation_is_stopped_and_one_copy_kept(pipeline):
    pipe, model = pipeline
    answer = pipe.answer("Who were the silver sponsors of the Velmar harbour festival?")
    assert model.produced < pipe.settings.max_answer_tokens // 4  # stopped, not run out
    assert answer.draft.count("Kelso Ropes") == 1
    assert "Ostrander Heavy Works" in answer.text and answer.citations


def test_repeating_tail_finds_a_repeated_block_and_leaves_lists_alone():
    assert repeating_tail("x: " + LOOP * 3) == len(LOOP)
    assert repeating_tail("x: " + LOOP * 2) == 0  # twice may be a real repetition
    assert repeating_tail("- Layer I [1]\n- Layer II [1]\n- Layer III [1]\n") == 0
    assert repeating_tail("ab ab ab ab ab ab ") == 0  # blocks too short to judge
