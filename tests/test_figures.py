"""Figures the service compares itself (``rag.answer.figures``), on invented text."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rag.answer.figures import comparison_note, figures


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("The ferry was out of service for 31 days.", [("31 days", "31", "day")]),
        (
            "Refitting both would cost about 6.2 million euros.",
            [("6.2 million euros", "6200000", "€")],
        ),
        ("Extra spending came to €286,000.", [("€286,000", "286000", "€")]),
        ("The grant was EUR 86,000 in total.", [("EUR 86,000", "86000", "€")]),
        ("Fibre reached 45% of homes.", [("45%", "45", "%")]),
        ("The hall reached 36.8 °C.", [("36.8 °C", "36.8", "°c")]),
        ("It opened on 18 July 2023, or July 18.", []),  # dates are no figures
        ("Volunteers transcribed 1,200 pages.", [("1,200 pages", "1200", "page")]),
    ],
)
def test_figures_are_read_with_their_units(text, found):
    got = [(f.text, f.value, f.unit) for f in figures(text)]
    assert got == [(t, Decimal(v), u) for t, v, u in found]


def test_two_figures_in_one_unit_are_compared():
    note = comparison_note(
        [
            "The Tarnby ferry was out of action for 31 days [1].",
            "The Ostrand tram for 41 days [2].",
        ],
        ["Which was out of action longer: the Tarnby ferry, or the Ostrand tram?"],
    )
    assert note == "(Compared by the service: 41 days is more than 31 days, by 10 days.)"


@pytest.mark.parametrize(
    ("texts", "difference"),
    [
        (
            ["The lease costs 0.9 million euros.", "The pilot cost 86,000 euros."],
            "by 814,000 euros",
        ),
        (["Fares brought €92.7 million.", "The levy brought €14.9 million."], "by €77.8 million"),
        (["Tarnby grew by 4.1%.", "Ostrand grew by 7%."], "by 2.9 percentage points"),
        (["It peaked at 36.8 °C.", "The limit is 35 °C."], "by 1.8 °C"),
    ],
)
def test_a_difference_is_written_like_its_figures(texts, difference):
    assert difference in comparison_note(texts, [])


@pytest.mark.parametrize(
    "texts",
    [
        ["Volunteers transcribed 1,200 pages.", "The city plans 1,400 street trees."],  # units
        ["The survey had 311 responses."],  # one figure
        ["The survey had 311, 412 and 980 responses over three years."],  # three
    ],
)
def test_figures_that_cannot_be_compared_get_no_note(texts):
    assert comparison_note(texts, []) == ""


def test_figures_the_question_gives_are_not_compared():
    # the question's own "3 days" is a condition, not one of the two figures asked for
    texts = ["The ferry was late on 3 days, for 14 hours in all.", "The tram for 9 hours."]
    note = comparison_note(texts, ["Over the 3 days, which was delayed longer?"])
    assert note == "(Compared by the service: 14 hours is more than 9 hours, by 5 hours.)"
