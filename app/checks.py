"""Checking an answer against its sources before a shopper relies on it.

A small model sometimes cites a source that does not exist, quotes a wrong price or
borrows a figure from nowhere. Each sentence's claims (prices, policy figures such as
"30 days", product names) must be found in a source the sentence cites; when they are
found in another retrieved source the citation is corrected, and when they are found
nowhere the sentence is removed. The verdict travels with the answer.

Prices are read in any currency (cobbler.money): "$45", "€1.299,00", "¥12,000", "45 euros".
A price said of a product must be its structured price in its own currency.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from cobbler.money import format_price, money_mentions, price_bounds
from cobbler.records import Checks, Source

Amount = tuple[float, str | None]  # value and ISO currency (None: any)

_CITATION = re.compile(r"\s?\[(\d+)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\[*-]|[^\w\s])")  # [^\w\s]: "$5 is…"
_FIGURE = re.compile(
    r"\b(\d+(?:\.\d+)?)[\s-]*(working days?|days?|weeks?|months?|years?|hours?|%|per cent)",
    re.I,
)


def sources_currency(sources: Sequence[Source]) -> str | None:
    """The currency the retrieved products are priced in: what a bare "$" means here."""
    counts = Counter(s.currency for s in sources if s.kind == "product" and s.currency)
    return counts.most_common(1)[0][0] if counts else None


def _amounts(text: str, currency: str | None) -> set[Amount]:
    return {(value, code) for value, code, _, _ in money_mentions(text, currency)}


def _same(a: Amount, b: Amount) -> bool:
    return abs(a[0] - b[0]) <= 0.005 and (a[1] is None or b[1] is None or a[1] == b[1])


def _unasked(prices: set[Amount], asked: set[Amount]) -> set[Amount]:
    return {p for p in prices if not any(_same(p, q) for q in asked)}


def _supports(
    source: Source, prices: set[Amount], figures: set[tuple[str, str]], currency: str | None
) -> bool:
    if source.kind == "product":
        # A product's price is its structured field, not any amount in its description
        # (a supplier's text could say "now only 1.00"), and in its own currency.
        known = {
            (p, source.currency) for p in (source.price_min, source.price_max) if p is not None
        }
    else:
        known = _amounts(source.text, currency)
    if any(not any(_same(p, k) for k in known) for p in prices):
        return False
    text = source.text.casefold()
    return all(
        re.search(rf"\b{re.escape(n)}[\s-]*{re.escape(unit[:3])}", text) for n, unit in figures
    )


_NUMBER = re.compile(r"(?<![\w.,])\d+(?:\.\d+)?(?![\w]|[.,]\d)")
# A table row as ingest writes it: "Kettles: Litres 1.7, Watts 3000, Weight (kg) 1.2."
_VALUE = r"[^,\n]* \d[\d.]*(?: [^\W\d]+)?"  # "UK 5", "Foot length (cm) 27.9", "US 1 youth"
_ROW = re.compile(rf"(?m)^[^:\n]{{1,80}}: (?:{_VALUE}, )+{_VALUE}\.$")
_CELL = re.compile(r"^(.*?)\s+(\d[\d.]*)(?: [^\W\d]+)?$")


def _numbers(sentence: str, currency: str | None) -> set[str]:
    """Bare numbers in a sentence (not money, not a figure with its unit), as written."""
    bare = _CITATION.sub("", sentence)
    for start, end in sorted(
        ((a, b) for _, _, a, b in money_mentions(bare, currency)), reverse=True
    ):
        bare = bare[:start] + " " * (end - start) + bare[end:]
    bare = _FIGURE.sub(" ", bare)
    return {n.rstrip("0").rstrip(".") if "." in n else n for n in _NUMBER.findall(bare)}


def _rows(source: Source) -> list[str]:
    return _ROW.findall(source.text) if source.kind == "document" else []


def _one_row(source: Source, numbers: set[str]) -> bool:
    """Whether one row of the source's tables holds every number: a figure read from a
    table must come from the row it belongs to, not from the neighbouring column's row."""
    for row in _rows(source):
        found = {n.rstrip("0").rstrip(".") if "." in n else n for n in _NUMBER.findall(row)}
        if numbers <= found:
            return True
    return False


def _words(text: str) -> set[str]:
    return {w.removesuffix("'s") for w in re.findall(r"[\w']+", text.casefold())}


def table_lookup(question: str, sources: Sequence[Source]) -> list[tuple[Source, str]]:
    """The table rows a question looks up ("size 10 in the men's table": the row whose
    header "size" holds 10, in the table whose label shares the question's words), best
    first. A row counts only when the question names one of its cells, header and value."""
    scored: list[tuple[int, Source, str]] = []
    asked = _words(question)
    for source in sources:
        for row in _rows(source):
            label, _, cells = row.partition(": ")
            hits = 0
            for cell in cells.rstrip(".").split(", "):
                found = _CELL.match(cell)
                if not found:
                    continue
                header, number = (re.escape(g) for g in found.groups())
                if re.search(
                    rf"(?<!\w){header}(?:\s+\w+)?\s+{number}(?![\d.])|"
                    rf"(?<![\d.]){number}\s+{header}(?!\w)",
                    question,
                    re.I,
                ):
                    hits += 1
            if hits:
                scored.append((hits * 10 + len(_words(label) & asked), source, row))
    if not scored:
        return []
    best = max(score for score, _, _ in scored)
    found_rows: list[tuple[Source, str]] = []
    for score, source, row in scored:
        if score == best and all(row != r for _, r in found_rows):
            found_rows.append((source, row))
    return found_rows[:3]


def recite_rows(rows: Sequence[tuple[Source, str]]) -> str:
    """The rows as the shop wrote them, each citing its source."""
    return " ".join(f"{row.rstrip('.')} [{source.n}]." for source, row in rows)


def _wrong_brand(sentence: str, products: Sequence[Source], brands: Sequence[str]) -> str | None:
    """A brand the sentence names that none of the products it cites or names is from."""
    if not products:
        return None
    own = {(p.brand or "").casefold() for p in products}
    for brand in brands:
        if brand.casefold() not in own and re.search(
            rf"(?<!\w){re.escape(brand)}(?!\w)", sentence, re.I
        ):
            return brand
    return None


def _claims(
    sentence: str, sources: Sequence[Source], currency: str | None
) -> tuple[set[Amount], set[tuple[str, str]], list[Source]]:
    bare = _CITATION.sub("", sentence)
    prices = _amounts(bare, currency)
    figures = {(n, unit.casefold()) for n, unit in _FIGURE.findall(bare)}
    named = [s for s in sources if s.kind == "product" and s.title.casefold() in bare.casefold()]
    return prices, figures, named


def _per_product(
    sentence: str,
    named: Sequence[Source],
    asked: set[Amount],
    checks: Checks,
    currency: str | None,
) -> str:
    """The sentence with each product's part citing that product, or "" when a price in it
    is not the price of the product named last before it."""
    lowered = sentence.casefold()
    named = [  # "Oslo Sofa" inside "Oslo Sofa Bed" is not a second product
        s
        for s in named
        if not any(o is not s and s.title.casefold() in o.title.casefold() for o in named)
    ]
    starts = sorted((lowered.find(s.title.casefold()), i, s) for i, s in enumerate(named))
    head = sentence[: starts[0][0]]
    if _unasked(_amounts(head, currency), asked):
        return ""
    parts = [head]
    for k, (start, _, product) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(sentence)
        part = sentence[start:end]
        if not _supports(product, _unasked(_amounts(part, currency), asked), set(), currency):
            return ""
        wrong = [int(n) for n in _CITATION.findall(part) if int(n) != product.n]
        if wrong:
            checks.corrected_citations.append(
                "".join(f"[{n}]" for n in wrong) + f"→[{product.n}]: {product.title}"
            )
            first = _CITATION.search(part) or re.search("$", part)
            rest = _CITATION.sub("", part[first.end() :])
            part = f"{part[: first.start()]} [{product.n}]{rest}"
        parts.append(part)
    return "".join(parts)


def check_answer(
    text: str,
    sources: Sequence[Source],
    question: str = "",
    currency: str | None = None,
    brands: Sequence[str] = (),
) -> tuple[str, Checks]:
    """The answer with bad citations fixed and unsupported sentences removed, and the verdict.

    Amounts the shopper wrote in the question ("under $90", "under 90") may be repeated
    without a source. `currency` is the shop's (what a bare "$" or "kr" means); by default
    the currency the retrieved products are priced in. `brands` are the brand names the
    shop knows (and those the shopper asked for): a sentence naming one must cite a product
    of that brand.
    """
    checks = Checks()
    currency = currency or sources_currency(sources)
    asked = _amounts(question, currency)
    bounds = price_bounds(question, currency)
    if not bounds.approximate:  # "around $100" bounds are 80 and 120: not what was written
        asked |= {(v, bounds.currency) for v in (bounds.low, bounds.high) if v is not None}
    # A question that looks a row up ("size 10 in EU") is answered from that row: a number
    # not in it is replaced, once, by the row as the shop wrote it.
    lookup = Lookup(table_lookup(question, sources), _numbers(question, currency))
    lines = []
    for line in text.split("\n"):
        kept = [
            _check_sentence(s, sources, checks, asked, currency, brands, lookup)
            for s in _SENTENCE.split(line)
            if s.strip()
        ]
        if any(kept) or not line.strip():
            lines.append(" ".join(s for s in kept if s))
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    if lookup.rows and not lookup.recited and not _numbers(text, currency):
        # "Sorry, I can't find it" while the row is in the sources.
        checks.removed_sentences.append(text)
        text = recite_rows(lookup.rows)
    checks.ok = not (
        checks.removed_citations or checks.corrected_citations or checks.removed_sentences
    )
    return text, checks


class Lookup:
    """The rows a question looks up, the numbers it gave, and whether they were recited."""

    def __init__(self, rows: list[tuple[Source, str]], given: set[str]) -> None:
        self.rows = rows
        self.given = given if rows else set()
        self.recited = False


def _check_sentence(
    sentence: str,
    sources: Sequence[Source],
    checks: Checks,
    asked: set[Amount],
    currency: str | None,
    brands: Sequence[str] = (),
    lookup: Lookup | None = None,
) -> str:
    by_n = {s.n: s for s in sources}
    cited = [int(n) for n in _CITATION.findall(sentence)]
    for n in cited:
        if n not in by_n:
            checks.removed_citations.append(n)
            sentence = re.sub(rf"\s?\[{n}\]", "", sentence)
    valid = [by_n[n] for n in cited if n in by_n]
    prices, figures, named = _claims(sentence, sources, currency)
    prices = _unasked(prices, asked)
    products = [s for s in valid if s.kind == "product"] + [s for s in named if s not in valid]
    if _wrong_brand(sentence, products, brands):
        # "the X lamp from Y [1]" where [1] is not from Y: a product under another's name.
        checks.removed_sentences.append(sentence.strip())
        return ""
    numbers = _numbers(sentence, currency)
    if (
        lookup
        and lookup.rows
        and numbers
        and not any(_one_row(s, numbers | lookup.given) for s in sources)
    ):
        checks.removed_sentences.append(sentence.strip())
        if lookup.recited:
            return ""
        lookup.recited = True
        return recite_rows(lookup.rows)
    tabular = len(numbers) >= 2 and any(_rows(s) for s in sources)
    if tabular:
        # Several numbers from a table: only a source whose one row holds them all.
        rows = [s for s in valid + [s for s in sources if s not in valid] if _one_row(s, numbers)]
        if not rows:
            checks.removed_sentences.append(sentence.strip())
            return ""
        if not prices and not figures and not named:
            if rows[0] not in valid:
                return _recite(sentence, rows[0], valid, checks, ", ".join(sorted(numbers)))
            return sentence.strip()
    if not prices and not figures and not named:
        return sentence.strip()
    if len(named) > 1 and prices:  # "A costs x [1] and B costs y [2]"
        fixed = _per_product(sentence, named, asked, checks, currency)
        if fixed and (not figures or any(_supports(s, set(), figures, currency) for s in sources)):
            return fixed.strip()
        checks.removed_sentences.append(sentence.strip())
        return ""
    # Prefer what the sentence cites; then a product it names; then any source. A price
    # said of a named product must be that product's own.
    candidates = valid + [s for s in named if s not in valid]
    candidates += [s for s in sources if s not in candidates]
    if named and prices:
        candidates = [s for s in candidates if s in named]
    support = next((s for s in candidates if _supports(s, prices, figures, currency)), None)
    if support is None:
        checks.removed_sentences.append(sentence.strip())
        return ""
    if support not in valid:
        claim = ", ".join(
            [format_price(v, v, code) for v, code in sorted(prices, key=lambda p: p[0])]
            + [f"{n} {u}" for n, u in sorted(figures)]
        )
        return _recite(sentence, support, valid, checks, claim or support.title)
    return sentence.strip()


def _recite(
    sentence: str, support: Source, valid: Sequence[Source], checks: Checks, claim: str
) -> str:
    """The sentence citing `support` instead of what it cited, and the correction noted."""
    wrong = "".join(f"[{s.n}]" for s in valid) or "none"
    checks.corrected_citations.append(f"{wrong}→[{support.n}]: {claim}")
    sentence = _CITATION.sub("", sentence).rstrip()
    end = sentence[-1] if sentence[-1:] in ".!?" else ""
    return f"{sentence.rstrip('.!?')} [{support.n}]{end}".strip()
