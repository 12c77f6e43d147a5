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
