"""Catalog columns are read by what they mean: any names, any shop, any currency."""

from __future__ import annotations

import json
import shutil

import pytest

from cobbler.store import open_client
from ingest.__main__ import main as ingest_main
from ingest.catalog import read_catalog
from ingest.columns import map_columns, role_by_name
from ingest.pipeline import ingest
from ingest.problems import SkipFile
from tests.conftest import BUNDLED_KB, ROOT, SHOES_CSV, make_settings, needs_shared_data

SHOPS = ROOT / "tests" / "fixtures" / "shops"


def _read(path, **kwargs):
    return read_catalog(path.read_text(encoding="utf-8"), path.suffix, path.name, **kwargs)


def _by_title(catalog):
    return {p.title: p for p in catalog.products}


# ---------------------------------------------------------------- the fixture shops


def test_watch_shop_jsonl_with_sale_and_list_prices_in_dollars():
    catalog = _read(SHOPS / "watches" / "catalog" / "watches.jsonl")
    assert catalog.problems == []
    assert catalog.mapping.report() == {
        "title": "ProductName",
        "price": "sale_price",
        "list_price": "list_price",
        "currency": "currency",
        "brand": "Brand Name",
        "description": "Description",
        "category": "Category Path",
        "url": "link",
        "image": "image",
        "attributes": "strap_material, colour",
    }
    products = _by_title(catalog)
    assert len(products) >= 25
    assert {p.brand for p in products.values()} == {"Seiko", "Casio", "Garmin", "Timex", "Citizen"}
    assert {p.currency for p in products.values()} == {"USD"}

    turtle = products["Seiko Prospex Turtle Automatic Dive Watch SRPE93"]
    assert (turtle.price_min, turtle.price_max) == (449.0, 449.0)  # the selling price
    assert turtle.details["List price"] == "$525.00"
    assert turtle.details["Strap material"] == "Silicone"
    assert turtle.category_path == ["Watches", "Men", "Dive"]
    assert turtle.image_url.endswith(".jpg") and turtle.url.startswith("https://")
    text = turtle.text()
    assert "LumiBrite" in text  # the description is searchable
    assert text.index("Price:") < text.index("LumiBrite") < text.index("Details:")

    not_discounted = products["Garmin Forerunner 165 GPS Running Watch"]
    no_list_price = products["Casio Duro MDV-107 Diver 200M"]
    assert "List price" not in not_discounted.details and "List price" not in no_list_price.details
    assert products["Garmin QuickFit 22 Silicone Band"].category_path == ["Straps", "Silicone"]


def test_furniture_shop_csv_with_euro_prices_and_attribute_columns():
    catalog = _read(SHOPS / "furniture" / "catalog" / "items.csv")
    assert catalog.problems == []
    assert catalog.mapping.report() == {
        "title": "item_title",
        "price": "selling_price",
        "category": "categories",
        "url": "product_url",
        "image": "img",
        "attributes": "material, color",
    }
    products = _by_title(catalog)
    assert len(products) >= 30
    assert {p.currency for p in products.values()} == {"EUR"}
    assert products["Oslo 3-Seater Sofa"].price_min == 1299.0  # "1.299,00 €"
    assert products["Kitchen Runner Rug Washable 60 x 180 cm"].price_min == 49.9
    recliner = products["Ladies Rocker Recliner"]
    assert recliner.category_path == ["Home", "Living Room", "Recliners"]
    assert recliner.details == {"Material": "Microfibre", "Color": "Dusky pink"}
    assert "Color: Dusky pink" in recliner.text()
    assert {"Hallway Runner Rug 80 x 300 cm", "Grill Cover 73 inch"} <= products.keys()
    assert products["Round Coffee Table, Marble Top"].details["Material"] == "Marble, steel"


def test_tea_shop_json_with_bare_yen_numbers():
    path = SHOPS / "tea" / "catalog" / "teas.json"
    catalog = _read(path)
    assert catalog.problems == []
    assert catalog.mapping.report() == {
        "title": "Product Title",
        "price": "cost",
        "brand": "maker",
        "description": "notes",
        "category": "type",
        "url": "url",
    }
    sencha = _by_title(catalog)["Uji Sencha Asanoka 100g"]
    assert (sencha.price_min, sencha.currency) == (1620.0, None)  # a bare number names none
    assert sencha.category_path == ["Green tea", "Sencha"]
    assert "70°C" in sencha.text()
    teapot = _by_title(catalog)["Tokoname Kyusu Teapot 300ml"]
    assert teapot.category_path == ["Teaware", "Teapots"]

    in_yen = _by_title(_read(path, currency="JPY"))  # the shop's own currency, when known
    assert {p.currency for p in in_yen.values()} == {"JPY"}
    assert in_yen["Uji Sencha Asanoka 100g"].price_label == "¥1,620"


def test_every_fixture_shop_has_a_policy_document():
    for shop in ("watches", "furniture", "tea"):
        docs = list((SHOPS / shop / "docs").glob("*.md"))
        assert len(docs) == 1 and "return" in docs[0].read_text().lower()


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("names", "role"),
    [
        (["ProductName", "item_title", "Product Title", "product-name", "name", "TITLE"], "title"),
        (["selling_price", "sale_price", "price", "cost", "Price (USD)", "Variant Price"], "price"),
        (["list_price", "original_price", "RRP", "msrp", "Compare At Price"], "list_price"),
        (["currency", "currency_code", "Currency Code"], "currency"),
        (["brand", "Brand Name", "manufacturer", "maker", "vendor"], "brand"),
        (["description", "desc", "body", "long_description", "notes", "summary"], "description"),
        (["Body (HTML)", "productDescription"], "description"),
        (["category", "categories", "Category Path", "breadcrumbs", "product_type"], "category"),
        (["type", "department"], "category"),
        (["sub_category", "SubCategory"], "sub_category"),
        (["url", "link", "product_url", "permalink"], "url"),
        (
            ["image", "img", "image_link", "images_list", "image_url", "picture", "imageURL"],
            "image",
        ),
        (["sku", "asin", "id", "product_id", "item_id", "code", "ProductID"], "id"),
        (["product_details", "details", "specs", "attributes", "metadata_features"], "details"),
        (["features", "bullet_points", "highlights"], "features"),
    ],
)
def test_column_names_in_any_case_and_separator(names, role):
    assert [(role_by_name(n) or ("none",))[0] for n in names] == [role] * len(names)


@pytest.mark.parametrize("name", ["material", "colour", "strap_material", "gender", "promotions"])
def test_ordinary_attribute_names_have_no_role(name):
    assert role_by_name(name) is None


def test_a_plain_price_beside_a_sale_price_is_the_list_price():
    rows = [
        {"title": "Desk Lamp", "price": "$40.00", "sale_price": "$30.00"},
        {"title": "Floor Lamp", "price": "$90.00", "sale_price": ""},  # not on sale
    ]
    mapping = map_columns(list(rows[0]), rows)
    assert (mapping.columns["price"], mapping.columns["list_price"]) == ("sale_price", "price")
    catalog = read_catalog(json.dumps(rows), ".json", "lamps.json")
    desk, floor = catalog.products
    assert (desk.price_min, desk.details["List price"]) == (30.0, "$40.00")
    assert floor.price_min == 90.0 and "List price" not in floor.details


def test_a_currency_column_and_a_unit_in_the_name_give_the_currency():
    text = "name,Price (CHF),currency\nWool Scarf,49.00,\nSilk Scarf,120.00,eur\n"
    wool, silk = read_catalog(text, ".csv", "scarves.csv").products
    assert (wool.price_min, wool.currency) == (49.0, "CHF")
    assert (silk.price_min, silk.currency) == (120.0, "EUR")  # the row's own currency wins
    row = {"title": "Mug", "price": "€8.50", "currency": "USD"}
    (mug,) = read_catalog(json.dumps([row]), ".json", "mugs.json").products
    assert mug.currency == "EUR"  # a sign in the price text wins over the column


# ---------------------------------------------------------------- content


def test_roles_from_content_when_the_names_say_nothing():
    rows = [
        ["Linen Armchair in Sage", "349,00 €", "https://shop.example/p/linen-armchair"],
        ["Oak Dining Table 180 cm", "1.150,00 €", "https://shop.example/p/oak-table"],
        ["Wool Throw Blanket", "59,90 €", "https://shop.example/p/wool-throw"],
    ]
    text = "a,b,c\n" + "".join(",".join(f'"{cell}"' for cell in row) + "\n" for row in rows)
    catalog = read_catalog(text, ".csv", "items.csv")
    assert catalog.mapping.report() == {
        "title": "a (content)",
        "price": "b (content)",
        "url": "c (content)",
    }
    assert [(p.title, p.price_min, p.currency) for p in catalog.products] == [
        ("Linen Armchair in Sage", 349.0, "EUR"),
        ("Oak Dining Table 180 cm", 1150.0, "EUR"),
        ("Wool Throw Blanket", 59.9, "EUR"),
    ]


def test_images_paths_codes_numbers_and_prose_from_content():
    prose = (
        "A sturdy everyday piece made by hand in a small workshop. It is finished with "
        "natural oils and will last for many years of daily use."
    )
    rows = [
        {
            "c1": f"https://cdn.shop.example/{n}.png",
            "c2": f"Home > Brands > Maker {n % 2}",
            "c3": f"Handmade Item Number {n}",
            "c4": "usd",
            "c5": 10.5 + n,
            "c6": prose,
            "c7": 4,  # a small count: with c5 two numeric columns, but only c5 has cents
        }
        for n in range(6)
    ]
    mapping = map_columns(list(rows[0]), rows)
    assert mapping.report() == {
        "title": "c3 (content)",
        "price": "c5 (content)",
        "currency": "c4 (content)",
        "description": "c6 (content)",
        "category": "c2 (content)",
        "image": "c1 (content)",
        "attributes": "c7",
    }
    product = read_catalog(json.dumps(rows), ".json", "x.json").products[0]
    assert (product.price_min, product.currency) == (10.5, "USD")
    assert product.category_path == ["Home", "Brands", "Maker 0"]
    assert product.image_url == "https://cdn.shop.example/0.png"


def test_content_detection_is_conservative():
    rows = [
        {
            "title": f"Garden Chair {n}",
            "weight": 2.5 + n,  # an attribute name: never read as a price
            "rating": 4.5,  # numbers of 5 or less are ratings
            "shade": shade,  # "Black/White" is a colour, not a category path
            "row": n + 1,  # a row counter
            "shipping_cost": "$4.99",  # money, but not the product's price
            "promotions": "15.00%",
        }
        for n, shade in enumerate(["Black/White", "Navy/Red", "Grey/Blue", "Green/Gold"])
    ]
    mapping = map_columns(list(rows[0]), rows)
    assert mapping.columns == {"title": "title"}
    assert mapping.attributes == ["weight", "rating", "shade", "row", "shipping_cost", "promotions"]
    product = read_catalog(json.dumps(rows), ".json", "x.json").products[0]
    assert product.price_min is None
    assert product.details["Shipping cost"] == "$4.99"


def test_long_leftover_columns_are_reported_as_ignored():
    care = "Wipe with a dry cloth. " * 10
    rows = [{"title": "Lamp", "description": "A lamp.", "care": care, "specs2": {"a": 1}}]
    assert map_columns(list(rows[0]), rows).report()["ignored"] == "care, specs2"


# ---------------------------------------------------------------- settings and errors


def test_the_setting_overrides_detection_per_role():
    text = "name,code,maker\nHarbour Lamp,HL-1,Lumo\nQuay Lamp,QL-2,Lumo\n"
    catalog = read_catalog(text, ".csv", "c.csv", {"title": "code", "Brand": "NAME"})
    assert catalog.mapping.report() == {"title": "code (setting)", "brand": "name (setting)"} | {
        "attributes": "maker"
    }
    assert [(p.title, p.brand) for p in catalog.products] == [
        ("HL-1", "Harbour Lamp"),
        ("QL-2", "Quay Lamp"),
    ]
    # A column the file does not have: that role is detected as usual.
    catalog = read_catalog(text, ".csv", "c.csv", {"title": "product name"})
    assert catalog.mapping.report()["title"] == "name"


def test_an_unknown_role_in_the_setting_is_a_clear_error():
    with pytest.raises(SkipFile, match="unknown role 'titel'.*title, price"):
        read_catalog("name\nLamp\n", ".csv", "c.csv", {"titel": "name"})


def test_a_catalog_without_a_title_column_names_its_columns_and_the_setting():
    with pytest.raises(SkipFile) as caught:
        read_catalog("sku,colour\nA1,red\nA2,blue\n", ".csv", "c.csv")
    message = str(caught.value)
    assert "sku, colour" in message
    assert 'COBBLER_CATALOG_COLUMNS=\'{"title": "sku"}\'' in message


# ---------------------------------------------------------------- broken CSV rows


def test_a_broken_csv_row_costs_only_itself():
    text = (
        "title,price\n"
        "Alpha Lamp,$10\n"
        '"Broken Lamp,$11\n'  # 3: a quote that never closes...
        "Gamma Lamp,$12\n"  # ...must not swallow this row
        '"Quoted"Lamp,$13\n'  # 5: text after a closing quote
        "Epsilon Lamp,$14,extra\n"  # 6: one cell too many
        "Zeta Lamp,$15\n"
        '"Eta Lamp, with a comma",$16\n'
    )
    catalog = read_catalog(text, ".csv", "c.csv")
    assert [p.title for p in catalog.products] == [
        "Alpha Lamp",
        "Gamma Lamp",
        "Zeta Lamp",
        "Eta Lamp, with a comma",
    ]
    assert [(p.where, p.reason) for p in catalog.problems] == [
        ("row 3", "a quote that never closes"),
        ("row 5", "text after a closing quote"),
        ("row 6", "3 cells where the header has 2 columns"),
    ]


def test_an_unclosed_quote_at_the_end_and_cells_over_several_lines():
    text = (
        "title,description,price\n"
        'Alpha Rug,"Soft wool.\nHand-knotted.",$90\n'  # a real multi-line cell
        "Beta Rug,Flat weave,$40\n"
        '"Gamma Rug,Jute,$30\n'  # 5: runs on to the end of the file
        "Delta Rug,Cotton,$20\n"
    )
    catalog = read_catalog(text, ".csv", "c.csv")
    assert [p.title for p in catalog.products] == ["Alpha Rug", "Beta Rug", "Delta Rug"]
    assert catalog.products[0].description == "Soft wool. Hand-knotted."
    assert [(p.where, p.reason) for p in catalog.problems] == [
        ("row 5", "a quote that never closes")
    ]


# ---------------------------------------------------------------- real catalogs


def test_bundled_catalog_mapping():
    catalog = _read(BUNDLED_KB / "catalog" / "products.json")
    assert catalog.mapping.report() == {
        "title": "title",
        "price": "price",
        "brand": "brand",
        "category": "breadcrumbs",
        "url": "url",
        "image": "images_list",
        "id": "asin",
        "details": "product_details",
        "features": "features",
    }


@needs_shared_data()
def test_real_csv_mapping_and_its_unreliable_columns():
    catalog = _read(SHOES_CSV)
    assert catalog.mapping.report() == {
        "title": "title",
        "price": "price",
        "brand": "brand",
        "category": "category",
        "sub_category": "sub_category",
        "url": "url",
        "image": "image_link",
        "details": "metadata_features",
        "attributes": "gender, promotions",
    }
    assert len(catalog.products) == 997 and catalog.problems == []
    first = catalog.products[0]
    assert first.details["Promotions"] == "15.00%" and first.price_min == 50.0


# ---------------------------------------------------------------- the ingest report


def test_ingest_reports_each_catalogs_mapping(tmp_path, embedder, monkeypatch, capsys):
    kb = tmp_path / "kb"
    shutil.copytree(SHOPS / "furniture", kb)
    settings = make_settings(tmp_path, kb_dir=kb)
    expected = {
        "catalog/items.csv": {
            "title": "item_title",
            "price": "selling_price",
            "category": "categories",
            "url": "product_url",
            "image": "img",
            "attributes": "material, color",
        }
    }
    first = ingest(settings, embedder, open_client(settings))
    assert first.catalogs == expected and first.products >= 30
    again = ingest(settings, embedder, open_client(settings))  # nothing changed
    assert again.embedded == 0 and again.catalogs == expected

    # The command line, with the session's encoder instead of loading a second one.
    monkeypatch.setattr("ingest.__main__.Embedder.from_settings", lambda _: embedder)
    assert ingest_main(["--kb", str(kb), "--db", str(settings.db_dir)]) == 0
    out = capsys.readouterr().out
    assert (
        "  catalog/items.csv: title ← item_title, price ← selling_price, category ← categories, "
        "url ← product_url, image ← img, attributes ← material, color\n"
    ) in out
    assert ingest_main(["--kb", str(kb), "--db", str(settings.db_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["catalogs"] == expected
