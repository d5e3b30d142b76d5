"""Follow-up questions: the standalone retrieval query, history fitting, validation."""

from __future__ import annotations

import pytest

from rag.errors import InvalidQuery
from rag.serving.conversation import (
    Turn,
    caller_instructions,
    fit_history,
    is_follow_up,
    standalone_query,
    validate_turns,
)

ADAMS = [
    Turn("user", "Who talked about machine learning for mechanical engineering at MLSys 2022?"),
    Turn("assistant", "Ryan Adams gave that talk [1]."),
    Turn("user", "Which university is he from?"),
]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Which university is he from?", True),
        ("How many traces per day does it analyze?", True),
        ("And the second one?", True),
        ("Why?", True),
        ("Which two file systems make up ScaleFS?", False),
        ("What NVLink bandwidth was quoted for Volta?", False),
    ],
)
def test_is_follow_up(message, expected):
    assert is_follow_up(message) is expected


def test_follow_up_query_carries_the_previous_exchange():
    q = standalone_query(ADAMS)
    assert q.startswith("Which university is he from?")
    assert "mechanical engineering" in q and "Ryan Adams" in q
    assert "[1]" not in q


def test_standalone_message_is_searched_alone():
    turns = [*ADAMS[:2], Turn("user", "Which two file systems make up ScaleFS?")]
    assert standalone_query(turns) == "Which two file systems make up ScaleFS?"


def test_follow_up_retrieves_the_topic_of_the_conversation(retriever):
    turns = [
        Turn("user", "What did Bryan Catanzaro say about the V100 GPU's tensor cores?"),
        Turn("assistant", "The V100 has 640 tensor cores [1]."),
        Turn("user", "And what interconnect bandwidth did he quote for it?"),
    ]
    alone = retriever.search(turns[-1].content, 5)
    with_history = retriever.search(standalone_query(turns), 5)
    assert all("Bryan Catanzaro" not in h.chunk.section for h in alone)
    assert "Bryan Catanzaro" in with_history[0].chunk.section
    assert "300GB" in with_history[0].chunk.text


def test_fit_history_keeps_recent_turns_within_budget():
    turns = [
        Turn("system", "Answer like a pirate."),
        Turn("user", "one two three"),
        Turn("assistant", "four five [2]"),
        Turn("user", "six seven"),
        Turn("assistant", "eight"),
        Turn("user", "nine?"),
    ]

    def words(text: str) -> int:
        return len(text.split())

    everything = fit_history(turns, words, 100)
    assert [m["role"] for m in everything] == ["user", "assistant", "user", "assistant"]
    assert everything[1]["content"] == "four five"  # markers of old answers dropped
    recent = fit_history(turns, words, 12)  # room for two turns (+4 each)
    assert recent == [
        {"role": "user", "content": "six seven"},
        {"role": "assistant", "content": "eight"},
    ]
    assert fit_history(turns, words, 0) == []


def test_history_never_starts_with_an_assistant_turn():
    turns = [Turn("user", "a b c d e f g h"), Turn("assistant", "x"), Turn("user", "y")]
    assert fit_history(turns, lambda t: len(t.split()), 5) == []


def test_caller_instructions_are_the_system_messages():
    turns = [Turn("system", "Be brief."), Turn("user", "q"), Turn("system", " Use bullets. ")]
    assert caller_instructions(turns) == "Be brief.\nUse bullets."


@pytest.mark.parametrize(
    ("turns", "needle"),
    [
        ([], "must not be empty"),
        ([Turn("system", "hi")], "user message"),
        ([Turn("user", "q"), Turn("assistant", "a")], "last message"),
        ([Turn("user", "x" * 101)], "limit is 100"),
    ],
)
def test_validate_turns_says_what_is_wrong(turns, needle):
    with pytest.raises(InvalidQuery, match=needle):
        validate_turns(turns, 100)


def test_lone_surrogates_are_invalid():
    with pytest.raises(InvalidQuery, match="not valid Unicode"):
        validate_turns([Turn("user", "what is \ud800?")], 100)
