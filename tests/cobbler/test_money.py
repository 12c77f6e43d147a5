"""Money in any currency: catalog prices, a question's price limits, amounts in an answer."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from cobbler.money import currency_code, format_price, money_mentions, parse_price, price_bounds


@pytest.mark.parametrize(
    ("raw", "default", "expected"),
    [
        ("£50.00", None, (50.0, 50.0, "GBP")),
        ("£49.57 - £234.95", None, (49.57, 234.95, "GBP")),
        ("£49.57 – £234.95", None, (49.57, 234.95, "GBP")),
        ("£1,299.00", None, (1299.0, 1299.0, "GBP")),
        ("$1,299.00", None, (1299.0, 1299.0, "USD")),
        ("$5,000", None, (5000.0, 5000.0, "USD")),
        ("1.299,00 €", None, (1299.0, 1299.0, "EUR")),
        ("12,50 €", None, (12.5, 12.5, "EUR")),
        ("12.000 €", None, (12000.0, 12000.0, "EUR")),
        ("40€-80€", None, (40.0, 80.0, "EUR")),
        ("¥12,000", None, (12000.0, 12000.0, "JPY")),
        ("₩12,000", None, (12000.0, 12000.0, "KRW")),
        ("₹1,499", None, (1499.0, 1499.0, "INR")),
        ("USD 45", None, (45.0, 45.0, "USD")),
        ("45 EUR", None, (45.0, 45.0, "EUR")),
        ("CHF 12.50", None, (12.5, 12.5, "CHF")),
        ("A$45", None, (45.0, 45.0, "AUD")),
        ("C$ 45", None, (45.0, 45.0, "CAD")),
        ("499 kr", None, (499.0, 499.0, "SEK")),
        ("£40-80", None, (40.0, 80.0, "GBP")),
        ("£50 (pack of 2)", None, (50.0, 50.0, "GBP")),
        ("5,000.50", None, (5000.5, 5000.5, None)),
        ("1 299,00", None, (1299.0, 1299.0, None)),
        ("5k", None, (5000.0, 5000.0, None)),
        ("5K", "USD", (5000.0, 5000.0, "USD")),
        ("49.99", "EUR", (49.99, 49.99, "EUR")),
        (49.99, None, (49.99, 49.99, None)),
        (12, "JPY", (12.0, 12.0, "JPY")),
        ("$45", "CAD", (45.0, 45.0, "CAD")),  # a shared sign means the shop's own currency
        ("$45", "EUR", (45.0, 45.0, "USD")),
        ("kr 499", "NOK", (499.0, 499.0, "NOK")),
        ("", None, (None, None, None)),
        ("No data.", None, (None, None, None)),
        ("n/a", None, (None, None, None)),
        (None, "GBP", (None, None, None)),
        ("Free", None, (None, None, None)),
    ],
)
def test_catalog_prices_in_any_notation(raw, default, expected):
    assert parse_price(raw, default) == expected


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("-50", "negative price -50"),
        ("-£50.00", "negative price -£50.00"),
        ("£-50", "negative price £-50"),
        ("−£5", "negative price −£5"),
        (-50, "negative price -50"),
        ("+5", "price \\+5 has a sign"),
        ("£5000000000", "too large"),
        (1e12, "too large"),
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (-1e999, "not a finite number"),
        ("NaN", "not a finite number"),
        ("£" + "9" * 400, "not a finite number"),
        ("£50 / $60", "more than one currency"),
        ([12, 30], "price is a list"),
        (True, "price is a bool"),
    ],
)
def test_unusable_catalog_prices_say_why(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_price(raw)


B = dict  # a row's expected bounds, briefly


@pytest.mark.parametrize(
    ("question", "default", "expected"),
    [
        ("boots under $200", None, B(high=200, currency="USD")),
        ("sofas below 150 euros", None, B(high=150, currency="EUR")),
        ("a watch for less than 5k", None, B(high=5000)),
        ("a watch for less than 5k", "USD", B(high=5000, currency="USD")),
        ("up to 50 bucks", None, B(high=50, currency="USD")),
        ("max 50 bucks", "CAD", B(high=50, currency="CAD")),
        ("no more than £80", None, B(high=80, currency="GBP")),
        ("no less than £80", None, B(low=80, currency="GBP")),
        ("over 1.299,00 €", None, B(low=1299, currency="EUR")),
        ("between 40 and 80 pounds", None, B(low=40, high=80, currency="GBP")),
        ("£40-£80", None, B(low=40, high=80, currency="GBP")),
        ("40 to 80 dollars", None, B(low=40, high=80, currency="USD")),
        ("from $20 to $35", None, B(low=20, high=35, currency="USD")),
        ("between 40 and 80", "EUR", B(low=40, high=80, currency="EUR")),
        ("over $50 and under $100", None, B(low=50, high=100, currency="USD")),
        ("$50 or less", None, B(high=50, currency="USD")),
        ("£100+", None, B(low=100, currency="GBP")),
        ("tea sets over ¥12,000", None, B(low=12000, currency="JPY")),
        ("my budget is $200", None, B(high=200, currency="USD")),
        ("cheaper than $50", None, B(high=50, currency="USD")),
        ("around $100", None, B(low=80, high=120, currency="USD", approximate=True)),
        ("about 100 euros", None, B(low=80, high=120, currency="EUR", approximate=True)),
        ("5 seater sofa under 600", "EUR", B(high=600, currency="EUR")),
        ("iPhone 13 under $500", None, B(high=500, currency="USD")),
        ("cheapest running watch", None, B(cheapest=True)),
        ("something on a budget", None, B(cheapest=True)),
        ("affordable lamps", None, B(cheapest=True)),
        ("lowest price rug", None, B(cheapest=True)),
        ("any cheaper ones?", None, B(cheaper=True)),
        ("less expensive ones", None, B(cheaper=True)),
        # Not money: words inside words, units, sizes, model numbers, weak words.
        ("grill cover 73", None, B()),
        ("grill cover 73 inch", "EUR", B()),
        ("table under 30 inches", None, B()),
        ('table under 30"', None, B()),
        ("under 5 kg", None, B()),
        ("over 2 metres", None, B()),
        ("delivery in under 3 days", None, B()),
        ("size 8", None, B()),
        ("sizes under 8", None, B()),
        ("sizes from 5 to 9", None, B()),
        ("iPhone 13", None, B()),
        ("tell me about 3 products", None, B()),
        ("lamps under 5 pounds", "USD", B()),  # in a dollar shop, pounds weigh
        ("between 40 and 80 pounds", "USD", B()),
    ],
)
def test_price_bounds_from_a_question(question, default, expected):
    bounds = price_bounds(question, default)
    full = {"low": None, "high": None, "currency": None, "cheapest": False, "cheaper": False}
    full |= {"approximate": False} | expected
    assert bounds.model_dump(exclude={"spans"}) == full


def test_price_bounds_record_the_words_read_as_money():
    question = "5 seater sofa under 600 in grey, the cheapest"
    bounds = price_bounds(question)
    assert [question[s:e] for s, e in bounds.spans] == ["under 600", "cheapest"]
    question = "Seiko watches between $40 and 80 dollars?"
    assert [question[s:e] for s, e in price_bounds(question).spans] == [
        "between $40 and 80 dollars"
    ]
    question = "a grill cover 73 under 45 euros"
    assert [question[s:e] for s, e in price_bounds(question).spans] == ["under 45 euros"]


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("The diver costs $45.99 [1].", None, [(45.99, "USD", "$45.99")]),
        ("The diver costs $45.99 [1].", "AUD", [(45.99, "AUD", "$45.99")]),
        ("The sofa is €1.299,00 [2].", None, [(1299.0, "EUR", "€1.299,00")]),
        ("The tin is ¥12,000.", None, [(12000.0, "JPY", "¥12,000")]),
        ("It costs 45 euros.", None, [(45.0, "EUR", "45 euros")]),
        ("Only 39.99 USD today", None, [(39.99, "USD", "39.99 USD")]),
        (
            "From £40-80 or CHF 90",
            None,
            [(40.0, "GBP", "£40"), (80.0, "GBP", "80"), (90.0, "CHF", "CHF 90")],
        ),
        ("Returns within 30 days; refunds in 5-7 days.", None, []),
        ("The size 10 won't fit; 925 sterling silver; iPhone 13.", None, []),
    ],
)
def test_money_mentions_in_an_answer(text, default, expected):
    found = [(v, c, text[s:e]) for v, c, s, e in money_mentions(text, default)]
    assert found == expected


@pytest.mark.parametrize(
    ("low", "high", "currency", "expected"),
    [
        (49.99, None, "GBP", "£49.99"),
        (1299.0, 1299.0, "USD", "$1,299.00"),
        (39.99, 64.99, "EUR", "€39.99 – €64.99"),
        (12000.0, None, "JPY", "¥12,000"),
        (12000.0, None, "KRW", "₩12,000"),
        (45.0, None, "CAD", "C$45.00"),
        (12.5, None, "CHF", "CHF 12.50"),
        (499.0, None, "SEK", "499.00 kr"),
        (12.5, None, "XYZ", "XYZ 12.50"),  # a code the table does not know
        (49.99, None, None, "49.99"),  # no currency: the bare number
        (49.99, None, "gbp", "£49.99"),
        (None, None, "GBP", "price not listed"),
    ],
)
def test_format_price_per_currency(low, high, currency, expected):
    assert format_price(low, high, currency) == expected


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("usd", None, "USD"),
        ("US$", None, "USD"),
        ("$", None, "USD"),
        ("$", "AUD", "AUD"),
        ("dollars", None, "USD"),
        ("Dollars", "CAD", "CAD"),
        ("bucks", None, "USD"),
        ("€", None, "EUR"),
        ("euros", None, "EUR"),
        ("quid", None, "GBP"),
        ("yen", None, "JPY"),
        ("rupees", None, "INR"),
        ("₩", None, "KRW"),
        ("kr", None, "SEK"),
        ("kr", "DKK", "DKK"),
        ("CHF", None, "CHF"),
        ("try", None, None),  # a word, not the lira's code
        ("TRY", None, "TRY"),
        ("xyz", None, None),
        ("", None, None),
    ],
)
def test_currency_code(text, default, expected):
    assert currency_code(text, default) == expected


def test_the_currency_table_is_package_data():
    """The table ships inside the package, with every code's display and decimals."""
    table = json.loads(resources.files("cobbler").joinpath("data/currencies.json").read_text())
    for code, entry in table["currencies"].items():
        assert len(code) == 3 and code.isupper()
        assert entry["symbol"] and entry["decimals"] in (0, 2, 3)
