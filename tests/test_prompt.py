"""The prompt's passage headers: what the model is told about where a passage is from."""

from __future__ import annotations

from rag.prompt import build_messages, format_passages
from rag.types import Chunk, Hit


def _hit(source: str, section: tuple[str, ...], text: str, rank: int) -> Hit:
    return Hit(Chunk(source, section, text, 0, len(text)), 0.5, rank)


def test_reports_are_named_by_a_letter_in_order_of_appearance_not_by_file_name():
    hits = [
        _hit("017_a3f9c2e41b7d0e55.txt", ("Harbour review", "Cranes"), "Six cranes.", 1),
        _hit("902_77b0e1d9c4a2f318.txt", ("Fleet notes",), "Four tugs.", 2),
        _hit("017_a3f9c2e41b7d0e55.txt", ("Harbour review", "Fog"), "Fog in May.", 3),
        _hit("017_a3f9c2e41b7d0e55.txt", ("Harbour review", "Fog"), "Fog in June.", 4),
    ]
    text = format_passages(hits)
    assert "a3f9c2e41b7d0e55" not in text and "77b0e1d9" not in text  # ~18 tokens each
    heads = [line for line in text.splitlines() if line.startswith("[")]
    assert heads == [
        "[1] report A | section: Harbour review > Cranes",
        "[2] report B | section: Fleet notes",
        "[3] report A | section: Harbour review > Fog",
        "[4] same report and section",
    ]
    user = build_messages("How many cranes?", hits)[-1]["content"]
    assert user.index("[1] report A") < user.index("Question: How many cranes?")
