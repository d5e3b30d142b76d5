"""A claim must agree with its evidence sentence, not just share its words
(``rag/grounding/agreement.py``); on invented text."""

from __future__ import annotations

import pytest

from rag.grounding.agreement import compares_with_itself, reverses
from rag.grounding.verification import Verifier
from rag.types import Chunk, Hit

FASTER = "Keldrith is three times faster than Vantorre on the Ormsgate benchmark."


def test_a_thing_compared_with_itself_says_nothing():
    assert compares_with_itself(
        "Cooling the Vantorre hall drew about 3x less power compared to Vantorre."
    )
    assert compares_with_itself("Keldrith is faster than the Keldrith.")
    # another thing, or the same thing at another time or in another property, is a comparison
    assert not compares_with_itself(
        "Cooling the Vantorre hall drew 3x less power compared to Keldrith."
    )
    assert not compares_with_itself("Vantorre used less power in 2024 than Vantorre in 2023.")
    assert not compares_with_itself("Vantorre's latency was lower than Vantorre's last year.")
    assert not compares_with_itself("Vantorre was cheaper than expected.")


def test_a_comparison_stated_the_other_way_round_is_reversed():
    assert reverses("Vantorre is three times faster than Keldrith.", FASTER)  # sides swapped
    assert reverses("Keldrith is slower than Vantorre.", FASTER)  # the opposite word
    # both swapped says the same thing; the same statement agrees
    assert not reverses("Vantorre is three times slower than Keldrith.", FASTER)
    assert not reverses("Keldrith is three times faster than Vantorre.", FASTER)
    assert reverses(
        "Cooling Vantorre drew 3x less power than Keldrith.",
        "Cooling Keldrith drew 3x less power than Vantorre did.",
    )
    assert not reverses(
        "Vantorre drew 3x less power than Keldrith.",
        "Keldrith drew 3x more power than Vantorre.",
    )


def test_other_comparisons_are_not_judged():
    # other names, another scale, or sides that are not names
    assert not reverses("Sorbelle is faster than Ormsgate.", FASTER)
    assert not reverses("Vantorre is cheaper than Keldrith.", FASTER)
    assert not reverses("Sparse models are faster than dense ones.", "Dense ones are faster.")
    assert not reverses("Vantorre is fast.", FASTER)


@pytest.fixture(scope="module")
def verifier(embedder) -> Verifier:
    return Verifier(embedder, threshold=0.5)


def _hit(text: str) -> Hit:
    return Hit(Chunk("bench.md", ("Ormsgate results",), text, 0, len(text)), 0.5, 1)


def test_verification_refuses_a_reversed_or_self_comparison(verifier):
    """Each shares every word of its evidence sentence: without the check both pass."""
    hit = _hit("Ormsgate results\n" + FASTER + " Both ran on the same rack.")
    [reversed_] = verifier.check("Vantorre is three times faster than Keldrith [1].", [hit])
    [itself] = verifier.check("Keldrith is three times faster than Keldrith [1].", [hit])
    [right] = verifier.check("Keldrith is three times faster than Vantorre [1].", [hit])
    assert right.supported and right.citation is not None
    assert not reversed_.supported and not itself.supported
