"""How an answer's sources are shown: numbers, citations, cards and escaping (no browser;
the browser tests check the same on screen)."""

from __future__ import annotations

import re

from app.service import highlights
from app.ui import Links, cite, render
from cobbler.records import Answer, Source, Timings
from tests.conftest import product_source


def _answer(text: str, sources: list[Source], **fields) -> Answer:
    return Answer(answer=text, sources=sources, timings=Timings(), **fields)


def test_numbers_are_the_citations_even_when_a_source_is_left_out(tmp_path):
    sources = [product_source(1, "Acme Trail Runner", 80), product_source(3, "Acme Road", 60)]
    html, text = render(_answer("Try this one [3].", sources), Links(tmp_path), "a1")
    assert re.findall(r'id="a1-s(\d+)"', html) == ["1", "3"]
    assert re.findall(r"Source </span>(\d+)</span>", html) == ["1", "3"]
    assert text == "Try this one [[3]](#a1-s3)."
    # Only the cited source is marked cited.
    assert 'class="card cited" id="a1-s3"' in html and 'class="card" id="a1-s1"' in html
    assert html.count("Cited") == 1


def test_a_citation_to_no_source_stays_plain_text():
    sources = [product_source(1, "Acme Trail Runner", 80)]
    assert cite("See [1] and [7].", sources, "x") == "See [[1]](#x-s1) and [7]."


def test_shop_text_is_inert_and_only_web_links_are_used(tmp_path):
    hostile = product_source(
        1,
        'Evil <img src=x onerror="alert(1)"> "Shoe"',
        10,
        url="javascript:alert(1)",
        image_url="javascript:alert(2)",
    )
    html, _ = render(_answer("[1]", [hostile]), Links(tmp_path), "a1")
    assert "<img" not in html  # neither the title's nor a javascript: picture
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html
    assert "javascript:" not in html


def test_a_card_shows_picture_price_brand_and_what_matched(tmp_path):
    card = product_source(
        1,
        "Acme Trail Runner",
        80,
        url="https://shop.example/p/1",
        image_url="https://img.shop.example/1.jpg",
    )
    answer = _answer("Yes [1].", [card], highlights={1: ["Closure: Lace-Up"]})
    html, _ = render(answer, Links(tmp_path), "a1")
    assert '<img src="https://img.shop.example/1.jpg" alt=""' in html
    assert '<a href="https://shop.example/p/1">Acme Trail Runner</a>' in html
    assert "£80.00" in html and ">Acme<" in html and "<li>Closure: Lace-Up</li>" in html


def test_highlights_are_the_details_whose_values_match_the_question():
    source = product_source(1, "Acme Trail Runner", 80)
    source.text += (
        "\nDetails: Shoe Width: Standard; Closure: Lace-Up; Water Resistance Level: Waterproof"
        "\n- Grippy rubber outsole\n- Waterproof breathable membrane keeps feet dry"
    )
    assert highlights(source, "waterproof lace-up shoes?") == [
        "Closure: Lace-Up",
        "Water Resistance Level: Waterproof",
    ]
    assert highlights(source, "what width?") == []  # a detail's name alone is no match
