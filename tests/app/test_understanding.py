"""Reading what a shopper asked for, in the words of the shop that was ingested.

Each shop's vocabulary is learned from its own files (the bundled shop and three fixture
shops with other columns, goods and currencies), exactly as `make ingest` learns it; no
encoder or store is needed to read a question.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.understanding import Catalog, Shown, Turn, parse, understand
from tests.conftest import BUNDLED_KB, SHOPS, catalog_of


def read(question: str, kb: Path = BUNDLED_KB) -> dict:
    return parse(question, catalog_of(kb)).model_dump(exclude_defaults=True, exclude={"currency"})


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Can you recommend some running shoes from Velocita under £80?",
            {"brands": ["Velocita"], "types": ["running_shoe"], "price_max": 80.0},
        ),
        ("Any sandals for girls?", {"types": ["sandal"], "audience": "girls"}),
        ("Any flip-flops for girls?", {"types": ["flip_flop"], "audience": "girls"}),
        (
            "sneakers between £40 and £80",
            {"types": ["trainer"], "price_min": 40.0, "price_max": 80.0},
        ),
        ("slippers for less than 100 pounds", {"types": ["slipper"], "price_max": 100.0}),
        (
            "waterproof walking boots under £90",
            {"types": ["walking_boot"], "price_max": 90.0, "attributes": ["waterproof"]},
        ),
        ("wellies for boys", {"types": ["wellington_boot"], "audience": "boys"}),
        ("cheapest sunbay sandals", {"brands": ["Sunbay"], "types": ["sandal"], "by_price": True}),
        ("trailmastr boots", {"brands": ["Trailmaster"], "types": ["boot"]}),
        (
            "Any Gucci running shoes?",
            {"unknown_brands": ["Gucci"], "types": ["running_shoe"]},
        ),
        ("Do you deliver to Ireland?", {}),
        ("How long do I have to return shoes?", {"named": ["shoe"]}),
    ],
)
def test_the_bundled_shop_reads_its_own_words(question, expected):
    assert read(question) == expected


def test_the_none_message_uses_the_shoppers_constraint_words():
    catalog = catalog_of(BUNDLED_KB)
    constraints = parse("Any Gucci running shoes for women under £80?", catalog)
    assert constraints.describe(catalog.shop) == "women's running shoes from Gucci under £80"


@pytest.mark.parametrize(
    ("shop", "question", "expected"),
    [
        # A watch shop, in dollars, with its own column names and a profile.
        ("watches", "Do you have Tissot watches?", {"unknown_brands": ["Tissot"]}),
        ("watches", "a running watch under $200", {"types": ["running_watch"], "high": 200}),
        ("watches", "any straps below 30 dollars", {"types": ["strap"], "high": 30}),
        ("watches", "dive watches for women", {"types": ["dive"], "audience": "women"}),
        # A furniture shop in euros with no profile: real search queries of such a shop.
        ("furniture", "grill cover 73", {"types": ["grill_cover"]}),
        ("furniture", "ladies rocker recliner", {"types": ["recliner"]}),
        ("furniture", "couch under 500 euros", {"types": ["sofa"], "high": 500}),
        (
            "furniture",
            "oak coffee table below 1.299,00 €",
            {"types": ["coffee_table"], "high": 1299},
        ),
        # A tea shop priced in yen.
        ("tea", "green tea under 2000 yen", {"types": ["green_tea"], "high": 2000}),
        ("tea", "matcha under ¥3,000", {"types": ["matcha"], "high": 3000}),
    ],
)
def test_other_shops_read_questions_in_their_own_words(shop, question, expected):
    got = parse(question, catalog_of(SHOPS / shop))
    assert got.types == expected.get("types", [])
    assert got.audience == expected.get("audience")
    assert got.unknown_brands == expected.get("unknown_brands", [])
    assert got.price_max == expected.get("high")
    assert not got.brands


def test_goods_of_one_shop_are_not_read_with_another_shops_words():
    # "running" and "runners" mean shoes in a shoe shop, a watch or a rug elsewhere.
    assert parse("a running watch", catalog_of(SHOPS / "watches")).types == ["running_watch"]
    assert parse("rug with runners", catalog_of(SHOPS / "furniture")).types == ["runner"]
    assert not parse("hallway rug", catalog_of(SHOPS / "furniture")).audience


def test_a_price_in_another_currency_is_not_compared_silently():
    tea = catalog_of(SHOPS / "tea")
    got = parse("oolong under $20", tea)
    assert got.price_max is None and "JPY" in got.notes[0]
    assert parse("sencha under 2000 yen", tea).describe(tea.shop) == "sencha under ¥2,000"


def test_a_knowledge_base_of_documents_alone_reads_no_product_filters(tmp_path):
    (tmp_path / "pay.md").write_text("# Pay\nEngineers earn a salary under $80,000 a year.\n")
    documents = catalog_of(tmp_path)
    assert not documents.sells_products
    for question in ("Is the salary under $80,000?", "What is the annual marketing budget?"):
        assert not parse(question, documents).about_products
    assert parse("slippers under £30", catalog_of(BUNDLED_KB)).price_max == 30.0


def test_a_bare_audience_word_is_loose_and_a_clear_one_is_not():
    assert parse("ladies slippers", catalog_of(BUNDLED_KB)).loose == ["audience"]
    assert parse("slippers for women", catalog_of(BUNDLED_KB)).loose == []
    assert parse("women's slippers", catalog_of(BUNDLED_KB)).loose == []


def _after(question: str, catalog: Catalog, shown: list[Shown] | None = None) -> list[Turn]:
    """A conversation of one product turn, as the service would have recorded it."""
    request = understand(question, [], catalog)
    return [
        Turn(
            question=question,
            topic="products",
            query=request.query,
            constraints=request.constraints,
            shown=shown or [],
        )
    ]


def test_follow_ups_carry_constraints_over():
    catalog = catalog_of(BUNDLED_KB)
    earlier = _after("Do you have Sunbay sandals for women?", catalog)

    def read_on(question: str) -> dict:
        constraints = understand(question, earlier, catalog).constraints
        return constraints.model_dump(exclude_defaults=True, exclude={"currency"})

    assert read_on("and for kids?") == {
        "brands": ["Sunbay"],
        "types": ["sandal"],
        "audience": "kids",
    }
    assert read_on("Do they come in black?")["attributes"] == ["black"]
    assert read_on("what about in black?")["types"] == ["sandal"]
    assert read_on("only for girls")["audience"] == "girls"


SHOWN = [
    Shown(id="a", title="Bracken Walking Boots", price_min=80.5, price_max=80.5),
    Shown(id="b", title="Edale Walking Boots", price_min=60.0, price_max=75.5),
    Shown(id="c", title="Fellside Walking Boots", price_min=99.0, price_max=99.0),
]


def test_comparatives_move_from_what_was_shown_and_say_it_as_a_person_would():
    catalog = catalog_of(BUNDLED_KB)
    earlier = _after("Any walking boots under £100?", catalog, SHOWN)
    cheaper = understand("cheaper ones?", earlier, catalog).constraints
    assert cheaper.cheaper_than == 60.0 and cheaper.types == ["walking_boot"]
    assert cheaper.describe(catalog.shop) == "walking boots cheaper than the £60 one"
    dearer = understand("Show me more expensive ones", earlier, catalog).constraints
    assert dearer.pricier_than == 99.0 and dearer.price_max is None


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Tell me more about the second one", ["b"]),
        ("I like the last one", ["c"]),
        ("compare the first two", ["a", "b"]),
        ("which is cheaper, the first or the third?", ["a", "c"]),
        ("the cheaper of the two", ["b"]),
        ("what colour is that one?", ["a"]),
    ],
)
def test_references_point_at_the_products_shown(question, expected):
    catalog = catalog_of(BUNDLED_KB)
    request = understand(question, _after("Any walking boots?", catalog, SHOWN), catalog)
    assert request.pinned == expected and request.kind == "reference"


def test_a_brand_the_shop_lacks_as_a_follow_up_keeps_the_rest():
    catalog = catalog_of(BUNDLED_KB)
    earlier = _after("Do you have Stridewell walking boots?", catalog)
    switched = understand("What about from Salomon?", earlier, catalog).constraints
    assert switched.unknown_brands == ["Salomon"] and not switched.brands
    assert switched.describe(catalog.shop) == "walking boots from Salomon"


def test_a_new_product_or_a_policy_question_starts_afresh():
    catalog = catalog_of(BUNDLED_KB)
    earlier = _after("Do you have Sunbay sandals for women?", catalog)
    fresh = understand("Any hiking boots?", earlier, catalog).constraints
    assert fresh.types == ["hiking_boot"] and not fresh.brands and not fresh.audience
    policy = understand("How long do I have to return shoes?", earlier, catalog)
    assert not policy.constraints.hard


def test_a_narrower_type_or_a_brand_alone_narrows():
    catalog = catalog_of(BUNDLED_KB)
    earlier = _after("Any running shoes for men?", catalog)
    trail = understand("only trail ones", earlier, catalog).constraints
    assert trail.types == ["trail_running_shoe"] and trail.audience == "men"
    earlier = _after("Do you have walking boots for men?", catalog)
    brand = understand("and from Trailmaster?", earlier, catalog).constraints
    assert brand.model_dump(exclude_defaults=True) == {
        "brands": ["Trailmaster"],
        "types": ["walking_boot"],
        "audience": "men",
    }
    assert understand("Trailmaster hiking boots?", earlier, catalog).constraints.types == [
        "hiking_boot"
    ]


def test_the_longest_brand_name_wins():
    catalog = Catalog(brands={"hugo": "HUGO", "boss": "BOSS", "hugo boss": "Hugo Boss"})
    assert parse("things from Hugo Boss", catalog).brands == ["Hugo Boss"]
    assert parse("BOSS things", catalog).brands == ["BOSS"]


# A shop that prices in two currencies (EUR, most of its products, and CHF): with no rate to
# convert with, amounts in one are never compared with amounts in the other.
HELMETS = [
    Shown(id="giro", title="Giro Trail Helmet", price_min=120.0, price_max=120.0, currency="CHF"),
    Shown(
        id="alpina", title="Alpina Gravel Helmet", price_min=89.0, price_max=89.0, currency="EUR"
    ),
    Shown(id="abus", title="Abus City Helmet", price_min=45.0, price_max=45.0, currency="CHF"),
]


def _helmet(price: float, currency: str) -> dict:
    return {
        "kind": "product",
        "type_helmet": True,
        "price_min": price,
        "price_max": price,
        "currency": currency,
    }


def test_a_follow_up_bound_carries_the_currency_of_the_products_it_moves_from():
    catalog = catalog_of(SHOPS / "cycling")
    earlier = _after("Any helmets?", catalog, HELMETS)
    cheaper = understand("cheaper ones?", earlier, catalog).constraints
    # Below the cheapest one shown in the shop's own currency, not below CHF 45 read as 45.
    assert (cheaper.cheaper_than, cheaper.currency) == (89.0, "EUR")
    assert cheaper.describe(catalog.shop) == "helmets cheaper than the €89 one"
    assert cheaper.admits(_helmet(59.0, "EUR")) and not cheaper.admits(_helmet(45.0, "CHF"))
    only_francs = _after("Any helmets?", catalog, HELMETS[:1])
    cheaper = understand("cheaper ones?", only_francs, catalog).constraints
    assert cheaper.describe(catalog.shop) == "helmets cheaper than the CHF 120 one"
    assert cheaper.admits(_helmet(45.0, "CHF")) and not cheaper.admits(_helmet(89.0, "EUR"))
    dearer = understand("more expensive ones?", earlier, catalog).constraints
    assert (dearer.pricier_than, dearer.currency) == (89.0, "EUR")
    assert not dearer.admits(_helmet(120.0, "CHF"))


def test_the_cheaper_of_two_in_different_currencies_is_not_decided_by_raw_numbers():
    catalog = catalog_of(SHOPS / "cycling")
    two = _after("Any helmets?", catalog, HELMETS[1:])
    request = understand("the cheaper of the two", two, catalog)
    # Both are shown, each in its own currency, and the shopper is told why none is picked.
    assert request.pinned == ["alpina", "abus"] and request.kind == "reference"
    assert request.constraints.notes == [
        "These are priced in different currencies (CHF and EUR), and I have no exchange rate "
        "to compare them with."
    ]
    francs = _after("Any helmets?", catalog, HELMETS[::2])
    same = understand("the cheaper of the two", francs, catalog)
    assert same.pinned == ["abus"] and not same.constraints.notes


def _weighed(weight: float | None) -> dict:
    return {"kind": "product", "type_helmet": True, "weight_g": weight}


def test_lighter_and_heavier_move_from_the_weights_shown():
    catalog = catalog_of(SHOPS / "cycling")
    shown = [h.model_copy(update={"weight_g": w}) for h, w in zip(HELMETS, (380, 290, 400))]
    earlier = _after("Any helmets?", catalog, shown)
    lighter = understand("lighter ones?", earlier, catalog).constraints
    assert lighter.types == ["helmet"] and lighter.lighter_than == 290
    assert lighter.describe(catalog.shop) == "helmets lighter than the 290 g one"
    assert lighter.admits(_weighed(250)) and not lighter.admits(_weighed(290))
    assert not lighter.admits(_weighed(None))  # a product that lists no weight is not lighter
    heavier = understand("anything heavier?", earlier, catalog).constraints
    assert heavier.heavier_than == 400 and heavier.admits(_weighed(450))
    # A shade is not a weight; products that list no weight are not compared.
    assert understand("in a lighter colour?", earlier, catalog).constraints.lighter_than is None
    unweighed = understand("lighter ones?", _after("Any helmets?", catalog, HELMETS), catalog)
    assert unweighed.constraints.lighter_than is None
    assert "list no weight" in unweighed.constraints.notes[0]


def test_a_weight_in_the_question_is_a_bound_not_a_price():
    catalog = catalog_of(SHOPS / "cycling")
    asked = parse("helmets under 300 g", catalog)
    assert (asked.weight_max, asked.upper) == (300.0, None)
    assert asked.admits(_weighed(300)) and not asked.admits(_weighed(350))
    assert asked.describe(catalog.shop) == "helmets under 300 g"
    assert parse("locks over 1 kg", catalog).weight_min == 1000.0
