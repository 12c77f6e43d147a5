"""Catalog rows in both real shapes become Products with the right fields."""

from __future__ import annotations

import csv
import json
import random

import pytest

from ingest.catalog import clean_brand, load_catalog, parse_breadcrumbs, parse_price, to_product
from tests.conftest import BUNDLED_KB, SHOES_CSV, needs_shared_data


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("£50.00", (50.0, 50.0, "GBP")),
        ("£49.57 - £234.95", (49.57, 234.95, "GBP")),
        ("£1,299.00", (1299.0, 1299.0, "GBP")),
        ("", (None, None, None)),
        ("No data.", (None, None, None)),
        (None, (None, None, None)),
    ],
)
def test_prices_as_real_catalogs_write_them(raw, expected):
    assert parse_price(raw) == expected


def test_brand_store_banners_and_placeholders():
    assert clean_brand("Visit the Geox Store") == "Geox"
    assert clean_brand("Brand: Fila") == "Fila"
    assert clean_brand("Unknown") is None
    assert clean_brand("Dr. Martens") == "Dr. Martens"


def test_breadcrumbs_become_a_category_path():
    assert parse_breadcrumbs("Shoes › Men's Shoes › Boots") == ["Shoes", "Men's Shoes", "Boots"]
    assert parse_breadcrumbs(["Shoes", "", "Sandals"]) == ["Shoes", "Sandals"]
    assert parse_breadcrumbs("") == []


def test_crawl_feeds_row():
    product = to_product(
        {
            "url": "https://shop.example/dp/B0TEST1234",
            "title": "Northfell Men's Ridge Boot",
            "price": "£39.99 - £64.99",
            "brand": "Visit the Northfell Store",
            "product_details": {"Outer Material": "Leather", "Closure": "Lace-Up"},
            "breadcrumbs": "Shoes › Men's Shoes › Boots",
            "images_list": ["https://img.example/1.jpg"],
            "features": ["Waterproof membrane"],
        },
        "catalog.json",
    )
    assert product.asin == "B0TEST1234"  # taken from the URL when the column is missing
    assert (product.brand, product.price_min, product.price_max) == ("Northfell", 39.99, 64.99)
    assert product.category_leaf == "Boots"
    assert "Outer Material: Leather" in product.text()
    assert product.to_chunk().metadata()["brand_key"] == "northfell"


def test_bad_rows_are_reported_and_good_rows_kept():
    text = json.dumps([{"title": "Good shoe", "price": "£10"}, {"price": "£5"}, "oops"])
    products, problems = load_catalog(text, ".json", "c.json")
    assert [p.title for p in products] == ["Good shoe"]
    assert [(p.where, p.reason) for p in problems] == [
        ("item 2", "no title"),
        ("item 3", "malformed row"),
    ]


def test_bundled_catalog_has_typed_varied_products():
    path = BUNDLED_KB / "catalog" / "products.json"
    products, problems = load_catalog(path.read_text(), ".json", "catalog/products.json")
    assert problems == []
    assert len(products) >= 300
    assert len({p.brand for p in products}) >= 15
    assert all(p.brand and not p.brand.startswith("Visit the") for p in products)
    assert any(p.price_min is None for p in products)
    assert any(p.price_max and p.price_max > p.price_min for p in products if p.price_min)
    assert len({p.asin for p in products}) == len(products)


@needs_shared_data()
def test_real_csv_rows_match_the_source():
    rows = list(csv.DictReader(SHOES_CSV.open(encoding="utf-8")))
    products, problems = load_catalog(SHOES_CSV.read_text(), ".csv", SHOES_CSV.name)
    assert problems == [] and len(products) == len(rows) == 997
    for i in random.Random(3).sample(range(len(rows)), 60):
        row, product = rows[i], products[i]
        assert product.asin == row["url"].rstrip("/").rsplit("/", 1)[-1]
        if row["price"]:
            prices = [
                float(p.strip().lstrip("£").replace(",", "")) for p in row["price"].split("-")
            ]
            assert (product.price_min, product.price_max) == (min(prices), max(prices))
        else:
            assert product.price_min is None and product.price_max is None
        if row["brand"].startswith("Visit the "):
            assert product.brand == row["brand"][len("Visit the ") : -len(" Store")]
        if row["sub_category"]:
            assert product.category_path == [row["category"], row["sub_category"]]
    assert sum(p.brand == "Geox" for p in products) == sum(
        r["brand"] in ("Geox", "Visit the Geox Store") for r in rows
    )


def test_other_catalog_shapes_via_a_column_mapping():
    text = "name,cost,maker,link\nHarbour Deck Shoe,£35.00,Visit the Sunbay Store,https://x/dp/B0DECK0001\n"
    products, problems = load_catalog(
        text,
        ".csv",
        "other.csv",
        {"title": "name", "price": "cost", "brand": "maker", "url": "link"},
    )
    assert problems == []
    (product,) = products
    assert (product.title, product.price_min, product.brand, product.asin) == (
        "Harbour Deck Shoe",
        35.0,
        "Sunbay",
        "B0DECK0001",
    )


def test_ragged_csv_rows_are_reported_by_row():
    text = "title,price\nGood Boot,£40.00\nBad Boot,£1,extra,cells\n"
    products, problems = load_catalog(text, ".csv", "c.csv")
    assert [p.title for p in products] == ["Good Boot"]
    assert [(p.where, p.reason) for p in problems] == [
        ("row 3", "4 cells where the header has 2 columns")
    ]


def test_a_row_read_on_its_own_finds_its_columns_by_name():
    product = to_product(
        {
            "Product Name": "Quay Rain Jacket",
            "Sale Price": "$79.00",
            "RRP": "$99.00",
            "Long Description": "A packable <b>waterproof</b> shell.",
            "Colour": "Yellow",
        },
        "jackets.jsonl",
    )
    assert (product.title, product.price_min, product.currency) == ("Quay Rain Jacket", 79, "USD")
    assert product.description == "A packable waterproof shell."  # markup dropped
    assert product.details == {"Colour": "Yellow", "List price": "$99.00"}
    lines = product.text().splitlines()
    assert lines.index("A packable waterproof shell.") == lines.index("Price: $79.00") + 1
