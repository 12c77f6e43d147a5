"""Shops of other shapes, goods and currencies, end to end: ingested into a real Chroma store
with the real encoder, searched, and answered by the real `small` model."""

from __future__ import annotations

import re

import pytest

from app.retrieval import Retriever
from app.service import Assistant
from app.understanding import Shown, Turn
from cobbler.store import Store, open_client
from ingest.pipeline import ingest
from tests.conftest import SHOPS, make_settings


@pytest.fixture(scope="module")
def shops(tmp_path_factory, embedder):
    """Each fixture shop ingested once into its own store; no chat model."""
    built = {}
    for name in ("watches", "furniture", "tea", "cycling"):
        settings = make_settings(tmp_path_factory.mktemp(name), kb_dir=SHOPS / name)
        client = open_client(settings)
        report = ingest(settings, embedder, client)
        retriever = Retriever(embedder, Store(client, settings.collection), settings)
        built[name] = (Assistant(retriever, None, settings), report, settings)
    return built


def test_each_shop_reports_the_columns_it_read(shops):
    _, report, _ = shops["furniture"]
    mapping = report.catalogs["catalog/items.csv"]
    assert mapping["title"].startswith("item_title") and mapping["price"].startswith("selling")
    assert report.products == 31 and not report.skipped


def test_the_shop_is_learned_from_its_own_files(shops):
    watches = shops["watches"][0].retriever.catalog().shop
    assert watches.name == "Tick & Tock Watches" and watches.currency == "USD"
    furniture = shops["furniture"][0].retriever.catalog().shop
    assert furniture.profile.name is None and furniture.currency == "EUR"  # no profile
    assert "rugs" in (furniture.sells or "")  # its main departments, learned
    tea = shops["tea"][0].retriever.catalog().shop
    assert tea.currency == "JPY" and tea.currencies == {"JPY": 21}


@pytest.mark.parametrize(
    ("shop", "question", "check"),
    [
        ("watches", "a running watch under $200", lambda s: s.price_min <= 200),
        ("watches", "leather straps", lambda s: s.tags.get("type_leather")),
        ("furniture", "couch under 1.000 €", lambda s: s.tags.get("type_sofa")),
        ("furniture", "grill cover 73", lambda s: s.tags.get("type_grill_cover")),
        ("tea", "matcha under ¥3,000", lambda s: s.price_min <= 3000 and s.currency == "JPY"),
    ],
)
def test_every_product_found_meets_what_was_asked(shops, shop, question, check):
    assistant = shops[shop][0]
    found, constraints = assistant.search(question)
    assert found.sources, question
    products = [s for s in found.sources if s.kind == "product"]
    assert products and all(check(s) for s in products), [s.title for s in products]


def test_a_brand_the_shop_does_not_carry_is_an_honest_none_for_any_goods(shops):
    answer = shops["watches"][0].ask("Do you have Tissot watches?")
    assert answer.answer.startswith("Unfortunately, we do not have any watches from Tissot")
    assert "$" in answer.answer and "£" not in answer.answer  # alternatives in dollars


def test_a_price_in_a_currency_the_shop_does_not_use_is_not_applied(shops):
    answer = shops["tea"][0].ask("any oolong under $20?")
    assert "Our prices are in JPY" in answer.answer


def test_a_filter_the_shopper_did_not_clearly_ask_for_is_dropped_when_it_leaves_nothing(shops):
    assistant = shops["watches"][0]
    # "ladies" may only describe; the shop's dive watches are all in its men's department.
    found, request = assistant.plan("any ladies dive watches?")
    assert found.matched and not request.constraints.audience
    assert request.constraints.types == ["dive"]
    products = [s for s in found.sources if s.kind == "product"]
    assert products and all(s.tags.get("type_dive") for s in products)
    note = "I found no women's dive watches, so here is what I found for dive watches."
    assert request.constraints.notes == [note]
    assert assistant.ask("any ladies dive watches?").answer.startswith(note)  # no model
    # When it leaves something, it stays.
    found, request = assistant.plan("any ladies dress watches?")
    assert request.constraints.audience == "women" and not request.constraints.notes
    products = [s for s in found.sources if s.kind == "product"]
    assert products and all(s.tags.get("for_women") for s in products)


# The cycling shop prices in EUR (most of its products) and CHF, with no rate to convert with.
def _prices(sources) -> list[tuple[float, str]]:
    return [(s.price_min, s.currency) for s in sources if s.kind == "product"]


def test_the_cheapest_ranks_in_the_shops_currency_and_other_currencies_follow(shops):
    found, _ = shops["cycling"][0].search("the cheapest helmets")
    # Not CHF 45 first because 45 < 59: euros first, cheapest first, then francs.
    assert _prices(found.sources) == [(59.0, "EUR"), (89.0, "EUR"), (45.0, "CHF"), (120.0, "CHF")]
    found, _ = shops["cycling"][0].search("the cheapest helmets under 200 CHF")
    assert _prices(found.sources) == [(45.0, "CHF"), (120.0, "CHF")]


def test_cheaper_and_dearer_follow_ups_stay_in_the_currency_shown(shops):
    assistant = shops["cycling"][0]
    (turn,) = assistant.replay([{"role": "user", "content": "Any helmets?"}])

    def after(*shown: tuple[str, float, str]) -> list[Turn]:
        products = [Shown(id=t, title=t, price_min=p, currency=c) for t, p, c in shown]
        return [turn.model_copy(update={"shown": products})]

    # Below €89, not below CHF 45 read as 45.
    shown = after(("Alpina", 89, "EUR"), ("Abus", 45, "CHF"))
    assert _prices(assistant.search("cheaper ones?", shown)[0].sources) == [(59.0, "EUR")]
    # Above €59, and never CHF 120 read as 120.
    shown = after(("Uvex", 59, "EUR"), ("Abus", 45, "CHF"))
    assert _prices(assistant.search("more expensive?", shown)[0].sources) == [(89.0, "EUR")]


def test_lighter_ones_are_lighter_than_the_lightest_shown(shops):
    assistant = shops["cycling"][0]
    (turn,) = assistant.replay([{"role": "user", "content": "Any helmets?"}])
    assert {s.weight_g for s in turn.shown} == {290.0, 350.0, 380.0, 400.0}  # read at ingest
    shown = [s for s in turn.shown if s.weight_g in (350.0, 380.0)]
    found, _ = assistant.search("lighter ones?", [turn.model_copy(update={"shown": shown})])
    assert [s.title for s in found.sources if s.kind == "product"] == ["Alpina Gravel Helmet"]


@pytest.mark.llm
def test_the_model_answers_in_the_shops_currency(shops, small_model):
    assistant, _, settings = shops["watches"]
    with_model = Assistant(assistant.retriever, small_model, settings)
    answer = with_model.ask("Which GPS running watches do you sell?")
    assert answer.sources[0].kind == "product" and answer.sources[0].currency == "USD"
    assert "£" not in answer.answer
    # Every amount said is a product's own price in dollars (the checks hold any currency).
    known = {p for s in answer.sources for p in (s.price_min, s.price_max) if p is not None}
    said = {
        float(m.replace(",", "")) for m in re.findall(r"\$\s?(\d[\d,]*(?:\.\d+)?)", answer.answer)
    }
    assert said <= known, (answer.answer, known)
