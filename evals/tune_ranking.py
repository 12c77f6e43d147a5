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
- `--file-weights`: a chunk's fused score raised by `f` times the best fused score in its file,
  or with `nb:f` by `f` times the better of its two neighbours' (the parts before and after
  it in its file), with `nbs:f` by `f` times the sum of both, `nbc:f` as `nb:f` but only
  for chunks in one side's top 40 (as the app can), `nbsec:f` only from the same section;
- `--coords`: `c` times the share of the question's words (by idf) that the chunk has added
  to the fused score (Lucene's classic coordination factor);
- `--bm25`: the keyword scorer, `kind:k1:b[:delta]` with kind `okapi` (rank_bm25's BM25Okapi:
  idf log((N - df + .5)/(df + .5)), negative ones floored), `lucene` (the same term weight,
  idf log(1 + (N - df + .5)/(df + .5))), `plus` (BM25+, Lv & Zhai 2011: delta added to each
  matched term's weight, idf log((N + 1)/df)) or `l` (BM25L: delta added to the
  length-normalised frequency, idf log((N + 1)/(df + .5))); BM25+ and BM25L are written
  out here, as rank_bm25's BM25Plus adds delta to documents without the word too and its
  BM25L multiplies by the frequency once more;
- `--bigrams`: word pairs added to the BM25 tokens of chunks and questions: `loose`
  (neighbours once stopwords are dropped), `strict` (words next to each other in the
  text), alone in the same index, or `strict:w` / `loose:w` for a separate bigram index
  added with weight w;
- `--norms`: how each side's scores are scaled before `score:a` adds them: `app` (BM25
  over its best, similarity from the 40th best to the best, as README's figures were
  taken), `app40` (the same, only each side's top 40 taking part, as the app does), `minmax`
  (both sides from their 40th to their best), `z` (z-scores over each side's top 40, others
  at its lowest), `dbsf` (distribution-based: mean ± 3 sd over the top 40 mapped to 0-1,
  clipped), `pow:p` (app40, the dense side raised to p), `kwpow:p` (app40, the keyword
  side raised to p), `soft:T` (the dense side exp((s - best)/T)), `ub:w` (w · BM25 over
  its upper bound for the question, the sum of idf·(k1 + 1) of its words);
- `--rm3`: `docs:terms:weight`, pseudo-relevance feedback for BM25 (RM3-like): the
  question's words plus the `terms` best words of its `docs` best fused chunks
  (frequency × idf), each at `weight`, scored again;
- fusion `mnz:a`: `score:a` times the number of sides that have the chunk in their top 40
  (CombMNZ);
- `--expand`: `m:t:w`, embedding-based query expansion for BM25: each question word the
  chunks lack gets its `m` nearest chunk words by the encoder (similarity at least `t`),
  each at `w` times its similarity; `all:m:t:w` expands every question word. It reads
  the chunk words at `--boosts 1` and does not combine with `--rm3` or `--bigrams`
  `loose`/`strict` (pairs in the same index).

Each line is one combination's MRR, nDCG@10 and coverage per set, with joined neighbours
as the app shows them; the best combinations by their worst set close the output.
"""

from __future__ import annotations

import argparse
import itertools
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

import cobbler  # noqa: F401  (offline switches before any model library loads)
from app import retrieval
from app.evaluation import load_tests
from app.retrieval import _word, _words, tokenize, word_pairs
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


def neighbour_max(scores: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Each chunk's column replaced by the better score of its neighbours in its file."""
    pad = np.hstack([scores, np.zeros((len(scores), 1))])  # column -1: no neighbour
    return np.maximum(pad[:, before], pad[:, after])


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


def pairs(text: str, mode: str) -> list[str]:
    """Bigram tokens: `loose`, neighbours in `tokenize(text)`; `strict`, only where the two
    words stand next to each other in the text (the app's `word_pairs`)."""
    if mode == "loose":
        tokens = tokenize(text)
        return [f"{a}_{b}" for a, b in zip(tokens, tokens[1:])]
    return word_pairs(text)


class Keywords:
    """BM25 over one tokenized corpus with a choice of idf and term weight, vectorised over
    postings (the same scores as rank_bm25's BM25Okapi for `okapi:1.5:0.75`)."""

    def __init__(self, corpus: list[list[str]]) -> None:
        self.n = len(corpus)
        self.lengths = np.array([len(d) for d in corpus], dtype=float)
        self.avgdl = self.lengths.mean()
        docs: dict[str, list[int]] = {}
        freqs: dict[str, list[int]] = {}
        for i, document in enumerate(corpus):
            for token, count in Counter(document).items():
                docs.setdefault(token, []).append(i)
                freqs.setdefault(token, []).append(count)
        self.postings = {t: (np.asarray(docs[t]), np.asarray(freqs[t], float)) for t in docs}
        df = {t: len(d) for t, d in docs.items()}
        okapi = {t: math.log(self.n - f + 0.5) - math.log(f + 0.5) for t, f in df.items()}
        eps = 0.25 * sum(okapi.values()) / len(okapi)
        self.idfs = {
            "okapi": {t: v if v >= 0 else eps for t, v in okapi.items()},
            "lucene": {t: math.log(1 + (self.n - f + 0.5) / (f + 0.5)) for t, f in df.items()},
            "plus": {t: math.log((self.n + 1) / f) for t, f in df.items()},
            "l": {t: math.log((self.n + 1) / (f + 0.5)) for t, f in df.items()},
        }

    def scores(self, query: dict[str, float] | list[str], spec: str) -> np.ndarray:
        kind, k1, b, *rest = spec.split(":")
        k1, b = float(k1), float(b)
        delta = float(rest[0]) if rest else {"plus": 1.0, "l": 0.5}.get(kind, 0.0)
        idf = self.idfs[kind]
        weights = Counter(query) if isinstance(query, list) else query
        out = np.zeros(self.n)
        for token, weight in weights.items():
            if token not in self.postings:
                continue
            docs, tf = self.postings[token]
            norm = 1 - b + b * self.lengths[docs] / self.avgdl
            if kind == "l":
                ctd = tf / norm
                w = (k1 + 1) * (ctd + delta) / (k1 + ctd + delta)
            else:
                w = tf * (k1 + 1) / (tf + k1 * norm)
                if kind == "plus":
                    w = w + delta
            out[docs] += weight * idf[token] * w
        return out

    def bound(self, query: list[str], spec: str) -> float:
        kind, k1, *_ = spec.split(":")
        return sum(self.idfs[kind].get(t, 0.0) for t in query) * (float(k1) + 1) or 1.0


def candidates(scores: np.ndarray, positive: bool) -> np.ndarray:
    """Per row, a mask of the top DEPTH (with a positive score when `positive`)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :DEPTH]
    mask = np.zeros(scores.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    return mask & (scores > 0) if positive else mask


def scaled(scores: np.ndarray, how: str, positive: bool) -> np.ndarray:
    """Each row's scores mapped for fusion, only its top DEPTH taking part (the rest 0)."""
    top = candidates(scores, positive)
    out = np.zeros_like(scores)
    for q in range(len(scores)):
        cand = scores[q, top[q]]
        if not len(cand):
            continue
        high, low = cand.max(), cand.min()
        if how == "max":
            row = scores[q] / high if high > 0 else 0 * scores[q]
        elif how == "minmax":
            row = (scores[q] - low) / max(high - low, 1e-9)
        elif how == "z":
            sd = max(cand.std(), 1e-9)
            row = (scores[q] - cand.mean()) / sd
            row = row - row[top[q]].min()  # the lowest candidate at 0, as absent ones
        elif how == "dbsf":
            mean, sd = cand.mean(), max(cand.std(), 1e-9)
            row = np.clip((scores[q] - (mean - 3 * sd)) / (6 * sd), 0, 1)
        else:
            raise ValueError(how)
        out[q] = np.where(top[q], row, 0.0)
    return out


def normalised(bm25: np.ndarray, dense: np.ndarray, norm: str, bounds: np.ndarray):
    """The two sides scaled for `score:a` fusion, as `--norms` says."""
    if norm == "app":
        top = bm25.max(axis=1, keepdims=True)
        keyword = np.divide(bm25, top, out=np.zeros_like(bm25), where=top > 0)
        high = dense.max(axis=1, keepdims=True)
        low = -np.sort(-dense, axis=1)[:, DEPTH - 1 : DEPTH]
        return keyword, np.clip((dense - low) / np.maximum(high - low, 1e-9), 0, None)
    if norm == "app40":
        return scaled(bm25, "max", True), scaled(dense, "minmax", False)
    if norm in ("minmax", "z", "dbsf"):
        return scaled(bm25, norm, True), scaled(dense, norm, False)
    keyword, vector = scaled(bm25, "max", True), scaled(dense, "minmax", False)
    kind, value = norm.split(":")
    if kind == "pow":
        return keyword, vector ** float(value)
    if kind == "kwpow":
        return keyword ** float(value), vector
    if kind == "soft":
        high = dense.max(axis=1, keepdims=True)
        inside = candidates(dense, False)
        return keyword, np.where(inside, np.exp((dense - high) / float(value)), 0.0)
    if kind == "ub":  # BM25 over its upper bound, times `value` so its best is comparable
        top = candidates(bm25, True)
        return np.where(top, float(value) * bm25 / bounds[:, None], 0.0), vector
    raise ValueError(norm)


class KeywordSide:
    """One set's BM25 indexes (by header repeats and bigram mode) and its questions' tokens."""

    def __init__(self, chunks: list[Chunk], questions: list[str]) -> None:
        self.chunks = chunks
        self.questions = questions
        self.indexes: dict[tuple, tuple] = {}  # (boost, mode) → corpus tokens, Keywords

    def index(self, boost: int, mode: str) -> tuple:
        """`mode` "0": words; "loose"/"strict": words and pairs; "loose:"/"strict:": pairs."""
        if (boost, mode) not in self.indexes:
            texts = [f"{c.context}\n" * boost + c.text for c in self.chunks]
            if mode == "0":
                corpus = [tokenize(t) for t in texts]
            elif mode.endswith(":"):
                corpus = [pairs(t, mode[:-1]) for t in texts]
            else:
                corpus = [tokenize(t) + pairs(t, mode) for t in texts]
            self.indexes[boost, mode] = corpus, Keywords(corpus)
        return self.indexes[boost, mode]

    @staticmethod
    def query(question: str, mode: str) -> list[str]:
        if mode == "0":
            return tokenize(question)
        if mode.endswith(":"):
            return pairs(question, mode[:-1])
        return tokenize(question) + pairs(question, mode)

    def matrix(self, boost: int, mode: str, spec: str, queries: list | None = None):
        """BM25 scores, a row per question; `strict:w` adds w × a separate pairs index's."""
        main = "0" if ":" in mode else mode
        words = self.index(boost, main)[1]
        queries = queries or [self.query(q, main) for q in self.questions]
        out = np.vstack([words.scores(q, spec) for q in queries])
        if ":" in mode:
            kind, weight = mode.split(":")
            found = self.index(boost, f"{kind}:")[1]
            out = out + float(weight) * np.vstack(
                [found.scores(self.query(q, f"{kind}:"), spec) for q in self.questions]
            )
        return out

    def coord(self, boost: int, spec: str) -> np.ndarray:
        """The share of each question's distinct words, weighted by idf, in each chunk."""
        words = self.index(boost, "0")[1]
        idf = words.idfs[spec.split(":")[0]]
        out = np.zeros((len(self.questions), words.n))
        for q, question in enumerate(self.questions):
            tokens = [t for t in set(tokenize(question)) if t in words.postings]
            total = sum(idf[t] for t in set(tokenize(question)) if t in idf) or 1.0
            for token in tokens:
                out[q, words.postings[token][0]] += idf[token] / total
        return out

    def bounds(self, boost: int, mode: str, spec: str) -> np.ndarray:
        main = "0" if ":" in mode else mode
        words = self.index(boost, main)[1]
        return np.array([words.bound(self.query(q, main), spec) for q in self.questions])


def fuse(bm25: np.ndarray, dense: np.ndarray, fusion: str, norm: str, bounds: np.ndarray):
    if fusion == "rrf":
        return rrf(bm25, dense)
    kind, a = fusion.split(":")
    if norm == "app" and kind == "score":
        return convex(bm25, dense, float(a))
    keyword, vector = normalised(bm25, dense, norm, bounds)
    fused = float(a) * keyword + (1 - float(a)) * vector
    if kind == "mnz":
        fused = fused * (candidates(bm25, True).astype(int) + candidates(dense, False))
    return fused


def expanded_queries(side: KeywordSide, vectors: Vectors, spec: str) -> list[dict[str, float]]:
    """The questions' BM25 words plus, per `--expand`'s `[all:]m:t:w`, up to `m` nearest
    chunk words for each (each chunk word embedded as the form it most often takes)."""
    every = spec.startswith("all:")
    m, t, w = spec.removeprefix("all:").split(":")
    words = side.index(1, "0")[1]
    forms: dict[str, Counter] = {}
    for chunk in side.chunks:
        for word in _words(f"{chunk.context}\n{chunk.text}"):
            for token in _word(word):
                forms.setdefault(token, Counter())[word.lower()] += 1
    vocab = [v for v in words.postings if not any(ch.isdigit() for ch in v)]
    vocab_vectors = vectors([forms[v].most_common(1)[0][0] for v in vocab])
    out = []
    for question in side.questions:
        query = {token: float(n) for token, n in Counter(tokenize(question)).items()}
        seen = {token: word.lower() for word in _words(question) for token in _word(word)}
        lacking = [x for x in seen if every or x not in words.postings]
        if not lacking:
            out.append(query)
            continue
        for row in vectors([seen[x] for x in lacking]) @ vocab_vectors.T:
            near = [i for i in np.argsort(-row) if vocab[i] not in seen][: int(m)]
            for i in near:
                if row[i] >= float(t):
                    query[vocab[i]] = max(query.get(vocab[i], 0.0), float(w) * row[i])
        out.append(query)
    return out


# the app's ranking
APP = (0.0, "0", 1, "score:0.5", "0", "okapi:1.5:0.75", "0", "app40", "0", 0.0, "0")


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
    parser.add_argument("--coords", default="0")
    parser.add_argument("--bm25", default="okapi:1.5:0.75", help="kind:k1:b[:delta],...")
    parser.add_argument("--k1s", help="with --bs: every okapi k1 × b (added to --bm25's)")
    parser.add_argument("--bs")
    parser.add_argument("--bigrams", default="0", help="0, loose, strict, loose:w, strict:w")
    parser.add_argument("--norms", default="app")
    parser.add_argument("--rm3", default="0", help="docs:terms:weight,...")
    parser.add_argument("--expand", default="0", help="[all:]m:t:w,... (embedding expansion)")
    parser.add_argument("--depth", type=int, default=40, help="each side's candidates")
    parser.add_argument("--stopwords", default="app", choices=["app", "sklearn"])
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--prf", type=float, default=0.0, help="Rocchio weight of the top 3")
    parser.add_argument("--cache", type=Path, help="keep embeddings in this .npz file")
    args = parser.parse_args()
    global DEPTH
    DEPTH = args.depth
    if args.stopwords == "sklearn":  # scikit-learn's 318 English stopwords as well
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        retrieval._STOPWORDS |= set(ENGLISH_STOP_WORDS)
    settings = load_settings()
    vectors = Vectors(Embedder.from_settings(settings), args.cache)
    specs = args.bm25.split(",")
    if args.k1s:
        specs += [
            f"{kind}:{k1}:{b}"
            for kind in dict.fromkeys(s.split(":")[0] for s in specs)
            for k1 in args.k1s.split(",")
            for b in (args.bs or "0.75").split(",")
        ]
    specs = list(dict.fromkeys(specs))

    grid = list(
        itertools.product(
            [float(h) for h in args.header_weights.split(",")],
            args.window_weights.split(","),
            [int(b) for b in args.boosts.split(",")],
            args.fusions.split(","),
            args.file_weights.split(","),
            specs,
            args.bigrams.split(","),
            args.norms.split(","),
            args.rm3.split(","),
            [float(c) for c in args.coords.split(",")],
            args.expand.split(","),
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
        part = {(c.source, c.part): i for i, c in enumerate(chunks)}
        before, after = (
            np.array([part.get((c.source, (c.part or 0) + step), -1) for c in chunks])
            for step in (-1, 1)
        )
        same_before, same_after = (
            np.array(
                [j if j >= 0 and chunks[j].section == c.section else -1 for j, c in zip(n, chunks)]
            )
            for n in (before, after)
        )

        side = KeywordSide(chunks, [t.question for t in tests])
        keyword: dict[tuple, np.ndarray] = {}
        expansions: dict[str, list] = {}
        print(f"# {name}: {len(tests)} questions, {len(chunks)} chunks, {n_windows} windows")

        for setting in grid:
            h, w, boost, fusion, f, spec, mode, norm, rm3, c, grow = setting
            dense = text + h * header
            if w == "max":
                dense = np.maximum(text, window) + h * header
            elif float(w):
                dense = (1 - float(w)) * text + float(w) * window + h * header
            if (boost, mode, spec) not in keyword:
                keyword[boost, mode, spec] = side.matrix(boost, mode, spec)
            bm25 = keyword[boost, mode, spec]
            if grow != "0":  # embedding expansion of the question's words
                if rm3 != "0" or mode in ("loose", "strict"):
                    raise SystemExit("--expand takes words alone: no --rm3, no pairs in the index")
                if grow not in expansions:
                    expansions[grow] = expanded_queries(side, vectors, grow)
                bm25 = side.matrix(boost, mode, spec, expansions[grow])
            fused = fuse(bm25, dense, fusion, norm, side.bounds(boost, mode, spec))
            if rm3 != "0":  # expand the question with its best chunks' words, score again
                n_docs, n_terms, weight = rm3.split(":")
                corpus, words = side.index(boost, "0")
                idf = words.idfs[spec.split(":")[0]]
                expanded = []
                for q, t in enumerate(tests):
                    base = side.query(t.question, "0" if ":" in mode else mode)
                    gain: Counter = Counter()
                    for i in np.argsort(-fused[q])[: int(n_docs)]:
                        for token, count in Counter(corpus[i]).items():
                            gain[token] += count / len(corpus[i]) * idf[token]
                    query = dict(Counter(base))
                    for token, _ in gain.most_common():
                        if len(query) >= len(Counter(base)) + int(n_terms):
                            break
                        query.setdefault(token, float(weight))
                    expanded.append(query)
                bm25 = side.matrix(boost, mode, spec, expanded)
                fused = fuse(bm25, dense, fusion, norm, side.bounds(boost, mode, spec))
            if c:
                fused = fused + c * side.coord(boost, spec)
            if f.startswith("nb:"):
                fused = fused + float(f[3:]) * neighbour_max(fused, before, after)
            elif f.startswith("nbc:"):  # only chunks already in a side's top 40 are lifted
                lift = float(f[4:]) * neighbour_max(fused, before, after)
                fused = fused + np.where(fused > 0, lift, 0.0)
            elif f.startswith("nbsec:"):  # neighbours in the same section only
                fused = fused + float(f[6:]) * neighbour_max(fused, same_before, same_after)
            elif f.startswith("nbs:"):  # both neighbours' scores added
                pad = np.hstack([fused, np.zeros((len(fused), 1))])
                fused = fused + float(f[4:]) * (pad[:, before] + pad[:, after])
            elif float(f):
                fused = fused + float(f) * file_max(fused, files)
            rankings = [list(np.argsort(-row, kind="stable")[:60]) for row in fused]
            results.setdefault(setting, {})[name] = score(tests, chunks, rankings, True)

    def label(setting: tuple) -> str:
        h, w, boost, fusion, f, spec, mode, norm, rm3, c, grow = setting
        extra = "".join(
            f" {k} {v}"
            for k, v, d in [
                ("bm25", spec, APP[5]),
                ("bigrams", mode, "0"),
                ("norm", norm, "app"),
                ("rm3", rm3, "0"),
                ("coord", c, 0.0),
                ("expand", grow, "0"),
            ]
            if v != d
        )
        return f"header {h:g} window {w} boost {boost} {fusion} file {f}{extra}"

    width = max(52, max(len(label(s)) for s in results) + 2)
    print("setting".ljust(width) + "".join(f"{n[:20]:>24}" for n in names))
    for setting, by_set in results.items():
        cells = "".join(f"{m:>8.3f}{g:>8.3f}{c:>8.3f}" for m, g, c in (by_set[n] for n in names))
        print(f"{label(setting):<{width}}{cells}", flush=True)
    # Ranked by the smaller gain over the app's ranking (the first setting of the grid
    # when it is not in it), so a setting that helps one set and hurts the other sinks.
    app = APP if APP in results else next(iter(results))
    base = results[app]
    print(f"\nbest {args.top} by their smaller MRR gain over {label(app)}:")

    def gain(setting: tuple) -> float:
        return min(results[setting][n][0] - base[n][0] for n in names)

    for setting in sorted(results, key=gain, reverse=True)[: args.top]:
        cells = "".join(f"{results[setting][n][0]:>8.3f}" for n in names)
        print(f"{label(setting):<{width}}{cells}{gain(setting):>+8.3f}")


if __name__ == "__main__":
    main()
