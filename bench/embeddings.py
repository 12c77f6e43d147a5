"""The two encoder backends side by side: speed, and retrieval quality on the same task.

Quality task: each of the 997 real products is searched for by its title, and also by a
shopper-style query built from its brand, category and first detail, among all products
(dense only, so the encoder alone decides); reported as MRR for each backend.
"""

from __future__ import annotations

import time

import numpy as np

import cobbler  # noqa: F401
from bench.common import SHARED_CSV, table
from cobbler.embeddings import Embedder
from cobbler.settings import load_settings
from ingest.catalog import load_catalog


def _mrr(documents: np.ndarray, queries: np.ndarray) -> float:
    scores = queries @ documents.T
    own = scores[np.arange(len(queries)), np.arange(len(queries))]
    ranks = (scores > own[:, None]).sum(axis=1) + 1
    return float(np.mean(1.0 / ranks))


def main(argv: list[str] | None = None) -> None:
    if not SHARED_CSV.is_file():
        print(f"embedding bench skipped: {SHARED_CSV} is absent")
        return
    products, _ = load_catalog(SHARED_CSV.read_text(), ".csv", SHARED_CSV.name)
    texts = [p.text() for p in products]
    titles = [p.title for p in products]
    shopper = [
        " ".join(filter(None, [p.brand, p.category_leaf, next(iter(p.details.values()), "")]))
        for p in products
    ]
    rows, rates, quality = [], {}, {}
    for backend in ("torch", "onnx", "onnx-int8"):
        embedder = Embedder.from_settings(load_settings({"embedding_backend": backend}))
        embedder.embed(["warm up"])
        started = time.perf_counter()
        documents = embedder.embed(texts)
        rates[backend] = len(texts) / (time.perf_counter() - started)
        quality[backend] = (
            _mrr(documents, embedder.embed(titles)),
            _mrr(documents, embedder.embed(shopper)),
        )
        rows.append(
            (
                backend,
                f"{rates[backend]:.1f} texts/s; MRR title {quality[backend][0]:.3f}"
                f", shopper-style {quality[backend][1]:.3f}",
            )
        )
    for backend in ("onnx", "onnx-int8"):
        change = [
            (quality[backend][i] - quality["torch"][i]) / quality["torch"][i] * 100 for i in (0, 1)
        ]
        rows.append(
            (
                f"{backend} vs torch",
                f"{rates[backend] / rates['torch']:.2f}x the speed; MRR change "
                f"{change[0]:+.1f}% / {change[1]:+.1f}% (target within 1%)",
            )
        )
    table("Embedding backends (997 real products, same texts, same run)", rows)


if __name__ == "__main__":
    main()
