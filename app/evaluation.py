"""The evaluation harness: retrieval and answer quality on a JSONL test file.

The file has one test per line: {"question", "keywords", "category"?, "reference_answer"?}
(the format of a popular public RAG course, so shops can bring their own), plus optional
fields our own sets use: "history" (earlier questions), "constraints" (hard constraints
every returned product must meet), "expect_none" (the shop has no such product) and
"expect_refusal" (the answer must decline).
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from app.service import Assistant
from cobbler.records import Source
from cobbler.vocabulary import metadata_key

REFUSALS = re.compile(
    r"don't know|do not know|do not have|don't have|couldn't find|can't find|cannot find|"
    r"not sure|unfortunately|sorry",
    re.I,
)


class Expected(BaseModel):
    brand: str | None = None
    type: str | None = None
    audience: str | None = None
    price_max: float | None = None
    price_min: float | None = None

    def admits(self, source: Source) -> bool:
        if self.brand and (source.brand or "").casefold() != self.brand.casefold():
            return False
        if self.type and not source.tags.get(metadata_key("type", self.type)):
            return False
        if self.audience and not source.tags.get(metadata_key("for", self.audience)):
            return False
        if self.price_max is not None and not (
            source.price_min is not None and source.price_min <= self.price_max
        ):
            return False
        return self.price_min is None or (
            source.price_max is not None and source.price_max >= self.price_min
        )


class Test(BaseModel):
    question: str
    keywords: list[str] = Field(default_factory=list)
    category: str = "uncategorised"
    reference_answer: str | None = None
    history: list[str] = Field(default_factory=list)
    constraints: Expected | None = None
    expect_none: bool = False
    expect_refusal: bool = False


def load_tests(path: Path) -> list[Test]:
    tests = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            tests.append(Test.model_validate_json(line))
        except ValidationError as exc:
            reason = exc.errors()[0]["msg"]
            raise ValueError(f"{path}, line {number}: not a valid test ({reason})") from exc
    if not tests:
        raise ValueError(f"{path} has no tests")
    return tests


def keyword_ranks(sources: Sequence[Source], keywords: Sequence[str]) -> list[int | None]:
    """For each keyword, the 1-based rank of the first source containing it (None: absent)."""
    texts = [s.text.casefold() for s in sources]
    return [
        next((rank for rank, text in enumerate(texts, 1) if k.casefold() in text), None)
        for k in keywords
    ]


def ndcg(sources: Sequence[Source], keyword: str, k: int) -> float:
    relevant = [keyword.casefold() in s.text.casefold() for s in sources[:k]]
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(relevant) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(sum(relevant)))
    return dcg / ideal if ideal else 0.0


class Scores(BaseModel):
    mrr: float | None = None  # None: no test in the group has keywords
    ndcg: float | None = None
    coverage: float | None = None
    constraint_precision: float | None = None
    none_accuracy: float | None = None
    n: int = 0


class RetrievalReport(BaseModel):
    overall: Scores
    by_category: dict[str, Scores]
    latency_ms: dict[str, float]


def _scores(rows: list[dict]) -> Scores:
    keywords = [r for row in rows for r in row["keywords"]]
    products = [ok for row in rows for ok in row["constraint_hits"]]
    nones = [row["none_ok"] for row in rows if row["none_ok"] is not None]
    return Scores(
        mrr=round(statistics.fmean([1 / r if r else 0.0 for r, _ in keywords]), 4)
        if keywords
        else 0.0,
        ndcg=round(statistics.fmean([g for _, g in keywords]), 4) if keywords else 0.0,
        coverage=round(sum(r is not None for r, _ in keywords) / len(keywords), 4)
        if keywords
        else 0.0,
        constraint_precision=round(sum(products) / len(products), 4) if products else None,
        none_accuracy=round(sum(nones) / len(nones), 4) if nones else None,
        n=len(rows),
    )


def evaluate_retrieval(
    assistant: Assistant, tests: Sequence[Test], k: int = 10, dense_only: bool = False
) -> RetrievalReport:
    rows, latencies = [], []
    for test in tests:
        started = time.perf_counter()
        if dense_only:  # the plain baseline: one vector search, no constraints, no keywords
            sources = assistant.retriever.search(test.question, None, k, dense_only=True).sources
        else:
            sources = assistant.search(test.question, test.history, k)[0].sources
        latencies.append((time.perf_counter() - started) * 1000)
        ranks = keyword_ranks(sources, test.keywords)
        products = [s for s in sources if s.kind == "product"]
        rows.append(
            {
                "category": test.category,
                "keywords": [
                    (r if r is not None and r <= k else None, ndcg(sources, kw, k))
                    for r, kw in zip(ranks, test.keywords)
                ],
                "constraint_hits": [test.constraints.admits(s) for s in products]
                if test.constraints and not test.expect_none
                else [],
                "none_ok": (not products) if test.expect_none else None,
            }
        )
    by_category = defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row)
    latencies.sort()
    return RetrievalReport(
        overall=_scores(rows),
        by_category={c: _scores(r) for c, r in sorted(by_category.items())},
        latency_ms={
            "p50": round(statistics.median(latencies), 1),
            "p95": round(latencies[max(0, math.ceil(len(latencies) * 0.95) - 1)], 1),
        },
    )


class AnswerReport(BaseModel):
    keyword_recall: float
    citation_validity: float
    refusal_accuracy: float | None
    false_refusal_rate: float | None
    first_token_ms_p50: float | None
    tokens_per_s: float | None
    n: int


def evaluate_answers(assistant: Assistant, tests: Sequence[Test]) -> AnswerReport:
    recall, valid, refusals, false_refusals, ttft, rates = [], [], [], [], [], []
    for test in tests:
        history = [
            m
            for q in test.history
            for m in ({"role": "user", "content": q}, {"role": "assistant", "content": ""})
        ]
        answer = assistant.ask(test.question, history)
        text = answer.answer.casefold()
        if test.keywords:
            recall.append(sum(k.casefold() in text for k in test.keywords) / len(test.keywords))
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
        numbers = {s.n for s in answer.sources}
        prices_ok = all(
            any(
                abs(float(p) - q) < 0.005
                for s in answer.sources
                for q in (s.price_min, s.price_max)
                if q is not None
            )
            or f"£{p}" in " ".join(s.text for s in answer.sources)
            or f"£{p}" in test.question
            for p in re.findall(r"£(\d+(?:\.\d{1,2})?)", answer.answer)
        )
        valid.append(cited <= numbers and prices_ok)
        refused = bool(REFUSALS.search(answer.answer))
        if test.expect_refusal or test.expect_none:
            refusals.append(refused)
        else:
            false_refusals.append(refused)
        if answer.timings.tokens:
            ttft.append(answer.timings.first_token_ms)
            decode = answer.timings.total_ms - answer.timings.first_token_ms
            if decode > 0:
                rates.append(answer.timings.tokens / decode * 1000)

    def share(values: list) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    return AnswerReport(
        keyword_recall=share(recall) or 0.0,
        citation_validity=share(valid) or 0.0,
        refusal_accuracy=share(refusals),
        false_refusal_rate=share(false_refusals),
        first_token_ms_p50=round(statistics.median(ttft), 1) if ttft else None,
        tokens_per_s=round(statistics.median(rates), 1) if rates else None,
        n=len(tests),
    )


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_retrieval(reports: dict[str, RetrievalReport]) -> str:
    """One table; one column group per retriever (hybrid, dense)."""
    names = list(reports)
    lines = [
        f"{'category':<24}"
        + "".join(
            f"{name + ' MRR':>11}{'nDCG':>7}{'cover':>7}{'constr':>8}{'none':>7}" for name in names
        )
    ]
    categories = ["overall", *next(iter(reports.values())).by_category]
    for category in categories:
        line = f"{category:<24}"
        for report in reports.values():
            s = report.overall if category == "overall" else report.by_category[category]
            cells = [
                _cell(v)
                for v in (s.mrr, s.ndcg, s.coverage, s.constraint_precision, s.none_accuracy)
            ]
            line += "".join(f"{c:>{w}}" for c, w in zip(cells, (11, 7, 7, 8, 7)))
        lines.append(f"{line}   (n={report.overall.n if category == 'overall' else s.n})")
    latency = "  ".join(
        f"{n}: p50 {r.latency_ms['p50']} ms, p95 {r.latency_ms['p95']} ms"
        for n, r in reports.items()
    )
    lines.append(f"retrieval latency  {latency}")
    return "\n".join(lines)


def dump(report: BaseModel) -> str:
    return json.dumps(report.model_dump(), indent=None)
