"""Hybrid retrieval with constraints over the real 997-product Amazon UK catalog."""

from __future__ import annotations

import shutil

import pytest

from app.retrieval import Retriever
from app.understanding import parse
from cobbler.store import Store, open_client
from ingest.pipeline import ingest
from tests.conftest import SHOES_CSV, make_settings, needs_shared_data

pytestmark = needs_shared_data()


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, embedder) -> Retriever:
    tmp = tmp_path_factory.mktemp("shoes")
    (tmp / "kb").mkdir()
    shutil.copy(SHOES_CSV, tmp / "kb" / SHOES_CSV.name)
    settings = make_settings(tmp, kb_dir=tmp / "kb")
    client = open_client(settings)
    ingest(settings, embedder, client)
    return Retriever(embedder, Store(client, settings.collection), settings)


@pytest.mark.parametrize(
    "question",
    [
        "Do you have Geox sandals for boys?",
        "Skechers trainers for women under £50",
        "Any running shoes from Salomon?",
        "slippers between £20 and £40",
        "cheapest walking boots",
    ],
)
def test_every_returned_product_meets_the_hard_constraints(retriever, question):
    constraints = parse(question, retriever.catalog())
    assert constraints.hard or constraints.by_price
    found = retriever.search(question, constraints, k=10)
    assert found.sources, question
    for source in found.sources:
        assert constraints.admits(source.metadata()), (question, source.title)


def test_store_banner_brands_are_matched_as_the_brand(retriever):
    assert "geox" in retriever.catalog().brands
    assert not any(k.startswith("visit the") for k in retriever.catalog().brands)


def test_a_brand_the_shop_does_not_sell_finds_nothing(retriever):
    constraints = parse("Any Gucci running shoes?", retriever.catalog())
    assert constraints.unknown_brands == ["Gucci"]
    assert retriever.search("Gucci running shoes", constraints).sources == []


def test_cheapest_sorts_by_price(retriever):
    constraints = parse("cheapest sandals", retriever.catalog())
    prices = [s.price_min for s in retriever.search("sandals", constraints).sources]
    assert prices == sorted(prices)


def test_product_codes_are_found_by_keyword(retriever):
    found = retriever.search("B08BLP231K").sources
    assert found[0].asin == "B08BLP231K"


def test_vectorised_keyword_scores_equal_rank_bm25s(retriever):
    from app.retrieval import tokenize

    index = retriever.index()
    tokens = tokenize("waterproof leather walking boots B08BLP231K size 9.5")
    assert index.bm25.get_scores(tokens) == pytest.approx(index.keyword_scores(tokens))
