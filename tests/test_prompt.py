"""The prompt's passage headers: what the model is told about where a passage is from."""

from __future__ import annotations

from rag.answer.prompt import build_messages, format_passages
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


def test_a_question_asking_for_several_things_is_asked_for_every_item():
    """Asked for "a sentence that states the answer", the small model gave the first
    item of a list and stopped; a question asking for several things asks for all."""
    from rag.answer.asks import asks_for_several
    from rag.answer.prompt import ANSWER_CUE, LIST_CUE

    several = [
        "What are the three stages of the Vellmar kiln?",
        "Which four risks did Sigrun Sæther's audit list?",
        "Which ferries does Havblik Line run to Ålvik?",
        "What safety measures did the Fennmarsh crews adopt?",
        "Which categories of spare parts are held at the depot?",
        "What does the harbour board recommend for next year?",
        "What main components does the Ricasso toolkit have?",
    ]
    one = [
        "What problem does Ricasso solve?",
        "What does Chorus do?",
        "What was the availability of crane K-4?",
        "Who chairs the steering group?",
        "What process does Fennmarsh use to cure its bricks?",
        "How many ferries does Havblik Line run?",
    ]
    assert all(asks_for_several(q) for q in several), [
        q for q in several if not asks_for_several(q)
    ]
    assert not any(asks_for_several(q) for q in one), [q for q in one if asks_for_several(q)]
    hits = [_hit("a.txt", ("Kiln",), "Drying, firing and cooling.", 1)]
    assert build_messages(several[0], hits)[-1]["content"].endswith(LIST_CUE)
    assert build_messages(one[0], hits)[-1]["content"].endswith(ANSWER_CUE)
    # one part of a compound question gets its own cue when asked on its own
    compound = "Which ferries does Havblik Line run, and who owns it?"
    assert build_messages(compound, hits)[-1]["content"].endswith(ANSWER_CUE)
    focused = build_messages(compound, hits, focus="Which ferries does Havblik Line run?")
    assert focused[-1]["content"].endswith(LIST_CUE)
