"""Tune document chunking and ranking on the tuning splits of the document sets.

`python -m evals.tune_documents [SET ...] [--split tune|report]` builds each set's chunks
with `ingest.documents` at several sizes and overlaps, embeds them once (the same encoder as
the app), and scores BM25, dense and their reciprocal-rank fusion at several weights and
depths, as `app.retrieval.Retriever.search` ranks them for a question with no product
constraints. Each line is one setting's MRR, nDCG@10 and coverage per set, so the chosen
setting is the one that does best on every set, not on one. It reads the tuning split
unless told otherwise: the report split is for `python -m app eval retrieval` only.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from rank_bm25 import BM25Okapi

import cobbler  # noqa: F401  (offline switches before any model library loads)
from app.evaluation import Test, _scores, keyword_ranks, load_tests, ndcg, source_ranks
from app.retrieval import _joined, _part, _stitch, tokenize
from cobbler.embeddings import Embedder
from cobbler.records import Chunk, Source, context_header
from cobbler.settings import load_settings
from ingest.documents import DocumentSplitter

SETS = ["evals/insurellm", "evals/wa-tenancy"]
K = 10


def chunks_of(folder: Path, size: int, overlap: int) -> list[Chunk]:
    splitter = DocumentSplitter(size, overlap)
    chunks: dict[str, Chunk] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".md", ".txt") or not path.is_file():
            continue
        source = path.relative_to(folder).as_posix()
        text = path.read_text(encoding="utf-8")
        found = (
            splitter.markdown(text, source)
            if path.suffix == ".md"
            else splitter.plain(text, source)
        )
        for chunk in found:
            chunks.setdefault(chunk.id, chunk)
    return list(chunks.values())


class Vectors:
    """Embeddings by text, computed once (and kept in `cache`, a .npz file, when given)."""

    def __init__(self, embedder: Embedder, cache: Path | None = None) -> None:
        self.embedder = embedder
        self.cache = cache
        self.known: dict[str, np.ndarray] = {}
        if cache and cache.is_file():
            with np.load(cache) as saved:
                self.known = dict(zip(saved["texts"].tolist(), saved["vectors"]))

    def __call__(self, texts: list[str]) -> np.ndarray:
        fresh = list(dict.fromkeys(t for t in texts if t not in self.known))
        if fresh:
            self.known.update(zip(fresh, np.asarray(self.embedder.embed(fresh), np.float32)))
            if self.cache:
                keys = list(self.known)
                vectors = np.vstack([self.known[t] for t in keys])
                np.savez(self.cache, texts=np.array(keys), vectors=vectors)
        return np.vstack([self.known[t] for t in texts])


def score(tests: list[Test], chunks: list[Chunk], rankings: list[list[int]], join: bool) -> tuple:
    """MRR, nDCG@10 and coverage of the rankings; `join` shows a chunk's retrieved neighbours
    as one source, as `Retriever.search` does with COBBLER_JOIN_NEIGHBOURS."""
    rows = []
    index = SimpleNamespace(
        metadatas=[c.metadata() for c in chunks],
        neighbour={(c.source, c.part): i for i, c in enumerate(chunks)},
    )
    for test, ranked in zip(tests, rankings):
        groups = _joined(index, ranked, K) if join else ranked[:K]
        sources = []
        for n, group in enumerate(groups, 1):
            rows_ = sorted(group if isinstance(group, list) else [group], key=_part(index))
            best = group[0] if isinstance(group, list) else group
            text = _stitch([chunks[i].text for i in rows_])
            sources.append(Source(**chunks[best].model_dump() | {"text": text}, n=n, score=0.0))
        found = [
            (r, ndcg(sources, kw, K))
            for r, kw in zip(keyword_ranks(sources, test.keywords), test.keywords)
        ] + [
            (r, ndcg(sources, f, K, by_file=True))
            for r, f in zip(source_ranks(sources, test.sources), test.sources)
        ]
        rows.append({"keywords": found, "constraint_hits": [], "none_ok": None})
    s = _scores(rows)
    return s.mrr, s.ndcg, s.coverage


def with_header(chunk: Chunk, kind: str) -> str:
    if kind == "full":
        return chunk.indexed_text
    if kind == "file":
        return f"{context_header(chunk.source, None, None)}\n{chunk.text}"
    if kind == "title":
        return f"{chunk.title}\n{chunk.text}"
    return chunk.text


def fuse(bm25: np.ndarray, dense: np.ndarray, depth: int, wb: float, wd: float, c: int) -> list:
    fused: dict[int, float] = {}
    for rank, i in enumerate(i for i in np.argsort(-bm25)[:depth] if bm25[i] > 0):
        fused[int(i)] = wb / (c + rank + 1)
    for rank, i in enumerate(np.argsort(-dense)[:depth]):
        fused[int(i)] = fused.get(int(i), 0.0) + wd / (c + rank + 1)
    return sorted(fused, key=fused.get, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", default=SETS)
    parser.add_argument("--split", default="tune", choices=["tune", "report"])
    parser.add_argument("--sizes", default="400,700,1000")
    parser.add_argument("--overlaps", default="0,100,200")
    parser.add_argument("--weights", default="1:1,1.5:1,1:1.5,2:1")
    parser.add_argument("--depths", default="20,40,80")
    parser.add_argument("--rrf-k", default="60")
    parser.add_argument(
        "--headers",
        default="full/full",
        help="header for BM25/for embeddings: full (folders, file, title, headings), "
        "file (folders and file name), title (the document's) or none",
    )
    parser.add_argument("--header-weight", type=float, default=0.0)
    parser.add_argument("--cache", type=Path, help="keep embeddings in this .npz file")
    args = parser.parse_args()
    vectors = Vectors(Embedder.from_settings(load_settings()), args.cache)
    sets = {}
    for folder in map(Path, args.sets):
        tests = [t for t in load_tests(folder / "questions.jsonl") if t.split == args.split]
        sets[folder.name] = (folder / "docs", tests, vectors([t.question for t in tests]))
    grid = itertools.product(
        [int(s) for s in args.sizes.split(",")], [int(o) for o in args.overlaps.split(",")]
    )
    print("setting".ljust(44) + "".join(f"{n[:20]:>24}" for n in sets))
    for size, overlap in grid:
        if overlap >= size // 2:
            continue
        results: dict[str, dict[str, tuple]] = {}
        for name, (docs, tests, questions) in sets.items():
            chunks = chunks_of(docs, size, overlap)
            for_bm25, for_dense = (
                [with_header(c, kind) for c in chunks] for kind in args.headers.split("/")
            )
            dense = questions @ vectors(for_dense).T
            if args.header_weight:  # how close the question comes to the chunk's header too
                heads = [c.context for c in chunks]
                dense = dense + args.header_weight * (questions @ vectors(heads).T)
            bm25 = BM25Okapi([tokenize(t) for t in for_bm25])
            keyword = [np.asarray(bm25.get_scores(tokenize(t.question))) for t in tests]
            runs = {
                "dense": [list(np.argsort(-d)) for d in dense],
                "bm25": [[int(i) for i in np.argsort(-b) if b[i] > 0] for b in keyword],
            }
            for weights, depth, c in itertools.product(
                args.weights.split(","), args.depths.split(","), args.rrf_k.split(",")
            ):
                wb, wd = map(float, weights.split(":"))
                label = f"rrf {weights} depth {depth} k {c}"
                runs[label] = [
                    fuse(b, d, int(depth), wb, wd, int(c)) for b, d in zip(keyword, dense)
                ]
            for label, rankings in runs.items():
                results.setdefault(label, {})[name] = score(tests, chunks, rankings, False)
                if label.startswith("rrf"):
                    joined = score(tests, chunks, rankings, True)
                    results.setdefault(f"{label} +join", {})[name] = joined
            print(f"# {name}: {len(chunks)} chunks at {size}/{overlap}", flush=True)
        for label, by_set in results.items():
            cells = "".join(f"{m:>8.3f}{g:>8.3f}{c:>8.3f}" for m, g, c in (by_set[n] for n in sets))
            print(f"{f'{size}/{overlap} {label}':<44}{cells}", flush=True)


if __name__ == "__main__":
    main()
