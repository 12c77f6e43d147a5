"""Typed records passed between the stages: Product → Chunk → Source → Answer."""

from __future__ import annotations

import hashlib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cobbler import money
from cobbler.measures import product_weight

Kind = Literal["product", "document"]
# How an answer came about: from the model ("answered"), or written by the service because
# the shop has none of what was asked ("none"), its information does not say ("unknown"), or
# nothing the model wrote survived the checks ("fallback"). The last three are what the shop
# owner's page lists as questions the shop could not answer.
Outcome = Literal["answered", "none", "unknown", "fallback"]

TAG_PREFIXES = ("type_", "for_")
CODE_LABEL = "Product code:"
# A product card's layout (`Product.text`), read back by `card_facts`.
BRAND_LABEL, CATEGORY_LABEL, PRICE_LABEL = "Brand: ", "Category: ", "Price: "
CARD_LABELS = (BRAND_LABEL, CATEGORY_LABEL, PRICE_LABEL)
DETAILS_LABEL = "Details: "
FEATURE_MARK = "- "


def format_price(price_min: float | None, price_max: float | None, currency: str | None) -> str:
    """'$49.99', '¥12,000', '€39.99 – €64.99', '49.99' (no currency), or 'price not listed'."""
    return money.format_price(price_min, price_max, currency)


def escape_markdown(text: str) -> str:
    """Shop text made inert in Markdown: brackets, angle brackets and emphasis shown as typed,
    so a title can never become a link, an image or HTML on the chat page."""
    return re.sub(r"([\\\[\]()<>*_`#|~!])", r"\\\1", text)


class Product(BaseModel):
    """One catalog entry, normalised from whatever shape the catalog file had."""

    asin: str | None = None
    title: str
    brand: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None
    category_path: list[str] = Field(default_factory=list)
    url: str | None = None
    image_url: str | None = None
    description: str | None = None
    details: dict[str, str] = Field(default_factory=dict)
    features: list[str] = Field(default_factory=list)
    source: str = ""  # catalog file, relative to the knowledge base
    row: str | None = Field(None, exclude=True)  # "item 3", "row 12": for ingest reports

    @property
    def category(self) -> str | None:
        return " > ".join(self.category_path) or None

    @property
    def category_leaf(self) -> str | None:
        return self.category_path[-1] if self.category_path else None

    @property
    def price_label(self) -> str:
        return format_price(self.price_min, self.price_max, self.currency)

    def text(self) -> str:
        """What is embedded, indexed for BM25 and shown to the model: reads like a shop card."""
        lines = [self.title]
        if self.brand:
            lines.append(f"{BRAND_LABEL}{self.brand}")
        if self.category:
            lines.append(f"{CATEGORY_LABEL}{self.category}")
        lines.append(f"{PRICE_LABEL}{self.price_label}")
        if self.asin:
            lines.append(f"{CODE_LABEL} {self.asin}")
        if self.description:
            lines.append(self.description)
        if self.details:
            lines.append(DETAILS_LABEL + "; ".join(f"{k}: {v}" for k, v in self.details.items()))
        lines.extend(f"{FEATURE_MARK}{feature}" for feature in self.features)
        return "\n".join(lines)

    def to_chunk(self) -> Chunk:
        text = self.text()
        return Chunk(
            id=chunk_id("product", text),
            kind="product",
            text=text,
            title=self.title,
            source=self.source,
            brand=self.brand,
            brand_key=self.brand.casefold() if self.brand else None,
            price_min=self.price_min,
            price_max=self.price_max,
            currency=self.currency,
            category=self.category,
            category_leaf=self.category_leaf,
            asin=self.asin,
            url=self.url,
            image_url=self.image_url,
            details=list(self.details.values()),
            weight_g=product_weight(self.details),
            row=self.row,
        )


def card_facts(text: str) -> tuple[list[str], list[str], list[str]]:
    """A product card (`Product.text`) read back: its details ("Closure: Lace-Up"), its
    feature lines and its description lines, each in card order."""
    details: list[str] = []
    features: list[str] = []
    description: list[str] = []
    for line in text.splitlines()[1:]:
        if line.startswith(DETAILS_LABEL):
            details += [d.strip() for d in line.removeprefix(DETAILS_LABEL).split(";")]
        elif line.startswith(FEATURE_MARK):
            features.append(line.removeprefix(FEATURE_MARK).strip())
        elif not line.startswith((*CARD_LABELS, CODE_LABEL)):
            description.append(line)
    return [d for d in details if d], features, description


def context_header(source: str, title: str | None, section: str | None) -> str:
    """Folders, file name, title and heading path, without repeats: a chunk that lost its
    document's first lines still says what it is about."""
    *folders, name = source.split("/")
    stem = (name.rsplit(".", 1)[0] if "." in name else name).replace("-", " ")
    parts = [*folders, stem, title or "", *(section or "").split(" › ")]
    seen: set[str] = set()
    kept = []
    for part in parts:
        part = re.sub(r"[_\s]+", " ", part).strip()
        key = re.sub(r"[\W_]+", "", part.casefold())
        if key and key not in seen:
            seen.add(key)
            kept.append(part)
    return " › ".join(kept)


def chunk_id(kind: Kind, text: str) -> str:
    # Content-derived: the same text always gets the same id, so its embedding can be reused.
    return f"{kind[0]}-{hashlib.sha256(text.encode()).hexdigest()[:24]}"


class Chunk(BaseModel):
    """The unit stored in Chroma: a whole product, or one piece of a document."""

    model_config = ConfigDict(extra="forbid")  # a misspelt field must fail, not vanish

    id: str
    kind: Kind
    text: str
    title: str
    source: str
    section: str | None = None  # heading path of a document chunk
    page: int | None = None  # PDF page, 1-based
    part: int | None = None  # a document chunk's place in its file, 0-based: finds neighbours
    brand: str | None = None
    brand_key: str | None = None
    price_min: float | None = None
    price_max: float | None = None
    currency: str | None = None
    weight_g: float | None = None  # a product's weight in grams (cobbler.measures)
    category: str | None = None
    category_leaf: str | None = None
    asin: str | None = None
    url: str | None = None
    image_url: str | None = None
    tags: dict[str, bool] = Field(default_factory=dict)  # type_* and for_* (cobbler.vocabulary)
    # A product's detail values, for learning the shop's attributes at ingest; not stored.
    details: list[str] = Field(default_factory=list, exclude=True)
    row: str | None = Field(None, exclude=True)  # a product's row in its file; not stored

    @property
    def category_path(self) -> list[str]:
        return self.category.split(" > ") if self.category else []

    def metadata(self) -> dict[str, Any]:
        """Chroma metadata: typed scalars only, absent rather than None, tags flattened."""
        fields = self.model_dump(exclude={"id", "text", "tags", "details"})
        return {k: v for k, v in fields.items() if v is not None} | self.tags

    @classmethod
    def from_store(cls, id: str, text: str, metadata: dict[str, Any], **extra: Any) -> Chunk:
        tags = {k: v for k, v in metadata.items() if k.startswith(TAG_PREFIXES)}
        fields = {k: v for k, v in metadata.items() if not k.startswith(TAG_PREFIXES)}
        return cls(id=id, text=text, tags=tags, **fields, **extra)

    @property
    def price_label(self) -> str:
        return format_price(self.price_min, self.price_max, self.currency)

    @property
    def context(self) -> str:
        """A document chunk's contextual header: its folders, file name, title and heading
        path, each said once ("guides › Watering › Ferns › In winter"). Empty for a product,
        whose text already names it."""
        if self.kind != "document":
            return ""
        return context_header(self.source, self.title, self.section)

    @property
    def indexed_text(self) -> str:
        """What is embedded and indexed for BM25: the header, then the text. The text alone is
        what is stored and shown, so a header never counts as evidence."""
        header = self.context
        return f"{header}\n{self.text}" if header else self.text

    @property
    def where(self) -> str:
        """Where a document chunk comes from, as a shopper would read it."""
        parts = [self.source]
        if self.section:
            parts.append(self.section)
        if self.page:
            parts.append(f"page {self.page}")
        return " › ".join(parts)


class View(BaseModel):
    """Another text of a chunk, embedded to rank it by and never shown: a document chunk's
    header (`Chunk.context`), which several chunks of one section share. Views are stored
    beside the chunks (cobbler.store), not among them."""

    id: str
    role: Literal["header"]
    text: str

    @classmethod
    def header(cls, text: str) -> View:
        # Content-derived, like a chunk's id: an unchanged header is not embedded again.
        return cls(
            id=f"h-{hashlib.sha256(text.encode()).hexdigest()[:24]}", role="header", text=text
        )

    def metadata(self) -> dict[str, Any]:
        return {"role": self.role}


class Source(Chunk):
    """A chunk retrieved for a question, numbered as the model and the shopper see it."""

    n: int
    score: float


class Timings(BaseModel):
    retrieve_ms: float = 0.0
    first_token_ms: float = 0.0
    total_ms: float = 0.0
    tokens: int = 0


class Checks(BaseModel):
    """What checking the answer against its sources changed (app/checks.py)."""

    removed_citations: list[int] = Field(default_factory=list)  # [n] with no source n
    corrected_citations: list[str] = Field(default_factory=list)  # "[2]→[1]: $79.99"
    removed_sentences: list[str] = Field(default_factory=list)  # claims found in no source
    wrong_language: str | None = None  # the answer was in this language, not the shop's
    ok: bool = True  # nothing had to change


class Answer(BaseModel):
    answer: str
    sources: list[Source]
    timings: Timings
    checks: Checks = Field(default_factory=Checks)
    outcome: Outcome = "answered"
    # What was asked for, in the shop's terms ("waterproof jackets from Acme"), so questions
    # worded differently group together on the owner's page; the question when not a search.
    wanted: str = ""
    # Source number → the one or two product details that match the question.
    highlights: dict[int, list[str]] = Field(default_factory=dict)
