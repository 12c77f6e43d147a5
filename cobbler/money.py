"""Money in any currency: reading amounts from catalogs, questions and answers, and printing them.

What is known about currencies (ISO codes, signs such as "$", "kr" or "A$", words such as
"bucks" or "yen", decimals) is data, in `cobbler/data/currencies.json`. A sign shared by several
currencies ("$", "kr", "¥") means the shop's own currency (`default`) when that currency uses it,
otherwise the first currency in the table that does ("$" → USD).

Amounts are read in every common notation: "$1,299.00", "1.299,00 €", "1 299,00", "12,50 €",
"¥12,000", "5k". A separator followed by exactly three digits groups thousands; any other
separator is the decimal point. One scanner serves three readers:

- `parse_price`: one catalog value → (min, max, currency), or ValueError for unusable values;
- `price_bounds`: a shopper's question → `PriceBounds` ("under $200", "between 40 and 80
  pounds", "around €100", "cheapest");
- `money_mentions`: every amount written with a currency in a text (to check answers).
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from importlib import resources
from typing import Any

from pydantic import BaseModel, Field

MAX_PRICE = 1e9  # more than this is a typo or a unit mix-up, not a price
APPROXIMATE = 0.2  # "around $100" reads as $80–$120


@dataclass(frozen=True)
class Currency:
    """One row of the currency table: how its prices are printed."""

    code: str
    symbol: str
    decimals: int
    symbol_after: bool = False


def _load() -> tuple[dict[str, Currency], dict[str, list[str]], dict[str, list[str]], set[str]]:
    path = resources.files("cobbler").joinpath("data/currencies.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    currencies: dict[str, Currency] = {}
    signs: dict[str, list[str]] = {}  # as written → codes, in the table's order of preference
    words: dict[str, list[str]] = {}  # casefolded
    for code, entry in data["currencies"].items():
        currencies[code] = Currency(
            code, entry["symbol"], int(entry["decimals"]), bool(entry.get("symbol_after"))
        )
        for sign in entry.get("signs", []):
            signs.setdefault(sign, []).append(code)
        for word in entry.get("words", []):
            words.setdefault(word.casefold(), []).append(code)
    return currencies, signs, words, set(data.get("codes_only_in_capitals", []))


CURRENCIES, _SIGNS, _WORDS, _CAPITAL_CODES = _load()

# Words that make the number before them a measure, not money: "under 30 inches", "5 kg".
# A currency word that is also a unit ("pounds") is money unless the shop's currency is another.
_UNITS = set(
    """inch inches in. cm mm m metre metres meter meters km ft foot feet yd yard yards mile miles
    kg g gram grams kilo kilos lb lbs pound pounds oz ounce ounces stone stones ml l litre
    litres liter liters cl gal gallon gallons w watt watts kw v volt volts mah gb tb mb hz mph
    kph sec secs second seconds min mins minute minutes hr hrs hour hours day days week weeks
    month months year years yr yrs pc pcs piece pieces pack packs pair pairs item items people
    persons person seat seats seater seaters star stars review reviews percent per size sizes
    x st nd rd th""".split()
)
# Words that make the number after them (or after their bound word) a label: "size 8".
_LABEL_BEFORE = re.compile(
    r"(?<![^\W\d_])(?:size|sizes|age|ages|aged|no\.|number|model|version|gen|generation|"
    r"series|mark|type|#)[^\S\n]*$",
    re.I,
)

_LETTER_BEFORE = r"(?<![^\W\d_])"
_LETTER_AFTER = r"(?![^\W\d_])"


def _token(text: str) -> str:
    """A sign or word as a pattern that never matches inside a longer word."""
    pattern = re.escape(text).replace(r"\ ", r"[^\S\n]+")
    if text[0].isalpha():
        pattern = _LETTER_BEFORE + pattern
    if text[-1].isalpha():
        pattern += _LETTER_AFTER
    return pattern


def _alternation(tokens: list[str]) -> str:
    return "|".join(_token(t) for t in sorted(set(tokens), key=len, reverse=True))


_CODES = (
    "(?i:" + _alternation([c for c in CURRENCIES if c not in _CAPITAL_CODES]) + ")"
    "|" + _alternation([c for c in CURRENCIES if c in _CAPITAL_CODES])
)
_BEFORE_NUMBER = f"{_alternation(list(_SIGNS))}|{_CODES}"
_AFTER_NUMBER = f"{_BEFORE_NUMBER}|(?i:{_alternation(list(_WORDS))})"
_GAP = r"[^\S\n]{0,3}"  # a few spaces within one line (bounded: no slow backtracking)

_NUMBER = (
    r"(?<!\d[.,])(?P<num>"
    # 1,299 / 1.299,00 / 1'299.00: one kind of separator between groups of three
    r"\d{1,3}(?P<sep>[,.'’])\d{3}(?:(?P=sep)\d{3})*(?!\d)(?:[.,]\d+)?"
    # 1 299,00 / 5 000 €: space groups only with decimals, a currency after, or alone
    rf"|\d{{1,3}}(?:[ \u00a0\u202f]\d{{3}})+"
    rf"(?=[.,]\d|{_GAP}(?:{_AFTER_NUMBER})|\s{{0,3}}$)(?:[.,]\d+)?"
    r"|\d+(?:[.,]\d+)?"
    rf")(?P<k>[kK]{_LETTER_AFTER})?"
)
_AMOUNT = re.compile(
    r"(?<![^\W_])"  # not glued to a letter or digit ("iPhone13", "X-200")
    rf"(?:(?P<sign1>[-−+]){_GAP})?"
    rf"(?:(?P<pre>{_BEFORE_NUMBER}){_GAP})?"
    rf"(?:(?P<sign2>[-−+]){_GAP})?"
    rf"{_NUMBER}"
    # a sign directly before another number belongs to that number ("40 $50")
    rf"(?:{_GAP}(?P<post>{_AFTER_NUMBER})(?!{_GAP}\d))?"
)
_UNIT_AFTER = re.compile(rf"{_GAP}(?:(?P<word>[^\W\d_]+\.?)|[%\"″'’°]|[x×]{_GAP}\d)", re.I)
_CONNECTOR = re.compile(rf"{_GAP}(?:-|–|—|to|until|till|and|&){_GAP}", re.I)
_RANGE_OPENER = re.compile(rf"(?<![^\W\d_])(?:between|from){_GAP}$", re.I)
_BETWEEN = re.compile(rf"(?<![^\W\d_])between{_GAP}$", re.I)
_WINDOW = 40  # longer than any bound phrase: look only this far back (keeps long texts linear)


def _ends_with(pattern: re.Pattern[str], text: str, end: int) -> re.Match[str] | None:
    """`pattern` (anchored with $) matched just before `end`."""
    return pattern.search(text, max(0, end - _WINDOW), end)


@dataclass
class _Amount:
    value: float
    start: int  # with its currency sign or code, without a +/- sign
    end: int
    currency: str | None  # resolved: written, or the shop's for a shared sign
    marked: bool  # written with a currency sign, code or word
    unit: bool  # followed by a unit that is not money ("30 inches")
    sign: str | None  # "-", "+" or None
    sign_at: int


def _pick(codes: list[str], default: str | None) -> str:
    return default if default in codes else codes[0]


def _normal(default: str | None) -> str | None:
    return default.strip().upper() if default and default.strip() else None


def currency_code(text: str, default: str | None = None) -> str | None:
    """'usd', 'US$', '$', 'dollars', '€', 'euros' → ISO code; None when it names no currency."""
    default = _normal(default)
    token = " ".join(str(text or "").split())
    if not token:
        return None
    if token.upper() in CURRENCIES and (token.isupper() or token.upper() not in _CAPITAL_CODES):
        return token.upper()
    codes = _SIGNS.get(token) or _WORDS.get(token.casefold())
    return _pick(codes, default) if codes else None


def _value(number: str, decimals: int) -> float:
    """'1.299,00' → 1299.0; '12,50' → 12.5; '5,000' → 5000.0; '1.5' → 1.5."""
    text = re.sub(r"[\s'’\u00a0\u202f]", "", number)
    if "." in text and "," in text:  # the later one is the decimal point
        point = "." if text.rfind(".") > text.rfind(",") else ","
        text = text.replace("," if point == "." else ".", "").replace(point, ".")
    else:
        for sep in ".,":
            if sep in text:
                tail = len(text) - text.rfind(sep) - 1
                grouped = tail == 3 and decimals != 3 and not text.startswith("0" + sep)
                if text.count(sep) > 1 or grouped:
                    text = text.replace(sep, "")  # thousands
                else:
                    text = text.replace(sep, ".")
    return float(text)


def _marker(token: str | None, default: str | None) -> list[str]:
    """The currencies a sign, code or word after/before a number may name."""
    if not token:
        return []
    code = currency_code(token)
    if code is None:
        return []
    words = _WORDS.get(" ".join(token.split()).casefold(), [])
    if words and token.casefold() in _UNITS and default and default not in words:
        return []  # "5 pounds" in a dollar shop is a weight
    return _SIGNS.get(token) or words or [code]


def _scan(text: str, default: str | None) -> list[_Amount]:
    amounts = []
    for m in _AMOUNT.finditer(text):
        pre, post = m.group("pre"), m.group("post")
        end = m.end()
        codes = _marker(pre, default) or _marker(post, default)
        if post and not _marker(post, default):
            end = m.end("k") if m.group("k") else m.end("num")
        currency = _pick(codes, default) if codes else None
        info = CURRENCIES.get(currency or default or "")
        value = _value(m.group("num"), info.decimals if info else 2)
        if m.group("k"):
            value *= 1000
        unit = False
        if not codes and (after := _UNIT_AFTER.match(text, end)):
            word = (after.group("word") or "").casefold()  # "" for %, " or 30x40
            unit = not word or word in _UNITS or word.rstrip(".") in _UNITS
        sign = m.group("sign1") or m.group("sign2")
        amounts.append(
            _Amount(
                value=value,
                start=m.start("pre") if pre else m.start("num"),
                end=end,
                currency=currency,
                marked=bool(codes),
                unit=unit,
                sign="-" if sign in ("-", "−") else sign,
                sign_at=m.start("sign1") if m.group("sign1") else m.start("sign2"),
            )
        )
    return amounts


def _joined(text: str, a: _Amount, b: _Amount) -> bool:
    """Whether a and b are the two ends of one range: "$40-$80", "40 to 80", "between 40 and 80"."""
    gap = _CONNECTOR.fullmatch(text, a.end, b.start)
    if gap is None or a.unit or b.unit:
        return False
    if gap.group().strip().casefold() in ("and", "&"):
        return bool(_ends_with(_BETWEEN, text, a.start))
    return True


def _with_partners(text: str, amounts: list[_Amount]) -> list[_Amount]:
    """Unmarked range ends take the currency of the other end: "€40-80" is €40 and €80."""
    for a, b in zip(amounts, amounts[1:]):
        if _joined(text, a, b):
            if a.marked and not b.marked:
                b.currency, b.marked = a.currency, True
            elif b.marked and not a.marked:
                a.currency, a.marked = b.currency, True
    return amounts


def money_mentions(
    text: str, default: str | None = None
) -> list[tuple[float, str | None, int, int]]:
    """Every amount written with a currency sign, code or word: (value, ISO code, start, end).

    An unmarked end of a range takes the other end's currency ("€40-80" → 40 EUR, 80 EUR).
    """
    default = _normal(default)
    amounts = _with_partners(text, _scan(text, default))
    return [(a.value, a.currency, a.start, a.end) for a in amounts if a.marked]


def _checked(value: float, shown: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"price {shown} is not a finite number")
    if value < 0:
        raise ValueError(f"negative price {shown}")
    if value > MAX_PRICE:
        raise ValueError(f"price {shown} is too large to be real (over {MAX_PRICE:,.0f})")
    return value


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "…"


_NO_VALUE = {"", "no data.", "no data", "n/a", "na", "none", "null", "unknown", "-", "—", "–"}
_NOT_FINITE = re.compile(r"\W*[-+]?(?:nan|inf|infinity)\W*", re.I)


def parse_price(
    raw: Any, default: str | None = None
) -> tuple[float | None, float | None, str | None]:
    """One catalog price → (min, max, ISO currency); (None, None, None) when there is none.

    '$50.00' → (50, 50, USD); '$49.57 - $234.95' → (49.57, 234.95, USD); '1.299,00 €' →
    (1299, 1299, EUR); a bare number takes `default`, the shop's currency. Raises ValueError
    with the reason for a negative, signed, absurd or non-finite price, or several currencies.
    """
    default = _normal(default)
    if isinstance(raw, (list, tuple, set, dict, bool)):  # str() of these has digits, no price
        raise ValueError(f"price is a {type(raw).__name__}, not a number or text")
    if isinstance(raw, (int, float)):
        if not abs(raw) <= sys.float_info.max:  # NaN, inf, or an int too big for a float
            raise ValueError("price is not a finite number")
        value = _checked(float(raw), str(raw))
        return value, value, default
    text = str(raw if raw is not None else "").strip()
    if text.casefold() in _NO_VALUE:
        return None, None, None
    if _NOT_FINITE.fullmatch(text):
        raise ValueError(f"price {text!r} is not a finite number")
    amounts = [a for a in _with_partners(text, _scan(text, default)) if not a.unit]
    if any(a.marked for a in amounts):  # "$50 (pack of 2)": the 2 is no price
        amounts = [a for a in amounts if a.marked]
    if not amounts:
        return None, None, None
    previous_end = None
    for a in amounts:
        shown = _short(text[min(a.start, a.sign_at) if a.sign else a.start : a.end])
        # a "-" between two amounts is a range ("$40 - $80"), not a minus sign
        dash = (
            a.sign == "-"
            and previous_end is not None
            and not text[previous_end : a.sign_at].strip()
        )
        if a.sign == "+":
            raise ValueError(f"price {shown} has a sign")
        _checked(-a.value if a.sign == "-" and not dash else a.value, shown)
        previous_end = a.end
    currencies = sorted({a.currency for a in amounts if a.currency})
    if len(currencies) > 1:
        raise ValueError(f"price {_short(text)!r} is in more than one currency: {currencies}")
    values = [a.value for a in amounts]
    return min(values), max(values), currencies[0] if currencies else default


def format_price(
    price_min: float | None, price_max: float | None = None, currency: str | None = None
) -> str:
    """'$49.99', '$1,299.00', '€39.99 – €64.99', '¥12,000', 'CHF 12.50', '49.99' (no currency),
    or 'price not listed'."""
    if price_min is None:
        return "price not listed"
    code = _normal(currency)
    info = CURRENCIES.get(code or "")

    def one(value: float) -> str:
        number = f"{value:,.{info.decimals if info else 2}f}"
        if code is None:
            return number
        if info is None:
            return f"{code} {number}"
        if info.symbol_after:
            return f"{number} {info.symbol}"
        return f"{info.symbol}{' ' if info.symbol[-1].isalpha() else ''}{number}"

    if price_max is None or price_max == price_min:
        return one(price_min)
    return f"{one(price_min)} – {one(price_max)}"


class PriceBounds(BaseModel):
    """The price part of a shopper's question."""

    low: float | None = None
    high: float | None = None
    currency: str | None = None  # as written, else the shop's (for bare numbers)
    cheapest: bool = False  # "cheapest", "cheap", "budget", "affordable", "lowest price"
    cheaper: bool = False  # "cheaper", "less expensive": relative to what was shown before
    approximate: bool = False  # "around $100": low and high are ±20% of it
    spans: list[tuple[int, int]] = Field(default_factory=list)  # characters read as price


def _phrases(*groups: str) -> str:
    return _alternation([p for group in groups for p in group.split("|")])


# Bound words. "Weak" ones ("from", "around") only bound an amount written as money, since
# "from 2019" or "about 3 products" are no prices; a bare number needs a clear one ("under 600").
_HIGH = "under|below|less than|lower than|cheaper than|less expensive than|up to|no more than"
_HIGH += "|not more than|no higher than|not over|not above|max|max.|maximum|at most|at the most"
_HIGH += "|budget of|budget is|budget:|budget|my budget is|<|<=|≤"
_LOW = "over|above|more than|higher than|more expensive than|pricier than|at least|no less than"
_LOW += "|not less than|not under|not below|upwards of|min|min.|minimum|>|>=|≥"
_WEAK_HIGH = "within|within a budget of"
_WEAK_LOW = "from|starting at|starting from|prices from"
_ABOUT = "around|about|approximately|approx.|approx|roughly|circa|ca.|near|close to|~"
_ABOUT += "|in the region of|somewhere around"
_BOUND_BEFORE = re.compile(
    rf"(?:{_phrases(_HIGH, _LOW, _WEAK_HIGH, _WEAK_LOW, _ABOUT)}){_GAP}$", re.I
)
_HIGH_AFTER = "or less|or under|or below|and under|and below|or cheaper|or lower|max|maximum"
_HIGH_AFTER += "|tops|at most|at the most"
_LOW_AFTER = "or more|or over|or above|and over|and above|and up|and upwards|or higher"
_LOW_AFTER += "|minimum|at least|+"
_BOUND_AFTER = re.compile(rf"{_GAP}(?:{_phrases(_HIGH_AFTER, _LOW_AFTER, 'or so|ish|-ish')})", re.I)
_KIND = {p: "high" for p in (_HIGH + "|" + _WEAK_HIGH + "|" + _HIGH_AFTER).split("|")}
_KIND |= {p: "low" for p in (_LOW + "|" + _WEAK_LOW + "|" + _LOW_AFTER).split("|")}
_KIND |= {p: "about" for p in (_ABOUT + "|or so|ish|-ish").split("|")}
_WEAK = set((_WEAK_HIGH + "|" + _WEAK_LOW + "|" + _ABOUT + "|or so|ish|-ish").split("|"))
_CHEAPEST = re.compile(
    r"(?<![^\W\d_])(?:cheapest|cheap|budget|inexpensive|affordable|least expensive"
    r"|lowest[- ]price[ds]?|lowest[- ]cost)(?![^\W\d_])",
    re.I,
)
_CHEAPER = re.compile(
    r"(?<![^\W\d_])(?:cheaper|less expensive|lower[- ]price[ds]?|lower[- ]cost)(?![^\W\d_])",
    re.I,
)


def _bound(text: str, a: _Amount) -> tuple[str, int, int] | None:
    """("high" | "low" | "about", start, end) for the bound word around an amount, if any."""
    match = _ends_with(_BOUND_BEFORE, text, a.start) or _BOUND_AFTER.match(text, a.end)
    if match is None:
        return None
    word = " ".join(match.group().split()).casefold()
    start, end = (match.start(), a.end) if match.end() <= a.start else (a.start, match.end())
    if not a.marked and (word in _WEAK or a.unit or _ends_with(_LABEL_BEFORE, text, start)):
        return None
    return _KIND[word], start, end


def price_bounds(question: str, default: str | None = None) -> PriceBounds:
    """The price limits a question states, in its currency (`default` for bare numbers).

    "under $200" → high 200 USD; "over 1.299,00 €" → low 1299 EUR; "between 40 and 80 pounds",
    "€40-€80", "from $20 to $35" → both; "around $100" → 80–120, approximate; "less than 5k"
    → high 5000; "cheapest" → cheapest. "grill cover 73", "under 30 inches", "size 8" → none.
    """
    default = _normal(default)
    amounts = _scan(question, default)
    lows: list[float] = []
    highs: list[float] = []
    spans: list[tuple[int, int]] = []
    currencies: list[str] = []
    approximate = False
    i = 0
    while i < len(amounts):
        a = amounts[i]
        b = amounts[i + 1] if i + 1 < len(amounts) else None
        if b is not None and _joined(question, a, b):
            opener = _ends_with(_RANGE_OPENER, question, a.start)
            label = opener and _ends_with(_LABEL_BEFORE, question, opener.start())
            if a.marked or b.marked or (opener and not label):
                lows.append(min(a.value, b.value))
                highs.append(max(a.value, b.value))
                currencies += [c for c in (a.currency, b.currency) if c]
                spans.append((opener.start() if opener else a.start, b.end))
                i += 2
                continue
        bound = _bound(question, a)
        if bound is not None:
            kind, start, end = bound
            if kind == "about":
                approximate = True
                lows.append(round(a.value * (1 - APPROXIMATE), 2))
                highs.append(round(a.value * (1 + APPROXIMATE), 2))
            else:
                (highs if kind == "high" else lows).append(a.value)
            spans.append((start, end))
        elif a.marked:
            spans.append((a.start, a.end))
        if a.currency and (bound or a.marked):
            currencies.append(a.currency)
        i += 1
    bounded = bool(lows or highs)
    cheap: dict[str, bool] = {}
    for name, pattern in (("cheapest", _CHEAPEST), ("cheaper", _CHEAPER)):
        found = [
            m.span()
            for m in pattern.finditer(question)
            if not any(s <= m.start() < e for s, e in spans)
        ]
        cheap[name] = bool(found)
        spans += found
    return PriceBounds(
        low=max(lows) if lows else None,
        high=min(highs) if highs else None,
        currency=currencies[0] if currencies else (default if bounded else None),
        cheapest=cheap["cheapest"],
        cheaper=cheap["cheaper"],
        approximate=approximate,
        spans=sorted(spans),
    )
