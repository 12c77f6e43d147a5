"""Sources cut down to what a question needs before they go into the prompt.

Every prompt token is paid for before the first word of the answer appears (prefill runs
at about a hundred tokens a second on a small CPU), so the model gets a compact card per
product: its name, brand, price, the details and features that share a word with the
question, and the start of its description; and a document chunk without the heading its
label already gives. The shopper still sees the whole sources, and the answer is still
checked against them (app/checks.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.retrieval import tokenize
from cobbler.records import CODE_LABEL, Source

# A source scoring under this share of the best was found by only one of the two rankings
# while the best was found by both (reciprocal rank fusion): the best already answers.
WEAK_SCORE = 0.6
DESCRIPTION_CHARS = 160  # the start of a description: what the product is
FEATURES = 2  # at most this many matching features


def compact_sources(question: str, sources: Sequence[Source]) -> list[Source]:
    """Copies of `sources` whose text carries only what `question` needs, without the weak
    ones (they keep their numbers: the shopper still sees every source)."""
    words = set(tokenize(question))
    best = max((s.score for s in sources), default=0.0)
    return [
        source.model_copy(update={"text": compact_product(source, words)})
        if source.kind == "product"
        else compact_document(source)
        for source in sources
        if source.score >= WEAK_SCORE * best
    ]


def _shares_word(text: str, words: set[str]) -> bool:
    return not words.isdisjoint(tokenize(text))


def _trim(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
    return cut + "…"


def compact_product(source: Source, words: set[str]) -> str:
    """The product card (cobbler.records.Product.text) reduced to the lines that matter."""
    lines = source.text.splitlines()
    if not lines:
        return source.text
    title, kept, features = lines[0], [lines[0]], []
    words = words - set(tokenize(title))  # a detail that only repeats the name adds nothing
    described = False
    for line in lines[1:]:
        if line.startswith(CODE_LABEL):
            continue  # codes help search, but a small model quotes them instead of the name
        if line.startswith("Brand: "):
            if line[7:].casefold() not in title.casefold():
                kept.append(line)
        elif line.startswith("Category: "):
            leaf = line[10:].split(" > ")[-1]
            if leaf.casefold() not in title.casefold() and _shares_word(leaf, words):
                kept.append(f"Category: {leaf}")
        elif line.startswith("Price: "):
            kept.append(line)
        elif line.startswith("Details: "):
            pairs = [p for p in line[9:].split("; ") if _shares_word(p, words)]
            if pairs:
                kept.append("Details: " + "; ".join(pairs))
        elif line.startswith("- "):
            if len(features) < FEATURES and _shares_word(line, words):
                features.append(line)
        elif line.strip() and not described:
            kept.append(_trim(line.strip(), DESCRIPTION_CHARS))
            described = True
    return "\n".join(kept + features)


def compact_document(source: Source) -> Source:
    """A document chunk labelled by its file name and nearest heading, without repeating
    that heading (or the folder path) in the text."""
    sections = source.section.split(" › ") if source.section else []
    text = source.text
    first, _, rest = text.partition("\n")
    if sections and first.lstrip("#").strip() == sections[-1]:
        text = rest.strip()
    return source.model_copy(
        update={
            "text": text,
            "source": source.source.rsplit("/", 1)[-1],
            "section": sections[-1] if sections else None,
        }
    )
