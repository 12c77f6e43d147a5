"""`python -m bench [ingest|answer|retrieval ...]`: run the benchmarks and print their figures."""

from __future__ import annotations

import sys

from bench import answer, embeddings, ingest, retrieval

PARTS = {
    "ingest": ingest.main,
    "embeddings": embeddings.main,
    "retrieval": retrieval.main,
    "answer": answer.main,
}


def main() -> None:
    chosen = [a for a in sys.argv[1:] if a in PARTS] or list(PARTS)
    for name in chosen:
        PARTS[name]([])


if __name__ == "__main__":
    main()
