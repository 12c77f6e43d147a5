"""Writes knowledge_base/catalog/products.json: the bundled catalog of a fictional UK shoe shop.

The shop and its brands are invented for this project (the real Amazon catalog in
../shared/data is for tests and benchmarks only and is never copied here). Products use the
Crawl Feeds Amazon UK JSON schema, with prices written as real catalogs write them:
single prices, ranges, and a few missing. Seeded, so the output is the same every run.

    .venv/bin/python tools/generate_catalog.py
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "knowledge_base" / "catalog" / "products.json"
SITE = "https://www.cobblerandco.example"

AUDIENCE = {"men": "Men's", "women": "Women's", "girls": "Girls'", "boys": "Boys'"}

# (category breadcrumb tail, title noun, audiences, brands, price band, models, details)
LINES = [
    (
        "Boots › Walking Boots",
        "Waterproof Walking Boots",
        ["men", "women"],
        ["Trailmaster", "Northfell", "Bramble", "Stridewell"],
        (54, 139),
        ["Ridge", "Fellside", "Cairn", "Moorland", "Bracken", "Edale", "Kinder"],
        {
            "Outer Material": ["Nubuck", "Leather", "Suede"],
            "Closure": ["Lace-Up"],
            "Water Resistance Level": ["Waterproof"],
            "Sole": ["Rubber"],
        },
    ),
    (
        "Boots › Hiking Boots",
        "Hiking Boots",
        ["men", "women"],
        ["Northfell", "Trailmaster"],
        (79, 189),
        ["Summit", "Scafell", "Torridon", "Glencoe", "Helvellyn"],
        {
            "Outer Material": ["Leather", "Nubuck"],
            "Closure": ["Lace-Up"],
            "Water Resistance Level": ["Waterproof"],
            "Sole": ["Rubber"],
        },
    ),
    (
        "Running Shoes › Road Running Shoes",
        "Road Running Shoes",
        ["men", "women"],
        ["Velocita", "Ardent Run", "Stridewell"],
        (45, 159),
        ["Tempo", "Pacer", "Sprint", "Glide", "Mile", "Cadence"],
        {"Outer Material": ["Mesh", "Knit"], "Closure": ["Lace-Up"], "Sole": ["Rubber"]},
    ),
    (
        "Running Shoes › Trail Running Shoes",
        "Trail Running Shoes",
        ["men", "women"],
        ["Ardent Run", "Trailmaster", "Velocita"],
        (62, 149),
        ["Scree", "Gully", "Bog", "Crag"],
        {
            "Outer Material": ["Mesh", "Synthetic"],
            "Closure": ["Lace-Up"],
            "Water Resistance Level": ["Water Resistant", "Not Water Resistant"],
        },
    ),
    (
        "Trainers",
        "Trainers",
        ["men", "women", "girls", "boys"],
        ["Velocita", "Marlowe", "Coastline", "Kiddo Kicks"],
        (18, 95),
        ["Court", "Retro", "Canvas Low", "Street", "Dash", "Skip"],
        {
            "Outer Material": ["Canvas", "Leather", "Synthetic", "Mesh"],
            "Closure": ["Lace-Up", "Hook and Loop", "Slip-On"],
        },
    ),
    (
        "Sandals",
        "Sandals",
        ["men", "women", "girls", "boys"],
        ["Sunbay", "Coastline", "Pebblestep", "Kiddo Kicks"],
        (15, 69),
        ["Lido", "Harbour", "Riviera", "Cove", "Shore", "Dune"],
        {
            "Outer Material": ["Leather", "Synthetic", "Cork"],
            "Closure": ["Buckle", "Hook and Loop", "Slip-On"],
        },
    ),
    (
        "Sandals › Flip-Flops",
        "Flip-Flops",
        ["men", "women", "girls", "boys"],
        ["Sunbay", "Coastline"],
        (8, 29),
        ["Splash", "Tide", "Wave"],
        {"Outer Material": ["Rubber", "EVA"], "Closure": ["Slip-On"]},
    ),
    (
        "Formal Shoes › Oxfords & Brogues",
        "Leather Brogues",
        ["men"],
        ["Alder & Finch", "Oxley", "Fenwick"],
        (55, 179),
        ["Kensington", "Chelsea", "Windsor", "Mayfair", "Belgravia"],
        {
            "Outer Material": ["Leather", "Patent Leather"],
            "Closure": ["Lace-Up"],
            "Sole": ["Leather", "Rubber"],
        },
    ),
    (
        "Formal Shoes › Court Shoes",
        "Court Shoes",
        ["women"],
        ["Alder & Finch", "Marlowe", "Fenwick"],
        (45, 149),
        ["Ascot", "Soiree", "Gala", "Opera"],
        {
            "Outer Material": ["Leather", "Suede", "Patent Leather"],
            "Closure": ["Slip-On"],
            "Heel Type": ["Block Heel", "Stiletto", "Kitten Heel"],
        },
    ),
    (
        "Loafers & Moccasins",
        "Loafers",
        ["men", "women"],
        ["Oxley", "Alder & Finch"],
        (49, 139),
        ["Henley", "Regatta", "Saville", "Marlow"],
        {"Outer Material": ["Suede", "Leather"], "Closure": ["Slip-On"]},
    ),
    (
        "Slippers",
        "Slippers",
        ["men", "women", "girls", "boys"],
        ["Hearthside", "Pebblestep"],
        (12, 39),
        ["Fireside", "Snug", "Cosy", "Nook", "Hearth"],
        {"Outer Material": ["Wool", "Suede", "Faux Fur", "Velour"], "Closure": ["Slip-On"]},
    ),
    (
        "Boots › Wellington Boots",
        "Wellington Boots",
        ["women", "girls", "boys"],
        ["Puddlejump", "Bramble"],
        (14, 79),
        ["Puddle", "Splosh", "Meadow", "Country"],
        {
            "Outer Material": ["Rubber"],
            "Closure": ["Pull On"],
            "Water Resistance Level": ["Waterproof"],
        },
    ),
    (
        "School Shoes",
        "School Shoes",
        ["girls", "boys"],
        ["Kiddo Kicks", "Fenwick"],
        (22, 49),
        ["Scholar", "Recess", "Term"],
        {"Outer Material": ["Leather"], "Closure": ["Hook and Loop", "Lace-Up", "Buckle"]},
    ),
]
COLOURS = ["Black", "Brown", "Navy", "Tan", "Grey", "Green", "Burgundy", "White", "Red", "Pink"]
WIDTHS = ["Standard", "Standard", "Standard", "Wide", "Extra Wide"]
FEATURES = {
    "Waterproof": "Waterproof breathable membrane keeps feet dry on wet days",
    "Wide": "Available in a wide fit (E) for extra room across the forefoot",
    "Extra Wide": "Extra wide fit (EEE) for the broadest feet and swollen ankles",
    "Lace-Up": "Lace-up fastening for a secure, adjustable fit",
    "Hook and Loop": "Hook and loop straps make them easy to put on and take off",
    "Rubber": "Grippy rubber outsole for confident footing",
    "Leather": "Full-grain leather upper that softens with wear",
    "Suede": "Soft suede upper; treat with a suede protector before first wear",
    "Mesh": "Breathable mesh upper keeps feet cool on long runs",
    "Wool": "Warm wool lining for cold winter evenings",
}
# Products tests and demos can find by their own words.
SPECIALS = [
    (
        "Northfell Skerryvore Waterproof Hiking Boots",
        "Northfell",
        "men",
        "Boots › Hiking Boots",
        "£164.99",
        "Vibram-style Skerryvore lug sole tested on Hebridean rock",
    ),
    (
        "Pebblestep Cloudnest Memory Foam Slippers",
        "Pebblestep",
        "women",
        "Slippers",
        "£24.99",
        "Cloudnest memory foam footbed moulds to the shape of your foot",
    ),
    (
        "Velocita Zephyr 3 Road Running Shoes",
        "Velocita",
        "men",
        "Running Shoes › Road Running Shoes",
        "£74.99 - £89.99",
        "Zephyr foam midsole returns energy with every stride",
    ),
]


def asin(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = "B0" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=8))
        if code not in taken:
            taken.add(code)
            return code


def price(rng: random.Random, low: float, high: float) -> str:
    roll = rng.random()
    if roll < 0.04:
        return ""
    if roll < 0.05:
        return "No data."
    start = rng.uniform(low, high * 0.85)
    start = int(start) + rng.choice([0.99, 0.5, 0.0, 0.95])
    if roll < 0.40:
        return f"£{start:.2f} - £{min(start * rng.uniform(1.15, 1.6), high * 1.3):.2f}"
    return f"£{start:.2f}"


def product(rng, taken, title, brand, audience, crumbs, price_text, details, features):
    code = asin(rng, taken)
    people = {
        "men": "Men's Shoes",
        "women": "Women's Shoes",
        "girls": "Girls' Shoes",
        "boys": "Boys' Shoes",
    }[audience]
    return {
        "url": f"{SITE}/dp/{code}",
        "title": title,
        "asin": code,
        "price": price_text,
        "brand": f"Visit the {brand} Store" if rng.random() < 0.15 else brand,
        "product_details": details,
        "breadcrumbs": "" if rng.random() < 0.03 else f"Shoes › {people} › {crumbs}",
        "images_list": [
            f"https://img.cobblerandco.example/{code}_{n}.jpg"
            for n in range(1, rng.randint(1, 3) + 1)
        ],
        "features": features,
    }


def main() -> None:
    rng = random.Random(7)
    taken: set[str] = set()
    products = []
    for crumbs, noun, audiences, brands, (low, high), models, options in LINES:
        for audience in audiences:
            kids = audience in ("girls", "boys")
            for brand in brands:
                if kids and brand in ("Alder & Finch", "Oxley", "Northfell"):
                    continue
                for _ in range(rng.randint(3, 4)):
                    details = {k: rng.choice(v) for k, v in options.items()}
                    details["Inner Material"] = rng.choice(["Textile", "Leather", "Mesh"])
                    details["Shoe Width"] = rng.choice(WIDTHS)
                    colour = rng.choice(COLOURS)
                    details["Colour"] = colour
                    name = rng.choice(models)
                    size = rng.randint(10, 13) if kids else rng.randint(3, 12)
                    title = f"{brand} {AUDIENCE[audience]} {name} {noun} {colour} {size} UK"
                    if kids:
                        title += " Child"
                    features = [
                        FEATURES[v]
                        for k, v in details.items()
                        if v in FEATURES and k != "Inner Material"
                    ]
                    features = rng.sample(features, min(len(features), 4)) or [
                        f"Classic {noun.lower()} from {brand}"
                    ]
                    band = (low * 0.6, high * 0.6) if kids else (low, high)
                    products.append(
                        product(
                            rng,
                            taken,
                            title,
                            brand,
                            audience,
                            crumbs,
                            price(rng, *band),
                            details,
                            features,
                        )
                    )
    for title, brand, audience, crumbs, price_text, feature in SPECIALS:
        details = {"Outer Material": "Leather", "Closure": "Lace-Up", "Shoe Width": "Standard"}
        products.append(
            product(rng, taken, title, brand, audience, crumbs, price_text, details, [feature])
        )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(products, indent=1, ensure_ascii=False) + "\n")
    brands = {p["brand"].removeprefix("Visit the ").removesuffix(" Store") for p in products}
    missing = sum(p["price"] in ("", "No data.") for p in products)
    print(f"{len(products)} products, {len(brands)} brands, {missing} without a price -> {OUT}")


if __name__ == "__main__":
    main()
