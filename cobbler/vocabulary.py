"""The shop's words for product types and who a product is for.

Ingest tags each product with them (boolean metadata such as `type_sandals`, `for_girls`,
filterable in Chroma), and the app reads the same words in a shopper's question, so the
two sides can never disagree about what "flip-flops" or "kids'" means.
"""

from __future__ import annotations

import re

# Canonical type → words that mean it, in titles, breadcrumbs and questions.
PRODUCT_TYPES: dict[str, list[str]] = {
    "running shoes": [
        "running shoe",
        "running shoes",
        "runners",
        "running trainers",
        "trail running",
        "road running",
        "running",
    ],
    "hiking boots": [
        "hiking boot",
        "hiking boots",
        "hikers",
        "trekking boots",
        "hiking shoes",
        "hiking",
    ],
    "walking boots": ["walking boot", "walking boots", "walking shoes", "walking"],
    "trainers": ["trainer", "trainers", "sneaker", "sneakers"],
    "sandals": [
        "sandal",
        "sandals",
        "flip-flop",
        "flip-flops",
        "flip flop",
        "flip flops",
        "sliders",
        "slides",
    ],
    "slippers": ["slipper", "slippers", "house shoes", "mules"],
    "formal shoes": [
        "formal",
        "oxford",
        "oxfords",
        "brogue",
        "brogues",
        "derby",
        "court shoe",
        "court shoes",
        "heels",
        "dress shoes",
        "smart shoes",
    ],
    "loafers": ["loafer", "loafers", "moccasin", "moccasins", "boat shoes"],
    "wellies": ["welly", "wellies", "wellington", "wellingtons", "rain boots", "rain boot"],
    "boots": ["boot", "boots", "ankle boots"],
    "school shoes": ["school shoe", "school shoes"],
}

# Audience → words; kids' products are also tagged for girls and boys unless one is named.
AUDIENCES: dict[str, list[str]] = {
    "men": ["men", "mens", "men's", "man", "male", "gents", "gentlemen", "husband", "dad"],
    "women": ["women", "womens", "women's", "woman", "ladies", "lady", "female", "wife", "mum"],
    "girls": ["girl", "girls", "girls'", "girl's", "daughter"],
    "boys": ["boy", "boys", "boys'", "boy's", "son"],
    "kids": [
        "kid",
        "kids",
        "kids'",
        "kid's",
        "child",
        "children",
        "children's",
        "childs",
        "junior",
        "jr",
        "infant",
        "infants",
        "toddler",
        "baby",
        "youth",
        "unisex kids",
    ],
}
KIDS = {"kids", "girls", "boys"}


def _pattern(words: list[str]) -> re.Pattern[str]:
    alternatives = sorted((re.escape(w).replace(r"\ ", r"[\s-]+") for w in words), key=len)
    return re.compile(r"(?<![\w'])(?:" + "|".join(reversed(alternatives)) + r")(?![\w])", re.I)


TYPE_PATTERNS = {name: _pattern(words) for name, words in PRODUCT_TYPES.items()}
AUDIENCE_PATTERNS = {name: _pattern(words) for name, words in AUDIENCES.items()}


def metadata_key(prefix: str, name: str) -> str:
    return f"{prefix}_{name.replace(' ', '_')}"


def product_types(text: str) -> set[str]:
    return {name for name, pattern in TYPE_PATTERNS.items() if pattern.search(text)}


def audiences(text: str) -> set[str]:
    found = {name for name, pattern in AUDIENCE_PATTERNS.items() if pattern.search(text)}
    if "unisex" in text.lower() and not found & KIDS:
        found |= {"men", "women"}
    if found & {"girls", "boys"}:
        found.add("kids")
    return found


def product_tags(title: str, category_path: list[str]) -> dict[str, bool]:
    """Boolean metadata for a product: its types and who it is for."""
    text = " ".join([title, *category_path])
    tags = {metadata_key("type", t): True for t in product_types(text)}
    found = audiences(text)
    if "kids" in found and not found & {"girls", "boys"}:
        found |= {"girls", "boys"}  # a kids' shoe suits either
    tags.update({metadata_key("for", a): True for a in found})
    return tags
