"""Retrieval over the ingested bundled knowledge base (real encoder, real Chroma)."""

from __future__ import annotations

import json

from app.retrieval import Retriever
from tests.conftest import BUNDLED_KB


def test_a_product_title_finds_that_product_first(bundled_store, bundled_settings, embedder):
    store, _ = bundled_store
    products = json.loads((BUNDLED_KB / "catalog" / "products.json").read_text())
    retriever = Retriever(embedder, store, bundled_settings)
    for product in products[:: len(products) // 8][:8]:
        sources = retriever.retrieve(product["title"], k=5)
        assert sources[0].asin == product["asin"], product["title"]
        assert [s.n for s in sources] == [1, 2, 3, 4, 5]


def test_policy_question_finds_the_returns_document(bundled_store, bundled_settings, embedder):
    store, _ = bundled_store
    sources = Retriever(embedder, store, bundled_settings).retrieve(
        "How long do I have to return shoes?"
    )
    assert sources[0].kind == "document"
    assert "return" in sources[0].source


def test_only_names_the_shop_does_not_sell_count_as_unknown_brands(
    bundled_store, bundled_settings, embedder
):
    """Shop words ("Men's", "Sneakers", "other brands") are not brands the shop lacks."""
    from app.understanding import parse

    store, _ = bundled_store
    catalog = Retriever(embedder, store, bundled_settings).catalog()
    shop_words = ("Men's slippers", "Sneakers for kids under £30", "Do you repair other brands?")
    for question in shop_words:
        assert parse(question, catalog).unknown_brands == [], question
    assert parse("Any Balenciaga sandals?", catalog).unknown_brands == ["Balenciaga"]
