"""Product catalogs (JSON array, JSONL, CSV) → Product records.

Any column names work: `ingest.columns` finds which column holds the title, price,
brand and so on (from names, content, or COBBLER_CATALOG_COLUMNS). Real rows are messy,
so every field is normalised here and nowhere else. A bad row costs only itself.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError

from cobbler.money import parse_price
from cobbler.records import Product, format_price
from ingest.columns import (
    NO_VALUE,
    ColumnMapping,
    Role,
    currency_in_cell,
    is_blank,
    label,
    map_columns,
    no_title_message,
    sample_rows,
    scalar_text,
)
from ingest.problems import Problem, SkipFile

_STORE_BANNER = re.compile(r"^\s*(?:visit the\s+)(.+?)\s+store\s*$", re.IGNORECASE)
_BRAND_PREFIX = re.compile(r"^\s*brand:\s*", re.IGNORECASE)
_ASIN_IN_URL = re.compile(r"/(?:dp|gp/product)/([A-Z0-9]{10})(?:[/?#]|$)")
_CRUMB_SPLIT = re.compile(r"\s*(?:›|>|»|/|\|)\s*")
_DETAIL_PAIR = re.compile(r"([A-Z][^:]{1,40}?):\s*(.+?)(?=\s{2,}[A-Z][^:]{1,40}?:|$)")
_TAG = re.compile(r"<[a-zA-Z/!][^<>]*>")  # HTML markup in exported descriptions

Row = dict[str, Any]


def clean_brand(raw: Any) -> str | None:
    """'Visit the Geox Store' → 'Geox'; 'Brand: Fila' → 'Fila'; 'Unknown' → None."""
    text = _BRAND_PREFIX.sub("", str(raw or "")).strip()
    if banner := _STORE_BANNER.match(text):
        text = banner.group(1).strip()
    return None if text.casefold() in NO_VALUE else text


def parse_breadcrumbs(raw: Any) -> list[str]:
    if isinstance(raw, list):
        parts = [str(p).strip() for p in raw]
    else:
        parts = _CRUMB_SPLIT.split(str(raw or ""))
    return [p for p in parts if p and p.casefold() not in NO_VALUE]


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


def _description(raw: Any) -> str | None:
    return _flat(_TAG.sub(" ", _flat(raw))) or None


def to_product(
    row: Row, source: str, mapping: ColumnMapping | None = None, currency: str | None = None
) -> Product:
    """One catalog row → Product, its columns read through `mapping` (found from this row's
    own column names when not given). `currency` is the shop's, for prices written without
    one. Raises ValueError when the row is unusable."""
    if mapping is None:
        mapping = map_columns(list(row), [row])

    def cell(role: Role) -> Any:
        column = mapping.column(role)
        value = None if column is None else row.get(column)
        return None if is_blank(value) else value

    raw_title = cell("title")
    if raw_title is not None and not isinstance(raw_title, str):
        raise ValueError(f"title is not text ({type(raw_title).__name__})")
    title = _flat(raw_title)
    if not title:
        raise ValueError("no title")
    url = _flat(cell("url")) or None
    asin = _flat(cell("id")) or asin_from_url(url)
    # A currency sign in the price text wins; a bare number takes the row's, then the shop's.
    currency = currency_in_cell(cell("currency")) or mapping.price_currency or currency
    price_min, price_max, price_currency = parse_price(cell("price"), currency)
    try:
        list_min, list_max, list_currency = parse_price(cell("list_price"), currency)
    except ValueError:  # an unusable list price is only a missing detail
        list_min = list_max = list_currency = None
    if price_min is None:  # nothing on sale: the list price is the price
        price_min, price_max, price_currency = list_min, list_max, list_currency
        list_min = None
    path = parse_breadcrumbs(cell("category"))
    sub = _flat(cell("sub_category"))
    if sub and (not path or path[-1].casefold() != sub.casefold()):
        path.append(sub)
    images = parse_list(cell("image"))
    details = parse_details(cell("details"))
    for column in mapping.attributes:
        if (text := scalar_text(row.get(column))) and not is_blank(text):
            details.setdefault(label(column), text)
    if list_min is not None and (list_min, list_max) != (price_min, price_max):
        details["List price"] = format_price(list_min, list_max, list_currency)
    return Product(
        asin=asin or None,
        title=title,
        brand=clean_brand(cell("brand")),
        price_min=price_min,
        price_max=price_max,
        currency=price_currency if price_min is not None else None,
        category_path=path,
        url=url,
        image_url=images[0] if images else None,
        description=_description(cell("description")),
        details=details,
        features=parse_list(cell("features")),
        source=source,
    )


def _csv_reason(exc: csv.Error) -> str:
    message = str(exc)
    if "expected after" in message:
        return "text after a closing quote"
    if "end of data" in message:
        return "a quote that never closes"
    if "field larger than field limit" in message:
        return f"a cell longer than {csv.field_size_limit():,} characters"
    return f"unreadable CSV row ({message})"


def _csv_rows(text: str) -> Iterator[tuple[str, Row | None, str | None]]:
    """(where, row, reason) by the line each row starts on. A broken row (a stray or
    unclosed quote, a huge cell) costs only itself: reading resumes on its next line."""
    lines = list(io.StringIO(text, newline=""))  # ends at \n, \r\n or \r, as csv expects
    header: list[str] | None = None
    start = 0
    while True:
        # strict: a stray quote is an error to report, not a cell that swallows the file.
        rest = (lines[n] for n in range(start, len(lines)))  # not islice: O(1) per restart
        reader = csv.reader(rest, strict=True)
        while True:
            first = start + reader.line_num  # the line this row starts on, from 0
            try:
                cells = next(reader)
            except StopIteration:
                if header is None:
                    raise SkipFile("CSV file has no header row") from None
                return
            except csv.Error as exc:
                if header is None:
                    raise SkipFile(f"unreadable CSV header: {exc}") from exc
                # Failing on a later line: its opening quote ran on into the rows below.
                ran_on = start + reader.line_num - first > 1
                yield (
                    f"row {first + 1}",
                    None,
                    "a quote that never closes" if ran_on else _csv_reason(exc),
                )
                break
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                continue
            spans_lines = start + reader.line_num - first > 1
            if spans_lines and len(cells) < len(header):
                # An unclosed quote ran on into the rows below and ended in a later quote.
                yield f"row {first + 1}", None, "a quote that never closes"
                break
            if len(cells) > len(header):  # fewer is common in exports: empty cells
                reason = f"{len(cells)} cells where the header has {len(header)} columns"
                yield f"row {first + 1}", None, reason
                continue
            yield f"row {first + 1}", dict(zip(header, cells)), None
        start = first + 1


def _rows(text: str, suffix: str) -> Iterator[tuple[str, Row | None, str | None]]:
    """(where, row, reason) triples; row is None when that row could not be parsed."""
    if suffix == ".csv":
        yield from _csv_rows(text)
    elif suffix == ".jsonl":
        # Only \n ends a JSON line: splitlines() would also cut at a U+2028 inside a string.
        for number, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (ValueError, RecursionError):  # ValueError: also a 5,000-digit number
                yield f"line {number}", None, None
                continue
            yield f"line {number}", row if isinstance(row, dict) else None, None
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
            yield f"item {number}", row if isinstance(row, dict) else None, None


class CatalogFile(BaseModel):
    """What one catalog file gave: its products, the rows skipped, and how it was read."""

    products: list[Product]
    problems: list[Problem]
    mapping: ColumnMapping


def read_catalog(
    text: str,
    suffix: str,
    source: str,
    columns: dict[str, str] | None = None,
    currency: str | None = None,
) -> CatalogFile:
    """Products of one catalog file, the rows that were skipped and the column mapping.

    `columns` ({role: column}, COBBLER_CATALOG_COLUMNS) overrides the detected mapping;
    `currency`, the shop's own, is the currency of prices written without one.
    Raises SkipFile when no row can be read or no column holds product names.
    """
    rows: list[tuple[str, Row]] = []
    problems: list[Problem] = []
    names: dict[str, None] = {}  # every column, in order of first appearance
    for where, row, reason in _rows(text, suffix):
        if row is None:
            problems.append(Problem(file=source, where=where, reason=reason or "malformed row"))
            continue
        rows.append((where, row))
        names.update(dict.fromkeys(map(str, row)))
    if not rows:
        if not problems:
            raise SkipFile("catalog has no products")
        return CatalogFile(products=[], problems=problems, mapping=ColumnMapping())
    mapping = map_columns(list(names), sample_rows([row for _, row in rows]), columns)
    if "title" not in mapping.columns:
        raise SkipFile(no_title_message(names))
    products: list[Product] = []
    for where, row in rows:
        try:
            product = to_product(row, source, mapping, currency)
            product.row = where
            product.model_dump_json()  # a lone surrogate ("\ud800" in JSON) cannot be stored
            products.append(product)
        except RecursionError:  # a value nested too deeply to flatten
            problems.append(Problem(file=source, where=where, reason="value nested too deeply"))
        except PydanticSerializationError:
            problems.append(Problem(file=source, where=where, reason="text is not valid Unicode"))
        except (ValueError, TypeError) as exc:
            problems.append(Problem(file=source, where=where, reason=str(exc)))
    problems.sort(key=lambda p: _position(p.where))
    return CatalogFile(products=products, problems=problems, mapping=mapping)


def _position(where: str | None) -> int:
    return int(where.rsplit(" ", 1)[-1]) if where else 0


def load_catalog(
    text: str, suffix: str, source: str, columns: dict[str, str] | None = None
) -> tuple[list[Product], list[Problem]]:
    """Products of one catalog file and the rows that were skipped (see `read_catalog`)."""
    catalog = read_catalog(text, suffix, source, columns)
    return catalog.products, catalog.problems
