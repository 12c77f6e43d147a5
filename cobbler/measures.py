"""Weights as shops and shoppers write them: "290 g", "1.2 kg", "11 oz", "2.5 lbs".

A product's weight is read from its details at ingest and stored in grams, so "lighter
ones?" can move from the products shown, and "under 300 g" is a bound like a price.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_GRAMS = {
    "g": 1.0,
    "gr": 1.0,
    "gram": 1.0,
    "grams": 1.0,
    "kg": 1000.0,
    "kgs": 1000.0,
    "kilo": 1000.0,
    "kilos": 1000.0,
    "kilogram": 1000.0,
    "kilograms": 1000.0,
    "oz": 28.3495,
    "ounce": 28.3495,
    "ounces": 28.3495,
    "lb": 453.592,
    "lbs": 453.592,
    "pound": 453.592,
    "pounds": 453.592,
}


def _mass(units: list[str]) -> str:
    return rf"(\d+(?:[.,]\d+)?)\s*({'|'.join(sorted(units, key=len, reverse=True))})\.?(?!\w)"


_MASS = re.compile(rf"(?<![\w.,]){_mass(list(_GRAMS))}", re.I)
# In a question "100 pounds" is money (cobbler.money): only "lb" is a weight there.
_ASKED = _mass([u for u in _GRAMS if not u.startswith("pound")])
# A detail that names the weight, in a few languages ("Item Weight", "Gewicht", "Poids").
_WEIGHT_KEY = re.compile(r"weight|\bmass\b|gewicht|poids|peso|vikt|\bvægt", re.I)
_BELOW = re.compile(
    rf"\b(?:under|below|less than|lighter than|up to|at most|no more than|max(?:imum)?)\s+{_ASKED}",
    re.I,
)
_ABOVE = re.compile(
    rf"\b(?:over|above|more than|heavier than|at least|min(?:imum)?)\s+{_ASKED}", re.I
)


def _grams(number: str, unit: str) -> float:
    return float(number.replace(",", ".")) * _GRAMS[unit.casefold()]


def grams(text: str) -> float | None:
    """The first weight written in `text`, in grams."""
    match = _MASS.search(text)
    return _grams(*match.groups()) if match else None


def product_weight(details: Mapping[str, str]) -> float | None:
    """A product's weight in grams, from the detail that names it ("Weight: 290 g"), or
    from a detail that is nothing but a weight; None when no detail says it."""
    for key, value in details.items():
        if _WEIGHT_KEY.search(key) and (found := grams(value)) is not None:
            return found
    for value in details.values():
        if _MASS.fullmatch(value.strip()):
            return grams(value)
    return None


def weight_bounds(question: str) -> tuple[float | None, float | None]:
    """The lowest and highest weight a question allows, in grams ("under 300 g")."""
    below, above = _BELOW.search(question), _ABOVE.search(question)
    return (
        _grams(*above.groups()) if above else None,
        _grams(*below.groups()) if below else None,
    )


def weight_label(value: float) -> str:
    """Grams as a person says them: "290 g", "1.2 kg"."""
    if value >= 1000:
        return f"{value / 1000:.3g} kg"
    return f"{round(value)} g"
