"""Weights as shops and shoppers write them (cobbler/measures.py)."""

from __future__ import annotations

import pytest

from cobbler.measures import grams, product_weight, weight_bounds, weight_label


@pytest.mark.parametrize(
    ("text", "expected"),
    [("290 g", 290.0), ("1,2 kg", 1200.0), ("about 2 lbs", 907.184), ("12oz.", 340.194)],
)
def test_a_weight_is_read_in_grams(text, expected):
    assert grams(text) == pytest.approx(expected)


def test_words_that_only_start_like_a_unit_are_no_weight():
    assert grams("5 gears and 2 large bags") is None


def test_a_product_s_weight_is_the_detail_that_names_it():
    assert product_weight({"Colour": "Black", "Item Weight": "1.2 kg"}) == 1200.0
    assert product_weight({"Gewicht": "350 g"}) == 350.0
    assert product_weight({"Size": "M", "Pack": "350 g"}) == 350.0  # a detail that is a weight
    assert product_weight({"Weight": "Super lightweight"}) is None
    assert product_weight({"Care": "Wash at 30 g"}) is None  # a weight inside other words


def test_a_question_s_weight_bounds():
    assert weight_bounds("tents under 2 kg") == (None, 2000.0)
    assert weight_bounds("a pan at least 900g") == (900.0, None)
    # "100 pounds" in a question is money (cobbler.money), never a weight.
    assert weight_bounds("slippers for less than 100 pounds") == (None, None)


def test_grams_are_said_as_a_person_would():
    assert (weight_label(290.4), weight_label(1250)) == ("290 g", "1.25 kg")
