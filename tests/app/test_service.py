"""What the shopper is told, decided from retrieval evidence (real store, real `small` model)."""

from __future__ import annotations

import re

import pytest

from app.understanding import Turn, parse
from tests.conftest import BUNDLED_KB, catalog_of, product_source

pytestmark = pytest.mark.llm


def test_a_brand_the_shop_does_not_sell_gets_a_plain_none_and_labelled_alternatives(assistant):
    answer = assistant.ask("Can you recommend some running shoes from Gucci?")
    assert answer.answer.startswith(
        "Unfortunately, we do not have any running shoes from Gucci at the moment."
    )
    assert "alternatives" in answer.answer
    assert answer.sources and all(s.tags.get("type_running_shoe") for s in answer.sources)
    assert answer.timings.tokens == 0  # decided without the model
    # Flagged for the owner's page, grouped by what was asked for, not by its wording.
    assert (answer.outcome, answer.wanted) == ("none", "running shoes from Gucci")


def test_constraints_that_match_nothing_say_so_in_the_shoppers_words(assistant):
    answer = assistant.ask("Do you have girls' hiking boots under £5?")
    assert answer.answer.startswith(
        "Unfortunately, we do not have any girls' hiking boots under £5 at the moment."
    )


def test_every_product_source_meets_the_stated_constraints(assistant):
    question = "Any sandals for girls under £40?"
    found, constraints = assistant.search(question)
    assert constraints == parse(question, assistant.retriever.catalog())
    assert found.sources
    for source in found.sources:
        assert source.tags.get("type_sandal") and source.tags.get("for_girls")
        assert source.price_min is not None and source.price_min <= 40


def test_an_unanswerable_policy_question_says_so_and_points_to_contact_details(assistant):
    answer = assistant.ask("What is the name of the shop manager's cat?")
    assert answer.answer.startswith("I'm sorry, I don't know")
    assert answer.sources and answer.sources[0].kind == "document"
    assert re.search(r"0161|help@", answer.sources[0].text)


def test_cheaper_follow_up_keeps_the_constraints_and_lowers_the_price(assistant):
    first, _ = assistant.search("What walking boots do you have?")
    cheapest_before = min(s.price_min for s in first.sources if s.price_min is not None)
    earlier = assistant.replay([{"role": "user", "content": "What walking boots do you have?"}])
    found, constraints = assistant.search("cheaper ones?", earlier)
    assert constraints.types == ["walking_boot"] and constraints.upper == cheapest_before
    index = assistant.retriever.index()
    cheaper = [
        m
        for m in index.metadatas
        if m.get("type_walking_boot") and m.get("price_min", 1e9) < cheapest_before
    ]
    assert found.matched == len(cheaper)
    assert all(s.price_min < cheapest_before for s in found.sources)
    assert all(s.tags.get("type_walking_boot") for s in found.sources)


def test_a_long_conversation_never_overflows_the_context(assistant):
    long_turn = Turn(
        question="Tell me about your walking boots. " * 30,
        answer="We have lovely walking boots. " * 60,
    )
    answer = assistant.ask("And what about sandals?", [long_turn] * 12)
    assert answer.answer


def test_a_no_that_the_evidence_contradicts_becomes_a_listing():
    from app.service import REFUSAL, listing_answer

    boot = product_source(2, "Bramble Edale Walking Boots", 64.99)
    assert REFUSAL.search("No, I don't have waterproof walking boots under £90.")
    catalog = catalog_of(BUNDLED_KB)
    text = listing_answer(parse("walking boots under £90", catalog), [boot], catalog.shop)
    assert text == (
        "Yes, we have walking boots under £90.\nHere are some you might like:\n"
        "- Bramble Edale Walking Boots, £64.99 [2]"
    )
    lead = "Yes, we have waterproof walking boots under £90."
    listed = listing_answer(parse("boots", catalog), [boot], catalog.shop, lead)
    assert listed.startswith(lead + "\n")


def test_while_one_answer_is_written_the_next_shopper_gets_sources_at_once_and_a_place(assistant):
    writing = assistant.stream("How long do I have to return shoes?")
    next(writing)  # its sources
    assert next(writing).answer  # its first words: it holds the model now
    waiting = assistant.stream("Any sandals for girls?")
    shown = next(waiting)
    assert shown.sources and not shown.answer  # sources without waiting for the model
    assert next(waiting).ahead == 1  # then, while it waits: one answer ahead of it
    writing.close()  # that shopper left mid-answer: the model is free again
    *_, final = waiting
    assert final.answer and final.ahead == 0
