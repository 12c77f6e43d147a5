"""Which catalog column holds which part of a product, whatever the shop called it.

A column's role (title, price, brand, ...) is found from its name first: common synonyms,
in any case and with any separator ("ProductName", "item_title", "Product Title"). Roles
still missing are then looked for in what a sample of the values looks like: money, web
links, currency codes, category paths, long free text, product names. COBBLER_CATALOG_COLUMNS
({role: column}) overrides both, per role. Columns left without a role keep their short
values as product details ("Strap material: Steel"), so they stay searchable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, Field

from cobbler.money import currency_code, parse_price
from ingest.problems import SkipFile

Role = Literal[
    "title",
    "price",
    "list_price",
    "currency",
    "brand",
    "description",
    "category",
    "sub_category",
    "url",
    "image",
    "id",
    "details",
    "features",
]
How = Literal["name", "content", "setting"]
ROLES: tuple[Role, ...] = get_args(Role)

# Synonyms per role, most specific first: when two columns claim a role, the earlier wins.
SYNONYMS: dict[Role, tuple[str, ...]] = {
    "title": ("title", "name", "product title", "product name", "item name", "product"),
    "price": (
        "selling price",
        "sale price",
        "current price",
        "offer price",
        "our price",
        "special price",
        "final price",
        "discount price",
        "price",
        "price text",
        "unit price",
        "cost",
    ),
    "list_price": (
        "list price",
        "original price",
        "rrp",
        "msrp",
        "retail price",
        "regular price",
        "was price",
        "full price",
        "compare at price",
    ),
    "currency": ("currency", "currency code", "price currency", "currency iso"),
    "brand": ("brand", "brand name", "manufacturer", "maker", "vendor", "make", "designer"),
    "description": (
        "description",
        "long description",
        "short description",
        "desc",
        "body",
        "body html",
        "notes",
        "summary",
        "overview",
        "about",
    ),
    "category": (
        "category path",
        "breadcrumbs",
        "breadcrumb",
        "categories",
        "category",
        "category name",
        "product type",
        "type",
        "department",
    ),
    "sub_category": ("sub category", "subcategory", "sub cat"),
    "url": ("url", "link", "product url", "permalink", "product link", "page url", "href"),
    "image": (
        "image",
        "images",
        "img",
        "image link",
        "images list",
        "image url",
        "image urls",
        "image src",
        "main image",
        "picture",
        "photo",
        "thumbnail",
    ),
    "id": (
        "asin",
        "sku",
        "product id",
        "item id",
        "id",
        "code",
        "product code",
        "item code",
        "handle",
        "mpn",
        "gtin",
        "ean",
        "upc",
    ),
    "details": (
        "product details",
        "details",
        "specs",
        "specifications",
        "attributes",
        "properties",
        "technical details",
        "metadata features",
    ),
    "features": ("features", "bullet points", "bullets", "highlights", "key features"),
}
# Words a column name may start with that add nothing: "Product Title", "Variant Price".
_FILLER_PREFIXES = ("product", "item", "variant")
# Names of ordinary product attributes: never read as another role from their content.
_ATTRIBUTE_WORDS = {
    "color",
    "colour",
    "size",
    "material",
    "gender",
    "pattern",
    "style",
    "fit",
    "weight",
    "dimensions",
    "finish",
    "flavor",
    "flavour",
    "capacity",
    "origin",
}
# Money that is not the product's price.
_NOT_PRICE_WORDS = {"shipping", "delivery", "postage", "tax", "vat", "fee", "deposit", "discount"}
# Names that say nothing, so bare numbers under them may be read as a price.
_VAGUE_NAMES = {"", "col", "column", "field", "value", "val", "data", "unnamed", "amount"}
# Roles looked for in the values, in this order (each claims its column).
_CONTENT_ROLES: tuple[Role, ...] = (
    "url",
    "image",
    "currency",
    "price",
    "category",
    "description",
    "title",
)
# Roles a setting may also be given under the old field names.
_ROLE_ALIASES: dict[str, Role] = {
    "asin": "id",
    "sku": "id",
    "name": "title",
    "breadcrumbs": "category",
    "images_list": "image",
    "image_link": "image",
    "image_url": "image",
    "product_details": "details",
}

NO_VALUE = {"", "no data.", "no data", "n/a", "na", "none", "null", "unknown", "-"}
SAMPLE_ROWS = 200
SHORT_TEXT = 60  # mean characters up to which a leftover column is a detail, not prose

_UNIT = re.compile(r"[(\[]\s*([^)\]]*?)\s*[)\]]")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_IMAGE_URL = re.compile(r"\.(?:jpe?g|png|webp|gif|avif)(?:[?#]|$)|image|img", re.IGNORECASE)
_STRONG_CRUMB = re.compile(r"\s*(?:›|»|>|→)\s*")
_WEAK_CRUMB = re.compile(r"\s*(?:/|\|)\s*")
_NUMBER = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_CURRENCY_CODE = re.compile(r"^[A-Za-z]{3}$")


class ColumnMapping(BaseModel):
    """Role → column of one catalog file, how each was found, and what is left over."""

    columns: dict[Role, str] = Field(default_factory=dict)
    how: dict[Role, How] = Field(default_factory=dict)
    attributes: list[str] = Field(default_factory=list)  # leftovers kept as details
    ignored: list[str] = Field(default_factory=list)  # leftovers with long or nested values
    price_currency: str | None = None  # from a price column named like "Price (USD)"

    def column(self, role: Role) -> str | None:
        return self.columns.get(role)

    def report(self) -> dict[str, str]:
        """Role → column, with how it was found unless from the name: for the ingest report."""
        shown = {
            role: column if self.how[role] == "name" else f"{column} ({self.how[role]})"
            for role in ROLES
            if (column := self.columns.get(role))
        }
        if self.attributes:
            shown["attributes"] = ", ".join(self.attributes)
        if self.ignored:
            shown["ignored"] = ", ".join(self.ignored)
        return shown


def column_key(name: str) -> str:
    """'ProductName', 'product-name', 'Product Name (USD)' → 'productname'."""
    return "".join(_words(name))


def _words(name: str) -> list[str]:
    name = _CAMEL.sub(" ", _UNIT.sub(" ", str(name)))
    return re.findall(r"[a-z0-9]+", name.lower())


_BY_KEY: dict[str, tuple[Role, int]] = {
    column_key(synonym): (role, rank)
    for role, synonyms in SYNONYMS.items()
    for rank, synonym in enumerate(synonyms)
}
# A selling price beside a plain "price" column: the plain one is the list price then.
_SALE_PRICES = {column_key(s) for s in SYNONYMS["price"][: SYNONYMS["price"].index("price")]}


def role_by_name(name: str) -> tuple[Role, int] | None:
    """The role a column's name gives it, with the synonym's rank (lower: more specific)."""
    words = _words(name)
    if found := _BY_KEY.get("".join(words)):
        return found
    if len(words) > 1 and words[0] in _FILLER_PREFIXES:
        return _BY_KEY.get("".join(words[1:]))
    return None


def map_columns(
    columns: Sequence[str],
    sample: Sequence[dict[str, Any]],
    settings: dict[str, str] | None = None,
) -> ColumnMapping:
    """The role of each column, from the settings, then the names, then the sampled values.

    Raises SkipFile when `settings` names a role that does not exist.
    """
    mapping = ColumnMapping()
    free = list(dict.fromkeys(columns))  # columns without a role yet, in file order

    def claim(role: Role, column: str, how: How) -> None:
        mapping.columns[role] = column
        mapping.how[role] = how
        free.remove(column)

    by_key = {str(c).strip().casefold(): c for c in free}
    for role, column in _setting_roles(settings).items():
        # A column this file does not have (the setting may be for another catalog): detect.
        if (found := by_key.get(column.strip().casefold())) in free:
            claim(role, found, "setting")

    named: list[tuple[int, int, Role, str]] = []
    for position, column in enumerate(free):
        if found := role_by_name(column):
            named.append((found[1], position, found[0], column))
    for _, _, role, column in sorted(named):
        if role not in mapping.columns:
            claim(role, column, "name")
        elif (
            role == "price"
            and "list_price" not in mapping.columns
            and column_key(column) == "price"
            and column_key(mapping.columns["price"]) in _SALE_PRICES
        ):
            claim("list_price", column, "name")  # "price" beside "sale_price" is the list price
    if price := mapping.columns.get("price"):
        mapping.price_currency = _unit_currency(price)

    values = {column: _values(sample, column) for column in free}
    for role in _CONTENT_ROLES:
        candidates = [c for c in free if not _ATTRIBUTE_WORDS & set(_words(c))]
        if role not in mapping.columns and (column := _find_by_content(role, candidates, values)):
            claim(role, column, "content")

    for column in free:
        if _is_short(values[column]):
            mapping.attributes.append(column)
        else:
            mapping.ignored.append(column)
    return mapping


def _setting_roles(settings: dict[str, str] | None) -> dict[Role, str]:
    roles: dict[Role, str] = {}
    for name, column in (settings or {}).items():
        key = name.strip().lower()
        role = _ROLE_ALIASES.get(key, key)
        if role not in ROLES:
            raise SkipFile(
                f"COBBLER_CATALOG_COLUMNS names an unknown role '{name}'; "
                f"the roles are: {', '.join(ROLES)}"
            )
        roles[role] = column  # type: ignore[index]  (checked against ROLES just above)
    return roles


def no_title_message(columns: Iterable[str]) -> str:
    seen = [str(c) for c in columns]
    example = seen[0] if seen else "product name"
    return (
        f"no column holds product names; the columns are: {', '.join(seen) or '(none)'}. "
        f"Name it in COBBLER_CATALOG_COLUMNS, e.g. COBBLER_CATALOG_COLUMNS="
        f'\'{{"title": "{example}"}}\''
    )


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().casefold() in NO_VALUE)


def _values(sample: Sequence[dict[str, Any]], column: str) -> list[Any]:
    return [row[column] for row in sample if not is_blank(row.get(column))]


def sample_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to SAMPLE_ROWS rows spread over the whole catalog (catalogs are often sorted)."""
    step = max(1, len(rows) // SAMPLE_ROWS)
    return list(rows[::step][:SAMPLE_ROWS])


def _scalar_text(value: Any) -> str | None:
    """A value as text when it is one plain value (or a list of them), else None."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    if isinstance(value, list) and all(
        isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value
    ):
        return ", ".join(str(v).strip() for v in value)
    return None


def _texts(values: list[Any]) -> list[str] | None:
    """The values as text when every one is a string (numbers are no names or links)."""
    if not values or not all(isinstance(v, str) for v in values):
        return None
    return [v.strip() for v in values]


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0


def _first_link(value: Any) -> str | None:
    if isinstance(value, list) and value:
        value = value[0]
    return value.strip() if isinstance(value, str) else None


def _links(values: list[Any]) -> list[str] | None:
    links = [_first_link(v) for v in values]
    if not links or _share(bool(link and _URL.match(link)) for link in links) < 0.9:
        return None
    return [link for link in links if link]


def _find_by_content(role: Role, free: list[str], values: dict[str, list[Any]]) -> str | None:
    if role in ("url", "image"):
        for column in free:
            if links := _links(values[column]):
                images = _share(bool(_IMAGE_URL.search(link)) for link in links) >= 0.5
                if images == (role == "image"):
                    return column
        return None
    if role == "currency":
        return next((c for c in free if _is_currency_column(values[c])), None)
    if role == "price":
        return _price_by_content(free, values)
    if role == "category":
        paths = [(c, _crumb_depth(values[c])) for c in free]
        paths = [(c, depth) for c, depth in paths if depth]
        return max(paths, key=lambda p: p[1])[0] if paths else None
    if role == "description":
        prose = [(c, _mean_length(t)) for c in free if (t := _texts(values[c])) and _is_prose(t)]
        return max(prose, key=lambda p: p[1])[0] if prose else None
    if role == "title":
        return next((c for c in free if _is_names(values[c])), None)
    return None


def _is_currency_column(values: list[Any]) -> bool:
    texts = _texts(values)
    return bool(texts) and all(_CURRENCY_CODE.match(t) and is_currency_code(t) for t in texts)


def is_currency_code(text: str) -> bool:
    """'usd', 'EUR' → True; 'XXL', 'RED' → False."""
    code = text.strip().upper()
    return bool(_CURRENCY_CODE.match(code)) and currency_code(code) == code


def _price_by_content(free: list[str], values: dict[str, list[Any]]) -> str | None:
    for column in free:  # written with a currency: "$12.00", "1.299,00 €"
        if _NOT_PRICE_WORDS & set(_words(column)):
            continue
        texts = _texts(values[column])
        if texts and _share(_has_currency(t) for t in texts) >= 0.8:
            return column
    # Bare numbers only under a name that says nothing, and only when one column fits.
    numeric = [c for c in free if _is_vague(c) and _is_amounts(values[c])]
    with_cents = [c for c in numeric if _has_cents(values[c])]
    if len(with_cents) == 1:
        return with_cents[0]
    return numeric[0] if len(numeric) == 1 else None


def _is_vague(column: str) -> bool:
    """'a', 'col3', 'Unnamed: 2': a name that says nothing about what the column holds."""
    key = re.sub(r"\d+", "", column_key(column))
    return len(key) <= 1 or key in _VAGUE_NAMES


def _has_currency(text: str) -> bool:
    try:
        low, _, currency = parse_price(text)
    except ValueError:
        return False
    return low is not None and currency is not None


def _numbers(values: list[Any]) -> list[float] | None:
    numbers = []
    for value in values:
        if isinstance(value, bool):
            return None
        if isinstance(value, (int, float)):
            numbers.append(float(value))
        elif isinstance(value, str) and _NUMBER.match(value.strip()):
            numbers.append(float(value.strip().replace(",", "")))
        else:
            return None
    return numbers or None


def _is_amounts(values: list[Any]) -> bool:
    """Numbers that could be prices: not ratings (all 5 or less), not a row counter."""
    numbers = _numbers(values)
    if not numbers or max(numbers) <= 5 or min(numbers) < 0:
        return False
    counter = all(n.is_integer() for n in numbers) and len(set(numbers)) == len(numbers)
    return not (counter and len(numbers) > 2 and numbers == sorted(numbers))


def _has_cents(values: list[Any]) -> bool:
    numbers = _numbers(values) or []
    return any(not n.is_integer() for n in numbers) or any(
        isinstance(v, str) and re.search(r"\.\d\d$", v.strip()) for v in values
    )


def _crumb_depth(values: list[Any]) -> float:
    """Mean depth of a column of category paths ("Home > Sofas"), or 0 if it is none."""
    texts = _texts(values)
    if not texts or any(_URL.match(t) for t in texts):
        return 0.0
    for split, weak in ((_STRONG_CRUMB, False), (_WEAK_CRUMB, True)):
        paths = [[p for p in split.split(t) if p] for t in texts]
        if _share(len(p) >= 2 and all(re.search(r"[^\W\d_]", x) for x in p) for p in paths) < 0.8:
            continue
        depth = sum(map(len, paths)) / len(paths)
        roots = {p[0].casefold() for p in paths}
        # "Black/White" is a colour, not a path: paths share their top levels.
        if weak and depth < 2.5 and not (len(paths) >= 4 and len(roots) <= len(paths) / 3):
            continue
        return depth
    return 0.0


def _mean_length(texts: list[str]) -> float:
    return sum(map(len, texts)) / len(texts)


def _is_prose(texts: list[str]) -> bool:
    """Long free text: sentences of many words."""
    words = sum(len(t.split()) for t in texts) / len(texts)
    return _mean_length(texts) >= 80 and words >= 12 and not any(_URL.match(t) for t in texts)


def _is_names(values: list[Any]) -> bool:
    """Product names: short text of a few words, nearly all different."""
    texts = _texts(values)
    if not texts or any(_URL.match(t) for t in texts) or _numbers(values):
        return False
    several_words = _share(len(t.split()) >= 2 for t in texts) >= 0.6
    distinct = len(set(texts)) / len(texts) >= 0.8
    return several_words and distinct and 4 <= _mean_length(texts) <= 200


def _is_short(values: list[Any]) -> bool:
    texts = [_scalar_text(v) for v in values]
    if any(t is None for t in texts):
        return False
    return not texts or sum(len(t or "") for t in texts) / len(texts) <= SHORT_TEXT


def currency_in_cell(value: Any) -> str | None:
    """A per-row currency cell as an ISO code: 'usd' → 'USD'; '€' → 'EUR' (with cobbler.money)."""
    if not isinstance(value, str) or is_blank(value):
        return None
    text = value.strip()
    return text.upper() if is_currency_code(text) else currency_code(text)


def _unit_currency(column: str) -> str | None:
    """'Price (USD)' → 'USD': a price column whose name gives the currency."""
    unit = _UNIT.search(column)
    return unit.group(1).upper() if unit and is_currency_code(unit.group(1)) else None


def label(column: str) -> str:
    """A column name as a detail's label: 'strap_material' → 'Strap material'."""
    text = re.sub(r"[_\s]+", " ", str(column)).strip()
    return text[:1].upper() + text[1:] if text.islower() else text


def scalar_text(value: Any) -> str | None:
    """A leftover cell as a detail's value, or None when it is not one plain value."""
    text = _scalar_text(value)
    return re.sub(r"\s+", " ", text).strip() if text else None
