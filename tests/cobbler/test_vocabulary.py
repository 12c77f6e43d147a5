"""What ingest learns of a shop's words from its products (cobbler/vocabulary.py)."""

from __future__ import annotations

from cobbler.vocabulary import ProductWords, learn


def _lamps() -> list[ProductWords]:
    # Twelve lamps: almost all "Standard" width, a few "Dimmable".
    return [
        ProductWords(
            title=f"Lumo {name} Desk Lamp",
            category_path=["Lighting", "Desk Lamps"],
            details=["Standard", "Dimmable" if i % 4 == 0 else "Fixed Brightness"],
        )
        for i, name in enumerate("Ada Bea Cy Dot Eve Fay Gil Hal Ivo Jo Kit Lou".split())
    ]


def test_a_value_most_products_share_is_not_an_attribute():
    attributes = learn(_lamps()).attributes
    # "Standard" is on every product: a default, not a way to pick between them.
    assert "standard" not in attributes
    assert "dimmable" in attributes  # on three of twelve: something a shopper asks for


def test_a_small_catalog_keeps_its_shared_values():
    # Four products are too few to call a value a default.
    assert "standard" in learn(_lamps()[:4]).attributes


def _products(rows: list[tuple[str, list[str], list[str]]]) -> list[ProductWords]:
    return [ProductWords(title=t, category_path=c, details=d) for t, c, d in rows]


def test_a_product_is_a_compound_type_its_other_types_make():
    vocabulary = learn(
        _products(
            [(f"Tarn {n} Trekking Tent", ["Tents", "Trekking Tents"], []) for n in "ABC"]
            + [(f"Fell {n} Dome Tent", ["Tents", "Dome Tents"], []) for n in "ABC"]
            + [(f"Crag {n} Bivvy", ["Shelters", "Trekking Shelters"], []) for n in "ABC"]
        )
    )
    # A real title says what the tree does not: this tent is filed as a trekking shelter.
    tags = vocabulary.tags("Crag Ultralight Tent", ["Shelters", "Trekking Shelters"])
    assert tags.get("type_trekking_tent")
    assert not vocabulary.tags("Fell D Dome Tent", ["Tents", "Dome Tents"]).get(
        "type_trekking_tent"
    )


def test_a_department_s_audience_leaves_no_stray_apostrophe_in_its_name():
    vocabulary = learn(
        _products([(f"Puddle {n} Parka", ["Girls' Coats", "Parkas"], []) for n in "ABCD"])
    )
    assert vocabulary.types["coat"].name == "coats"


def test_a_department_named_by_a_noun_keeps_its_name_one_named_by_a_describing_word_borrows():
    vocabulary = learn(
        _products(
            [(f"Hemp {n} Market Tote", ["Bags", "Totes"], ["Tote", "Hemp"]) for n in "ABCD"]
            + [(f"Sola {n} 200m Diver Watch", ["Watches", "Dive"], []) for n in "ABCD"]
        )
    )
    names = {t.name for t in vocabulary.types.values()}
    assert "totes" in names  # titles end in "Tote": a noun, though a detail uses it too
    assert "dive watches" in names
