"""The evaluation harness: retrieval and answer quality on a JSONL test file.

The file has one test per line: {"question", "keywords", "category"?, "reference_answer"?}
(the format of a popular public RAG course, so shops can bring their own), plus optional
fields our own sets use: "sources" (files, relative to the knowledge base, that hold the
answer: judged like keywords, by the file a source comes from), "split" ("tune" or
"report": tune on one, only report the other), "history" (earlier questions),
"constraints" (hard constraints every returned product must meet), "expect_none" (the shop
has no such product) and "expect_refusal" (the answer must decline).
"""

from __future__ import annotations

import json
import math
import re
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from app.checks import sources_currency
from app.service import Assistant, Reply
from app.understanding import Turn
from cobbler.embeddings import Embedder
from cobbler.money import money_mentions
from cobbler.records import Source
from cobbler.vocabulary import Vocabulary, metadata_key

REFUSALS = re.compile(
    r"don't know|do not know|do not have|don't have|couldn't find|can't find|cannot find|"
    r"not sure|unfortunately|sorry",
    re.I,
)


def declines(answer: str, sources: Sequence[Source]) -> bool:
    """Whether an answer says it cannot help: a refusal phrase that is not the sources' own
    words ("if you cannot find your parcel, contact us" quotes a policy, it declines nothing)."""

    def words(text: str) -> str:
        return " " + " ".join(re.findall(r"[\w']+", text.casefold())) + " "

    quoted = "".join(words(s.text) for s in sources)
    for match in REFUSALS.finditer(answer):
        phrase = words(answer[match.start() :]).split()[: len(match[0].split()) + 2]
        if f" {' '.join(phrase)} " not in quoted:
            return True
    return False


class Expected(BaseModel):
    brand: str | None = None
    type: str | None = None
    audience: str | None = None
    price_max: float | None = None
    price_min: float | None = None

    def admits(self, source: Source, vocabulary: Vocabulary) -> bool:
        """Whether a product meets the test's constraints. The type is written in the
        shopper's words ("coffee tables") and read with the shop's learned vocabulary."""
        if self.brand and (source.brand or "").casefold() != self.brand.casefold():
            return False
        kinds = {m.key for m in vocabulary.find_types(self.type)} if self.type else set()
        if self.type and not any(source.tags.get(metadata_key("type", k)) for k in kinds):
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
    sources: list[str] = Field(default_factory=list)
    split: Literal["tune", "report"] | None = None
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


def source_ranks(sources: Sequence[Source], files: Sequence[str]) -> list[int | None]:
    """For each expected file, the 1-based rank of the first source read from it."""
    return [next((r for r, s in enumerate(sources, 1) if s.source == f), None) for f in files]


def ndcg(sources: Sequence[Source], keyword: str, k: int, by_file: bool = False) -> float:
    relevant = [
        s.source == keyword if by_file else keyword.casefold() in s.text.casefold()
        for s in sources[:k]
    ]
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(relevant) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(sum(relevant)))
    return dcg / ideal if ideal else 0.0


class Scores(BaseModel):
    mrr: float | None = None  # None: no test in the group has keywords
    ndcg: float | None = None
    recall: float | None = None  # per question, the share of its targets in the top k
    coverage: float | None = None  # over all targets (keywords and files)
    constraint_precision: float | None = None
    none_accuracy: float | None = None
    n: int = 0


class RetrievalReport(BaseModel):
    overall: Scores
    by_category: dict[str, Scores]
    by_split: dict[str, Scores] = Field(default_factory=dict)
    latency_ms: dict[str, float]


Mode = Literal["hybrid", "dense", "bm25", "tutorial"]


def _scores(rows: list[dict]) -> Scores:
    keywords = [r for row in rows for r in row["keywords"]]
    products = [ok for row in rows for ok in row["constraint_hits"]]
    nones = [row["none_ok"] for row in rows if row["none_ok"] is not None]
    recalls = [
        sum(r is not None for r, _ in row["keywords"]) / len(row["keywords"])
        for row in rows
        if row["keywords"]
    ]
    return Scores(
        mrr=round(statistics.fmean([1 / r if r else 0.0 for r, _ in keywords]), 4)
        if keywords
        else 0.0,
        ndcg=round(statistics.fmean([g for _, g in keywords]), 4) if keywords else 0.0,
        recall=round(statistics.fmean(recalls), 4) if recalls else 0.0,
        coverage=round(sum(r is not None for r, _ in keywords) / len(keywords), 4)
        if keywords
        else 0.0,
        constraint_precision=round(sum(products) / len(products), 4) if products else None,
        none_accuracy=round(sum(nones) / len(nones), 4) if nones else None,
        n=len(rows),
    )


def evaluate_retrieval(
    assistant: Assistant,
    tests: Sequence[Test],
    k: int = 10,
    mode: Mode = "hybrid",
    tutorial: TutorialBaseline | None = None,
) -> RetrievalReport:
    """Scores of one retriever: "hybrid" (Cobbler as the chat runs it), "dense" or "bm25"
    (one side of it alone, no question reading), or "tutorial" (`tutorial`, the plain recipe)."""
    rows, latencies = [], []
    vocabulary = assistant.retriever.catalog().shop.vocabulary
    for test in tests:
        earlier = (
            assistant.replay([{"role": "user", "content": q} for q in test.history])
            if mode == "hybrid"
            else []
        )
        started = time.perf_counter()
        if mode == "hybrid":
            sources = assistant.search(test.question, earlier, k)[0].sources
        elif mode == "tutorial":
            if tutorial is None:
                raise ValueError("the tutorial mode needs a TutorialBaseline")
            sources = tutorial.search(test.question, k)
        else:  # one side alone: no constraints, no question reading
            sources = assistant.retriever.search(
                test.question, None, k, dense_only=mode == "dense", keywords_only=mode == "bm25"
            ).sources
        latencies.append((time.perf_counter() - started) * 1000)
        found = [
            (r if r is not None and r <= k else None, ndcg(sources, kw, k))
            for r, kw in zip(keyword_ranks(sources, test.keywords), test.keywords)
        ] + [
            (r if r is not None and r <= k else None, ndcg(sources, f, k, by_file=True))
            for r, f in zip(source_ranks(sources, test.sources), test.sources)
        ]
        products = [s for s in sources if s.kind == "product"]
        rows.append(
            {
                "category": test.category,
                "split": test.split,
                "keywords": found,
                "constraint_hits": [test.constraints.admits(s, vocabulary) for s in products]
                if test.constraints and not test.expect_none
                else [],
                "none_ok": (not products) if test.expect_none else None,
            }
        )
    by_category, by_split = defaultdict(list), defaultdict(list)
    for row in rows:
        by_category[row["category"]].append(row)
        if row["split"]:
            by_split[row["split"]].append(row)
    latencies.sort()
    return RetrievalReport(
        overall=_scores(rows),
        by_category={c: _scores(r) for c, r in sorted(by_category.items())},
        by_split={s: _scores(by_split[s]) for s in ("tune", "report") if s in by_split},
        latency_ms={
            "p50": round(statistics.median(latencies), 1),
            "p95": round(latencies[max(0, math.ceil(len(latencies) * 0.95) - 1)], 1),
        },
    )


class TutorialBaseline:
    """The plain recipe of the public RAG course, kept apart from Cobbler's pipeline so it
    stays fixed while Cobbler changes: every Markdown and text file cut by LangChain's
    RecursiveCharacterTextSplitter (500 characters, 200 overlap), embedded with the same
    encoder, nearest chunks by cosine similarity. Documents only; no file names, no headings."""

    def __init__(self, kb_dir: Path, embedder: Embedder) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=500, chunk_overlap=200)
        self.embedder = embedder
        self.chunks: list[tuple[str, str]] = []  # (file relative to the knowledge base, text)
        for path in sorted(kb_dir.rglob("*")):
            if path.suffix.lower() in (".md", ".txt") and path.is_file():
                text = path.read_text(encoding="utf-8", errors="replace")
                name = path.relative_to(kb_dir).as_posix()
                self.chunks += [(name, piece) for piece in splitter.split_text(text)]
        self.vectors = np.asarray(embedder.embed([t for _, t in self.chunks]), dtype=np.float32)

    def search(self, question: str, k: int) -> list[Source]:
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        sims = self.vectors @ query
        return [
            Source(
                id=f"t-{i}",
                kind="document",
                text=self.chunks[i][1],
                title=self.chunks[i][0],
                source=self.chunks[i][0],
                n=n,
                score=float(sims[i]),
            )
            for n, i in enumerate(np.argsort(-sims)[:k], 1)
        ]


class AnswerScores(BaseModel):
    keyword_recall: float
    citation_validity: float
    refusal_accuracy: float | None
    false_refusal_rate: float | None
    n: int


class AnswerFailure(BaseModel):
    question: str
    split: str | None
    wrong: list[str]  # what the answer got wrong, in words
    answer: str


class AnswerReport(AnswerScores):
    first_token_ms_p50: float | None
    tokens_per_s: float | None
    by_split: dict[str, AnswerScores] = Field(default_factory=dict)
    failures: list[AnswerFailure] = Field(default_factory=list)


class Judged(BaseModel):
    """One answer judged: keyword recall, citations and amounts valid, declined or not."""

    recall: float | None
    valid: bool
    refused: bool
    expects_refusal: bool
    wrong: list[str] = Field(default_factory=list)


def answer_scores(judged: Sequence[Judged]) -> AnswerScores:
    def share(values: list) -> float | None:
        return round(sum(values) / len(values), 4) if values else None

    return AnswerScores(
        keyword_recall=share([j.recall for j in judged if j.recall is not None]) or 0.0,
        citation_validity=share([j.valid for j in judged]) or 0.0,
        refusal_accuracy=share([j.refused for j in judged if j.expects_refusal]),
        false_refusal_rate=share([j.refused for j in judged if not j.expects_refusal]),
        n=len(judged),
    )


def judge_answer(test: Test, answer: Reply, earlier: Sequence[Turn] = ()) -> Judged:
    """How one answer did against its test, and what it got wrong, in words."""
    text = answer.answer.casefold()
    missing = [k for k in test.keywords if k.casefold() not in text]
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    numbers = {s.n for s in answer.sources}
    # Every amount in any currency is the price (in its currency) of a product in the
    # sources or shown in an earlier turn ("cheaper than the 60.00 one"), or is written in
    # a source or the question.
    currency = sources_currency(answer.sources)
    written = money_mentions(" ".join(s.text for s in answer.sources), currency)
    written += money_mentions(test.question, currency)
    priced = [*answer.sources, *(shown for turn in earlier for shown in turn.shown)]
    unsupported = [
        answer.answer[start:end]
        for value, code, start, end in money_mentions(answer.answer, currency)
        if not any(
            abs(value - q) < 0.005 and s.currency in (None, code)
            for s in priced
            for q in (s.price_min, s.price_max)
            if q is not None
        )
        and not any(abs(value - v) < 0.005 and c == code for v, c, _, _ in written)
    ]
    refused = declines(answer.answer, answer.sources)
    expects_refusal = test.expect_refusal or test.expect_none
    wrong = [f"missing {k!r}" for k in missing]
    wrong += [f"cites [{n}], not a source" for n in sorted(cited - numbers)]
    wrong += [f"amount {raw} in no source" for raw in unsupported]
    if refused != expects_refusal:
        wrong.append("declined" if refused else "did not decline")
    return Judged(
        recall=1 - len(missing) / len(test.keywords) if test.keywords else None,
        valid=cited <= numbers and not unsupported,
        refused=refused,
        expects_refusal=expects_refusal,
        wrong=wrong,
    )


def evaluate_answers(assistant: Assistant, tests: Sequence[Test]) -> AnswerReport:
    judged, ttft, rates, failures = [], [], [], []
    for test in tests:
        earlier = assistant.replay([{"role": "user", "content": q} for q in test.history])
        answer = assistant.ask(test.question, earlier)
        one = judge_answer(test, answer, earlier)
        judged.append((test.split, one))
        if one.wrong:
            failures.append(
                AnswerFailure(
                    question=test.question, split=test.split, wrong=one.wrong, answer=answer.answer
                )
            )
        if answer.timings.tokens:
            ttft.append(answer.timings.first_token_ms)
            decode = answer.timings.total_ms - answer.timings.first_token_ms
            if decode > 0:
                rates.append(answer.timings.tokens / decode * 1000)

    splits = sorted({split for split, _ in judged if split})
    return AnswerReport(
        **answer_scores([j for _, j in judged]).model_dump(),
        first_token_ms_p50=round(statistics.median(ttft), 1) if ttft else None,
        tokens_per_s=round(statistics.median(rates), 1) if rates else None,
        by_split={s: answer_scores([j for t, j in judged if t == s]) for s in splits},
        failures=failures,
    )


def format_answers(report: AnswerReport, show: str = "tune") -> str:
    """The scores overall and per split, and the failures of the `show` split only: tune on
    the tuning split, never look at the report split's failures."""
    rows = [("overall", report), *report.by_split.items()]
    lines = [f"{'':<10}{'recall':>8}{'valid':>8}{'refusal':>9}{'false ref':>11}   n"]
    lines += [
        f"{name:<10}{s.keyword_recall:>8.3f}{s.citation_validity:>8.3f}"
        f"{_cell(s.refusal_accuracy):>9}{_cell(s.false_refusal_rate):>11}   {s.n}"
        for name, s in rows
    ]
    lines.append(
        f"first token p50 {report.first_token_ms_p50 or 0:.0f} ms, "
        f"{report.tokens_per_s or 0:.1f} tokens/s"
    )
    shown = [f for f in report.failures if show in ("all", f.split)]
    if shown:
        lines.append(f"failures ({show} split):")
        lines += [f"  {f.question}: {'; '.join(f.wrong)}" for f in shown]
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def format_retrieval(reports: dict[str, RetrievalReport], k: int = 10) -> str:
    """One table; one column group per retriever (hybrid, dense, bm25, tutorial). The
    constraint and none columns appear only when a test asks for them."""
    names = list(reports)
    first = next(iter(reports.values()))
    shop = first.overall.constraint_precision is not None or first.overall.none_accuracy is not None
    heads = [("MRR", 11), ("nDCG", 7), (f"R@{k}", 7), ("cover", 7)]
    if shop:
        heads += [("constr", 8), ("none", 7)]
    lines = [
        f"{'':<24}" + "".join(f"{name:>{sum(w for _, w in heads)}}" for name in names),
        f"{'category':<24}" + "".join(f"{h:>{w}}" for _ in names for h, w in heads),
    ]
    groups = [("overall", "overall")]
    groups += [(c, ("category", c)) for c in first.by_category]
    groups += [(f"split: {s}", ("split", s)) for s in first.by_split]
    for label, key in groups:
        line = f"{label:<24}"
        n = 0
        for report in reports.values():
            if key == "overall":
                s = report.overall
            else:
                s = report.by_category[key[1]] if key[0] == "category" else report.by_split[key[1]]
            values = [s.mrr, s.ndcg, s.recall, s.coverage]
            if shop:
                values += [s.constraint_precision, s.none_accuracy]
            line += "".join(f"{_cell(v):>{w}}" for v, (_, w) in zip(values, heads))
            n = s.n
        lines.append(f"{line}   (n={n})")
    latency = "  ".join(
        f"{n}: p50 {r.latency_ms['p50']} ms, p95 {r.latency_ms['p95']} ms"
        for n, r in reports.items()
    )
    lines.append(f"retrieval latency  {latency}")
    return "\n".join(lines)


def dump(report: BaseModel) -> str:
    return json.dumps(report.model_dump(), indent=None)


# Conversations ----------------------------------------------------------------------------


class TurnExpectation(BaseModel):
    """What one turn of a conversation must get right."""

    topic: Literal["products", "documents"] | None = None  # the kind of the first source
    constraints: Expected | None = None  # every product source meets them
    files: list[str] = Field(default_factory=list)  # a top-3 source comes from one of these
    refers_to: list[int] = Field(default_factory=list)  # the earlier turn's shown products
    none: bool = False  # an honest "we do not have that"
    cheaper_than_shown: bool = False  # every product below the cheapest shown before
    pricier_than_shown: bool = False  # every product above the dearest shown before
    must: list[str] = Field(default_factory=list)  # phrases the answer says (needs a model)
    must_not: list[str] = Field(default_factory=list)


class ConversationTurn(BaseModel):
    user: str
    expect: TurnExpectation = Field(default_factory=TurnExpectation)


class ConversationTest(BaseModel):
    id: str
    kind: str
    split: Literal["tune", "report"] = "report"
    turns: list[ConversationTurn]


def load_conversations(path: Path) -> list[ConversationTest]:
    tests = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                tests.append(ConversationTest.model_validate_json(line))
            except ValidationError as exc:
                reason = exc.errors()[0]["msg"]
                message = f"{path}, line {number}: not a valid conversation ({reason})"
                raise ValueError(message) from exc
    if not tests:
        raise ValueError(f"{path} has no conversations")
    return tests


def check_turn(
    expect: TurnExpectation,
    answer: Reply,
    before: Turn | None,
    vocabulary: Vocabulary,
    with_model: bool,
) -> list[str]:
    """What this turn got wrong, in words (empty: it passed)."""
    wrong = []
    sources = answer.sources
    products = [s for s in sources if s.kind == "product"]
    if expect.topic and (not sources or sources[0].kind != expect.topic[:-1]):
        wrong.append(
            f"topic: expected {expect.topic}, got {sources[0].kind if sources else 'nothing'}"
        )
    if expect.constraints and not expect.none:
        if not products:
            wrong.append("no products")
        misses = [s.title for s in products if not expect.constraints.admits(s, vocabulary)]
        if misses:
            wrong.append(f"outside the constraints: {misses[0]}")
    if expect.files and not any(s.source in expect.files for s in sources[:3]):
        wrong.append(f"no top-3 source from {expect.files}")
    shown = before.shown if before else []
    if expect.refers_to:
        wanted = [shown[i - 1 if i > 0 else i].id for i in expect.refers_to if abs(i) <= len(shown)]
        got = [s.id for s in products[: len(wanted)]]
        if not wanted or got != wanted:
            wrong.append("did not point at the products referred to")
    if expect.none and not answer.answer.startswith("Unfortunately"):
        wrong.append("not an honest none")
    prices = [s.price_min for s in shown if s.price_min is not None]
    if expect.cheaper_than_shown and (
        not products or not prices or any((s.price_min or 0) >= min(prices) for s in products)
    ):
        wrong.append("not cheaper than what was shown")
    if expect.pricier_than_shown and (
        not products or not prices or any((s.price_max or 0) <= max(prices) for s in products)
    ):
        wrong.append("not dearer than what was shown")
    if with_model:
        text = answer.answer.casefold()
        wrong += [f"does not say {p!r}" for p in expect.must if p.casefold() not in text]
        wrong += [f"says {p!r}" for p in expect.must_not if p.casefold() in text]
    return wrong


class ConversationReport(BaseModel):
    pass_rate: float  # conversations whose every turn passed
    turn_pass_rate: float
    by_kind: dict[str, float]
    by_split: dict[str, float]
    failures: dict[str, list[str]]  # conversation id → what went wrong, turn by turn
    n: int


def evaluate_conversations(
    assistant: Assistant, tests: Sequence[ConversationTest], with_model: bool
) -> ConversationReport:
    vocabulary = assistant.retriever.catalog().shop.vocabulary
    passed: dict[str, bool] = {}
    turns_ok: list[bool] = []
    failures: dict[str, list[str]] = {}
    for test in tests:
        conversation: list[Turn] = []
        for number, turn in enumerate(test.turns, 1):
            answer = assistant.ask(turn.user, conversation)
            before = conversation[-1] if conversation else None
            wrong = check_turn(turn.expect, answer, before, vocabulary, with_model)
            turns_ok.append(not wrong)
            if wrong:
                failures.setdefault(test.id, []).extend(f"turn {number}: {w}" for w in wrong)
            if answer.turn is not None:
                conversation.append(answer.turn)
        passed[test.id] = test.id not in failures

    def rate(ids: list[str]) -> float:
        return round(sum(passed[i] for i in ids) / len(ids), 4) if ids else 0.0

    groups: dict[str, list[str]] = defaultdict(list)
    splits: dict[str, list[str]] = defaultdict(list)
    for test in tests:
        groups[test.kind].append(test.id)
        splits[test.split].append(test.id)
    return ConversationReport(
        pass_rate=rate(list(passed)),
        turn_pass_rate=round(sum(turns_ok) / len(turns_ok), 4) if turns_ok else 0.0,
        by_kind={k: rate(v) for k, v in sorted(groups.items())},
        by_split={k: rate(v) for k, v in sorted(splits.items())},
        failures=failures,
        n=len(tests),
    )


def format_conversations(
    report: ConversationReport, tests: Sequence[ConversationTest], show: str = "tune"
) -> str:
    """The pass rates, and the failures of the `show` split only: tune on the tuning split,
    never look at the report split's failures."""
    kinds = Counter(t.kind for t in tests)
    lines = [f"{'kind':<24}{'pass':>7}   n"]
    lines += [f"{kind:<24}{rate:>7.3f}   {kinds[kind]}" for kind, rate in report.by_kind.items()]
    lines.append(f"{'overall':<24}{report.pass_rate:>7.3f}   {report.n}")
    lines.append(
        "by split: "
        + ", ".join(f"{k} {v:.3f}" for k, v in report.by_split.items())
        + f"; turns passed {report.turn_pass_rate:.3f}"
    )
    splits = {t.id: t.split for t in tests}
    for test_id, wrong in report.failures.items():
        if show in ("all", splits[test_id]):
            lines.append(f"  {test_id} ({splits[test_id]}): " + "; ".join(wrong))
    return "\n".join(lines)
