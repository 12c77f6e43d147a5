"""Load: 1, 5 and 20 shoppers asking at once through the running app's chat endpoint.

Starts the real app (`python -m app`) on loopback and drives it with `gradio_client`, one
client (one Gradio session) per shopper. Each answer must be about its own question (its
keyword in the answer or its sources), so mixed-up conversations are caught. Reports, per
number of shoppers, the time to the sources (the first update that carries them), to the
first words of the answer and to its end, p50 and p95, and answers per minute.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.ui import SOURCES_OPEN
from bench.common import percentile, table
from bench.servers import app_server, free_port, serve

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


@dataclass
class Result:
    sources_s: list[float] = field(default_factory=list)
    sources_later_s: list[float] = field(default_factory=list)  # asked after a first answer
    first_words_s: list[float] = field(default_factory=list)
    total_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    mixed_up: list[str] = field(default_factory=list)


def _messages(update: object) -> list[str]:
    """The assistant messages of one streamed update: [sources, answer] or [answer]."""
    if isinstance(update, str):
        return [update]
    if isinstance(update, tuple | list) and update and isinstance(update[0], tuple | list):
        return _messages(update[0])  # (messages, conversation state)
    return [str(m) for m in update or []] if isinstance(update, tuple | list) else [str(update)]


def _shopper(
    url: str,
    index: int,
    questions: int,
    result: Result,
    lock: threading.Lock,
    ready: threading.Barrier,
) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:
        with lock:
            result.errors.append(f"shopper {index}: connect: {exc}")
        return
    finally:  # every shopper's page is open before the first question: a real burst
        ready.wait(timeout=300)
    for turn in range(questions):
        question, keyword = QUESTIONS[(index + turn) % len(QUESTIONS)]
        started = time.perf_counter()
        sources = first = None
        final = ""
        try:
            job = client.submit(question, api_name="/chat")
            for update in job:
                messages = _messages(update)
                now = time.perf_counter() - started
                if sources is None and any(m.startswith(SOURCES_OPEN) for m in messages):
                    sources = now
                answer = [m for m in messages if not m.startswith(SOURCES_OPEN)]
                if first is None and answer and not answer[-1].startswith("…"):
                    first = now
                final = "\n".join(messages)
        except Exception as exc:
            with lock:
                result.errors.append(f"shopper {index}, {question!r}: {exc}")
            continue
        total = time.perf_counter() - started
        with lock:
            result.total_s.append(total)
            result.first_words_s.append(first if first is not None else total)
            if sources is not None:
                result.sources_s.append(sources)
                if turn:
                    result.sources_later_s.append(sources)
            if keyword not in final.casefold():
                result.mixed_up.append(f"{question!r} → {final[:120]!r}")


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return f"{p50:.2f} s / {p95:.2f} s (max {max(values):.2f})"


def _round(url: str, sessions: int, questions: int, deadline_s: float, raw: bool = False) -> Any:
    """Rows of figures for one burst of `sessions` shoppers (with `raw`, the times to the
    sources alone)."""
    result, lock, ready = Result(), threading.Lock(), threading.Barrier(sessions + 1)
    shoppers = [
        threading.Thread(
            target=_shopper, args=(url, i, questions, result, lock, ready), daemon=True
        )
        for i in range(sessions)
    ]
    for shopper in shoppers:
        shopper.start()
    ready.wait(timeout=300)
    started = time.perf_counter()
    for shopper in shoppers:
        shopper.join(timeout=max(0.0, deadline_s - (time.perf_counter() - started)))
    wall = time.perf_counter() - started
    done = len(result.total_s)
    unfinished = sessions * questions - done - len(result.errors)

    if raw:
        return result.sources_s
    return [
        ("answers completed", f"{done} of {sessions * questions} in {wall:.0f} s"),
        ("errors, unfinished", f"{len(result.errors)} {result.errors[:3]}, {unfinished}"),
        ("mixed-up answers", f"{len(result.mixed_up)} {result.mixed_up[:3]}"),
        ("sources p50 / p95", spread(result.sources_s) + " (target <= 0.5 s for everyone)"),
        ("  of later questions", spread(result.sources_later_s) + " (the first ones came at once)"),
        ("first words p50 / p95", spread(result.first_words_s)),
        ("total time p50 / p95", spread(result.total_s)),
        ("answers per minute", f"{done / wall * 60:.1f}"),
    ]


def floor_page(port: int) -> None:
    """The floor: a chat page that does nothing but answer at once (a sources message, then
    an answer a second later), served like the app, so a burst of shoppers against it shows
    what Gradio and the clients themselves cost on this machine."""
    import gradio as gr

    def respond(message: str, history: list) -> object:
        yield [f'{SOURCES_OPEN}">{message}</section>', "…"]
        time.sleep(1.0)
        yield [f'{SOURCES_OPEN}">{message}</section>', message]

    page = gr.ChatInterface(respond, concurrency_limit=None, api_name="chat")
    page.queue().launch(server_name="127.0.0.1", server_port=port)


def run(sessions: list[int], questions: int, env: dict[str, str], deadline_s: float) -> None:
    """One served app (model loaded once), one round per number of shoppers; then the same
    bursts against the floor page."""
    with tempfile.TemporaryDirectory(prefix="cobbler-load-") as tmp:
        env = {"COBBLER_FEEDBACK_DB": str(Path(tmp) / "feedback.sqlite3"), **env}
        with app_server(env, Path(tmp) / "app.log") as app:
            for n in sessions:
                rows = _round(app.url + "/", n, questions, deadline_s)
                table(
                    f"Load: {n} shoppers × {questions} questions at once through gradio_client "
                    f"(model {env.get('COBBLER_MODEL', 'default')}, "
                    f"max_tokens {env.get('COBBLER_MAX_TOKENS', 'default')}, "
                    f"COBBLER_CONCURRENCY {env.get('COBBLER_CONCURRENCY', '1')})",
                    rows,
                )
        port = free_port()
        floor = [sys.executable, "-m", "bench.load", "--floor-page", str(port)]
        with serve(floor, port, Path(tmp) / "floor.log", "/") as page:
            rows = [
                (f"{n} shoppers at once: sources p50 / p95", spread(sources))
                for n in sessions
                for sources in [_round(page.url + "/", n, 1, deadline_s, raw=True)]
            ]
        table("Floor: the same bursts against a chat page that answers at once", rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--sessions",
        default=os.environ.get("BENCH_SESSIONS", "1,5,20"),
        help="numbers of shoppers, one round each (comma-separated)",
    )
    parser.add_argument("--questions", type=int, default=int(os.environ.get("BENCH_QUESTIONS", 2)))
    parser.add_argument("--model", default=os.environ.get("BENCH_LOAD_MODEL", "default"))
    parser.add_argument("--max-tokens", default=os.environ.get("BENCH_MAX_TOKENS"))
    parser.add_argument("--concurrency", default=os.environ.get("COBBLER_CONCURRENCY", "1"))
    parser.add_argument("--db", type=Path, default=Path("vector_db"))
    parser.add_argument("--deadline", type=float, default=3600, help="seconds per round at most")
    parser.add_argument("--floor-page", type=int, help=argparse.SUPPRESS)  # run() starts it
    args = parser.parse_args(argv)
    if args.floor_page:
        return floor_page(args.floor_page)
    try:
        sessions = [int(n) for n in args.sessions.split(",")]
    except ValueError:
        parser.error(f"--sessions {args.sessions!r}: numbers separated by commas, like 1,5,20")
    env = {
        "COBBLER_MODEL": args.model,
        "COBBLER_DB_DIR": str(args.db.resolve()),
        "COBBLER_CONCURRENCY": str(args.concurrency),
    }
    if args.max_tokens:
        env["COBBLER_MAX_TOKENS"] = str(args.max_tokens)
    run(sessions, args.questions, env, args.deadline)


if __name__ == "__main__":
    main()
