"""The grounding policy's principles, each on text that is not from the seed reports."""

from __future__ import annotations

import numpy as np
import pytest

from rag.grounding.agreement import figure_of_another
from rag.grounding.citations import sentence_spans
from rag.grounding.kinds import (
    asks_amount,
    asks_measure,
    asks_name,
    other_measure,
    rebind_count,
    states_amount,
    states_asked_name,
    year_from_text,
)
from rag.grounding.policy import (
    absent_names,
    claim_requirements,
    evidence_lacks,
    is_refusal,
    leading_clauses,
    linked,
    question_constraints,
    restates_heading,
    states_money,
    states_name,
)
from rag.grounding.terms import (
    contains_term,
    key_terms,
    name_phrases,
    normalize_figures,
    written_as_name,
)
from rag.grounding.verification import Verifier
from rag.index.store import Store
from rag.types import Chunk, Hit

TABLE = (
    "2.3 Latency results\n"
    "| Server | p50 ms | Cost per 1k |\n"
    "| Ricasso | 41 | 0.31 |\n"
    "| Parquetry Serve | 55 | 0.22 |\n"
    "Ricasso does not provide GPU support on the Fennmarsh cluster.\n"
)


def _hit(text: str, path: tuple[str, ...] = ("Evaluation", "2.3 Latency results")) -> Hit:
    return Hit(Chunk("eval.txt", path, text, 0, len(text)), 0.5, 1)


def test_figures_match_in_any_spelling():
    assert normalize_figures("1,450 requests, 3× faster, two sites, 40 percent") == (
        "1450 requests, 3x faster, 2 sites, 40%"
    )
    assert contains_term("served 1,450 requests", "1450")
    assert contains_term("is 3× faster", "3x")
    assert contains_term("across two sites", "2")
    assert contains_term("cut by 40 percent", "40%")
    assert not contains_term("served 1,450 requests", "145")


def test_a_figures_magnitude_matches_in_any_spelling():
    """ "€1.16m" is "€1.16 million": an answer copying the passage's figure was refused
    because "1.16" was not found in "1.16m"."""
    passage = "The expected annual spend under that arrangement is €1.16m, about 9 % less."
    need = claim_requirements("Spending is expected to be €1.16m a year.")
    assert "€1.16m" in need
    assert not evidence_lacks(passage, need)
    assert not evidence_lacks("The expected annual spend is €1.16 million.", need)
    assert evidence_lacks("The expected annual spend is €1.17m.", need)
    assert contains_term(passage, "1.16") and contains_term("a budget of 2bn", "2 billion")
    assert not contains_term("12 H100 nodes", "100")  # a model name is no magnitude


def test_names_are_found_with_accents_and_modifiers():
    assert key_terms("Did Chloë Mercière propose a Merganser-like gateway?") == [
        "Chloë",
        "Mercière",
        "Merganser",
    ]
    assert contains_term("proposed by Chloë Mercière", "Mercière")
    assert not contains_term("proposed by Zoe Lefevre", "Mercière")


def test_every_figure_and_name_of_a_claim_must_be_in_its_evidence():
    need = claim_requirements("Ricasso's p50 is 41 ms and it costs 0.45.")
    assert {"Ricasso", "41 ms", "0.45"} <= set(need)
    # the neighbour row's value and a number from nowhere are both caught
    assert evidence_lacks(TABLE, need) == ("0.45",)
    # names the question gives are checked against the question's evidence instead
    assert "Ricasso" not in claim_requirements("Ricasso costs 0.31.", "What does Ricasso cost?")


def test_question_constraints_and_absent_names():
    assert question_constraints("What was the p50 of Ricasso in the 2025 evaluation?") == [
        "p50",
        "Ricasso",
        "2025",
    ]
    text = "Ricasso and Parquetry Serve were compared."
    assert absent_names("Was Ricasso faster than Mistwood?", lambda t: contains_term(text, t)) == [
        "Mistwood"
    ]


def test_a_refusal_speaks_about_the_sources_a_negative_claim_does_not():
    assert is_refusal("The passages do not mention Ricasso's GPU memory.")
    assert is_refusal("The reports don't cover this.")
    assert is_refusal("No information is given about the rollout date.")
    assert is_refusal("This is not specified in the provided passages.")
    assert not is_refusal("Ricasso does not provide GPU support on the Fennmarsh cluster [1].")
    assert not is_refusal("Parquetry Serve was not tested with Magpiro-3B.")


def test_an_amount_question_needs_an_amount_formulas_count():
    assert asks_amount("How many hot keys does the switch cache?")
    assert states_amount("It caches O(N log N) of the hottest keys.", "How many keys?")
    assert states_amount("Seven members voted for it.", "How many members voted?")
    assert not states_amount("Members voted for the proposal.", "How many members voted?")


def test_qualifiers_are_never_cut_off():
    assert leading_clauses("Ricasso cut latency by 30%, but only for batches under 8") == []
    assert leading_clauses("Ricasso cut p50 latency, which means users wait less") == [
        "Ricasso cut p50 latency"
    ]
    assert leading_clauses("Ricasso cut latency, which helped (only for small batches)") == []


def test_sentences_split_unicode_text_correctly():
    text = "Dr. Ümran Aykın et al. chose Ricasso, e.g. for cost. Jørgen Bræmer disagreed."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Dr. Ümran Aykın et al. chose Ricasso, e.g. for cost.",
        "Jørgen Bræmer disagreed.",
    ]


def test_document_metadata_holds_its_dated_headings():
    chunks = [
        Chunk("r.txt", ("Board Minutes",), "Board Minutes\nThe board met.", 0, 28),
        Chunk("r.txt", ("Board Minutes", "Vote of 12 June 2025"), "Seven voted for.", 30, 46),
        Chunk("r.txt", ("Board Minutes", "Actions"), "Chloë owns the rollout.", 48, 69),
    ]
    store = Store.from_vectors(chunks, np.zeros((3, 4), dtype=np.float32), {})
    assert "12 June 2025" in store.metadata["r.txt"]
    assert "2025" in store.context(chunks[2])  # a year any passage of the document may use


@pytest.fixture(scope="module")
def verifier(embedder) -> Verifier:
    return Verifier(embedder, threshold=0.5)


def test_a_wrong_table_value_is_not_shown(verifier):
    hit = _hit(TABLE)
    checks = verifier.check("Ricasso has a p50 of 41 ms and costs 0.45 per 1k [1].", [hit])
    assert not any(c.supported for c in checks)
    [ok] = verifier.check("Ricasso has a p50 of 41 ms [1].", [hit])
    assert ok.supported and ok.citation is not None and "41" in ok.citation.quote


def test_a_negative_statement_is_checked_like_any_claim(verifier):
    [check] = verifier.check(
        "Ricasso does not provide GPU support on Fennmarsh [1].", [_hit(TABLE)]
    )
    assert check.supported


def test_a_sentence_restating_a_heading_answers_nothing(verifier):
    """An item made of the passage's heading words says what the passage is about,
    not what it says (principle 5); a word a line states is a claim like any other."""
    path = ("Tarnby Air Report", "3. Air Quality", "3.2 Compliance with emission limits")
    text = "Of 400 readings, six exceeded a limit: nitrogen dioxide (four) and ozone (two)."
    hit = Hit(Chunk("air.txt", path, text, 0, len(text)), 0.5, 1)
    q = "Which limits did Tarnby's failed air readings exceed?"
    heading = "- Air Quality > 3.2 Compliance with emission limits [1]"
    [restated] = verifier.check(heading, [hit], question=q)
    assert not restated.supported
    [item] = verifier.check("- Nitrogen dioxide, four readings [1]", [hit], question=q)
    assert item.supported
    heads = [{"air", "quality", "ozone"}]
    assert restates_heading({"air", "quality"}, set(), heads, [{"ozone"}])
    # a heading word a line also states ("ozone") is an answer, not a restatement
    assert not restates_heading({"ozone"}, set(), heads, [{"ozone", "two"}])


def test_a_figure_written_as_money_needs_money_in_its_evidence():
    """ "€2,450" is not "2,450 passengers": the figure is there, the money is not."""
    need = claim_requirements("The Tarnby shuttle cost €2,450 to run.", "What did it cost?")
    assert "€2,450" in need
    assert evidence_lacks("The Tarnby shuttle carried 2,450 passengers.", need) == ("€2,450",)
    assert not evidence_lacks("The Tarnby shuttle cost 2,450 euros in all.", need)
    table = "| Item | Cost (€) |\n| --- | --- |\n| Tarnby shuttle | 2,450 |"
    assert states_money(table, "2450")  # the currency is in the column label
    assert not states_money("| Route | Riders |\n| --- | --- |\n| Tarnby | 2,450 |", "2450")


def test_a_constraint_may_be_met_in_the_other_report_the_answer_went_through():
    def hit(source: str, text: str) -> Hit:
        return Hit(Chunk(source, ("R",), text, 0, len(text)), 0.5, 1)

    board = hit("library.txt", "(c) Dr Inès Valtonen, representing the School of Geography;")
    cruise = hit("cruise.txt", "Cruise OS12 report. Chief scientist: Dr Inès Valtonen.")
    other = hit("cruise.txt", "The winch failed twice on leg 2.")
    same = hit("library.txt", "Cruise OS12 data are archived in the library.")
    assert linked([board], [board, cruise, other, same]) == [cruise]
    assert linked([cruise], [board, cruise]) == [board]
    assert linked([other], [board, cruise, other]) == []  # no name in common


def test_an_amount_must_count_what_was_asked():
    q = "How many people attended the Fennmarsh summit?"
    assert not states_amount("- 212 talks submitted, 40 talks accepted", q)
    assert states_amount("About 1,450 people attended [1].", q)
    assert states_amount("1,450 attended in person [1].", q)
    money = "How much did the Merganser migration cost?"
    assert not states_amount("It took 3 sprints and 2x more hosts.", money)
    assert states_amount("It cost €48,000 in total.", money)
    # "per drone" says something about each drone, not how many there were
    drones = "How many drones were in the Osprey fleet?"
    assert not states_amount("The fleet flew 40 km per drone, with 2 batteries each.", drones)
    assert states_amount("The fleet had 12 drones, flying 40 km per drone.", drones)
    assert states_amount("Twelve drones flew [1].", drones)
    # a bare number before "per X" is a rate, not a count of anything
    assert not states_amount("They used a 5 GHz link and 3 per drone.", drones)
    assert not states_amount("Osprey charged 4 per drone over a 900 MHz band.", drones)
    assert states_amount("Osprey flew 9 drones, charged 4 per drone.", drones)


def test_a_reference_number_is_not_an_amount():
    drones = "How many drones were in the Osprey fleet?"
    assert not states_amount("Range was 40 km per drone (see Sec. 7.1 for the test field).", drones)
    assert not states_amount("Batteries lasted 3 hours each, as Fig. 4 and Table 2 show.", drones)
    assert not states_amount("Osprey flew in fog [12].", drones)
    assert states_amount("Osprey flew 9 drones (see Sec. 7.1).", drones)


def test_a_question_asking_for_a_name_or_year_needs_one():
    q = "Which datasets were used to evaluate the Parquetry ranker?"
    assert asks_name(q) == "name"
    assert not states_asked_name("The datasets used to evaluate it were mixed types.", q, "name")
    assert not states_asked_name("The Parquetry ranker was evaluated on datasets.", q, "name")
    assert states_asked_name("It was evaluated on MS MARCO and TREC-COVID.", q, "name")
    assert states_asked_name("Łucjan Wójcik's team built it.", "Who built Ricasso?", "name")
    assert asks_name("Which university is Jørgen Bræmer from?") == "name"
    # a one-word name is a name too, wherever it stands in the sentence
    q = "Which university is Jørgen Bræmer from?"
    assert states_asked_name("Jørgen Bræmer is from Univ of Aarhus, Denmark.", q, "name")
    assert states_asked_name("Jørgen Bræmer is from Aarhus.", q, "name")
    assert not states_asked_name("Jørgen Bræmer is from a university.", q, "name")
    assert states_asked_name("It was built by Kranwerk.", "Which company built K-7?", "name")
    assert asks_name("In which year did Fennmarsh open its lab?") == "year"
    assert states_asked_name("It opened in 2019.", "In which year did Fennmarsh open?", "year")
    assert not states_asked_name("Fennmarsh opened after 2 reviews.", "In which year?", "year")
    # descriptions answer "which model/method/system": no name needed
    for q in ("Which model predicts the placement?", "What method does Ricasso use?"):
        assert asks_name(q) == ""


def test_a_name_given_as_an_answer_is_written_as_a_name_in_its_evidence():
    """A name is capitalised where it is named; a common phrase the model capitalised
    ("Mobile Harbour" for the crane type "Mobile harbour") names no maker."""
    assert name_phrases("K-7 was built by Mobile Harbour in 2021.") == ["K-7", "Mobile Harbour"]
    assert name_phrases("Dr. Íde Ní Bhaoill chairs it; Port of Ålvik pays.") == [
        "Dr. Íde Ní Bhaoill",
        "Port",
        "Ålvik",
    ]
    table = (
        "Crane   Berth        Type             Built\nK-7     Ålvik Pier   Mobile harbour   2021\n"
    )
    assert not written_as_name(table, "Mobile Harbour")
    assert written_as_name("Present: Dr Íde Ní Bhaoill (chair).", "Dr. Íde Ní Bhaoill")
    q = "Who manufactured crane K-7?"
    assert states_asked_name("K-7 was manufactured by Mobile Harbour in 2021.", q, "name")
    assert not states_asked_name("K-7 was made by Mobile Harbour in 2021.", q, "name", table)
    supplier = table + "All cranes were supplied by Kranwerk Nord.\n"
    assert states_asked_name("Kranwerk Nord supplied K-7.", q, "name", supplier)


def test_coordinate_clauses_are_separate_claims():
    from rag.grounding.policy import coordinate_clauses

    assert coordinate_clauses("Merganser runs on Hatchetfish, and it was rebuilt in 2024.") == [
        "Merganser runs on Hatchetfish",
        "It was rebuilt in 2024.",
    ]
    assert coordinate_clauses("Ricasso is fast, but only for small batches") == [
        "Ricasso is fast",
        "But only for small batches",
    ]
    assert coordinate_clauses("Ricasso and Parquetry are fast") == [
        "Ricasso and Parquetry are fast"
    ]


def test_a_compound_claim_is_supported_by_two_places(verifier):
    first = _hit("Merganser terminates TLS for every public endpoint.\n", ("Review", "Merganser"))
    second = _hit("Hatchetfish hosts the gateway on 40 nodes.\n", ("Review", "Hatchetfish"))
    second = Hit(second.chunk, 0.4, 2)
    checks = verifier.check(
        "Merganser terminates TLS for every public endpoint, and Hatchetfish hosts the "
        "gateway [1].",
        [first, second],
    )
    assert [c.supported for c in checks] == [True, True]
    assert [c.citation.n for c in checks] == [1, 2]


def test_question_parts():
    from rag.answer.asks import question_parts, retrieval_queries

    assert question_parts(
        "In Chloë's review, what does Ricasso do, and which cluster runs it?"
    ) == [
        "In Chloë's review, what does Ricasso do?",
        "Which cluster runs it?",
    ]
    assert question_parts("At the 2025 board meeting, which proposal won?") == [
        "At the 2025 board meeting, which proposal won?"
    ]
    assert question_parts("What are the pros and cons of Ricasso, Parquetry and Magpiro?") == [
        "What are the pros and cons of Ricasso, Parquetry and Magpiro?"
    ]
    assert retrieval_queries("What is Ricasso? Who built it?") == [
        "What is Ricasso?",
        "Who built it? Ricasso",
    ]
    assert retrieval_queries(" ,; ") == [" ,; "]  # nothing to split: searched as it is


def test_a_choice_between_two_things_searches_for_each():
    from rag.answer.asks import question_parts, retrieval_queries

    q = "Which opened first: the Tarnby ferry terminal, or the Ostrand Grid's new control room?"
    # each side is a question of its own, searched on its own: the date of each
    sides = [
        "When did it open: the Tarnby ferry terminal?",
        "When did it open: the Ostrand Grid's new control room?",
    ]
    assert question_parts(q) == sides and retrieval_queries(q) == sides


@pytest.mark.parametrize(
    ("question", "sides"),
    [
        (
            "Which was shut longer: the Tarnby ferry terminal while its ramp was rebuilt, "
            "or the Ostrand substation after the flood?",
            [
                "How long was it shut: the Tarnby ferry terminal while its ramp was rebuilt?",
                "How long was it shut: the Ostrand substation after the flood?",
            ],
        ),
        (
            "Which cost more, Lantern's security audit or the Merganser gateway rebuild?",
            [
                "How much did it cost: Lantern's security audit?",
                "How much did it cost: the Merganser gateway rebuild?",
            ],
        ),
        (
            "Which had more members: the Tarnby rowing club or the Ostrand choir?",
            [
                "How many members did it have: the Tarnby rowing club?",
                "How many members did it have: the Ostrand choir?",
            ],
        ),
        (
            "Which is the larger sum: the Tarnby ferry subsidy, or the Ostrand grid levy?",
            ["What is the Tarnby ferry subsidy?", "What is the Ostrand grid levy?"],
        ),
        (
            "Between the share of Tarnby homes on fibre and the share of Ostrand homes "
            "on fibre, which percentage is higher?",
            [
                "What is the share of Tarnby homes on fibre?",
                "What is the share of Ostrand homes on fibre?",
            ],
        ),
        (
            "By how many hours did the Tarnby ferry delay exceed the Ostrand power cut?",
            ["What was the Tarnby ferry delay?", "What was the Ostrand power cut?"],
        ),
        (
            "How many more passengers did the Tarnby ferry carry than the Ostrand tram?",
            [
                "How many passengers did the Tarnby ferry carry?",
                "How many: the Ostrand tram?",
            ],
        ),
        (  # "than the pilot did": the verb of the first side is the second's too
            "How much more would a year of Lantern's lease cost than the Merganser pilot did?",
            [
                "How much would a year of Lantern's lease cost?",
                "How much did the Merganser pilot cost?",
            ],
        ),
        (
            "What was the difference between the Tarnby fare revenue and the Ostrand subsidy?",
            ["What was the Tarnby fare revenue?", "What was the Ostrand subsidy?"],
        ),
        ("Which is faster, red or blue?", []),  # short sides: no figures to look for
        ("Which sampling methods was Ricasso compared against?", []),
        ("How many cranes does Velmar have, and who built them?", []),
    ],
)
def test_a_comparison_of_two_figures_asks_for_each(question, sides):
    from rag.answer.asks import compared_figures

    assert compared_figures(question) == sides


def test_what_a_question_about_two_things_asks_of_each():
    from rag.answer.asks import report_clause

    q = (
        "Which was shut longer: the Tarnby ferry terminal while its ramp was rebuilt, "
        "or the Ostrand Grid's substation at Brackley after the flood?"
    )
    tarnby, ostrand = ["tarnby", "ferry", "ramp"], ["ostrand", "substation", "hollin"]
    assert (
        report_clause(q, tarnby, ostrand) == "the Tarnby ferry terminal while its ramp was rebuilt"
    )
    assert (
        report_clause(q, ostrand, tarnby)
        == "the Ostrand Grid's substation at Brackley after the flood"
    )
    # "than", "and" and commas turn from one thing to the other as well
    q = "How much more did Lantern's audit cost than the Merganser gateway rebuild?"
    assert report_clause(q, ["merganser"], ["lantern's"]) == "the Merganser gateway rebuild"
    # one thing asked of both: no piece is about either alone
    q = "By how much did Lantern's audit bill exceed the total cost of the Merganser rebuild?"
    assert report_clause(q, ["merganser", "rebuild"], ["lantern's"]) == ""


def test_what_ties_a_line_to_another_report():
    from rag.grounding.terms import link_terms

    line = (
        "On 9 March Inès Valtonen moved route Z7 of Ostrand Grid, about 40 % of the load, "
        "to Level 3 after the Present forecast."
    )
    # names of two words, codes and dates; not a bare figure, a percentage or one
    # capitalised word ("Level", "Present")
    assert link_terms(line) == ["Inès Valtonen", "Z7", "Ostrand Grid", "9 March"]


def test_a_part_no_sentence_answers_is_named(embedder):
    from rag.answer.asks import question_parts, unanswered_parts

    def similarity(a, b):
        return embedder.encode(a) @ embedder.encode(b).T

    parts = question_parts("Which team owns Merganser, and how many nodes does Hatchetfish have?")
    assert len(parts) == 2
    answered = ["The edge team under Chloë Mercière owns Merganser."]
    assert unanswered_parts(parts, answered, similarity) == [parts[1]]
    both = [*answered, "Hatchetfish has 40 nodes."]
    assert unanswered_parts(parts, both, similarity) == []
    assert question_parts("What do the notes on 'Where we are, and where we go?' say?") == [
        "What do the notes on 'Where we are, and where we go?' say?"
    ]
    # a part asking for a name is not answered by a sentence that merely names its subject
    # (close in meaning, 0.7 cosine, but no name: it is about the operations, not who)
    parts = question_parts(
        "How fast is Ricasso, and who designed Ricasso's two integer operations?"
    )
    said = ["Ricasso uses only two integer operations: add and right-shift."]
    assert unanswered_parts(parts, said, similarity)[-1:] == [parts[1]]
    more = [*said, "Jørgen Bræmer designed them in 2019."]
    assert parts[1] not in unanswered_parts(parts, more, similarity)
    # when a part names nothing, a sentence naming the shared subject does not answer it
    parts = question_parts(
        "How many containers does the Velmar harbour handle, and who built its cranes?"
    )
    said = ["Ostrander Heavy Works built the Velmar cranes in 2019."]
    assert unanswered_parts(parts, said, similarity) == [parts[0]]


def test_a_name_is_unknown_only_if_no_spelling_of_it_is_indexed():
    from rag.grounding.policy import unknown_names

    vocabulary = {"merganser", "lanternfish", "quillon", "issac"}
    text = "Merganser and Hatchetfish were reviewed; Project Issac was paused."
    found = lambda t: contains_term(text, t)  # noqa: E731
    q = "What did the Merganser review say about Mistwood, Isaac and its DSL?"
    names = absent_names(q, lambda t: False)
    # Isaac: one typo from "Issac"; DSL: an acronym beside a known name; Mistwood: unknown
    assert unknown_names(names, found, vocabulary) == ["Mistwood"]
    assert unknown_names(["DSL"], found, vocabulary) == ["DSL"]  # alone, it must be found


def test_an_acronym_is_stated_where_the_evidence_writes_it_out():
    """Principle 1 and 2: a question's "DSL" is met by a passage saying "domain-specific
    language"; the initials must be consecutive words ("of", "and" may sit between)."""
    passage = "Ferrow compiles a domain-specific language for routing plans to bytecode."
    assert states_name(passage, "DSL")
    assert evidence_lacks(passage, ["DSL"]) == ()
    assert states_name("the Bureau of Harbour Statistics", "BHS")
    assert not states_name("a domain language for routing", "DSL")  # no S word between
    assert not states_name(passage, "DSA")
    assert evidence_lacks(passage, ["RPB"]) == ()  # "routing plans to bytecode"
    assert evidence_lacks(passage, ["RPC"]) == ("RPC",)


def test_a_year_asked_for_comes_from_the_text_not_the_reports_title():
    """Principle 3: a report's title dates the event reported ("Harbour Expo 2019"), not
    what was presented there; a heading's year counts when the heading names what the
    question asks about."""
    q = "In which year did Ostrander release the Kelso crane controller?"
    heads = ("Harbour Expo 2019", "Talk by Ostrander")
    body = "Ostrander showed the Kelso crane controller and its fog mode."
    assert not year_from_text("2019.", q, body, heads)
    assert year_from_text("It came out in 2016.", q, body + " It shipped in 2016.", heads)
    assert year_from_text("2018.", q, body, ("Harbour Expo 2019", "Kelso controller (2018)"))
    # the event's own year, asked about the event, is in the heading that names it
    assert year_from_text("2019.", "In which year was the Harbour Expo held?", "", heads)


def _refusal_of(invented, folder, name: str, doc: str):
    """A function (question, draft) -> the pipeline's refusal reason for that draft
    ("" when it stands), over an index of one invented document; no model is loaded."""
    from rag.answer.drafts import Drafts
    from rag.serving.pipeline import Pipeline

    s, retriever = invented(folder, {name: doc})
    pipeline = Pipeline(s, retriever, None)  # type: ignore[arg-type]

    def verdict(question: str, draft: str) -> str:
        drafts = Drafts(
            pipeline.verifier, retriever.store, question, question, retriever.search(question, 2)
        )
        list(drafts.feed(draft, final=True))
        return drafts.refusal_reason

    return verdict


# (document, question, draft, what the refusal reason says; "" when the draft stands):
# answers of the wrong kind refused through the pipeline's own rules, next to a right one
WRONG_KIND = {
    "a which-year answer from the report's title (principle 3)": (
        "expo.md",
        "# Harbour Expo 2019\n\n## Talk by Ostrander\n\n"
        "Ostrander presented the Kelso crane controller and its fog mode.\n\n"
        "## Talk by Pimtendyar\n\nBrightwater launched the Tamsin tug in 2016.\n",
        [
            # as the 1.5B model wrote it
            (
                "In which year did Ostrander release the Kelso crane controller?",
                "2019 [1].",
                "asks for a year",
            ),
            (
                "In which year did Pimtendyar launch the Tamsin tug?",
                "Pimtendyar launched the Tamsin tug in 2016 [1].",
                "",
            ),
        ],
    ),
    "a who-answer naming a table cell, a crane type for its maker (principle 3)": (
        "fleet.txt",
        "Ålvik Harbour crane fleet\n=========================\n\n"
        "The harbour runs three cranes. Kranwerk Nord supplied K-5 in 2019.\n\n"
        "  Crane   Berth        Type             Built\n"
        "  K-5     Ålvik Pier   Ship-to-shore    2019\n"
        "  K-7     Ålvik Pier   Mobile harbour   2021\n",
        [
            (
                "Who manufactured crane K-7?",
                "K-7 was manufactured by Mobile Harbour in 2021 [1].",
                "asks for a name",
            ),
            ("Who supplied crane K-5?", "Kranwerk Nord supplied K-5 in 2019 [1].", ""),
        ],
    ),
    "a temperature answered with a depth (principle 3)": (
        "survey.txt",
        "Velmar survey 2024\n==================\n\n"
        "At buoy T4 the deepest sounding of the survey, 212 metres, was recorded. "
        "The water temperature at buoy T2 was 9.5 °C.\n",
        [
            (
                "What was the water temperature at buoy T4?",
                "The water temperature at buoy T4 was 212 metres [1].",
                "gives a length",
            ),
            (
                "What was the water temperature at buoy T2?",
                "The water temperature at buoy T2 was 9.5 °C [1].",
                "",
            ),
        ],
    ),
}


@pytest.mark.parametrize("case", list(WRONG_KIND))
def test_an_answer_of_the_wrong_kind_is_refused(invented, tmp_path, case):
    name, doc, checks = WRONG_KIND[case]
    verdict = _refusal_of(invented, tmp_path, name, doc)
    for question, draft, reason in checks:
        got = verdict(question, draft)
        assert (reason in got) if reason else got == "", (question, got)


def test_a_measured_quantity_is_given_in_its_own_units():
    """A temperature is not answered by a depth, a weight not by a duration (principle 3);
    a question naming no measure, or several, sets none."""
    q = "What was the water temperature at buoy T4 on the Velmar survey?"
    assert asks_measure(q) == "temperature"
    assert other_measure("The water temperature at buoy T4 was 212 metres.", q, "temperature")
    assert other_measure("It was 9.5 °C at 212 m depth.", q, "temperature") == ""
    assert other_measure("It was nine degrees.", q, "temperature") == ""
    assert other_measure("The buoy was serviced by Hafentechnik.", q, "temperature") == ""
    assert asks_measure("How much did the Velmar dredger weigh?") == "mass"
    assert other_measure("It was dredging for 6 weeks.", "How heavy was it?", "mass") == "duration"
    # a figure the question gives is not the answer's measure
    q = "How deep is the Velmar trough 3 km offshore?"
    assert other_measure("The trough is 212 metres deep 3 km offshore.", q, "length") == ""
    assert other_measure("The survey 3 km offshore took 2 days.", q, "length") == "duration"
    # "how long" and "how far" are a length or a time; "power" is often no measure
    for q in ("How long is the pier?", "How far in advance was the warning sent?"):
        assert asks_measure(q) == ""
    assert asks_measure("What was the depth and temperature at T4?") == ""


def test_a_compound_question_missing_its_amount_is_answered_in_part(invented, tmp_path):
    """A how-many question answered without an amount is refused; a compound one whose
    other part is answered is not: the amount part is asked again on its own or named
    as unanswered (the answer "15 box cores succeeded" failed verification, and the
    supported reason why five failed was refused with it)."""
    doc = (
        "Ålvik Harbour crane fleet\n=========================\n\n"
        "The harbour runs three cranes. They are serviced by Hafentechnik of Bremen.\n"
    )
    verdict = _refusal_of(invented, tmp_path, "fleet.txt", doc)
    serviced = "Hafentechnik of Bremen services the cranes [1]."
    assert "amount" in verdict("How many cranes does Hafentechnik service?", serviced)
    assert verdict("How many cranes does the harbour run, and who services them?", serviced) == ""


def test_a_figure_in_an_aligned_table_takes_its_unit_from_the_column_header():
    """ "41 days" is stated by a row whose "Days out" column holds 41, in a table
    aligned by spaces as much as in a pipe table; another column's unit is not."""
    table = (
        "Turbine   Model   Outage cause            Days out   Lost MWh\n"
        "  W-17      H90     Main bearing failure    41         1,150\n"
    )
    assert evidence_lacks(table, ["41 days", "1150 MWh"]) == ()
    assert evidence_lacks(table, ["41 weeks"]) == ("41 weeks",)


def test_a_verb_opening_a_sentence_before_a_code_is_not_a_name():
    assert key_terms("Refurbishing QC-1 would cost 6.2 million euros.") == ["QC-1", "6.2"]
    assert key_terms("Chloë Mercière refurbished it.")[:2] == ["Chloë", "Mercière"]


def test_terms_of_any_script_are_whole():
    from rag.index.lexical import tokenize

    assert "strømværk" in tokenize("the Strømværk study")
    assert "赵琳" in tokenize("赵琳 (Zhao Lin)")
    assert not {"mar", "al"} & set(tokenize("Marçal Duclos"))


def test_a_question_word_after_a_preposition_starts_a_part():
    from rag.answer.asks import question_parts

    q = "Which two crews staffed the Velmar dredger, and on which quay was it moored?"
    assert question_parts(q) == [
        "Which two crews staffed the Velmar dredger?",
        "On which quay was it moored?",
    ]
    assert len(question_parts("Why did the tug fail, and for how many days?")) == 2
    assert question_parts("What do Velmar and Ostrander have in common?") == [
        "What do Velmar and Ostrander have in common?"
    ]


def test_a_closing_why_is_a_part_answered_by_a_reason(embedder):
    """ "How long was X out, and why?" asks two things; the small model answered the
    first alone. The reason is a part of its own, answered by a sentence giving one."""
    from rag.answer.asks import question_parts, retrieval_queries, unanswered_parts

    def similarity(a, b):
        return embedder.encode(a) @ embedder.encode(b).T

    q = "How long was the Velmar dredger out of service, and why?"
    parts = question_parts(q)
    assert parts == ["How long was the Velmar dredger out of service?", "Why?"]
    assert retrieval_queries(q)[1] == "Why? Velmar"
    said = ["The Velmar dredger was out of service for 12 days."]
    assert unanswered_parts(parts, said, similarity) == ["Why?"]
    said.append("It was out because its winch cable snapped.")
    assert unanswered_parts(parts, said, similarity) == []
    assert question_parts("Why and how did the dredger fail?") == [
        "Why and how did the dredger fail?"
    ]


def test_a_note_on_an_unanswered_part_quotes_only_its_question():
    """A statement before the question is context, not what was asked: the gap note
    quotes the question alone; abbreviations and a colon do not cut it."""
    from rag.answer.asks import asked_sentence, question_parts

    q = "Ines Varga spoke at both expos. Which crane did she show in 2019, and who built it?"
    first = question_parts(q)[0]
    assert first.startswith("Ines Varga spoke")  # kept whole for retrieval and the model
    assert asked_sentence(first) == "Which crane did she show in 2019?"
    assert asked_sentence("What did Dr. Ó Baoill say?") == "What did Dr. Ó Baoill say?"
    assert (
        asked_sentence("Kelso won an award: who built it?") == "Kelso won an award: who built it?"
    )


def test_a_dotted_capital_i_is_a_letter_of_its_name():
    """Lower-cased, "İ" is "i" plus a combining dot, which no word pattern takes for a
    letter: "İpek" became "lkay" and was found nowhere, so every sentence naming Dr
    İpek Şener was unsupported, even quoted word for word."""
    from rag.index.lexical import tokenize

    hay = "Members: (c) Dr İpek Şener, School of Marine Studies; (d) Ömer Işık."
    claim = "Dr İpek Şener represented the School of Marine Studies."
    assert evidence_lacks(hay, claim_requirements(claim)) == ()
    assert contains_term(hay, "İpek Şener") and contains_term("IPEK SENER", "İpek")
    assert evidence_lacks(hay, ["İbrahim"]) == ("İbrahim",)
    assert "ipek" in tokenize(claim) and "pek" not in tokenize(claim)


def test_a_percentage_is_one_term_however_it_is_spaced(verifier):
    """ "grew by 7%" is what "up 7 % on the previous year" says: the spaced sign made
    "7%" a term the passage lacked, and the sentence fell below the threshold."""
    from rag.index.lexical import tokenize

    assert set(tokenize("up 7 % and 40 per cent")) >= {"7%", "40%"}
    text = "Ridership. Total boardings reached 9.8 million, up 7 % on the previous year."
    q = "How many boardings did Tarnby Buses record, and by how much did they grow?"
    [check] = verifier.check("They grew by 7% on the previous year [1].", [_hit(text)], {}, q)
    assert check.supported, check


def test_a_price_asked_without_how_much_needs_money():
    """ "What was the contract value of ...?" asks for money as "how much did it cost?"
    does: a count of the things bought ("12 depot chargers") is not a price."""
    q = "What was the contract value of the depot chargers Fennmarsh installed at Ålvik?"
    assert asks_amount(q)
    assert not states_amount("The contract value was 12 depot chargers of 150 kW each.", q)
    assert states_amount("The contract was worth €41,000.", q)
    assert states_amount("The actual total cost was 587,400 euros.", "What was the total cost?")
    for q in ("What is the cost model of Ricasso?", "What was the fare policy?"):
        assert not asks_amount(q)  # a cost model or a policy is not a price


def test_a_list_item_is_about_what_its_lead_in_says(verifier):
    """A claim echoing the question must come from a window about it; a list item is
    about its lead-in ("The review panel's members were:"), so the item naming Dr İpek
    Şener supports what the question asks of the panel, though the item alone shares no
    word with the question."""
    text = (
        "The review panel met four times. The review panel's members were:\n\n"
        "(a) Dr Anders Bræland, chair;\n"
        "(b) Dr İpek Şener, representing the School of Marine Studies;\n"
        "(c) a student nominated by the union.\n"
    )
    q = "Whom did the chief scientist of the Kittlaw cruise represent on the review panel?"
    claim = "Dr İpek Şener represented the School of Marine Studies on the review panel [1]."
    [check] = verifier.check(claim, [_hit(text, ("Close-out", "5. Governance"))], {}, q)
    assert check.supported and "(b)" in check.citation.quote
    unled = text.replace("The review panel's members were:", "Dates were set in May.")
    [check] = verifier.check(claim, [_hit(unled, ("Close-out", "5. Governance"))], {}, q)
    assert not check.supported  # nothing says the item is about the panel


# principle 3, on an invented spec sheet: one line lists several counts of several things
SPEC = "Merganser Q5 board\n12 lanes, 4096 cells 512 vector cells\nRetired: O(k log k) stale pages"


def test_a_misread_count_is_replaced_by_the_one_the_passage_binds():
    q = "How many vector cells does the Merganser Q5 board have?"
    assert (
        rebind_count("The Merganser Q5 board has 12 vector cells.", q, [SPEC])
        == "The Merganser Q5 board has 512 vector cells."
    )
    # a formula is a count too, and the counted words may follow "of the"
    q = "How many of the stale pages are retired?"
    assert rebind_count("It retires 30 stale pages.", q, [SPEC]) == (
        "It retires O(k log k) stale pages."
    )


def test_a_count_is_kept_when_the_passages_do_not_settle_it():
    q = "How many vector cells does the Merganser Q5 board have?"
    right = "The Merganser Q5 board has 512 vector cells."
    assert rebind_count(right, q, [SPEC]) == right
    # another board's count is not borrowed: the question's name is not in the passage
    other = "How many vector cells does the Merganser K7 board have?"
    wrong = "The Merganser K7 board has 12 vector cells."
    assert rebind_count(wrong, other, [SPEC]) == wrong
    # two passages giving two counts: the model's reading is not overruled
    two = [SPEC, "Merganser Q5 board, revision B: 640 vector cells"]
    assert rebind_count("It has 12 vector cells.", q, two) == "It has 12 vector cells."
    # "cells" alone is bound to 4096 only: "512 vector cells" counts other cells
    assert rebind_count("It has 9 cells.", "How many cells does it have?", [SPEC]) == (
        "It has 4096 cells."
    )
    # a sentence that binds no figure to the counted words, or a question counting nothing
    assert rebind_count("It has many vector cells.", q, [SPEC]) == "It has many vector cells."
    assert rebind_count("It has 12 lanes.", "What is the Q5?", [SPEC]) == "It has 12 lanes."


def test_a_figure_belongs_to_the_subject_its_clause_names():
    """Principle 4 on its own: a clause naming another subject binds its figure to it; a
    clause naming nothing, or only a month, or a subject the claim or question names,
    does not; a claim naming nothing is not judged."""
    window = (
        "In March, 45 hydrants were replaced. The Dunmore depot lost 12 vans, while "
        "the Ardee depot kept 30 vans."
    )
    q = "How many vans did the Ardee depot keep?"
    assert not figure_of_another("The Ardee depot kept 30 vans.", window, q)
    assert figure_of_another("The Ardee depot kept 12 vans.", window, q)
    q = "How many hydrants did Ostmark Water replace?"
    assert not figure_of_another("Ostmark Water replaced 45 hydrants.", window, q)
    assert not figure_of_another("They lost 12 vans.", window, "How many vans were lost?")
