"""Reading what a shopper asked for, and carrying it over to follow-up questions."""

from __future__ import annotations

import pytest

from app.constraints import Catalog, parse, resolve

CATALOG = Catalog(
    brands={
        "asics": "ASICS",
        "geox": "Geox",
        "trailmaster": "Trailmaster",
        "alder & finch": "Alder & Finch",
    },
    vocabulary={"shoes", "running", "boots", "the", "for", "sandals", "under", "waterproof"},
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Can you recommend some running shoes from ASICS under £80?",
            {"brands": ["ASICS"], "types": ["running shoes"], "price_max": 80.0},
        ),
        ("Any sandals for girls?", {"types": ["sandals"], "audience": "girls"}),
        ("Any flip-flops for my daughter?", {"types": ["sandals"], "audience": "girls"}),
        (
            "sneakers between £40 and £80",
            {"types": ["trainers"], "price_min": 40.0, "price_max": 80.0},
        ),
        ("slippers for less than 100 pounds", {"types": ["slippers"], "price_max": 100.0}),
        (
            "waterproof walking boots under £90",
            {"types": ["walking boots"], "price_max": 90.0, "attributes": ["waterproof"]},
        ),
        ("cheapest geox sandals", {"brands": ["Geox"], "types": ["sandals"], "by_price": True}),
        ("trailmastr boots", {"brands": ["Trailmaster"], "types": ["boots"]}),
        ("Alder & Finch brogues", {"brands": ["Alder & Finch"], "types": ["formal shoes"]}),
        ("Any Gucci running shoes?", {"unknown_brands": ["Gucci"], "types": ["running shoes"]}),
        ("Do you deliver to Ireland?", {}),
        ("How long do I have to return shoes?", {}),
    ],
)
def test_constraints_from_questions(question, expected):
    assert parse(question, CATALOG).model_dump(exclude_defaults=True) == expected


def test_the_none_message_uses_the_shoppers_constraint_words():
    constraints = parse("Any Gucci running shoes for women under £80?", CATALOG)
    assert constraints.describe() == "women's running shoes from Gucci under £80"


def test_follow_ups_carry_constraints_over():
    earlier = ["Do you have Geox sandals for women?"]
    assert resolve("and for kids?", earlier, CATALOG).model_dump(exclude_defaults=True) == {
        "brands": ["Geox"],
        "types": ["sandals"],
        "audience": "kids",
    }
    cheaper = resolve("cheaper ones?", earlier, CATALOG)
    assert cheaper.by_price and cheaper.cheaper_than_before and cheaper.brands == ["Geox"]
    black = resolve("what about in black?", earlier, CATALOG)
    assert black.attributes == ["black"] and black.types == ["sandals"]


def test_a_new_product_or_a_policy_question_starts_afresh():
    earlier = ["Do you have Geox sandals for women?"]
    assert resolve("Any hiking boots?", earlier, CATALOG).model_dump(exclude_defaults=True) == {
        "types": ["hiking boots"]
    }
    assert not resolve("How long do I have to return shoes?", earlier, CATALOG).hard


def test_a_brand_follow_up_keeps_the_product_type():
    earlier = ["Do you have walking boots for men?"]
    assert resolve("and from Trailmaster?", earlier, CATALOG).model_dump(exclude_defaults=True) == {
        "brands": ["Trailmaster"],
        "types": ["walking boots"],
        "audience": "men",
    }
    assert resolve("Trailmaster boots?", earlier, CATALOG).types == ["boots"]


def test_the_longest_brand_name_wins():
    catalog = Catalog(brands={"hugo": "HUGO", "boss": "BOSS", "hugo boss": "Hugo Boss"})
    assert parse("trainers from Hugo Boss", catalog).brands == ["Hugo Boss"]
    assert parse("BOSS trainers", catalog).brands == ["BOSS"]
