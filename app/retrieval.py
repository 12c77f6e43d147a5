"""Hybrid retrieval: BM25 (rank-bm25) and dense vectors (Chroma), fused by reciprocal rank.

The keyword index is built from what is in the published store, not by re-reading the
knowledge base, and is rebuilt when an ingest publishes a new index. Hard constraints
filter both sides the same way: Chroma's `where` on the dense side, a vectorised mask
over the same metadata on the BM25 side.
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

from app.constraints import Catalog, Constraints
from cobbler.embeddings import Embedder
from cobbler.records import Source
from cobbler.settings import Settings
from cobbler.store import Store, StoreError

# Product codes (B08BLP231K), sizes (9.5) and prices (49.99) stay whole tokens.
_TOKEN = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*")
_STOPWORDS = set(
    "a an and are as at be but by can do does for from have how i if in is it me my of on or "
    "our please show so that the their them there these they this to us was we what when "
    "where which who will with you your any some".split()
)


def tokenize(text: str) -> list[str]:
    tokens = []
    for token in _TOKEN.findall(text.casefold().replace("’", "'")):
        token = token.removesuffix("'s").removesuffix("'")
        if token in _STOPWORDS:
            continue
        if len(token) > 3 and token.endswith("s") and not token.endswith("ss"):
            token = token[:-1]  # boots → boot, trainers → trainer
        tokens.append(token)
    return tokens


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

    @classmethod
    def load(cls, collection: Collection, page: int = 5000) -> Index:
        ids, texts, metadatas, vectors = [], [], [], []
        for offset in range(0, collection.count(), page):
            got = collection.get(
                include=["documents", "metadatas", "embeddings"], limit=page, offset=offset
            )
            ids += got["ids"]
            texts += got["documents"]
            metadatas += got["metadatas"]
            vectors.append(np.asarray(got["embeddings"], dtype=np.float32))
        tokenized = [tokenize(t) for t in texts]
        brands = {m["brand_key"]: m["brand"] for m in metadatas if m.get("brand_key")}
        vocabulary = {w for tokens in tokenized for w in tokens}
        vocabulary |= {w for t in texts for w in _TOKEN.findall(t.casefold())}
        named = [
            str(m.get(field, "")).casefold()
            for m in metadatas
            if m.get("kind") == "product"
            for field in ("title", "brand", "category")
        ]
        names = {w for text in named for w in (*tokenize(text), *_TOKEN.findall(text))}
        index = cls(
            collection=collection,
            ids=ids,
            texts=texts,
            metadatas=metadatas,
            bm25=BM25Okapi(tokenized) if tokenized else None,
            catalog=Catalog(brands=brands, vocabulary=vocabulary, names=names),
            vectors=np.vstack(vectors) if vectors else np.zeros((0, 384), dtype=np.float32),
        )
        index.columns = {
            "product": np.array([m.get("kind") == "product" for m in metadatas], dtype=bool),
            "brand_key": np.array([m.get("brand_key", "") for m in metadatas], dtype=object),
            "price_min": np.array([m.get("price_min", np.nan) for m in metadatas], dtype=float),
            "price_max": np.array([m.get("price_max", np.nan) for m in metadatas], dtype=float),
        }
        index.position = {id: i for i, id in enumerate(ids)}
        if index.bm25 is not None:
            index.postings = _postings(index.bm25)
        return index

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
        from cobbler.vocabulary import metadata_key

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
        with np.errstate(invalid="ignore"):
            if constraints.price_max is not None:
                keep &= self.columns["price_min"] <= constraints.price_max
            if constraints.price_min is not None:
                keep &= self.columns["price_max"] >= constraints.price_min
        return keep


def _postings(bm25: BM25Okapi) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    docs: dict[str, list[int]] = {}
    freqs: dict[str, list[int]] = {}
    for i, counts in enumerate(bm25.doc_freqs):
        for token, count in counts.items():
            docs.setdefault(token, []).append(i)
            freqs.setdefault(token, []).append(count)
    return {t: (np.asarray(docs[t]), np.asarray(freqs[t], dtype=float)) for t in docs}


@dataclass
class Retrieval:
    sources: list[Source]
    best_similarity: float  # the dense side's best cosine similarity: how close anything came
    matched: int  # products that meet the hard constraints (every chunk when there are none)


POINTER_CHECK_S = 1.0


class Retriever:
    def __init__(self, embedder: Embedder, store: Store, settings: Settings) -> None:
        self.embedder = embedder
        self.store = store
        self.settings = settings
        self._index: Index | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def index(self) -> Index:
        # Follow the pointer (at most once a second) so a finished ingest is served without a
        # restart; the old index keeps answering while the new one loads.
        now = time.monotonic()
        if self._index is None or now - self._checked > POINTER_CHECK_S:
            self._checked = now
            name = self.store.active_name()
            with self._lock:
                if self._index is None or self._index.collection.name != name:
                    self._index = Index.load(self._compatible(self.store.require_active()))
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
    ) -> Retrieval:
        """Top-k sources satisfying the hard constraints; `dense_only` is the plain baseline."""
        index = self.index()
        k = k or self.settings.k
        constraints = constraints or Constraints()
        filtered = constraints.hard
        mask = index.mask(constraints) if filtered else np.ones(len(index.ids), dtype=bool)
        matched = int(mask.sum())
        if filtered and constraints.allows_documents:
            mask |= ~index.columns["product"]  # "how do I dry wet walking boots?" is about care
        if not mask.any():
            return Retrieval([], 0.0, 0)
        depth = min(self.settings.candidates, int(mask.sum()))

        # Keyword side.
        fused: dict[int, float] = {}
        tokens = tokenize(query)
        if tokens and not dense_only:
            scores = np.where(mask, index.keyword_scores(tokens), 0.0)
            top = np.argsort(-scores)[:depth]
            for rank, i in enumerate(i for i in top if scores[i] > 0):
                fused[int(i)] = self.settings.bm25_weight / (self.settings.rrf_k + rank + 1)

        # Vector side. Unfiltered: Chroma's HNSW index. Filtered: exact cosine over the rows
        # the mask admits, held in memory (Chroma's filtered query took 34 ms at 10k chunks).
        query_vector = np.asarray(self.embedder.embed_query(query), dtype=np.float32)
        if filtered:
            rows = np.flatnonzero(mask)
            sims = index.vectors[rows] @ query_vector
            order = np.argsort(-sims)[:depth]
            dense = [(int(rows[j]), float(sims[j])) for j in order]
        else:
            found = index.collection.query(
                query_embeddings=[query_vector], n_results=depth, include=["distances"]
            )
            dense = [
                (index.position[id], 1.0 - d)
                for id, d in zip(found["ids"][0], found["distances"][0])
            ]
        similarity = dict(dense)
        for rank, (i, _) in enumerate(dense):
            fused[i] = fused.get(i, 0.0) + self.settings.dense_weight / (
                self.settings.rrf_k + rank + 1
            )

        # Soft constraints re-rank: each wanted attribute the text mentions lifts it a little.
        for i in fused:
            text = index.texts[i].casefold()
            hits = sum(a in text for a in constraints.attributes)
            fused[i] += hits * 0.5 / self.settings.rrf_k

        ranked = sorted(fused, key=fused.get, reverse=True)
        if constraints.by_price:
            priced = [i for i in ranked if not np.isnan(index.columns["price_min"][i])]
            ranked = sorted(priced[: max(k * 3, 10)], key=lambda i: index.columns["price_min"][i])
        sources = [
            Source.from_store(
                index.ids[i], index.texts[i], index.metadatas[i], n=n, score=round(fused[i], 5)
            )
            for n, i in enumerate(ranked[:k], 1)
        ]
        return Retrieval(sources, max(similarity.values(), default=0.0), matched)

    def retrieve(self, question: str, k: int | None = None) -> list[Source]:
        return self.search(question, k=k).sources
