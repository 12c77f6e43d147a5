"""Tune how document chunks are ranked, on the tuning splits of the document sets.

`python -m evals.tune_ranking [SET ...] [--split tune|report]` builds each set's chunks at
the app's chunk size and overlap (`evals.tune_documents.chunks_of`), embeds the chunks, their
headers and short windows of their text once, and scores every combination of:

- `--header-weights`: the question's similarity to the chunk's header (folders, file name,
  title, heading path), added to its similarity to the text;
- `--window-weights`: the best similarity to one of the chunk's windows (a few sentences,
  `--window` characters): `w` mixes it in as (1 - w)·text + w·window, `max` takes the larger;
- `--boosts`: BM25 over the text with the header repeated n times in front (BM25F-like);
- `--fusions`: reciprocal rank fusion (`rrf`, 1:1, depth 40, k 60, as the app) or a convex
  combination of the normalised scores (`score:a`, a the keyword side's weight);
- `--file-weights`: a chunk's fused score raised by `f` times the best fused score in its file.

Each line is one combination's MRR, nDCG@10 and coverage per set, with joined neighbours
as the app shows them; the best combinations by their worst set close the output.
"""

from __future__ import annotations

import argparse
import itertools
import re
from pathlib import Path

import numpy as np
from rank_bm25 import BM25Okapi

import cobbler  # noqa: F401  (offline switches before any model library loads)
from app.evaluation import load_tests
from app.retrieval import tokenize
from cobbler.embeddings import Embedder
from cobbler.records import Chunk
from cobbler.settings import load_settings
from evals.tune_documents import SETS, Vectors, chunks_of, score

DEPTH, RRF_K = 40, 60


def windows_of(text: str, size: int) -> list[str]:
    """Runs of consecutive sentences or lines of at least `size` characters, one starting at
    each sentence (the last ones shorter when the text ends)."""
    units = [u.strip() for u in re.split(r"(?<=[.!?])\s+|\n+", text) if u.strip()]
    found = []
    for i in range(len(units)):
        window, j = units[i], i + 1
        while len(window) < size and j < len(units):
            window, j = f"{window} {units[j]}", j + 1
        found.append(window)
        if j == len(units):
            break
    return found or [text]


def best_window(questions: np.ndarray, chunks: list[Chunk], vectors: Vectors, size: int):
    owners, texts = [], []
    for i, chunk in enumerate(chunks):
        for window in windows_of(chunk.text, size):
            owners.append(i)
            texts.append(window)
    sims = questions @ vectors(texts).T
    best = np.full((len(questions), len(chunks)), -1.0, dtype=np.float32)
    for column, owner in enumerate(owners):
        best[:, owner] = np.maximum(best[:, owner], sims[:, column])
    return best, len(texts)


def file_max(scores: np.ndarray, files: list[np.ndarray]) -> np.ndarray:
    """Each chunk's column replaced by the best score of any chunk in its file."""
    out = np.empty_like(scores)
    for columns in files:
        out[:, columns] = scores[:, columns].max(axis=1, keepdims=True)
    return out


def rrf(bm25: np.ndarray, dense: np.ndarray) -> np.ndarray:
    fused = np.zeros_like(dense)
    for q in range(len(dense)):
        top = [i for i in np.argsort(-bm25[q])[:DEPTH] if bm25[q, i] > 0]
        fused[q, top] += 1 / (RRF_K + np.arange(1, len(top) + 1))
        top = np.argsort(-dense[q])[:DEPTH]
        fused[q, top] += 1 / (RRF_K + np.arange(1, len(top) + 1))
    return fused


def convex(bm25: np.ndarray, dense: np.ndarray, alpha: float) -> np.ndarray:
    """alpha · BM25 / its best + (1 - alpha) · the similarity scaled from the depth-th best
    (0) to the best (1), as a retriever that sees only each side's top `DEPTH` could."""
    top = bm25.max(axis=1, keepdims=True)
    keyword = np.divide(bm25, top, out=np.zeros_like(bm25), where=top > 0)
    high = dense.max(axis=1, keepdims=True)
    low = -np.sort(-dense, axis=1)[:, DEPTH - 1 : DEPTH]
    vector = np.clip((dense - low) / np.maximum(high - low, 1e-9), 0, None)
    return alpha * keyword + (1 - alpha) * vector


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", default=SETS)
    parser.add_argument("--split", default="tune", choices=["tune", "report"])
    parser.add_argument("--header-weights", default="0,0.3,0.6,1")
    parser.add_argument("--window-weights", default="0,0.5,max")
    parser.add_argument("--window", type=int, default=200)
    parser.add_argument("--boosts", default="0,1,2")
    parser.add_argument("--fusions", default="rrf,score:0.3,score:0.5")
    parser.add_argument("--file-weights", default="0,0.3,0.6")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--prf", type=float, default=0.0, help="Rocchio weight of the top 3")
    parser.add_argument("--cache", type=Path, help="keep embeddings in this .npz file")
    args = parser.parse_args()
    settings = load_settings()
    vectors = Vectors(Embedder.from_settings(settings), args.cache)

    grid = list(
        itertools.product(
            [float(h) for h in args.header_weights.split(",")],
            args.window_weights.split(","),
            [int(b) for b in args.boosts.split(",")],
            args.fusions.split(","),
            [float(f) for f in args.file_weights.split(",")],
        )
    )
    results: dict[tuple, dict[str, tuple]] = {}
    names = []
    for folder in map(Path, args.sets):
        name = folder.name
        names.append(name)
        tests = [t for t in load_tests(folder / "questions.jsonl") if t.split == args.split]
        questions = vectors([t.question for t in tests])
        chunks = chunks_of(folder / "docs", settings.chunk_size, settings.chunk_overlap)
        chunk_vectors = vectors([c.text for c in chunks])
        header_vectors = vectors([c.context for c in chunks])
        text = questions @ chunk_vectors.T
        header = questions @ header_vectors.T
        if args.prf:  # the question moved toward its best 3 chunks (Rocchio), then scored again
            first = text + 0.6 * header
            top = np.argsort(-first, axis=1)[:, :3]
            moved = questions + args.prf * chunk_vectors[top].mean(axis=1)
            moved /= np.linalg.norm(moved, axis=1, keepdims=True)
            text, header = moved @ chunk_vectors.T, moved @ header_vectors.T
        window, n_windows = (
            best_window(questions, chunks, vectors, args.window)
            if args.window_weights != "0"
            else (text, 0)
        )
        by_file: dict[str, list[int]] = {}
        for i, chunk in enumerate(chunks):
            by_file.setdefault(chunk.source, []).append(i)
        files = [np.asarray(columns) for columns in by_file.values()]
        keyword = {}
        for boost in sorted({b for _, _, b, _, _ in grid}):
            bm25 = BM25Okapi([tokenize(f"{c.context}\n" * boost + c.text) for c in chunks])
            keyword[boost] = np.vstack([bm25.get_scores(tokenize(t.question)) for t in tests])
        print(f"# {name}: {len(tests)} questions, {len(chunks)} chunks, {n_windows} windows")
        for setting in grid:
            h, w, boost, fusion, f = setting
            dense = text + h * header
            if w == "max":
                dense = np.maximum(text, window) + h * header
            elif float(w):
                dense = (1 - float(w)) * text + float(w) * window + h * header
            if fusion == "rrf":
                fused = rrf(keyword[boost], dense)
            else:
                fused = convex(keyword[boost], dense, float(fusion.split(":")[1]))
            if f:
                fused = fused + f * file_max(fused, files)
            rankings = [list(np.argsort(-row, kind="stable")[:60]) for row in fused]
            results.setdefault(setting, {})[name] = score(tests, chunks, rankings, True)

    def label(setting: tuple) -> str:
        h, w, boost, fusion, f = setting
        return f"header {h:g} window {w} boost {boost} {fusion} file {f:g}"

    print("setting".ljust(52) + "".join(f"{n[:20]:>24}" for n in names))
    for setting, by_set in results.items():
        cells = "".join(f"{m:>8.3f}{g:>8.3f}{c:>8.3f}" for m, g, c in (by_set[n] for n in names))
        print(f"{label(setting):<52}{cells}", flush=True)
    # Ranked by the smaller gain over the app's ranking (the first setting of the grid
    # when it is not in it), so a setting that helps one set and hurts the other sinks.
    app = (0.0, "0", 0, "rrf", 0.0)
    app = app if app in results else next(iter(results))
    base = results[app]
    print(f"\nbest {args.top} by their smaller MRR gain over {label(app)}:")

    def gain(setting: tuple) -> float:
        return min(results[setting][n][0] - base[n][0] for n in names)

    for setting in sorted(results, key=gain, reverse=True)[: args.top]:
        cells = "".join(f"{results[setting][n][0]:>8.3f}" for n in names)
        print(f"{label(setting):<52}{cells}{gain(setting):>+8.3f}")


if __name__ == "__main__":
    main()
