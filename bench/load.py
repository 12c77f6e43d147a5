"""Load: N concurrent shoppers × M questions each through the running app's chat endpoint.

Starts the real app (`python -m app`) on loopback and drives it with `gradio_client`, one
client (one Gradio session) per shopper. Each answer must be about its own question (its
keyword in the answer or its sources), so mixed-up conversations are caught. Reports time
to the first streamed words, total time and answers per minute.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import table
from bench.servers import app_server

# (question, a word its answer or sources must contain), asked in turn with each shopper
# starting at a different one, so neighbours are on different questions at the same time.
QUESTIONS = [
    ("How long do I have to return shoes?", "return"),
    ("Do you sell slippers?", "slipper"),
    ("Any sandals for girls?", "sandal"),
    ("How much is next-day delivery?", "deliver"),
    ("What is a UK size 8 in EU sizes?", "size"),
    ("Do you have waterproof walking boots under £90?", "boot"),
]
SOURCES_MARK = "\n\n---\n"  # app/ui.py: the answer's text ends where its sources begin


@dataclass
class Result:
    first_words_s: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mixed_up: list[str] = field(default_factory=list)


def _shopper(url: str, index: int, questions: int, result: Result, lock: threading.Lock) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        with lock:
            result.errors.append(f"shopper {index}: connect: {exc}")
        return
    for turn in range(questions):
        question, keyword = QUESTIONS[(index + turn) % len(QUESTIONS)]
        started = time.perf_counter()
        first = None
        try:
            job = client.submit(question, api_name="/chat")
            final = ""
            for update in job:
                # The chat's output is its two messages (sources, answer); older pages, a string.
                final = "\n".join(update[1:]) if isinstance(update, list) else str(update)
                if first is None and final.split(SOURCES_MARK)[0].strip(" …"):
                    first = time.perf_counter() - started
            final = job.result() or final
        except Exception as exc:
            with lock:
                result.errors.append(f"shopper {index}, {question!r}: {exc}")
            continue
        total = time.perf_counter() - started
        with lock:
            result.total_s.append(total)
            result.first_words_s.append(first if first is not None else total)
            if keyword not in final.casefold():
                result.mixed_up.append(f"{question!r} → {final[:120]!r}")


def _pct(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def run(sessions: int, questions: int, env: dict[str, str], deadline_s: float) -> None:
    with tempfile.TemporaryDirectory(prefix="cobbler-load-") as tmp:
        env = {"COBBLER_FEEDBACK_DB": str(Path(tmp) / "feedback.sqlite3"), **env}
        with app_server(env, Path(tmp) / "app.log") as app:
            result, lock = Result(), threading.Lock()
            shoppers = [
                threading.Thread(
                    target=_shopper, args=(app.url + "/", i, questions, result, lock), daemon=True
                )
                for i in range(sessions)
            ]
            started = time.perf_counter()
            for shopper in shoppers:
                shopper.start()
            for shopper in shoppers:
                shopper.join(timeout=max(0.0, deadline_s - (time.perf_counter() - started)))
            wall = time.perf_counter() - started
            unfinished = sessions * questions - len(result.total_s) - len(result.errors)

    done = len(result.total_s)
    table(
        f"Load: {sessions} shoppers × {questions} questions through gradio_client "
        f"(model {env.get('COBBLER_MODEL', 'default')}, "
        f"max_tokens {env.get('COBBLER_MAX_TOKENS', 'default')})",
        [
            ("answers completed", f"{done} of {sessions * questions} in {wall:.0f} s"),
            ("errors", f"{len(result.errors)} {result.errors[:3]}"),
            ("unfinished at deadline", str(unfinished)),
            ("mixed-up answers", f"{len(result.mixed_up)} {result.mixed_up[:3]}"),
            (
                "first words p50 / p95",
                f"{_pct(result.first_words_s, 50):.1f} s / {_pct(result.first_words_s, 95):.1f} s",
            ),
            (
                "total time p50 / p95",
                f"{_pct(result.total_s, 50):.1f} s / {_pct(result.total_s, 95):.1f} s",
            ),
            ("answers per minute", f"{done / wall * 60:.1f}"),
        ],
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=int(os.environ.get("BENCH_SESSIONS", 20)))
    parser.add_argument("--questions", type=int, default=int(os.environ.get("BENCH_QUESTIONS", 5)))
    parser.add_argument("--model", default=os.environ.get("BENCH_LOAD_MODEL", "small"))
    parser.add_argument("--max-tokens", default=os.environ.get("BENCH_MAX_TOKENS", "150"))
    parser.add_argument("--db", type=Path, default=Path("vector_db"))
    parser.add_argument("--deadline", type=float, default=3600, help="seconds before giving up")
    args = parser.parse_args(argv)
    env = {
        "COBBLER_MODEL": args.model,
        "COBBLER_DB_DIR": str(args.db.resolve()),
        "COBBLER_MAX_TOKENS": str(args.max_tokens),
    }
    run(args.sessions, args.questions, env, args.deadline)


if __name__ == "__main__":
    main()
