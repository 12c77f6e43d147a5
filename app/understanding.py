"""Question + conversation + shop → a search: the one place a shopper's words become filters.

What the shop sells is read from the published index (`Catalog`): its brands, its words, and
the `Shop` that ingest learned (product types, audiences, attributes, currency, profile).
A question is read against that (`parse`): brands the shop sells (typos tolerated) or names
it does not, product types, who it is for, price bounds in any currency, attributes.
Hard constraints (brand, type, audience, price) become one mask over the stored metadata
(`Index.mask`), used by both sides of the search; attributes only re-rank. A filter the
shopper did not clearly ask for is marked `loose`, so the service can drop it, and say so,
when it empties the results. A question is read against the conversation so far
(`understand`): each `Turn` holds what the shopper was shown, so "cheaper ones?", "the
second one" and "and can I return them?" mean what a shop assistant would take them to
mean.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from cobbler.measures import weight_bounds, weight_label
from cobbler.money import PriceBounds, format_price, price_bounds
from cobbler.profile import Shop
from cobbler.vocabulary import Match, metadata_key, phrase, spans, stem, stems

_WORD = re.compile(r"[^\W_]+(?:['&.][^\W_]+)*")
_NAMED = re.compile(r"\b(?:from|by|brand|make|made by)\s+([^\W\d_][\w&'.-]+)")
_BRAND_TALK = re.compile(r"\b(?:brands?|makes?|made by|manufacturer)\b", re.I)
# Capitalised words that start questions or are shop talk, never brand names.
_NOT_NAMES = set(
    "any anything are can could do does have hello hi how i is may please show tell thanks "
    "what when where which who why will would you your the a an my we our best cheap "
    "cheapest good new some recommend hey ok okay yes no not".split()
)
NAME_PHRASE_TITLES = 3  # a three-word run found in this few titles is a product's name


class Catalog(BaseModel):
    """What the shop sells, read once from the published index."""

    shop: Shop = Field(default_factory=Shop)
    brands: dict[str, str] = Field(default_factory=dict)  # brand_key → brand as written
    vocabulary: set[str] = Field(default_factory=set)  # every word in the store
    # Words of product titles, brands and categories: what the shop itself sells. A name
    # found only in descriptions or documents (an injected "X is in stock") does not make
    # the shop a seller of it.
    names: set[str] = Field(default_factory=set)
    # Runs of three words (as stems) found in only a few titles, with the audiences those
    # products are for: tells a product's name ("Ladies Rocker Recliner", in no women's
    # department) from words that ask for a kind of product.
    name_trigrams: dict[str, set[str]] = Field(default_factory=dict)
    # A knowledge base of documents alone has nothing to filter: "a salary under $80,000"
    # or "the annual budget" must not become a price limit or a cheapest-first order.
    sells_products: bool = True

    @classmethod
    def build(
        cls, shop: Shop, texts: Sequence[str], metadatas: Sequence[dict[str, Any]]
    ) -> Catalog:
        products = [m for m in metadatas if m.get("kind") == "product"]
        vocabulary = {w for t in texts for w in _WORD.findall(t.casefold())}
        vocabulary |= {w for t in texts for w in stems(t)}
        named = [
            str(m.get(field, "")).casefold()
            for m in products
            for field in ("title", "brand", "category")
        ]
        trigrams: Counter[str] = Counter()
        audiences: dict[str, set[str]] = {}
        for m in products:
            words = stems(str(m.get("title", "")))
            runs = {" ".join(words[i : i + 3]) for i in range(len(words) - 2)}
            trigrams.update(runs)
            tags = {k.removeprefix("for_") for k, v in m.items() if k.startswith("for_") and v}
            for run in runs:
                audiences.setdefault(run, set()).update(tags)
        return cls(
            shop=shop,
            sells_products=bool(products),
            brands={m["brand_key"]: m["brand"] for m in products if m.get("brand_key")},
            vocabulary=vocabulary,
            names={w for text in named for w in (*stems(text), *_WORD.findall(text))},
            name_trigrams={
                run: audiences[run] for run, n in trigrams.items() if n <= NAME_PHRASE_TITLES
            },
        )

    def shop_words(self) -> set[str]:
        """Stem phrases that name types, audiences or attributes: never a brand."""
        v = self.shop.vocabulary
        words = {p for t in v.types.values() for p in t.phrases}
        words |= {p for a in v.audiences.values() for p in a.phrases}
        return words | set(v.attributes)


# A comparative ("cheaper ones?") bounds by what is shown now, never by an earlier turn.
COMPARATIVES = ("cheaper_than", "pricier_than", "lighter_than", "heavier_than")
# The bounds a question or a comparative sets, by what they bound ("other prices" drops the
# first, "other weights" the second; a document question has neither).
PRICE_BOUNDS = ("price_min", "price_max", *COMPARATIVES[:2])
WEIGHT_BOUNDS = ("weight_min", "weight_max", *COMPARATIVES[2:])


class Constraints(BaseModel):
    """What the shopper asked for, in the shop's own terms."""

    brands: list[str] = Field(default_factory=list)
    unknown_brands: list[str] = Field(default_factory=list)  # named, but not sold here
    types: list[str] = Field(default_factory=list)  # product type keys (cobbler.vocabulary)
    # The shop's whole range named ("watches" in a watch shop): no filter, but the words
    # the shopper used, for telling them what we do not have.
    named: list[str] = Field(default_factory=list)
    audience: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None  # the currency the bounds are in
    # Set when the shop prices in several currencies: only products priced in this one can
    # be compared with the bounds.
    currency_filter: str | None = None
    cheaper_than: float | None = None  # "cheaper ones?": below the cheapest one shown
    pricier_than: float | None = None  # "more expensive ones?": above the dearest one shown
    by_price: bool = False
    cheaper_than_before: bool = False
    weight_min: float | None = None  # grams: "over 1 kg"
    weight_max: float | None = None  # grams: "under 300 g"
    lighter_than: float | None = None  # "lighter ones?": below the lightest one shown
    heavier_than: float | None = None  # "heavier ones?": above the heaviest one shown
    attributes: list[str] = Field(default_factory=list)
    # Filters the shopper did not clearly ask for ("types", "audience"): dropped, and said
    # so, when they leave nothing.
    loose: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)  # said to the shopper with the answer

    @property
    def lower(self) -> float | None:
        bounds = [b for b in (self.price_min, self.pricier_than) if b is not None]
        return max(bounds) if bounds else None

    @property
    def upper(self) -> float | None:
        bounds = [b for b in (self.price_max, self.cheaper_than) if b is not None]
        return min(bounds) if bounds else None

    @property
    def bounded(self) -> bool:
        return self.lower is not None or self.upper is not None

    @property
    def weighed(self) -> bool:
        return any(getattr(self, bound) is not None for bound in WEIGHT_BOUNDS)

    def weight_range(self) -> tuple[float | None, float | None]:
        """The weights allowed, in grams, both ends excluded: "under 300 g" keeps 300 g
        (half a gram of slack), "lighter than the 300 g one" does not."""
        lows = [self.heavier_than] if self.heavier_than is not None else []
        highs = [self.lighter_than] if self.lighter_than is not None else []
        if self.weight_min is not None:
            lows.append(self.weight_min - 0.5)
        if self.weight_max is not None:
            highs.append(self.weight_max + 0.5)
        return (max(lows) if lows else None, min(highs) if highs else None)

    @property
    def hard(self) -> bool:
        return bool(
            self.brands
            or self.unknown_brands
            or self.types
            or self.audience
            or self.bounded
            or self.weighed
        )

    @property
    def allows_documents(self) -> bool:
        """Only a type or audience: the question may be about caring for or returning them."""
        return not (self.brands or self.unknown_brands or self.bounded or self.weighed)

    @property
    def about_products(self) -> bool:
        return self.hard or self.by_price

    def price_in(self, currency: str | None, shop: Shop) -> None:
        """The bounds are in `currency`. In a shop that prices in several currencies only
        products priced in it can be compared with them: there is no rate to convert with."""
        self.currency = currency
        self.currency_filter = currency if len(shop.currencies) > 1 else None

    def below(self) -> float:
        """The highest price allowed: "cheaper than 60" excludes 60 itself."""
        if self.cheaper_than is not None and (
            self.price_max is None or self.cheaper_than <= self.price_max
        ):
            return self.cheaper_than - 0.005
        return self.upper  # type: ignore[return-value]

    def admits(self, metadata: dict[str, Any]) -> bool:
        """The same filter as `where`, in Python, for the BM25 side."""
        if metadata.get("kind") != "product" or self.unknown_brands:
            return False
        if self.brands and metadata.get("brand_key") not in {b.casefold() for b in self.brands}:
            return False
        if self.types and not any(metadata.get(metadata_key("type", t)) for t in self.types):
            return False
        if self.audience and not metadata.get(metadata_key("for", self.audience)):
            return False
        currency = self.currency_filter
        if self.bounded and currency and metadata.get("currency") != currency:
            return False
        low, high = metadata.get("price_min"), metadata.get("price_max")
        if self.upper is not None and (low is None or low > self.below()):
            return False
        if self.pricier_than is not None and (low is None or low <= self.pricier_than):
            return False
        if self.price_min is not None and (high is None or high < self.price_min):
            return False
        lightest, heaviest = self.weight_range()
        weight = metadata.get("weight_g")
        if lightest is not None and (weight is None or weight <= lightest):
            return False
        return heaviest is None or (weight is not None and weight < heaviest)

    def describe(self, shop: Shop) -> str:
        """The constraints in the shopper's words: "women's dive watches from X under $80"."""
        vocabulary = shop.vocabulary
        words = []
        if self.audience in vocabulary.audiences:
            words.append(vocabulary.audiences[self.audience].label)
        shown = self.types or self.named
        names = [vocabulary.types[t].name for t in shown if t in vocabulary.types]
        words.append(" or ".join(names) if names else "products")
        brands = self.brands + self.unknown_brands
        if brands:
            words.append("from " + " or ".join(brands))
        currency = self.currency or shop.currency

        def money(amount: float) -> str:
            return _round_money(format_price(amount, amount, currency))

        if self.cheaper_than is not None and self.upper == self.cheaper_than:
            words.append(f"cheaper than the {money(self.cheaper_than)} one")
        elif self.pricier_than is not None and self.lower == self.pricier_than:
            words.append(f"dearer than the {money(self.pricier_than)} one")
        elif self.lower is not None and self.upper is not None:
            words.append(f"between {money(self.lower)} and {money(self.upper)}")
        elif self.upper is not None:
            words.append(f"under {money(self.upper)}")
        elif self.lower is not None:
            words.append(f"over {money(self.lower)}")
        for shown, asked, than, bound in (
            (self.lighter_than, self.weight_max, "lighter", "under"),
            (self.heavier_than, self.weight_min, "heavier", "over"),
        ):
            if shown is not None:  # from the products shown: "lighter than the 290 g one"
                words.append(f"{than} than the {weight_label(shown)} one")
            elif asked is not None:
                words.append(f"{bound} {weight_label(asked)}")
        return " ".join(words)

    def relaxed(self) -> list[tuple[str, Constraints]]:
        """Looser variants to offer as alternatives, most similar first."""
        options = []
        if self.brands or self.unknown_brands:
            options.append(
                ("other brands", self.model_copy(update={"brands": [], "unknown_brands": []}))
            )
        if self.bounded:
            options.append(("other prices", self.model_copy(update=dict.fromkeys(PRICE_BOUNDS))))
        if self.weighed:
            options.append(("other weights", self.model_copy(update=dict.fromkeys(WEIGHT_BOUNDS))))
        if self.audience:
            options.append(("", self.model_copy(update={"audience": None})))
        return options

    def without_loose(self) -> Constraints | None:
        """These constraints without the filters the shopper did not clearly ask for."""
        if not self.loose:
            return None
        update: dict[str, Any] = {"loose": []}
        if "audience" in self.loose:
            update["audience"] = None
        if "types" in self.loose:
            update["types"] = []
        return self.model_copy(update=update)


def _round_money(text: str) -> str:
    """'$60.00' → '$60': a person says "under $60", not "under $60.00"."""
    return re.sub(r"(\d)[.,]00\b", r"\1", text)


def find_brands(question: str, catalog: Catalog, about_products: bool) -> tuple[list, list]:
    """Brands the catalog sells that the question names (typos tolerated), and unknown names."""
    text = " " + " ".join(_WORD.findall(question.casefold())) + " "
    shop_words = catalog.shop_words()
    known = []
    for key, brand in catalog.brands.items():
        brand_phrase = " ".join(_WORD.findall(key))
        if brand_phrase and phrase(brand_phrase) not in shop_words and f" {brand_phrase} " in text:
            known.append((brand_phrase, brand))
    # "Hugo Boss" names that brand, not also "HUGO" and "BOSS".
    known = [
        brand
        for p, brand in known
        if not any(p != other and f" {p} " in f" {other} " for other, _ in known)
    ]
    if not known:  # one misspelt word names a brand with a long enough name
        single = {k: b for k, b in catalog.brands.items() if " " not in k and len(k) >= 5}
        for word in _WORD.findall(question.casefold()):
            if len(word) >= 5 and word not in catalog.vocabulary:
                match = difflib.get_close_matches(word, single, n=1, cutoff=0.8)
                if match:
                    known.append(single[match[0]])
    unknown = []
    if not known and about_products:
        candidates = {m.group(1) for m in _NAMED.finditer(question)}
        # Capitalised words, but not the one that merely starts a sentence ("And can I...").
        capitalised = re.finditer(r"\b[^\W\d_a-z][^\W\d_]{2,}\b", question)
        candidates |= {
            m.group()
            for m in capitalised
            if not _sentence_start(question[: m.start()]) or m.group().isupper()
        }
        for name in sorted(candidates):
            word = name.casefold()
            # A capitalised name must be something the shop sells; a lowercase word ("from
            # other brands") only needs to be a word the shop uses.
            sold = catalog.names if name[:1].isupper() and catalog.names else catalog.vocabulary
            known_word = phrase(word) in shop_words or word in sold or phrase(word) in sold
            if word not in _NOT_NAMES and not known_word:
                unknown.append(name)
    return known, unknown


def _sentence_start(before: str) -> bool:
    """Whether a word after `before` starts a sentence ("Dr. Martens" does not)."""
    before = before.rstrip()
    return not before or (before[-1] in ".!?" and not re.search(r"\b[A-Z][a-z]{0,2}\.$", before))


def _part_of_a_name(match: Match, question: str, catalog: Catalog) -> bool:
    """Whether an audience word sits inside a product's own name in the question ("ladies
    rocker recliner") for products that are not in that audience's department: then it
    names the product, and a filter on it would hide the very product asked for."""
    words = spans(question)
    inside = [i for i, (_, start, end) in enumerate(words) if match.start <= start < match.end]
    if not inside:
        return False
    for i in range(max(0, inside[0] - 2), inside[-1] + 1):
        run = " ".join(w for w, _, _ in words[i : i + 3])
        if run in catalog.name_trigrams and match.key not in catalog.name_trigrams[run]:
            return True
    return False


def _narrowest(matches: list[Match], catalog: Catalog) -> list[str]:
    """Type keys to filter on: a general type filters nothing; of a type and one of its own
    kinds ("watches" and "dive watches" named apart), the narrower one wins."""
    types = catalog.shop.vocabulary.types
    keys = list(dict.fromkeys(m.key for m in matches if not types[m.key].general))
    return [k for k in keys if not any(k in types[o].parents for o in keys if o != k)]


def _mask(text: str, bounds: PriceBounds) -> str:
    """The question with the words read as money blanked out, so "5 seater sofa under 600"
    does not also read 600 as anything else."""
    chars = list(text)
    for start, end in bounds.spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def parse(question: str, catalog: Catalog, about_products: bool = False) -> Constraints:
    """The constraints a question states on its own. `about_products`: the conversation is
    about products, so a name the shop does not sell is a brand it lacks ("what about X?")."""
    if not catalog.sells_products:
        return Constraints()
    shop = catalog.shop
    vocabulary = shop.vocabulary
    bounds = price_bounds(question, default=shop.currency)
    lightest, heaviest = weight_bounds(question)
    text = _mask(question, bounds)
    type_matches = vocabulary.find_types(text)
    types = _narrowest(type_matches, catalog)
    named = [m.key for m in type_matches if vocabulary.types[m.key].general]
    # Words inside a type's name are not also attributes: "green tea" is not a colour.
    rest = text
    for m in type_matches:
        rest = rest[: m.start] + " " * (m.end - m.start) + rest[m.end :]
    loose = []
    audience = None
    audience_hits = [
        m for m in vocabulary.find_audiences(text) if not _part_of_a_name(m, text, catalog)
    ]
    if audience_hits:
        # The narrowest audience named: "girls" over "kids".
        hit = next((m for m in audience_hits if m.key != "kids"), audience_hits[0])
        audience = hit.key
        # "for women" and "women's" ask for an audience; a bare "ladies" may only describe.
        before = text[: hit.start].rstrip().casefold()
        if not (before.endswith("for") or re.search(r"(?:'s|s')$", hit.text.casefold())):
            loose.append("audience")
    about = about_products or bool(type_matches) or bool(_BRAND_TALK.search(question))
    brands, unknown = find_brands(text, catalog, about)
    constraints = Constraints(
        brands=brands,
        unknown_brands=unknown,
        types=types,
        named=named if not types else [],
        audience=audience,
        by_price=bounds.cheapest,
        cheaper_than_before=bounds.cheaper,
        weight_min=lightest,
        weight_max=heaviest,
        attributes=[m.key for m in vocabulary.find_attributes(rest)],
        loose=loose,
    )
    if bounds.low is not None or bounds.high is not None:
        currency = bounds.currency or shop.currency
        priced_in = set(shop.currencies) or ({shop.currency} if shop.currency else set())
        if currency and priced_in and currency not in priced_in:
            # No rate to convert with: a bound in another currency would compare apples and
            # oranges, so it is not applied, and the shopper is told why.
            constraints.notes.append(
                f"Our prices are in {', '.join(sorted(priced_in))}, so I could not "
                f"apply a price limit in {currency}."
            )
        else:
            constraints.price_min, constraints.price_max = bounds.low, bounds.high
            constraints.price_in(currency, shop)
    return constraints


# Conversation ------------------------------------------------------------------------------

Topic = Literal["products", "documents"]


class Shown(BaseModel):
    """A product the shopper was shown, as the answer listed it."""

    id: str
    title: str
    brand: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None
    weight_g: float | None = None


class Turn(BaseModel):
    """One question and what the shopper was shown for it: the state a follow-up reads."""

    question: str
    answer: str = ""
    topic: Topic = "products"
    query: str = ""  # what was searched for (a follow-up's own words plus what it leans on)
    constraints: Constraints = Field(default_factory=Constraints)  # in force for this turn
    shown: list[Shown] = Field(default_factory=list)  # in the order the answer cites them


class SearchRequest(BaseModel):
    """What to search for: the text, the constraints every product must meet, and the
    products a reference ("the second one") points at."""

    query: str
    constraints: Constraints
    topic: Topic | None = None  # None: products and documents alike
    pinned: list[str] = Field(default_factory=list)  # ids of shown products referred to
    kind: str = "fresh"  # how the question was read: fresh, reference, follow-up, ...

    @property
    def about_products(self) -> bool:
        """Products were asked for, or pointed at ("the second one")."""
        return self.constraints.about_products or bool(self.pinned)


class Evidence(Protocol):
    """What the retriever's encoder can tell about a question's words."""

    def closeness(self, text: str) -> tuple[float, float]:
        """How close the nearest document and the nearest product come to `text`."""
        ...

    def near_types(self, words: list[str]) -> list[str]:
        """Product types whose names mean nearly what one of `words` means."""
        ...


_PRONOUN = re.compile(r"\b(?:they|them|those|these|it|its|ones?|either|both)\b", re.I)
_NARROWING = re.compile(r"^\s*(?:only|just|but|and|also|what about|how about|any|or)\b", re.I)
# How a new question opens ("do you sell lanterns?"), where a short follow-up does not.
_FRESH_ASK = re.compile(
    r"^\s*(?:do|does|can) (?:you|the shop|your shop) (?:have|sell|stock|carry|do|recommend)\b"
    r"|^\s*(?:show me|i(?:'m| am) looking for|i (?:need|want|would like))\b",
    re.I,
)
_PRICIER = re.compile(
    r"\b(?:more expensive|pricier|dearer|higher[- ]end|better quality|premium)\b", re.I
)
# "lighter ones?", not "a lighter colour".
_NOT_A_SHADE = r"(?!\s+(?:in\s+)?(?:colou?rs?|shades?|tones?|hues?)\b)"
_LIGHTER = re.compile(rf"\b(?:lighter|less heavy|weighs? less){_NOT_A_SHADE}", re.I)
_HEAVIER = re.compile(r"\b(?:heavier|weighs? more|more solid)\b", re.I)
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3,
    "fourth": 4, "4th": 4, "fifth": 5, "5th": 5, "last": -1, "final": -1,
}  # fmt: skip
_ORDINAL = re.compile(
    r"\b(?:the|that|this)\s+(?:very\s+)?(" + "|".join(_ORDINALS) + r")\b"
    r"|\b(" + "|".join(_ORDINALS) + r")\s+(?:one|pair|item|product)s?\b"
    r"|\b(?:the|or the|and the)\s+(" + "|".join(_ORDINALS) + r")\b",
    re.I,
)
_SEVERAL = re.compile(
    r"\b(?:the (?:first )?(two|three)|both(?: of them)?|first (two|three)"
    r"|compare (?:them|the two))\b",
    re.I,
)
_THAT_ONE = re.compile(r"\b(?:that|this) (?:one|pair|item)\b", re.I)
_OF_THEM = re.compile(
    r"\b(cheaper|cheapest|less expensive|more expensive|pricier|dearer)\b.*"
    r"\b(?:of (?:the|those|these) (?:two|three)|of them|of those|of these)\b",
    re.I,
)
# How close a document must come, and how much closer than any product, for a question
# that names no product to be about the shop's documents rather than what was shown.
DOCUMENT_MARGIN = 0.05
# How much closer products must come for a question naming a type to leave documents out
# ("which size should I take for sofas if I'm unsure?" may be a guide's question).
PRODUCT_MARGIN = 0.1


def references(question: str, shown: Sequence[Shown]) -> list[Shown]:
    """The shown products a question points at: "the second one", "the last one", "both",
    "the cheaper of the two"; none when it points at nothing."""
    if not shown:
        return []
    if match := _OF_THEM.search(question):
        pool = list(shown)
        if several := _SEVERAL.search(question):
            count = {"two": 2, "three": 3}.get(several.group(1) or several.group(2) or "two")
            pool = pool[: count or 2]
        priced = [s for s in pool if s.price_min is not None]
        if len({s.currency for s in priced if s.currency}) > 1:
            # No rate to convert with: all of them, each in its own currency (`understand`
            # tells the shopper why none is picked).
            return priced
        if priced:
            pick = min if "cheap" in match.group(1).lower() or "less" in match.group(1) else max
            return [pick(priced, key=lambda s: s.price_min or 0.0)]
    if several := _SEVERAL.search(question):
        count = {"three": 3}.get((several.group(1) or several.group(2) or "").lower(), 2)
        return list(shown[:count])
    picked: list[Shown] = []
    for match in _ORDINAL.finditer(question):
        word = next(g for g in match.groups() if g).lower()
        position = _ORDINALS[word]
        index = position - 1 if position > 0 else len(shown) + position
        if 0 <= index < len(shown) and shown[index] not in picked:
            picked.append(shown[index])
    if picked:
        return picked
    if _THAT_ONE.search(question):
        return [shown[0]]
    return []


def _sub_kinds(types: list[str], before: list[str], catalog: Catalog) -> bool:
    """Whether every type named now is a kind of one named before ("trail" after "running")."""
    known = catalog.shop.vocabulary.types
    return bool(types and before) and all(
        t in before or any(b in known[t].parents for b in before) for t in types if t in known
    )


def _kinds_of(question: str, before: list[str], catalog: Catalog) -> list[str]:
    """Kinds of the types in force named by one word ("only trail ones" after running
    watches: "dive watches"), when the shop has such a kind."""
    types = catalog.shop.vocabulary.types
    by_phrase = {p: key for key, t in types.items() for p in t.phrases}
    words = set(stems(question))
    found = []
    for key in before:
        for base in types[key].phrases if key in types else []:
            for word in words:
                kind = by_phrase.get(f"{word} {base}")
                if kind and kind not in found:
                    found.append(kind)
    return found


def _merge(base: Constraints, current: Constraints) -> Constraints:
    """The constraints in force, updated with what the follow-up says."""
    update = {
        k: v
        for k, v in current.model_dump().items()
        if v not in (None, [], False) and k not in ("notes", "loose", "named")
    }
    if current.brands or current.unknown_brands:  # a brand switch replaces the brand
        update["brands"], update["unknown_brands"] = current.brands, current.unknown_brands
    if "attributes" in update:
        update["attributes"] = sorted(set(base.attributes) | set(update["attributes"]))
    update["notes"], update["loose"] = current.notes, current.loose
    # A comparative moves from what is shown now, never from an earlier turn's products.
    update |= dict.fromkeys(COMPARATIVES)
    return base.model_copy(update=update)


_NO_BOUNDS = dict.fromkeys(PRICE_BOUNDS + WEIGHT_BOUNDS) | {
    "by_price": False,
    "cheaper_than_before": False,
}


def _bounds_alone(constraints: Constraints) -> bool:
    """A price or weight bound, and nothing that names products."""
    names = constraints.brands or constraints.unknown_brands or constraints.types
    return (constraints.bounded or constraints.weighed) and not names


def understand(
    question: str,
    conversation: Sequence[Turn],
    catalog: Catalog,
    evidence: Evidence | None = None,
    min_relevance: float = 0.35,
) -> SearchRequest:
    """What to search for, reading the question against what the shopper was last shown.

    A question that names products of its own starts afresh; a reference ("the second one")
    points at the shown products; pronouns, comparatives, narrowing and brand switches keep
    the constraints in force; a question the shop's documents answer better than any product
    starts a document topic, and a document topic's follow-ups stay on it. `evidence` tells
    how close documents and products come to a text (the retriever's dense side).
    """
    last = conversation[-1] if conversation else None
    on_products = bool(last and last.topic == "products")
    current = parse(question, catalog, about_products=on_products)

    def fresh(topic: Topic | None = None) -> SearchRequest:
        query = expand(question, current, catalog, evidence)
        constraints = current
        if topic is None and current.allows_documents and current.hard and evidence:
            # A type or an audience alone: about the products if they come clearly closer
            # than any document, about the shop's documents if those do ("how do I clean
            # a wool rug?"), else both kinds of source compete.
            document, product = evidence.closeness(query)
            if product >= document + PRODUCT_MARGIN:
                topic = "products"
            elif document >= product + DOCUMENT_MARGIN:
                topic = "documents"
        elif topic is None and _bounds_alone(current) and evidence:
            # "Is delivery free on orders over $50?", "do you ship parcels over 20 kg?": an
            # amount that names no product is a policy's when the documents come clearly
            # closer, and no product filter then; "anything under $30?" stays on products.
            document, product = evidence.closeness(query)
            if document >= product + DOCUMENT_MARGIN:
                topic = "documents"
        if topic == "documents":
            constraints = current.model_copy(update=_NO_BOUNDS)
        return SearchRequest(query=query, constraints=constraints, topic=topic)

    if last is None:
        return fresh()
    if on_products and (pointed := references(question, last.shown)):
        constraints = last.constraints.model_copy(update={"notes": []})  # said last time
        currencies = sorted({s.currency for s in pointed if s.currency and s.price_min is not None})
        if _OF_THEM.search(question) and len(currencies) > 1:
            constraints.notes.append(
                f"These are priced in different currencies ({' and '.join(currencies)}), "
                "and I have no exchange rate to compare them with."
            )
        return SearchRequest(
            query=question,
            constraints=constraints,
            topic="products",
            pinned=[s.id for s in pointed],
            kind="reference",
        )

    if on_products and not current.types:
        current.types = _kinds_of(question, last.constraints.types, catalog)
    names_products = bool(current.types or current.brands or current.unknown_brands)
    comparative = current.cheaper_than_before or bool(_PRICIER.search(question))
    lighter, heavier = bool(_LIGHTER.search(question)), bool(_HEAVIER.search(question))
    measured = current.bounded or current.by_price or current.weighed or lighter or heavier
    # Words that only make sense of products; an audience alone may be a policy question
    # ("how do I measure for a women's size?").
    specific = names_products or measured or bool(current.attributes) or comparative
    if (not specific or _bounds_alone(current)) and evidence is not None:
        document, product = evidence.closeness(question)
        if document >= min_relevance and document >= product + DOCUMENT_MARGIN:
            if last.topic == "documents" and leans_back_on_topic(question):
                return _document_follow_up(question, last, current)
            return fresh("documents")
    if last.topic == "documents":
        if specific or current.audience:
            return fresh()
        return _document_follow_up(question, last, current)

    # On products: a follow-up keeps what was in force and moves from what was shown.
    leans_back = bool(_NARROWING.search(question) or _PRONOUN.search(question))
    follows = leans_back or (len(question.split()) <= 4 and not _FRESH_ASK.search(question))
    narrows = not current.types or _sub_kinds(current.types, last.constraints.types, catalog)
    if names_products and not (follows and narrows):
        return fresh()
    if not (specific or follows or current.audience):
        return fresh()
    constraints = _merge(last.constraints, current)
    currency, prices = _comparable(last.shown, constraints.currency, catalog.shop)
    if comparative and prices:
        constraints.price_in(currency, catalog.shop)
    if current.cheaper_than_before and prices:
        constraints.cheaper_than, constraints.price_min = min(prices), None
        constraints.by_price = False
    elif _PRICIER.search(question) and prices:
        constraints.pricier_than, constraints.price_max = max(prices), None
    weights = [s.weight_g for s in last.shown if s.weight_g is not None]
    if (lighter or heavier) and not weights:
        constraints.notes.append(
            "The products I showed list no weight, so I could not compare their weights."
        )
    elif lighter:
        constraints.lighter_than, constraints.weight_max = min(weights), None
    elif heavier:
        constraints.heavier_than, constraints.weight_min = max(weights), None
    return SearchRequest(
        query=f"{last.query or last.question} {question}",
        constraints=constraints,
        topic="products",
        kind="follow-up",
    )


def _comparable(
    shown: Sequence[Shown], currency: str | None, shop: Shop
) -> tuple[str | None, list[float]]:
    """The currency a "cheaper" or "more expensive" follow-up moves in, and the prices of
    the shown products it moves from. Where the shop prices in several currencies, that is
    the currency of the bounds in force, else the shop's own if a product in it was shown,
    else the first shown product's; products in other currencies have nothing to say."""
    priced = [(s.price_min, s.currency) for s in shown if s.price_min is not None]
    if len(shop.currencies) <= 1:
        return currency or shop.currency, [price for price, _ in priced]
    if currency is None:
        held = [c for _, c in priced]
        currency = shop.currency if shop.currency in held else next(iter(held), None)
    return currency, [price for price, c in priced if c == currency]


def expand(
    question: str, constraints: Constraints, catalog: Catalog, evidence: Evidence | None = None
) -> str:
    """The question with the shop's own name for each type it names: the encoder may not
    know a shop's or a region's word ("settee"), but it knows the category's name. A word
    the shop never uses that the encoder finds close to a type's name ("carpet", "rugs")
    adds that name too: a hint for the search, never a filter."""
    types = catalog.shop.vocabulary.types
    asked = set(stems(question))
    kinds = list(constraints.types)
    if not kinds and evidence is not None:
        unknown = [
            w
            for w in _WORD.findall(question)
            if len(w) >= 4 and w.isalpha() and w.islower() and w not in _NOT_NAMES
            and w not in catalog.vocabulary and stem(w) not in catalog.vocabulary
        ]  # fmt: skip
        kinds = evidence.near_types(unknown) if unknown else []
    names = [types[t].name for t in kinds if t in types and not set(stems(types[t].name)) <= asked]
    return f"{question} ({', '.join(names)})" if names else question


def leans_back_on_topic(question: str) -> bool:
    """A short question, or one that points back ("it", "that"): it continues the topic."""
    return len(question.split()) <= 6 or bool(
        _PRONOUN.search(question) or re.search(r"\b(?:that|this)\b", question, re.I)
    )


def _document_follow_up(question: str, last: Turn, current: Constraints) -> SearchRequest:
    return SearchRequest(
        query=f"{last.query or last.question} {question}",
        constraints=current,
        topic="documents",
        kind="document follow-up",
    )
