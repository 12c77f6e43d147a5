"""Hybrid retrieval latency at 10,000 and 100,000 chunks (synthetic catalogs).

The synthetic products are written straight into a published Chroma generation with
random unit vectors (embedding 100k texts would take most of an hour on 2 cores and says
nothing about search speed); their texts and metadata go through the real Product
records, so BM25, filters and the dense search do the same work as on a real catalog.
Queries go through Assistant.search, question parsing included.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import cobbler  # noqa: F401
from app.retrieval import Retriever
from app.service import Assistant
from bench.common import table
from bench.ingest import synthetic_products
from cobbler.embeddings import Embedder
from cobbler.settings import Settings, load_settings
from cobbler.store import Store, open_client

QUESTIONS = [
    "Do you have waterproof walking boots under £90?",
    "Brand042 trainers for women",
    "cheapest sandals for kids",
    "running shoes between £40 and £80",
    "Model512 Slippers",
    "leather loafers from Brand007",
    "How long do I have to return shoes?",
    "Any Gucci running shoes?",
]


def build(db: Path, count: int) -> Settings:
    settings = load_settings({"db_dir": db})
    client = open_client(settings)
    store = Store(client, settings.collection)
    generation = store.new_generation({"embedding_model": "random"})
    rng = np.random.default_rng(0)
    batch = []
    for product in synthetic_products(count):
        batch.append(product.to_chunk())
        if len(batch) == 5000:
            _add(generation, batch, rng)
            batch = []
    if batch:
        _add(generation, batch, rng)
    store.publish(generation)
    return settings


def _add(collection, chunks, rng) -> None:
    vectors = rng.normal(size=(len(chunks), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    collection.add(
        ids=[c.id for c in chunks],
        embeddings=vectors,
        documents=[c.text for c in chunks],
        metadatas=[c.metadata() for c in chunks],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    args = parser.parse_args(argv)
    rows = []
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix="cobbler-retrieval-"))
        try:
            settings = build(work / "db", size)
            store = Store(open_client(settings), settings.collection)
            retriever = Retriever(Embedder.from_settings(settings), store, settings)
            started = time.perf_counter()
            retriever.index()
            load_s = time.perf_counter() - started
            assistant = Assistant(retriever, None, settings)
            assistant.search("warm up")
            latencies = []
            for _ in range(5):
                for question in QUESTIONS:
                    started = time.perf_counter()
                    assistant.search(question)
                    latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            p95 = latencies[int(len(latencies) * 0.95) - 1]
            target = 30 if size <= 10_000 else 100
            rows.append(
                (
                    f"{size:,} chunks",
                    f"p50 {statistics.median(latencies):.1f} ms, "
                    f"p95 {p95:.1f} ms (target p50 <= {target} ms); index load {load_s:.1f} s",
                )
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)
    table("Retrieval latency (Assistant.search: parsing, BM25, Chroma, fusion)", rows)


if __name__ == "__main__":
    main()
