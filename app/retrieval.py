"""Hybrid retrieval: BM25 (rank-bm25) and dense vectors (Chroma), fused by their scores
(COBBLER_FUSION=scores: each side's scores scaled to 0-1 over its top candidates, then
weighted and added) or by reciprocal rank (`ranks`).

The keyword index is built from what is in the published store, not by re-reading the
knowledge base, and is rebuilt when an ingest publishes a new index. Hard constraints
filter both sides the same way, by a vectorised mask over the stored metadata; the dense
side scores the admitted rows exactly, from the vectors loaded with the index.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from chromadb.api.models.Collection import Collection
from rank_bm25 import BM25Okapi

from app.understanding import Catalog, Constraints
from cobbler.embeddings import Embedder
from cobbler.records import Source, View, context_header
from cobbler.settings import Settings
from cobbler.store import Store, StoreError
from cobbler.vocabulary import metadata_key

# Product codes (B08BLP231K, AB-1200), sizes (9.5) and prices (49.99) stay whole tokens.
_TOKEN = re.compile(r"[^\W_]+(?:[.'/-][^\W_]+)*")  # letters of any alphabet, digits
_STOPWORDS = set(
    "a an and are as at be but by can do does for from have how i if in is it me my of on or "
    "our please show so that the their them there these they this to us was we what when "
    "where which who will with you your any some".split()
)
_VOWEL = re.compile(r"[aeiouy]")


def stem(word: str) -> str:
    """A light English stemmer (Porter's first step, then a final e dropped), so "priced",
    "pricing", "prices" and "price" meet. Words with a digit (codes, sizes) are left whole,
    and so are words in other alphabets."""
    if not word.isascii() or not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]  # lamps → lamp, tables → table
    for suffix in ("ing", "ed"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3 and _VOWEL.search(base):
            if base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # stopped → stop
            word = base
            break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def _word(token: str) -> list[str]:
    """BM25's tokens of one casefolded word of `_TOKEN` (none for a stopword)."""
    token = token.removesuffix("'s").removesuffix("'")
    if "-" in token or "/" in token:
        parts = [p for p in re.split(r"[-/]", token) if p]
        whole = [token] if any(c.isdigit() for c in token) else []
        return whole + [stem(p) for p in parts if p not in _STOPWORDS]
    return [] if token in _STOPWORDS else [stem(token)]


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold().replace("’", "'"))


def tokenize(text: str) -> list[str]:
    """BM25's words: case folded, possessives and stopwords dropped, lightly stemmed.
    Hyphenated words are split ("AI-powered"), but a hyphenated code with a digit
    ("AB-1200") is kept whole as well as in its parts."""
    return [t for word in _words(text) for t in _word(word)]


def word_pairs(text: str) -> list[str]:
    """Adjacent words of `text` as one BM25 token each ("late fee" → "lat_fee"), for words
    next to each other on a line: a stopword between them breaks the pair."""
    found = []
    for line in text.split("\n"):
        last = None
        for word in _words(line):
            tokens = _word(word)
            if not tokens:
                last = None
                continue
            if last is not None:
                found.append(f"{last}_{tokens[0]}")
            found += [f"{a}_{b}" for a, b in zip(tokens, tokens[1:])]
            last = tokens[-1]
    return found


def keyword_tokens(text: str, pairs: bool = False) -> list[str]:
    """What BM25 reads of a text: its words (`tokenize`), and with `pairs` its word pairs
    (COBBLER_KEYWORD_PAIRS)."""
    return tokenize(text) + word_pairs(text) if pairs else tokenize(text)


@dataclass
class Index:
    """Everything in one published generation, held in memory for BM25 and filtering."""

    collection: Collection
    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, Any]]
    bm25: BM25Okapi | None
    catalog: Catalog
    vectors: np.ndarray  # normalised embeddings, one row per chunk
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    postings: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)  # chunk id → row
    neighbour: dict[tuple[str, int], int] = field(default_factory=dict)  # (file, part) → row
    type_vectors: np.ndarray | None = None  # the product types' names, embedded when needed
    # The document chunks' headers (cobbler.store's views): one row each, and each chunk's
    # row in it (-1: a product, or an index built without them).
    header_vectors: np.ndarray | None = None
    header_of: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    pairs: bool = False  # BM25 reads word pairs too (COBBLER_KEYWORD_PAIRS)

    @classmethod
    def load(
        cls,
        store: Store,
        collection: Collection,
        headers: bool = False,
        header_vectors: bool = False,
        pairs: bool = False,
    ) -> Index:
        """`headers`: a document chunk's header (file, title, headings) is read by BM25 too;
        `pairs`: BM25 reads pairs of adjacent words as well as the words."""
        ids, texts, metadatas, vectors = [], [], [], []
        for got in store.contents(collection):
            ids += got["ids"]
            texts += got["documents"]
            metadatas += got["metadatas"]
            vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        tokenized = [
            keyword_tokens(
                f"{context_header(m['source'], m.get('title'), m.get('section'))}\n{t}", pairs
            )
            if headers and m.get("kind") == "document"
            else keyword_tokens(t, pairs)
            for t, m in zip(texts, metadatas)
        ]
        index = cls(
            collection=collection,
            ids=ids,
            texts=texts,
            metadatas=metadatas,
            bm25=BM25Okapi(tokenized) if tokenized else None,
            catalog=Catalog.build(store.shop(collection), texts, metadatas),
            vectors=np.vstack(vectors) if vectors else np.zeros((0, 384), dtype=np.float32),
            pairs=pairs,
        )
        index.columns = {
            "product": np.array([m.get("kind") == "product" for m in metadatas], dtype=bool),
            "brand_key": np.array([m.get("brand_key", "") for m in metadatas], dtype=object),
            "currency": np.array([m.get("currency", "") for m in metadatas], dtype=object),
            "price_min": np.array([m.get("price_min", np.nan) for m in metadatas], dtype=float),
            "price_max": np.array([m.get("price_max", np.nan) for m in metadatas], dtype=float),
            "weight_g": np.array([m.get("weight_g", np.nan) for m in metadatas], dtype=float),
        }
        index.position = {id: i for i, id in enumerate(ids)}
        index.neighbour = {
            (m["source"], m["part"]): i
            for i, m in enumerate(metadatas)
            if m.get("kind") == "document" and m.get("part") is not None
        }
        if index.bm25 is not None:
            index.postings = _postings(index.bm25)
        if header_vectors:  # only read when COBBLER_HEADER_WEIGHT uses them: not at every load
            index._load_headers(store)
        return index

    def _load_headers(self, store: Store) -> None:
        row: dict[str, int] = {}
        vectors = []
        for got in store.views(self.collection):
            for id, meta, vector in zip(got["ids"], got["metadatas"], got["embeddings"]):
                if meta.get("role") == "header":
                    row[id] = len(vectors)
                    vectors.append(np.asarray(vector, dtype=np.float32))
        headers = [
            View.header(context_header(m["source"], m.get("title"), m.get("section"))).id
            if m.get("kind") == "document"
            else ""
            for m in self.metadatas
        ]
        self.header_of = np.array([row.get(h, -1) for h in headers], dtype=int)
        if vectors and (self.header_of >= 0).any():
            self.header_vectors = np.vstack(vectors)

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25Okapi.get_scores, vectorised over postings lists.

        rank-bm25 loops over every document in Python for each query word (about 80 ms a
        question at 100k chunks); touching only the documents that contain the word gives the
        same scores from the same statistics in a fraction of that.
        """
        bm25 = self.bm25
        scores = np.zeros(len(self.ids))
        if bm25 is None:
            return scores
        lengths = np.asarray(bm25.doc_len, dtype=float)
        for token in tokens:
            if token not in self.postings:
                continue
            docs, freqs = self.postings[token]
            norm = bm25.k1 * (1 - bm25.b + bm25.b * lengths[docs] / bm25.avgdl)
            scores[docs] += bm25.idf.get(token, 0.0) * freqs * (bm25.k1 + 1) / (freqs + norm)
        return scores

    def tag(self, key: str) -> np.ndarray:
        if key not in self.columns:
            self.columns[key] = np.array([bool(m.get(key)) for m in self.metadatas], dtype=bool)
        return self.columns[key]

    def mask(self, constraints: Constraints) -> np.ndarray:
        """Vectorised `Constraints.admits` over every chunk."""
        keep = self.columns["product"].copy()
        if constraints.unknown_brands:
            keep[:] = False
        if constraints.brands:
            keep &= np.isin(self.columns["brand_key"], [b.casefold() for b in constraints.brands])
        if constraints.types:
            keep &= np.logical_or.reduce(
                [self.tag(metadata_key("type", t)) for t in constraints.types]
            )
        if constraints.audience:
            keep &= self.tag(metadata_key("for", constraints.audience))
        if constraints.bounded and constraints.currency_filter:
            keep &= self.columns["currency"] == constraints.currency_filter
        with np.errstate(invalid="ignore"):
            if constraints.upper is not None:
                keep &= self.columns["price_min"] <= constraints.below()
            if constraints.price_min is not None:
                keep &= self.columns["price_max"] >= constraints.price_min
            if constraints.pricier_than is not None:
                keep &= self.columns["price_min"] > constraints.pricier_than
            low, high = constraints.weight_range()
            if low is not None:
                keep &= self.columns["weight_g"] > low
            if high is not None:
                keep &= self.columns["weight_g"] < high
        return keep


def _postings(bm25: BM25Okapi) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    docs: dict[str, list[int]] = {}
    freqs: dict[str, list[int]] = {}
    for i, counts in enumerate(bm25.doc_freqs):
        for token, count in counts.items():
            docs.setdefault(token, []).append(i)
            freqs.setdefault(token, []).append(count)
    return {t: (np.asarray(docs[t]), np.asarray(freqs[t], dtype=float)) for t in docs}


MAX_JOINED = 3  # chunks shown as one source, at most
MIN_OVERLAP = 12


def _part(index: Index) -> Any:
    return lambda i: index.metadatas[i].get("part") or 0


def _joined(index: Index, ranked: list[int], k: int) -> list[int | list[int]]:
    """The top k, where a document chunk whose neighbour in the same file and section is
    ranked higher joins it: one source that reads on across the chunk boundary, and a place
    left for another source."""
    groups: list[list[int]] = []
    group_of: dict[int, int] = {}
    for i in ranked:
        if len(groups) == k:
            break
        meta = index.metadatas[i]
        joined = False
        if meta.get("kind") == "document" and meta.get("part") is not None:
            for step in (-1, 1):
                j = index.neighbour.get((meta["source"], meta["part"] + step))
                if (
                    j in group_of
                    and index.metadatas[j].get("section") == meta.get("section")
                    and len(groups[group_of[j]]) < MAX_JOINED
                ):
                    groups[group_of[j]].append(i)
                    group_of[i] = group_of[j]
                    joined = True
                    break
        if not joined:
            group_of[i] = len(groups)
            groups.append([i])
    return [g if len(g) > 1 else g[0] for g in groups]


def _lift_neighbours(index: Index, fused: dict[int, float], weight: float) -> dict[int, float]:
    """Each candidate document chunk raised by `weight` times the better fused score of its
    two neighbours in the file (the parts before and after it) that are candidates too: a
    passage that runs across a chunk boundary rises as one, and is then shown as one source
    (`_joined`). Measured on the document sets' tuning splits (README, Evaluation).

    Products have no neighbours, so the documents are then scaled back until the best of
    them has its score from before: the lift reorders documents among themselves, and does
    not decide whether a product or a document leads (a search for a product stays with the
    product, not with a care guide that mentions it)."""
    lifted = {}
    for i, score in fused.items():
        meta = index.metadatas[i]
        if meta.get("kind") != "document":
            continue
        part = meta.get("part")
        near = [
            fused.get(index.neighbour.get((meta["source"], part + step), -1), 0.0)
            for step in (-1, 1)
            if part is not None
        ]
        lifted[i] = score + weight * max(near, default=0.0)
    top = max(lifted.values(), default=0.0)
    if top <= 0:
        return fused
    scale = max(fused[i] for i in lifted) / top
    return fused | {i: score * scale for i, score in lifted.items()}


def _stitch(texts: list[str]) -> str:
    """Adjacent chunks as one text, the overlap the splitter repeated said once (an overlap
    shorter than MIN_OVERLAP is taken for chance)."""
    text = texts[0]
    for following in texts[1:]:
        longest = min(len(text), len(following))
        overlap = next(
            (n for n in range(longest, MIN_OVERLAP - 1, -1) if text.endswith(following[:n])), 0
        )
        text = text + following[overlap:] if overlap else f"{text}\n{following}"
    return text


@dataclass
class Retrieval:
    sources: list[Source]
    best_similarity: float  # the dense side's best cosine similarity: how close anything came
    matched: int  # products that meet the hard constraints (every chunk when there are none)


POINTER_CHECK_S = 1.0
# How close a word must come to a type's name, and how much closer than to any other type,
# to be a hint for that type (measured with MiniLM: "carpet"–"rugs" 0.67, next 0.51).
NEAR_TYPE, NEAR_MARGIN = 0.62, 0.08


class Retriever:
    def __init__(self, embedder: Embedder, store: Store, settings: Settings) -> None:
        self.embedder = embedder
        self.store = store
        self.settings = settings
        self._index: Index | None = None
        self._checked = 0.0
        self._lock = threading.Lock()
        self._vectors: dict[str, np.ndarray] = {}
        self._vectors_lock = threading.Lock()

    def index(self) -> Index:
        # Follow the pointer (at most once a second) so a finished ingest is served without a
        # restart; the old index keeps answering while the new one loads.
        now = time.monotonic()
        if self._index is None or now - self._checked > POINTER_CHECK_S:
            self._checked = now
            name = self.store.active_name()
            with self._lock:
                if self._index is None or self._index.collection.name != name:
                    collection = self._compatible(self.store.require_active())
                    headers = self.settings.context_headers in ("keywords", "both")
                    self._index = Index.load(
                        self.store,
                        collection,
                        headers,
                        self.settings.header_weight > 0,
                        self.settings.keyword_pairs,
                    )
        return self._index

    def _compatible(self, collection: Collection) -> Collection:
        """Questions must be embedded by the encoder that embedded the store."""
        built = (collection.metadata or {}).get("embedding_model")
        if built and built != self.embedder.name:
            raise StoreError(
                f"The store was built with the {built} encoder but this app uses "
                f"{self.embedder.name}: run `python -m ingest` to re-embed it, or set "
                "COBBLER_EMBEDDING_MODEL / COBBLER_EMBEDDING_BACKEND back."
            )
        return collection

    def catalog(self) -> Catalog:
        return self.index().catalog

    def search(
        self,
        query: str,
        constraints: Constraints | None = None,
        k: int | None = None,
        dense_only: bool = False,
        topic: str | None = None,
        keywords_only: bool = False,
    ) -> Retrieval:
        """Top-k sources satisfying the hard constraints. `dense_only` and `keywords_only`
        rank by one side alone (for evaluation); `topic` ("products" or "documents") keeps to
        one kind of source."""
        index = self.index()
        k = k or self.settings.k
        constraints = constraints or Constraints()
        mask = index.mask(constraints) if constraints.hard else np.ones(len(index.ids), bool)
        if topic == "products":
            mask &= index.columns["product"]
        matched = int(mask.sum())
        if topic == "documents":
            mask = ~index.columns["product"]
        elif constraints.hard and constraints.allows_documents and topic is None:
            mask |= ~index.columns["product"]  # "how do I clean a wool rug?" is about care
        if not mask.any():
            return Retrieval([], 0.0, 0)
        depth = min(self.settings.candidates, int(mask.sum()))

        # Keyword side.
        fused: dict[int, float] = {}
        by_scores = self.settings.fusion == "scores"
        tokens = keyword_tokens(query, index.pairs)
        if tokens and not dense_only:
            scores = np.where(mask, index.keyword_scores(tokens), 0.0)
            top = [int(i) for i in np.argsort(-scores)[:depth] if scores[i] > 0]
            for rank, i in enumerate(top):
                fused[i] = self.settings.bm25_weight * (
                    scores[i] / scores[top[0]]
                    if by_scores
                    else 1 / (self.settings.rrf_k + rank + 1)
                )

        if keywords_only:
            ranked = sorted(fused, key=fused.get, reverse=True)[:k]
            sources = [
                Source.from_store(
                    index.ids[i], index.texts[i], index.metadatas[i], n=n, score=fused[i]
                )
                for n, i in enumerate(ranked, 1)
            ]
            return Retrieval(sources, 0.0, matched)

        dense, best_similarity = self._dense(index, self.embed(query), mask, depth)
        if dense:
            high, low = dense[0][1], dense[-1][1]
        for rank, (i, similarity) in enumerate(dense):
            fused[i] = fused.get(i, 0.0) + self.settings.dense_weight * (
                (similarity - low) / max(high - low, 1e-9)
                if by_scores
                else 1 / (self.settings.rrf_k + rank + 1)
            )

        if self.settings.neighbour_lift and by_scores and not dense_only:
            # (With fusion by rank the scores are too even: 0.5 of a neighbour's lifts a chunk
            # past every other, Insurellm's tuning split 0.809 → 0.785.)
            fused = _lift_neighbours(index, fused, self.settings.neighbour_lift)

        # Soft constraints re-rank: each wanted attribute the text mentions lifts it by about
        # half of what one side gives its best chunk.
        lift = 0.5 if by_scores else 0.5 / self.settings.rrf_k
        for i in fused:
            text = index.texts[i].casefold()
            hits = sum(a in text for a in constraints.attributes)
            fused[i] += hits * lift

        ranked = sorted(fused, key=fused.get, reverse=True)
        if constraints.by_price:
            # Cheapest first in one currency, the bounds' or else the shop's: with no rate to
            # convert with, products priced in another follow (cheapest first among their
            # own) rather than being ranked against it by raw numbers. They meet the
            # question, so they are shown, never dropped.
            price, currency = index.columns["price_min"], index.columns["currency"]
            ours = constraints.currency or index.catalog.shop.currency or ""
            priced = [i for i in ranked if not np.isnan(price[i])]
            ranked = sorted(
                priced[: max(k * 3, 10)],
                key=lambda i: (currency[i] != ours, currency[i], price[i]),
            )
        groups = _joined(index, ranked, k) if self.settings.join_neighbours else ranked[:k]
        sources = []
        for n, group in enumerate(groups, 1):
            rows = group if isinstance(group, list) else [group]
            best = rows[0]
            text = _stitch([index.texts[i] for i in sorted(rows, key=_part(index))])
            sources.append(
                Source.from_store(
                    index.ids[best], text, index.metadatas[best], n=n, score=round(fused[best], 5)
                )
            )
        return Retrieval(sources, best_similarity, matched)

    def _dense(
        self, index: Index, query: np.ndarray, mask: np.ndarray, depth: int
    ) -> tuple[list[tuple[int, float]], float]:
        """The vector ranking, `depth` (row, score) pairs best first, and the best cosine
        similarity of a chunk's text to the question (how close anything came).

        A document chunk scores its text's similarity mixed with its header's (folders, file,
        title, headings: what the chunk is about, which its text may not say), weighted by
        COBBLER_HEADER_WEIGHT; a product, its text's alone. Every row the mask admits is
        scored exactly, from the vectors held in memory (100k rows take about 4 ms here).
        Chroma's HNSW index is approximate and its graph differs from process to process:
        the same question got a different 40th candidate, so different scores, and now and
        then a different answer, from one run to the next.
        """
        rows = np.flatnonzero(mask)
        sims = index.vectors[rows] @ query
        scores = sims
        if self.settings.header_weight > 0 and index.header_vectors is not None:
            weight = self.settings.header_weight
            header = index.header_of[rows]
            has = header >= 0
            scores = sims.copy()
            scores[has] = (sims[has] + weight * (index.header_vectors[header[has]] @ query)) / (
                1 + weight
            )
        order = np.argsort(-scores, kind="stable")[:depth]
        best = float(sims.max()) if len(sims) else 0.0
        return [(int(rows[j]), float(scores[j])) for j in order], best

    def retrieve(self, question: str, k: int | None = None) -> list[Source]:
        return self.search(question, k=k).sources

    def embed(self, text: str) -> np.ndarray:
        """The question's vector; the last few are kept, as a question is often embedded
        twice (to weigh documents against products, then to search)."""
        with self._vectors_lock:
            vector = self._vectors.get(text)
        if vector is None:
            vector = np.asarray(self.embedder.embed_query(text), dtype=np.float32)
            with self._vectors_lock:
                self._vectors[text] = vector
                while len(self._vectors) > 64:
                    self._vectors.pop(next(iter(self._vectors)))
        return vector

    def closeness(self, text: str) -> tuple[float, float]:
        """How close the nearest document chunk and the nearest product come to `text`."""
        index = self.index()
        if not len(index.ids):
            return 0.0, 0.0
        sims = index.vectors @ self.embed(text)
        products = index.columns["product"]
        best = [float(sims[rows].max()) if rows.any() else 0.0 for rows in (~products, products)]
        return best[0], best[1]

    def near_types(self, words: list[str]) -> list[str]:
        """Product types whose name the encoder finds close to one of `words`, clearly
        closer than any other type (MiniLM puts some words near several kinds of one thing)."""
        index = self.index()
        types = index.catalog.shop.vocabulary.types
        if not types or not words:
            return []
        if index.type_vectors is None:
            names = [t.name for t in types.values()]
            index.type_vectors = np.asarray(self.embedder.embed(names), dtype=np.float32)
        found = []
        keys = list(types)
        for word in words:
            sims = index.type_vectors @ self.embed(word)
            order = np.argsort(-sims)
            best = float(sims[order[0]])
            second = float(sims[order[1]]) if len(order) > 1 else 0.0
            if best >= NEAR_TYPE and best - second >= NEAR_MARGIN:
                found.append(keys[int(order[0])])
        return found

    def fetch(self, ids: list[str]) -> Retrieval:
        """Products by id, numbered in the order given (those no longer in the index left out)."""
        index = self.index()
        rows = [index.position[i] for i in ids if i in index.position]
        sources = [
            Source.from_store(index.ids[r], index.texts[r], index.metadatas[r], n=n, score=1.0)
            for n, r in enumerate(rows, 1)
        ]
        return Retrieval(sources, 1.0, len(sources))
