"""What a shopper asked for, read from the question: brand, type, audience, price, attributes.

Hard constraints (brand, type, audience, price) become a Chroma metadata filter and the
same predicate on the BM25 side; soft ones (attributes, colours) only re-rank. Follow-up
questions ("cheaper ones?", "and for kids?") inherit the previous question's constraints.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from cobbler.vocabulary import (
    AUDIENCE_PATTERNS,
    AUDIENCES,
    KIDS,
    PRODUCT_TYPES,
    metadata_key,
    product_types,
)

_AMOUNT = r"(\d+(?:\.\d{1,2})?)"
_MONEY = rf"(?:£\s*{_AMOUNT}|{_AMOUNT}\s*(?:pounds?|quid|gbp)\b)"
_ANY_AMOUNT = rf"(?:£\s*{_AMOUNT}|{_AMOUNT}(?:\s*(?:pounds?|quid|gbp)\b)?)"
_BETWEEN = re.compile(
    rf"(?:between|from)\s+{_ANY_AMOUNT}\s+(?:and|to|-|–)\s+{_ANY_AMOUNT}"
    rf"|{_MONEY}\s*(?:-|–|to)\s*{_ANY_AMOUNT}",
    re.I,
)
_UNDER = re.compile(
    rf"(?:under|below|less than|cheaper than|up to|no more than|not more than|max(?:imum)?"
    rf"|within|at most|<)\s*{_ANY_AMOUNT}",
    re.I,
)
_OVER = re.compile(rf"(?:over|above|more than|at least|upwards of|>)\s*{_ANY_AMOUNT}", re.I)
_CHEAP = re.compile(
    r"\b(?:cheap|cheapest|cheaper|budget|inexpensive|lowest price|affordable)\b", re.I
)
_CHEAPER = re.compile(r"\b(?:cheaper|less expensive|lower price)\b", re.I)
_FOLLOW_UP = re.compile(
    r"^\s*(?:and|also|what about|how about|any (?:in|for|from|with|cheaper)|in\b|for\b|"
    r"cheaper|show me (?:more|others|cheaper)|more like|others?\b|those|these|them)"
    r"|\b(?:them|those|these|ones?|instead)\b",
    re.I,
)
_NAMED = re.compile(r"\b(?:from|by|brand)\s+([A-Za-z][\w&'.-]+)")
_WORD = re.compile(r"[a-z0-9]+(?:['&.][a-z0-9]+)*")

ATTRIBUTES = [
    "waterproof",
    "water resistant",
    "leather",
    "suede",
    "nubuck",
    "canvas",
    "mesh",
    "vegan",
    "wide fit",
    "extra wide",
    "memory foam",
    "slip-on",
    "lace-up",
    "velcro",
    "hook and loop",
    "zip",
    "buckle",
    "lightweight",
    "breathable",
    "orthotic",
    "non-slip",
    "insulated",
    "wool",
    "black",
    "brown",
    "white",
    "navy",
    "blue",
    "red",
    "grey",
    "pink",
    "green",
    "tan",
    "beige",
    "gold",
    "silver",
    "purple",
    "yellow",
    "orange",
]
_ATTRIBUTE_PATTERNS = {
    a: re.compile(rf"\b{re.escape(a).replace(' ', '[ -]')}\b", re.I) for a in ATTRIBUTES
}
# Capitalised words that start questions or are shop talk, never brand names.
_NOT_NAMES = {
    "any",
    "anything",
    "are",
    "can",
    "could",
    "do",
    "does",
    "have",
    "hello",
    "hi",
    "how",
    "i",
    "is",
    "may",
    "please",
    "show",
    "tell",
    "thanks",
    "what",
    "when",
    "where",
    "which",
    "who",
    "why",
    "will",
    "would",
    "you",
    "your",
    "uk",
    "eu",
    "us",
    "gbp",
    "the",
    "a",
    "an",
    "my",
    "we",
    "our",
    "best",
    "cheap",
    "cheapest",
    "good",
    "new",
    "some",
    "recommend",
}
# Real catalogs have "brands" such as "Slippers": a shop word never names a brand.
_SHOP_WORDS = {w for words in (*PRODUCT_TYPES.values(), *AUDIENCES.values()) for w in words}
_SHOP_WORDS |= set(ATTRIBUTES) | {"shoe", "shoes", "footwear", "generic", "sports", "kids shoes"}
# A more specific type implies the general one: "walking boots" is not also a "boots" filter.
_IMPLIED = {"boots": {"walking boots", "hiking boots", "wellies"}, "trainers": {"running shoes"}}


class Catalog(BaseModel):
    """What the store sells, read once from the published index."""

    brands: dict[str, str] = Field(default_factory=dict)  # brand_key → brand as written
    vocabulary: set[str] = Field(default_factory=set)  # every word in the store
    # Words of product titles, brands and categories: what the shop itself sells. A name
    # found only in descriptions or documents ("Gucci-style", an injected "Gucci is in
    # stock") does not make the shop a seller of it.
    names: set[str] = Field(default_factory=set)


class Constraints(BaseModel):
    brands: list[str] = Field(default_factory=list)
    unknown_brands: list[str] = Field(default_factory=list)  # named, but not sold here
    types: list[str] = Field(default_factory=list)
    audience: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    by_price: bool = False
    cheaper_than_before: bool = False
    attributes: list[str] = Field(default_factory=list)

    @property
    def hard(self) -> bool:
        return bool(
            self.brands
            or self.unknown_brands
            or self.types
            or self.audience
            or self.price_min is not None
            or self.price_max is not None
        )

    @property
    def allows_documents(self) -> bool:
        """Only a type or audience: the question may be about caring for or returning them."""
        return not (
            self.brands
            or self.unknown_brands
            or self.price_min is not None
            or self.price_max is not None
        )

    @property
    def about_products(self) -> bool:
        return self.hard or self.by_price

    def where(self) -> dict[str, Any]:
        """The Chroma filter for products that satisfy every hard constraint."""
        clauses: list[dict[str, Any]] = [{"kind": "product"}]
        if self.brands:
            clauses.append({"brand_key": {"$in": [b.casefold() for b in self.brands]}})
        if self.types:
            options = [{metadata_key("type", t): True} for t in self.types]
            clauses.append(options[0] if len(options) == 1 else {"$or": options})
        if self.audience:
            clauses.append({metadata_key("for", self.audience): True})
        if self.price_max is not None:
            clauses.append({"price_min": {"$lte": self.price_max}})
        if self.price_min is not None:
            clauses.append({"price_max": {"$gte": self.price_min}})
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def admits(self, metadata: dict[str, Any]) -> bool:
        """The same filter as `where`, in Python, for the BM25 side."""
        if metadata.get("kind") != "product":
            return False
        if self.unknown_brands:
            return False
        if self.brands and metadata.get("brand_key") not in {b.casefold() for b in self.brands}:
            return False
        if self.types and not any(metadata.get(metadata_key("type", t)) for t in self.types):
            return False
        if self.audience and not metadata.get(metadata_key("for", self.audience)):
            return False
        low, high = metadata.get("price_min"), metadata.get("price_max")
        if self.price_max is not None and (low is None or low > self.price_max):
            return False
        return self.price_min is None or (high is not None and high >= self.price_min)

    def describe(self) -> str:
        """The constraints in the shopper's words: "women's running shoes from Gucci under £80"."""
        words = []
        if self.audience:
            words.append(
                {
                    "men": "men's",
                    "women": "women's",
                    "kids": "kids'",
                    "girls": "girls'",
                    "boys": "boys'",
                }[self.audience]
            )
        words.append(" or ".join(self.types) if self.types else "products")
        brands = self.brands + self.unknown_brands
        if brands:
            words.append("from " + " or ".join(brands))
        if self.price_min is not None and self.price_max is not None:
            words.append(f"between £{self.price_min:g} and £{self.price_max:g}")
        elif self.price_max is not None:
            words.append(f"under £{self.price_max:g}")
        elif self.price_min is not None:
            words.append(f"over £{self.price_min:g}")
        return " ".join(words)

    def relaxed(self) -> list[tuple[str, Constraints]]:
        """Looser variants to offer as alternatives, most similar first."""
        options = []
        if self.brands or self.unknown_brands:
            options.append(
                ("other brands", self.model_copy(update={"brands": [], "unknown_brands": []}))
            )
        if self.price_min is not None or self.price_max is not None:
            options.append(
                ("other prices", self.model_copy(update={"price_min": None, "price_max": None}))
            )
        if self.audience:
            options.append(("", self.model_copy(update={"audience": None})))
        return options


def _amount(groups: Iterable[str | None]) -> list[float]:
    return [float(g) for g in groups if g]


def find_brands(question: str, catalog: Catalog) -> tuple[list[str], list[str]]:
    """Brands the catalog sells that the question names (typos tolerated), and unknown names."""
    text = " " + " ".join(_WORD.findall(question.casefold())) + " "
    known = []
    for key, brand in catalog.brands.items():
        phrase = " ".join(_WORD.findall(key))
        if phrase and phrase not in _SHOP_WORDS and f" {phrase} " in text:
            known.append((phrase, brand))
    # "Hugo Boss" names that brand, not also "HUGO" and "BOSS".
    known = [
        brand
        for phrase, brand in known
        if not any(phrase != other and f" {phrase} " in f" {other} " for other, _ in known)
    ]
    if not known:  # one misspelt word: "trailmastr" → Trailmaster
        single = {k: b for k, b in catalog.brands.items() if " " not in k and len(k) >= 5}
        for word in _WORD.findall(question.casefold()):
            if len(word) >= 5 and word not in catalog.vocabulary:
                match = difflib.get_close_matches(word, single, n=1, cutoff=0.8)
                if match:
                    known.append(single[match[0]])
    unknown = []
    if not known:
        candidates = {m.group(1) for m in _NAMED.finditer(question)}
        candidates |= set(re.findall(r"\b[A-Z][a-zA-Z]{2,}\b", question))
        for name in sorted(candidates):
            word = name.casefold()
            # A capitalised name must be something the shop sells; a lowercase word ("from
            # other brands") only needs to be a word the shop uses.
            sold = catalog.names if name[:1].isupper() and catalog.names else catalog.vocabulary
            known_word = word in _SHOP_WORDS or word in sold
            if word not in _NOT_NAMES and not known_word:
                unknown.append(name)
    return known, unknown


def parse(question: str, catalog: Catalog) -> Constraints:
    types = product_types(question)
    types -= {general for general, specific in _IMPLIED.items() if types & specific}
    audience_hits = [a for a, p in AUDIENCE_PATTERNS.items() if p.search(question)]
    audience = next((a for a in ("girls", "boys") if a in audience_hits), None) or (
        audience_hits[0] if audience_hits else None
    )
    price_min = price_max = None
    if between := _BETWEEN.search(question):
        low, high = sorted(_amount(between.groups()))[:2]
        price_min, price_max = low, high
    else:
        if under := _UNDER.search(question):
            price_max = _amount(under.groups())[0]
        if over := _OVER.search(question):
            price_min = _amount(over.groups())[0]
    brands, unknown = find_brands(question, catalog)
    constraints = Constraints(
        brands=brands,
        types=sorted(types),
        audience=audience,
        price_min=price_min,
        price_max=price_max,
        by_price=bool(_CHEAP.search(question)),
        cheaper_than_before=bool(_CHEAPER.search(question)),
        attributes=[a for a, p in _ATTRIBUTE_PATTERNS.items() if p.search(question)],
    )
    # An unknown capitalised word only counts as a brand in a question about products.
    if unknown and (constraints.hard or re.search(r"\b(?:shoes?|boots?|brand)\b", question, re.I)):
        constraints.unknown_brands = unknown
    return constraints


_LEANS_BACK = re.compile(r"^\s*(?:and|also|what about|how about|or|any from)\b", re.I)


def is_follow_up(question: str, constraints: Constraints) -> bool:
    """A question that leans on the one before: it names no product type of its own, and no
    brand either unless it plainly continues ("and from Stridewell?")."""
    if constraints.types:
        return False
    if constraints.brands or constraints.unknown_brands:
        return bool(_LEANS_BACK.search(question))
    return bool(_FOLLOW_UP.search(question)) or (
        len(question.split()) <= 4 and constraints.about_products
    )


def resolve(question: str, earlier: Sequence[str], catalog: Catalog) -> Constraints:
    """This question's constraints, with what earlier questions asked for carried over."""
    current = parse(question, catalog)
    if not earlier or not is_follow_up(question, current):
        return current
    base = resolve(earlier[-1], earlier[:-1], catalog)
    if not base.about_products:
        return current
    update = {k: v for k, v in current.model_dump().items() if v not in (None, [], False)}
    if "attributes" in update:
        update["attributes"] = sorted(set(base.attributes) | set(update["attributes"]))
    if current.audience in KIDS and base.audience in ("men", "women"):
        update["audience"] = current.audience
    return base.model_copy(update=update)
