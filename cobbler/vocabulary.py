"""The shop's own words, learned from its catalog: product types, audiences and attributes.

Ingest learns a `Vocabulary` from the products (category tree, head nouns of titles, product
details), widened by a small general lexicon (`cobbler/data/lexicon.toml`: "couch" = "sofa")
and the shop profile's own synonyms. It tags each product with it (boolean metadata such as
`type_sofa`, `for_women`, filterable in Chroma) and is stored with the index, so the app
reads a shopper's question with exactly the words the products were tagged with.

Words are compared as stems (`stems`): case, apostrophes, hyphens and plural endings do
not matter, so "Bean-Bags", "bean bag" and "men's" match "bean bags" and "mens".
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path

import tomllib
from pydantic import BaseModel, Field

LEXICON = Path(__file__).parent / "data" / "lexicon.toml"
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)
# Where a product title stops naming the product and starts describing it.
_TITLE_TAIL = re.compile(r",|\s[-–|/]\s|\(|\b(?:with|for|in|by|from|featuring|incl)\b", re.I)
_CONJUNCTION = re.compile(r"\s*(?:&|\band\b|,|\+|/)\s*", re.I)
# A type tagged on more of the catalog than this is the shop's whole range ("Furniture" in a
# furniture shop): it tells a product question from a policy one, but filters nothing.
GENERAL_SHARE = 0.6
MIN_HEAD_COUNT = 2  # a title head noun seen once is more likely a model name than a type


def stem(word: str) -> str:
    """'Lamps' → 'lamp', "men's" → 'men', 'Accessories' → 'accessory', 'glass' → 'glass'."""
    word = word.casefold().replace("’", "'")
    word = re.sub(r"'s?$", "", word)
    if len(word) <= 3 or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    if word.endswith("s"):
        return word[:-1]
    return word


def stems(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text)]


def spans(text: str) -> list[tuple[str, int, int]]:
    """Each word's stem with its character span in `text`."""
    return [(stem(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def phrase(text: str) -> str:
    """The canonical form of a phrase: its stems joined by spaces."""
    return " ".join(stems(text))


def plural(text: str) -> str:
    """A display plural for a type name learned from a singular head noun."""
    head = text.rsplit(" ", 1)[-1]
    if not head or not head[-1:].isalpha() or head.endswith("s"):
        return text
    if head.endswith(("ch", "sh", "x", "z")):
        return text + "es"
    if head.endswith("y") and head[-2:-1] not in "aeiou":
        return text[:-1] + "ies"
    return text + "s"


def metadata_key(prefix: str, name: str) -> str:
    return f"{prefix}_{re.sub(r'[^0-9a-z]+', '_', name.casefold()).strip('_')}"


class Lexicon(BaseModel):
    synonyms: list[list[str]] = Field(default_factory=list)
    narrower: dict[str, str] = Field(default_factory=dict)
    audiences: dict[str, AudienceWords] = Field(default_factory=dict)
    not_types: set[str] = Field(default_factory=set)
    attributes: list[str] = Field(default_factory=list)

    def groups(self, extra: dict[str, list[str]] | None = None) -> list[set[str]]:
        """Synonym groups as sets of phrases, the shop's own merged in."""
        groups = [{phrase(w) for w in group} for group in self.synonyms]
        for word, others in (extra or {}).items():
            groups.append({phrase(word), *(phrase(o) for o in others)})
        return groups


class AudienceWords(BaseModel):
    label: str
    words: list[str]
    implies: list[str] = Field(default_factory=list)  # e.g. a girls' product is also a kids' one
    spreads_to: list[str] = Field(default_factory=list)  # e.g. a unisex one suits men and women


@cache
def lexicon() -> Lexicon:
    data = tomllib.loads(LEXICON.read_text(encoding="utf-8"))
    words = data.pop("words", {})
    return Lexicon(
        **data,
        not_types={stem(w) for w in words.get("not_types", [])},
        attributes=words.get("attributes", []),
    )


class ProductType(BaseModel):
    name: str  # as a shopper would read it: "coffee tables"
    phrases: list[str]  # stem phrases that name it in titles, categories and questions
    count: int = 0  # products tagged with it
    general: bool = False  # the shop's whole range: never a filter
    parents: list[str] = Field(default_factory=list)  # types whose products include all of its


class Audience(BaseModel):
    label: str  # "women's"
    phrases: list[str]
    count: int = 0


class Match(BaseModel):
    key: str
    start: int
    end: int
    text: str  # the words of the question that matched


class Vocabulary(BaseModel):
    """What this shop sells and to whom, in its own words."""

    types: dict[str, ProductType] = Field(default_factory=dict)
    audiences: dict[str, Audience] = Field(default_factory=dict)
    attributes: list[str] = Field(default_factory=list)  # stem phrases: "waterproof", "oak"

    # Matching.
    def find_types(self, text: str) -> list[Match]:
        """Types named in `text`, the longest match winning where two overlap."""
        return _longest(_find({k: t.phrases for k, t in self.types.items()}, text))

    def find_audiences(self, text: str) -> list[Match]:
        return _longest(_find({k: a.phrases for k, a in self.audiences.items()}, text))

    def find_attributes(self, text: str) -> list[Match]:
        return _longest(_find({a: [a] for a in self.attributes}, text))

    # Tagging.
    def tags(
        self,
        title: str,
        category_path: Sequence[str],
        brand: str | None = None,
        compounds: bool = True,
    ) -> dict[str, bool]:
        """Boolean metadata for a product: its types and who it is for. `compounds`: also
        the compound types its types make (which need the types' parents learned)."""
        if brand:  # a brand's name says nothing of the product's type
            title = re.sub(re.escape(brand), " ", title, flags=re.I)
        parts = [part for node in category_path for part in _node_parts(node)]
        text = " | ".join([title, *category_path, *parts])
        found = {m.key for m in _find({k: t.phrases for k, t in self.types.items()}, text)}
        if compounds:
            found |= self._compounds(found)
        tags = {metadata_key("type", key): True for key in found}
        # Who a product is for comes from its category path first: a title's "Ladies" may be
        # part of a product's name, but a "Women's" department is not.
        audiences = {m.key for m in self.find_audiences(" | ".join(category_path))}
        if not audiences:
            audiences = {m.key for m in self.find_audiences(title)}
        tags.update({metadata_key("for", a): True for a in _widen(audiences, self.audiences)})
        return tags

    def _compounds(self, found: set[str]) -> set[str]:
        """The compound types a product is by its other types: a "desk" that is a "lamp"
        is a "desk lamp", and a "table" that is a "dining set" a "dining table". (Real
        catalogs name a product by one department and file it under another.) Not when
        every product of that other type already is the head: a "garden chair" that is
        "furniture" makes no "garden furniture" of it."""
        implied = set()
        for key in self.types.keys() - found:
            *modifier, head = key.split("_")
            if not modifier or head not in found:
                continue
            for other in found - {head}:
                words = other.split("_")
                if words == modifier or (
                    words[: len(modifier)] == modifier
                    and head not in self.types[other].parents
                    and other not in self.types[head].parents
                ):
                    implied.add(key)
                    break
        return implied


def _widen(found: set[str], known: dict[str, Audience]) -> set[str]:
    words = lexicon().audiences
    widened = set(found)
    for key in found:
        spec = words.get(key)
        if spec is None:
            continue
        widened |= set(spec.implies)
        if not found & set(spec.spreads_to):
            widened |= set(spec.spreads_to)
    return {a for a in widened if a in known}


def _index(named: dict[str, list[str]]) -> dict[str, list[tuple[list[str], str]]]:
    by_first: dict[str, list[tuple[list[str], str]]] = defaultdict(list)
    for key, phrases in named.items():
        for p in phrases:
            words = p.split()
            if words:
                by_first[words[0]].append((words, key))
    return by_first


def _find(named: dict[str, list[str]], text: str) -> list[Match]:
    words = spans(text)
    by_first = _index(named)
    found = []
    for i, (word, start, _) in enumerate(words):
        for phrase_words, key in by_first.get(word, ()):
            n = len(phrase_words)
            if [w for w, _, _ in words[i : i + n]] == phrase_words:
                end = words[i + n - 1][2]
                found.append(Match(key=key, start=start, end=end, text=text[start:end]))
    return found


def _longest(matches: list[Match]) -> list[Match]:
    """Drop a match inside a longer one: "coffee tables" is not also "tables"."""
    kept = []
    for m in sorted(matches, key=lambda m: (m.start - m.end, m.start)):
        inside = any(k.start <= m.start and m.end <= k.end and k.key != m.key for k in kept)
        if not inside and all(k.key != m.key or k.start != m.start for k in kept):
            kept.append(m)
    return sorted(kept, key=lambda m: m.start)


# Learning ---------------------------------------------------------------------------------


class ProductWords(BaseModel):
    """What learning needs of one product."""

    title: str
    category_path: list[str] = Field(default_factory=list)
    brand: str | None = None
    details: list[str] = Field(default_factory=list)  # values of its details, e.g. "Oak"


def _strip_audience(node: str, audience_words: set[str]) -> str:
    """ "Men's Coats & Jackets" → "Coats & Jackets": the department's audience is not its type."""

    def drop(match: re.Match[str]) -> str:
        return "" if stem(match.group()) in audience_words else match.group()

    kept = re.sub(r"(?<!\w)['’]s?(?!\w)", " ", _WORD.sub(drop, node))  # "Girls' Coats"
    return re.sub(r"\s+", " ", kept).strip(" &,/+")


def _node_parts(node: str) -> list[str]:
    """'Dining & Coffee Tables' → ['dining tables', 'coffee tables']."""
    parts = [p for p in _CONJUNCTION.split(node) if p.strip()]
    if len(parts) > 1:
        head = parts[-1].split()
        if len(head) >= 2:
            parts = [p if len(p.split()) > 1 else f"{p} {head[-1]}" for p in parts[:-1]] + [
                parts[-1]
            ]
    return parts


def _title_heads(title: str, skip: set[str]) -> list[str]:
    """The head noun of a title, and the two-word phrase ending in it: 'coffee table'."""
    name = _TITLE_TAIL.split(title, maxsplit=1)[0]
    words = [w for w in stems(name)]
    while words and (words[-1] in skip or not words[-1].isalpha() or len(words[-1]) < 3):
        words.pop()
    if not words:
        return []
    heads = [words[-1]]
    if len(words) >= 2 and words[-2].isalpha() and len(words[-2]) >= 3 and words[-2] not in skip:
        heads.append(f"{words[-2]} {words[-1]}")
    return heads


def learn(
    products: Iterable[ProductWords], synonyms: dict[str, list[str]] | None = None
) -> Vocabulary:
    """Learn the shop's product types, audiences and attributes from its products."""
    products = list(products)
    lex = lexicon()
    audience_words = {key: {phrase(w) for w in spec.words} for key, spec in lex.audiences.items()}
    all_audience = set().union(*audience_words.values()) if audience_words else set()
    brands = {phrase(p.brand) for p in products if p.brand}
    skip = lex.not_types | all_audience

    # Candidate types: category nodes (audience words removed) and title head nouns.
    names: dict[str, str] = {}  # phrase → display name
    nodes: Counter[str] = Counter()
    parents: dict[str, Counter[str]] = defaultdict(Counter)  # node → the node above it
    for p in products:
        above = None
        for node in p.category_path:
            keys = []
            for part in _node_parts(_strip_audience(node, all_audience)):
                key = phrase(part)
                if key and key not in skip:
                    nodes[key] += 1
                    names.setdefault(key, part.casefold())
                    keys.append(key)
                    if above:
                        parents[key][above] += 1
            above = keys[-1] if keys else above
    # A describing word does not make a type: "oak tables" are tables that are oak.
    describing = {phrase(a) for a in lex.attributes} | {
        phrase(v) for p in products for d in p.details for v in re.split(r"[,/;]", d)
    }
    # A brand's words are not types, unless the shop's tree uses them: real catalogs have a
    # brand called after what it sells.
    brand_words = {w for b in brands for w in b.split()} - {w for k in nodes for w in k.split()}
    heads: Counter[str] = Counter()
    for p in products:
        for head in dict.fromkeys(_title_heads(p.title, skip | describing | brand_words)):
            heads[head] += 1
    # Words that end some product's name are nouns, even where a detail also uses them
    # ("Totes", "Market Tote").
    ends = {h for p in products for h in _title_heads(p.title, set())[:1]}
    # A noun that names products ends their titles' names most times it is used ("Lamp");
    # a word that merely sits last now and then ("Warm", "Party") does not.
    used: Counter[str] = Counter()
    for p in products:
        words = stems(_TITLE_TAIL.split(p.title, maxsplit=1)[0])
        used.update(set(words) | {f"{a} {b}" for a, b in zip(words, words[1:])})
    lexicon_words = {w for g in lex.groups(synonyms) for w in g} | {
        phrase(w) for pair in lex.narrower.items() for w in pair
    }
    heads = Counter(
        {h: c for h, c in heads.items() if h in lexicon_words or (c >= 3 and c >= 0.5 * used[h])}
    )
    # A head word that only ever ends one compound is not a type of its own.
    compounds: dict[str, Counter[str]] = defaultdict(Counter)
    for head, count in heads.items():
        if " " in head:
            compounds[head.split()[-1]][head] += count
    node_heads = {k.split()[-1] for k in nodes}
    for head, count in heads.items():
        two = " " in head
        if two and (head.split()[0] in describing or count < MIN_HEAD_COUNT + 1):
            continue
        top = compounds[head].most_common(1) if not two else []
        if top and top[0][1] >= 0.9 * count:
            continue
        if count >= MIN_HEAD_COUNT or head in node_heads:
            names.setdefault(head, plural(head))
    candidates = set(nodes) | {h for h in heads if h in names}

    # Each candidate's words: itself plus its synonyms; a narrower lexicon word is given to
    # the broader type only where the shop has no type of its own for it.
    groups = lex.groups(synonyms)
    phrases: dict[str, set[str]] = {}
    for key in candidates:
        words = {key}
        for group in groups:
            if key in group:
                words |= group
        phrases[key] = words
    # A department named by a describing word ("Watches > Dive") is a kind of its parent:
    # shoppers say "dive watches", so that is its name too.
    nouns = {h.split()[-1] for h in heads} | {w.split()[-1] for w in lexicon_words}
    for key in nodes:
        head = key.split()[-1]
        if head in nouns or head in ends or not parents[key]:
            continue
        parent = parents[key].most_common(1)[0][0].split()[-1]
        phrases[key].add(f"{key} {parent}")
        names[key] = f"{names[key]} {plural(parent)}"
    in_titles = set(used)  # the words and word pairs of product names
    # Candidates that are synonyms of each other are one type ("couch" and "sofa").
    merged: dict[frozenset[str], str] = {}
    for key in sorted(phrases, key=lambda k: (-nodes[k], -heads[k], k)):
        merged.setdefault(frozenset(phrases[key]), key)
    phrases = {key: set(words) for words, key in merged.items()}
    owned = {w for ws in phrases.values() for w in ws}
    broader: dict[str, set[str]] = defaultdict(set)
    for narrow, broad in lex.narrower.items():
        broader[phrase(broad)].add(phrase(narrow))
    for broad, narrows in broader.items():
        if broad in phrases:  # the shop's own type: it also answers to its kinds' words
            phrases[broad] |= narrows - owned
        elif broad not in owned and narrows & (owned | in_titles):
            # No type of its own: one made of the kinds the shop sells (kept below only if
            # products carry it).
            phrases[broad] = {broad} | narrows
            names[broad] = plural(broad)
    vocab = Vocabulary(
        types={
            metadata_key("", key).lstrip("_"): ProductType(name=names[key], phrases=sorted(words))
            for key, words in phrases.items()
        }
    )

    # Audiences: only those the shop's own tree names (or that a named one implies).
    tree = " | ".join(node for p in products for node in p.category_path)
    present = {m.key for m in _find({k: sorted(v) for k, v in audience_words.items()}, tree)}
    for key in list(present):
        present |= set(lex.audiences[key].implies)
    vocab.audiences = {
        key: Audience(label=lex.audiences[key].label, phrases=sorted(audience_words[key]))
        for key in present
    }

    # Attributes: short detail values the catalog repeats, and lexicon words it uses.
    values: Counter[str] = Counter()
    for p in products:
        for value in {phrase(v) for d in p.details for v in re.split(r"[,/;]", d)} - {""}:
            if any(c.isdigit() for c in value):
                continue
            words = value.split()
            if 0 < len(words) <= 3 and len(words[0]) >= 3 and len(words[-1]) >= 3:
                values[value] += 1
    in_catalog = {w for p in products for w in stems(" ".join([p.title, *p.details]))}
    known = {phrase(a) for a in lex.attributes if set(phrase(a).split()) <= in_catalog}
    type_words = {w for ws in phrases.values() for w in ws}
    # A value most products share is the default ("standard width"), not something a
    # shopper picks goods by: as a filter word it would pull products into any question.
    # (Ten products are too few to tell a default from a popular choice.)
    common = len(products) / 2 if len(products) >= 10 else len(products)
    vocab.attributes = sorted(
        ({v for v, c in values.items() if MIN_HEAD_COUNT <= c <= common and v not in skip} | known)
        - type_words
    )

    # Count, mark the whole-range types and find each type's parents.
    members: dict[str, set[int]] = defaultdict(set)
    for i, p in enumerate(products):
        for tag in vocab.tags(p.title, p.category_path, p.brand, compounds=False):
            if tag.startswith("type_"):
                members[tag.removeprefix("type_")].add(i)
            else:
                vocab.audiences[tag.removeprefix("for_")].count += 1
    vocab.types = {k: t for k, t in vocab.types.items() if members.get(k)}
    for key, product_type in vocab.types.items():
        product_type.count = len(members[key])
        product_type.general = len(products) > 3 and product_type.count >= GENERAL_SHARE * len(
            products
        )
        product_type.parents = sorted(
            other
            for other in vocab.types
            if other != key and members[key] < members[other]  # a strict subset
        )
    return vocab
