"""What of each source goes into the prompt (app/compact.py): small inputs, no model."""

from __future__ import annotations

from app.compact import compact_sources
from app.generation import build_messages
from cobbler.profile import Shop
from cobbler.records import Product, Source

LAMP = Product(
    asin="B000LAMP01",
    title="Lumen Arc Floor Lamp Brass",
    brand="Lumen",
    price_min=89.0,
    price_max=89.0,
    currency="EUR",
    category_path=["Home", "Lighting", "Floor Lamps"],
    description="A tall arc lamp with a marble base and a linen shade. " * 5,
    details={"Material": "Brass", "Bulb": "E27", "Height": "180 cm", "Dimmable": "Yes"},
    features=["Dimmable with a foot switch", "Marble base stays put", "Linen shade"],
)


def _product(n: int = 1, score: float = 0.03) -> Source:
    chunk = LAMP.to_chunk()
    return Source(**chunk.model_dump(exclude={"details"}), n=n, score=score)


def _document(n: int, score: float = 0.03) -> Source:
    return Source(
        id=f"d{n}",
        kind="document",
        n=n,
        score=score,
        title="Delivery",
        source="docs/delivery.md",
        section="Delivery › Express",
        text="## Express  \nExpress delivery costs 9.50 and arrives the next working day.",
    )


def test_a_product_keeps_its_name_price_and_what_the_question_asks_about():
    (lamp,) = compact_sources("Is the lamp dimmable and how tall is it?", [_product()])
    lines = lamp.text.splitlines()
    assert lines[0] == "Lumen Arc Floor Lamp Brass"
    assert "Price: €89.00" in lines
    assert "Details: Dimmable: Yes" in lines  # asked about; Bulb, Material, Height were not
    assert "- Dimmable with a foot switch" in lines
    assert "B000LAMP01" not in lamp.text and "Bulb" not in lamp.text
    assert "Brand:" not in lamp.text  # the name already says it
    description = next(line for line in lines if line.startswith("A tall arc lamp"))
    assert len(description) <= 161 and description.endswith("…")
    assert len(lamp.text) < len(_product().text) / 2


def test_a_document_chunk_does_not_repeat_its_heading_or_folder():
    (chunk,) = compact_sources("How much is express delivery?", [_document(1)])
    assert chunk.text == "Express delivery costs 9.50 and arrives the next working day."
    assert chunk.where == "delivery.md › Express"


def test_weak_sources_are_left_out_and_the_rest_keep_their_numbers():
    sources = [_document(1, 0.033), _product(2, 0.016), _document(3, 0.030)]
    kept = compact_sources("How much is express delivery?", sources)
    assert [s.n for s in kept] == [1, 3]
    turn = build_messages("How much is express delivery?", sources, Shop())[-1]["content"]
    assert "[1] From delivery.md › Express" in turn and "[3]" in turn and "[2]" not in turn


def test_the_originals_are_untouched():
    product = _product()
    compact_sources("lamp", [product])
    assert "B000LAMP01" in product.text
