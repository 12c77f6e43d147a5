"""Product catalogs (JSON array, JSONL, CSV) → Product records.

Two shapes are recognised from their columns: the Crawl Feeds Amazon schema
(url, title, asin, price, brand, product_details, breadcrumbs, images_list, features)
and its flattened CSV form (title, price, brand, image_link, url, sub_category,
category, gender, promotions, metadata_features). Real rows are messy, so every
field is normalised here and nowhere else.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections.abc import Iterator
from typing import Any

from pydantic_core import PydanticSerializationError

from cobbler.records import Product
from ingest.problems import Problem, SkipFile

CURRENCIES = {"£": "GBP", "€": "EUR", "$": "USD"}
_PRICE = re.compile(r"([£€$])?\s*(\d[\d,]*(?:\.\d+)?)")
_STORE_BANNER = re.compile(r"^\s*(?:visit the\s+)(.+?)\s+store\s*$", re.IGNORECASE)
_BRAND_PREFIX = re.compile(r"^\s*brand:\s*", re.IGNORECASE)
_ASIN_IN_URL = re.compile(r"/(?:dp|gp/product)/([A-Z0-9]{10})(?:[/?#]|$)")
_CRUMB_SPLIT = re.compile(r"\s*(?:›|>|»|/|\|)\s*")
_DETAIL_PAIR = re.compile(r"([A-Z][^:]{1,40}?):\s*(.+?)(?=\s{2,}[A-Z][^:]{1,40}?:|$)")
_NO_VALUE = {"", "no data.", "no data", "n/a", "na", "none", "null", "unknown", "-"}


def parse_price(raw: Any) -> tuple[float | None, float | None, str | None]:
    """'£50.00' → (50, 50, GBP); '£49.57 - £234.95' → (49.57, 234.95, GBP); '' → all None."""
    if isinstance(raw, (list, tuple, dict, bool)):  # str() of these reads digits that are no price
        raise ValueError(f"price is a {type(raw).__name__}, not a number or text")
    if isinstance(raw, (int, float)):
        if not abs(raw) <= sys.float_info.max:  # NaN, inf, or an int too big for a float
            raise ValueError("price is not a finite number")
        return float(raw), float(raw), None
    text = str(raw or "").strip()
    if text.casefold() in _NO_VALUE:
        return None, None, None
    found = _PRICE.findall(text)
    if not found:
        return None, None, None
    values = [float(number.replace(",", "")) for _, number in found]
    if not all(map(math.isfinite, values)):  # hundreds of digits become inf
        raise ValueError("price is not a finite number")
    symbol = next((s for s, _ in found if s), "")
    return min(values), max(values), CURRENCIES.get(symbol)


def clean_brand(raw: Any) -> str | None:
    """'Visit the Geox Store' → 'Geox'; 'Brand: Fila' → 'Fila'; 'Unknown' → None."""
    text = _BRAND_PREFIX.sub("", str(raw or "")).strip()
    if banner := _STORE_BANNER.match(text):
        text = banner.group(1).strip()
    return None if text.casefold() in _NO_VALUE else text


def parse_breadcrumbs(raw: Any) -> list[str]:
    if isinstance(raw, list):
        parts = [str(p).strip() for p in raw]
    else:
        parts = _CRUMB_SPLIT.split(str(raw or ""))
    return [p for p in parts if p and p.casefold() not in _NO_VALUE]


def parse_details(raw: Any) -> dict[str, str]:
    """A dict, a list of one-pair dicts, or Amazon's flattened 'Key: value  Key: value'."""
    if isinstance(raw, dict):
        return {str(k).strip(): _flat(v) for k, v in raw.items() if _flat(v)}
    if isinstance(raw, list):
        merged: dict[str, str] = {}
        for item in raw:
            merged.update(parse_details(item))
        return merged
    text = str(raw or "").strip()
    return {k.strip(): v.strip() for k, v in _DETAIL_PAIR.findall(text) if v.strip()}


def parse_list(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [_flat(item) for item in raw if _flat(item)]
    text = str(raw or "").strip()
    if text.startswith("["):
        try:
            return parse_list(json.loads(text))
        except json.JSONDecodeError:
            pass
    return [part.strip() for part in re.split(r"\s*[|\n]\s*", text) if part.strip()]


def _flat(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_flat(v) for v in value if _flat(v))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_flat(v)}" for k, v in value.items())
    return re.sub(r"\s+", " ", str(value if value is not None else "")).strip()


def asin_from_url(url: str | None) -> str | None:
    match = _ASIN_IN_URL.search(url or "")
    return match.group(1) if match else None


def _first(row: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if row.get(key) not in (None, ""):
            return row[key]
    return None


def to_product(row: dict[str, Any], source: str) -> Product:
    """One catalog row in either known shape → Product. Raises ValueError when unusable."""
    row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    raw_title = _first(row, "title", "name", "product_name")
    if raw_title is not None and not isinstance(raw_title, str):
        raise ValueError(f"title is not text ({type(raw_title).__name__})")
    title = _flat(raw_title)
    if not title:
        raise ValueError("no title")
    url = _flat(_first(row, "url", "link", "product_url")) or None
    asin = _flat(_first(row, "asin", "sku", "id")) or asin_from_url(url)
    price_min, price_max, currency = parse_price(_first(row, "price", "price_text"))
    if "breadcrumbs" in row:
        path = parse_breadcrumbs(row["breadcrumbs"])
    else:  # flattened CSV: the breadcrumb's last two levels
        path = parse_breadcrumbs([row.get("category"), row.get("sub_category")])
    images = parse_list(_first(row, "images_list", "images", "image_link", "image_url"))
    details = parse_details(_first(row, "product_details", "metadata_features", "details"))
    features = parse_list(row.get("features"))
    return Product(
        asin=asin or None,
        title=title,
        brand=clean_brand(row.get("brand")),
        price_min=price_min,
        price_max=price_max,
        currency=currency if price_min is not None else None,
        category_path=path,
        url=url,
        image_url=images[0] if images else None,
        details=details,
        features=features,
        source=source,
    )


def _rows(text: str, suffix: str) -> Iterator[tuple[str, dict[str, Any] | None]]:
    """(where, row) pairs; row is None when that row could not be parsed."""
    if suffix == ".csv":
        # strict: a stray quote is an error to report, not a cell that swallows the file.
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        try:
            if not reader.fieldnames:
                raise SkipFile("CSV file has no header row")
        except csv.Error as exc:
            raise SkipFile(f"unreadable CSV header: {exc}") from exc
        lines = reader.reader  # DictReader's own line_num is not updated when a row fails
        while True:
            line = lines.line_num
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error:  # a bad quote, a cell over the size limit: skip to the next row
                yield f"row {lines.line_num}", None
                if lines.line_num == line:
                    return
                continue
            # More cells than the header names (fewer is common in exports: empty cells).
            yield f"row {reader.line_num}", None if None in row else row
    elif suffix == ".jsonl":
        # Only \n ends a JSON line: splitlines() would also cut at a U+2028 inside a string.
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # ValueError: also a 5,000-digit number
                yield f"line {number}", None
                continue
            yield f"line {number}", row if isinstance(row, dict) else None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SkipFile(f"invalid JSON at line {exc.lineno}, column {exc.colno}") from exc
        except RecursionError as exc:
            raise SkipFile("JSON nested too deeply to be a catalog") from exc
        except ValueError as exc:  # e.g. an integer over Python's 4,300-digit limit
            raise SkipFile(f"invalid JSON ({exc})") from exc
        if isinstance(data, dict):  # {"products": [...]} and similar wrappers
            data = next((v for v in data.values() if isinstance(v, list)), None)
        if not isinstance(data, list):
            raise SkipFile("JSON catalog must be an array of product objects")
        for number, row in enumerate(data, 1):
            yield f"item {number}", row if isinstance(row, dict) else None


def load_catalog(
    text: str, suffix: str, source: str, columns: dict[str, str] | None = None
) -> tuple[list[Product], list[Problem]]:
    """Products of one catalog file and the rows that were skipped.

    `columns` maps our field names to another catalog's column names ({"title": "name"}).
    """
    products: list[Product] = []
    problems: list[Problem] = []
    renames = {theirs.strip().lower(): ours for ours, theirs in (columns or {}).items()}
    for where, row in _rows(text, suffix):
        if row is None:
            problems.append(Problem(file=source, where=where, reason="malformed row"))
            continue
        if renames:
            row = {renames.get(str(k).strip().lower(), k): v for k, v in row.items()}
        try:
            product = to_product(row, source)
            product.model_dump_json()  # a lone surrogate ("\ud800" in JSON) cannot be stored
            products.append(product)
        except RecursionError:  # a value nested too deeply to flatten
            problems.append(Problem(file=source, where=where, reason="value nested too deeply"))
        except PydanticSerializationError:
            problems.append(Problem(file=source, where=where, reason="text is not valid Unicode"))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(file=source, where=where, reason=str(exc)))
    if not products and not problems:
        raise SkipFile("catalog has no products")
    return products, problems
