"""Document answers: time and keyword recall on a public document set, Cobbler against the
plain tutorial recipe, with the same model in the same run.

Ingests the set (default `evals/insurellm`) into a temporary store, then asks each question
of the chosen split (default `report`) twice: through Cobbler (`Assistant.ask`, what the chat
page calls) and through the course's recipe (`TutorialBaseline`: 500-character chunks,
dense only, its 4 nearest, a one-paragraph prompt). Prints, for each, time to the first
token and to the end of the answer (median, p90), keyword recall of the answers and the
prompt tokens. The model is loaded once, as in the served app.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import cobbler  # noqa: F401
from app.evaluation import Test, TutorialBaseline, load_tests
from app.generation import system_prompt
from app.wiring import build_assistant
from bench.common import ROOT, percentile, table
from cobbler.embeddings import Embedder
from cobbler.settings import load_settings
from cobbler.store import open_client
from ingest.pipeline import ingest

TUTORIAL_PROMPT = (
    "You are a knowledgeable, friendly assistant. Use the given context to answer the "
    "question. If you don't know the answer, say so.\n\nContext:\n{context}"
)
TUTORIAL_K = 4  # LangChain's as_retriever() default, as in the course


def _recall(test: Test, answer: str) -> float:
    text = answer.casefold()
    return sum(k.casefold() in text for k in test.keywords) / len(test.keywords)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--set", type=Path, default=ROOT / "evals" / "insurellm")
    parser.add_argument("--split", default="report", choices=["tune", "report", "all"])
    parser.add_argument("--model", default="default")
    parser.add_argument("--limit", type=int, help="only the first N questions of the split")
    args = parser.parse_args(argv)
    tests = [
        t
        for t in load_tests(args.set / "questions.jsonl")
        if args.split in ("all", t.split) and t.keywords
    ][: args.limit]
    if not tests:
        parser.error(f"{args.set} has no questions with keywords in the {args.split} split")

    with tempfile.TemporaryDirectory(prefix="cobbler-bench-docs-") as db:
        settings = load_settings({"model": args.model, "kb_dir": args.set, "db_dir": db})
        embedder = Embedder.from_settings(settings)
        ingest(settings, embedder, open_client(settings))
        assistant = build_assistant(settings)
        chat = assistant.chat
        assert chat is not None
        tutorial = TutorialBaseline(args.set, embedder)
        chat.warm(system_prompt(assistant.retriever.catalog().shop))
        figures: dict[str, dict[str, list[float]]] = {
            name: {"first": [], "total": [], "recall": [], "prompt": []}
            for name in ("cobbler", "tutorial")
        }
        # Cobbler's answers first, then the recipe's: its prompt has no fixed head, and
        # interleaving would push Cobbler's rules out of llama.cpp's cache every turn.
        cob = figures["cobbler"]
        for test in tests:
            answer = assistant.ask(test.question)
            cob["total"].append(answer.timings.total_ms / 1000)
            cob["first"].append((answer.timings.first_token_ms or answer.timings.total_ms) / 1000)
            cob["recall"].append(_recall(test, answer.answer))
            cob["prompt"].append(chat.prompt_stats[0] if answer.timings.tokens else 0)
        tut = figures["tutorial"]
        for test in tests:
            started = time.perf_counter()
            sources = tutorial.search(test.question, TUTORIAL_K)
            context = "\n\n".join(s.text for s in sources)
            messages = [
                {"role": "system", "content": TUTORIAL_PROMPT.format(context=context)},
                {"role": "user", "content": test.question},
            ]
            first, text = None, ""
            with chat.turns():
                for piece in chat.stream(messages):
                    first = first or time.perf_counter() - started
                    text += piece
            tut["total"].append(time.perf_counter() - started)
            tut["first"].append(first or tut["total"][-1])
            tut["recall"].append(_recall(test, text))
            tut["prompt"].append(chat.prompt_stats[0])

    def spread(values: list[float], unit: str = " s") -> str:
        return f"{statistics.median(values):.2f}{unit} / {percentile(values, 0.9):.2f}{unit}"

    rows = []
    for name, f in figures.items():
        prompts = [p for p in f["prompt"] if p]
        rows += [
            (f"{name}: first token median / p90", spread(f["first"])),
            (f"{name}: whole answer median / p90", spread(f["total"])),
            (f"{name}: keyword recall", f"{statistics.mean(f['recall']):.3f}"),
            (
                f"{name}: prompt tokens median / p90",
                spread(prompts, "") if prompts else "no model calls",
            ),
        ]
    rows.append(
        (
            "targets (Cobbler)",
            "first token median <= 4 s, whole answer median <= 8 s, recall not below the recipe",
        )
    )
    table(
        f"Document answers: {args.set.name}, {len(tests)} {args.split} questions, "
        f"model {chat.label}, one process, model loaded once",
        rows,
    )


if __name__ == "__main__":
    main()
