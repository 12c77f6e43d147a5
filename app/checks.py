"""Checking an answer against its sources before a shopper relies on it.

A small model sometimes cites a source that does not exist, quotes a wrong price or
borrows a figure from nowhere. Each sentence's claims (prices, policy figures such as
"30 days", product names) must be found in a source the sentence cites; when they are
found in another retrieved source the citation is corrected, and when they are found
nowhere the sentence is removed. The verdict travels with the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from cobbler.records import Checks, Source

_CITATION = re.compile(r"\s?\[(\d+)\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9£\[*-])")
_PRICE = re.compile(r"£\s?(\d[\d,]*(?:\.\d{1,2})?)")
_FIGURE = re.compile(
    r"\b(\d+(?:\.\d+)?)[\s-]*(working days?|days?|weeks?|months?|years?|hours?|%|per cent)",
    re.I,
)


def _amounts(text: str) -> set[float]:
    return {float(m.replace(",", "")) for m in _PRICE.findall(text)}


def _supports(source: Source, prices: set[float], figures: set[tuple[str, str]]) -> bool:
    if source.kind == "product":
        # A product's price is its structured field, not any amount in its description
        # (a supplier's text could say "now only £1").
        known = {p for p in (source.price_min, source.price_max) if p is not None}
    else:
        known = _amounts(source.text)
    if any(all(abs(p - k) > 0.005 for k in known) for p in prices):
        return False
    text = source.text.casefold()
    return all(
        re.search(rf"\b{re.escape(n)}[\s-]*{re.escape(unit[:3])}", text) for n, unit in figures
    )


def _claims(
    sentence: str, sources: Sequence[Source]
) -> tuple[set[float], set[tuple[str, str]], list[Source]]:
    bare = _CITATION.sub("", sentence)
    prices = _amounts(bare)
    figures = {(n, unit.casefold()) for n, unit in _FIGURE.findall(bare)}
    named = [s for s in sources if s.kind == "product" and s.title.casefold() in bare.casefold()]
    return prices, figures, named


def _per_product(sentence: str, named: Sequence[Source], asked: set[float], checks: Checks) -> str:
    """The sentence with each product's part citing that product, or "" when a price in it
    is not the price of the product named last before it."""
    lowered = sentence.casefold()
    named = [  # "Lido Sandal" inside "Lido Sandal Wide" is not a second product
        s
        for s in named
        if not any(o is not s and s.title.casefold() in o.title.casefold() for o in named)
    ]
    starts = sorted((lowered.find(s.title.casefold()), i, s) for i, s in enumerate(named))
    head = sentence[: starts[0][0]]
    if _amounts(head) - asked:
        return ""
    parts = [head]
    for k, (start, _, product) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(sentence)
        part = sentence[start:end]
        if not _supports(product, _amounts(part) - asked, set()):
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


def check_answer(text: str, sources: Sequence[Source], question: str = "") -> tuple[str, Checks]:
    """The answer with bad citations fixed and unsupported sentences removed, and the verdict.

    Amounts the shopper wrote in the question ("under £90") may be repeated without a source.
    """
    checks = Checks()
    asked = _amounts(question)
    lines = []
    for line in text.split("\n"):
        kept = [
            _check_sentence(s, sources, checks, asked) for s in _SENTENCE.split(line) if s.strip()
        ]
        if any(kept) or not line.strip():
            lines.append(" ".join(s for s in kept if s))
    checks.ok = not (
        checks.removed_citations or checks.corrected_citations or checks.removed_sentences
    )
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), checks


def _check_sentence(
    sentence: str, sources: Sequence[Source], checks: Checks, asked: set[float]
) -> str:
    by_n = {s.n: s for s in sources}
    cited = [int(n) for n in _CITATION.findall(sentence)]
    for n in cited:
        if n not in by_n:
            checks.removed_citations.append(n)
            sentence = re.sub(rf"\s?\[{n}\]", "", sentence)
    valid = [by_n[n] for n in cited if n in by_n]
    prices, figures, named = _claims(sentence, sources)
    prices -= asked
    if not prices and not figures and not named:
        return sentence.strip()
    if len(named) > 1 and prices:  # "A costs £x [1] and B costs £y [2]"
        fixed = _per_product(sentence, named, asked, checks)
        if fixed and (not figures or any(_supports(s, set(), figures) for s in sources)):
            return fixed.strip()
        checks.removed_sentences.append(sentence.strip())
        return ""
    # Prefer what the sentence cites; then a product it names; then any source. A price
    # said of a named product must be that product's own.
    candidates = valid + [s for s in named if s not in valid]
    candidates += [s for s in sources if s not in candidates]
    if named and prices:
        candidates = [s for s in candidates if s in named]
    support = next((s for s in candidates if _supports(s, prices, figures)), None)
    if support is None:
        checks.removed_sentences.append(sentence.strip())
        return ""
    if support not in valid:
        claim = ", ".join(
            [f"£{p:.2f}" for p in sorted(prices)] + [f"{n} {u}" for n, u in sorted(figures)]
        )
        wrong = "".join(f"[{s.n}]" for s in valid) or "none"
        checks.corrected_citations.append(f"{wrong}→[{support.n}]: {claim or support.title}")
        sentence = _CITATION.sub("", sentence).rstrip()
        end = sentence[-1] if sentence[-1:] in ".!?" else ""
        sentence = f"{sentence.rstrip('.!?')} [{support.n}]{end}"
    return sentence.strip()
