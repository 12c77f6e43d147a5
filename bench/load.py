"""Load: 1, 5 and 20 shoppers asking at once through the running app's chat endpoint.

Starts the real app (`python -m app`) on loopback and drives it the way a browser page
does: Gradio's queue protocol over HTTP (join, then the server-sent event stream of the
session), one session per shopper, all shoppers in one asyncio loop. A browser costs the
server machine nothing; `gradio_client` runs threads that poll and copy every update, and
on a 2-core machine 20 of them took cores from the server they measured. Each answer must
be about its own question (its keyword in the answer or its sources), so mixed-up
conversations are caught. Reports, per number of shoppers, the time to the sources (the
first update that carries them), to the first words of the answer and to its end, p50 and
p95, and answers per minute: for a burst (every shopper presses Enter in the same instant)
and for shoppers arriving one by one over a few seconds, as they do in a shop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gradio_client.utils import apply_diff

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


@dataclass
class Endpoint:
    """The chat event as the page calls it: where the queue is, the event's number and
    the inputs it sends besides the question (states are kept by the server)."""

    api: str
    fn_index: int
    inputs: list[Any]

    @classmethod
    async def read(cls, http: Any) -> Endpoint:
        config = (await http.get("/config")).json()
        chat = next(d for d in config["dependencies"] if d.get("api_name") == "chat")
        components = {c["id"]: c for c in config["components"]}
        inputs = [
            None if components[i]["type"] == "state" else components[i]["props"].get("value")
            for i in chat["inputs"]
        ]
        return cls(config.get("api_prefix", "/gradio_api"), chat["id"], inputs)


def _messages(output: Any) -> list[str]:
    """The assistant messages of one update: [sources, answer] or [answer]."""
    if isinstance(output, list):
        return [str(m) for m in output]
    return [str(output)] if output else []


async def _ask(http: Any, endpoint: Endpoint, session: str, question: str) -> dict[str, Any]:
    """One question as the page sends it; times from Enter to the sources, to the first
    words of the answer and to its end, and the final text."""
    started = time.perf_counter()
    times: dict[str, Any] = {"sources": None, "first": None, "final": ""}
    data = [question, *endpoint.inputs[1:]]
    body = {"data": data, "fn_index": endpoint.fn_index, "session_hash": session}
    joined = await http.post(f"{endpoint.api}/queue/join", json=body)
    joined.raise_for_status()
    event = joined.json()["event_id"]
    output: Any = None
    url = f"{endpoint.api}/queue/data"
    async with http.stream("GET", url, params={"session_hash": session}) as stream:
        async for line in stream.aiter_lines():
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message.get("event_id") != event:
                continue
            kind = message["msg"]
            if kind == "process_completed":
                if not message.get("success", True):
                    raise RuntimeError(str(message.get("output"))[:200])
                output = message["output"]["data"][0]
                break
            if kind != "process_generating":
                continue
            # Gradio sends a streamed output whole the first time, then as edits to it.
            update = message["output"]["data"][0]
            output = update if output is None else apply_diff(output, update)
            messages, now = _messages(output), time.perf_counter() - started
            if times["sources"] is None and any(m.startswith(SOURCES_OPEN) for m in messages):
                times["sources"] = now
            answer = [m for m in messages if not m.startswith(SOURCES_OPEN)]
            if times["first"] is None and answer and answer[-1] and answer[-1][0] != "…":
                times["first"] = now
    times["total"] = time.perf_counter() - started
    times["final"] = "\n".join(_messages(output))
    return times


async def _shopper(
    url: str,
    index: int,
    questions: int,
    delay_s: float,
    result: Result,
    ready: asyncio.Barrier,
) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=url, timeout=None) as http:  # its own connections
        try:
            endpoint = await Endpoint.read(http)
        except Exception as exc:
            result.errors.append(f"shopper {index}: connect: {exc}")
            return
        finally:  # every shopper's page is open before the first question
            await ready.wait()
        await asyncio.sleep(delay_s)
        session = uuid.uuid4().hex  # one browser tab: its conversation state on the server
        for turn in range(questions):
            question, keyword = QUESTIONS[(index + turn) % len(QUESTIONS)]
            try:
                times = await _ask(http, endpoint, session, question)
            except Exception as exc:
                result.errors.append(f"shopper {index}, {question!r}: {exc}")
                continue
            result.total_s.append(times["total"])
            result.first_words_s.append(times["first"] or times["total"])
            if times["sources"] is not None:
                result.sources_s.append(times["sources"])
                if turn:
                    result.sources_later_s.append(times["sources"])
            if keyword not in times["final"].casefold():
                result.mixed_up.append(f"{question!r} → {times['final'][:120]!r}")


def spread(values: list[float]) -> str:
    if not values:
        return "none"
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return f"{p50:.2f} s / {p95:.2f} s (max {max(values):.2f})"


async def _round_async(
    url: str, sessions: int, questions: int, over_s: float, deadline_s: float
) -> tuple[Result, float]:
    result, ready = Result(), asyncio.Barrier(sessions + 1)
    shoppers = [
        asyncio.create_task(_shopper(url, i, questions, over_s * i / sessions, result, ready))
        for i in range(sessions)
    ]
    await ready.wait()
    started = time.perf_counter()
    await asyncio.wait(shoppers, timeout=deadline_s)
    return result, time.perf_counter() - started


def _round(
    url: str, sessions: int, questions: int, deadline_s: float, over_s: float = 0.0
) -> tuple[Result, list[tuple[str, str]]]:
    """One round: `sessions` shoppers, each asking `questions` in turn, the first questions
    all at once (`over_s` 0) or arriving evenly over `over_s` seconds. Its figures as rows."""
    result, wall = asyncio.run(_round_async(url, sessions, questions, over_s, deadline_s))
    done = len(result.total_s)
    unfinished = sessions * questions - done - len(result.errors)
    return result, [
        ("answers completed", f"{done} of {sessions * questions} in {wall:.0f} s"),
        ("errors, unfinished", f"{len(result.errors)} {result.errors[:3]}, {unfinished}"),
        ("mixed-up answers", f"{len(result.mixed_up)} {result.mixed_up[:3]}"),
        ("sources p50 / p95", spread(result.sources_s) + " (target <= 0.5 s for everyone)"),
        ("  of later questions", spread(result.sources_later_s) + " (asked while others wait)"),
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


def run(
    sessions: list[int], questions: int, env: dict[str, str], deadline_s: float, over_s: float
) -> None:
    """One served app (model loaded once), one round per number of shoppers; then the same
    rounds against the floor page."""
    how = f"arriving over {over_s:g} s" if over_s else "at once"
    with tempfile.TemporaryDirectory(prefix="cobbler-load-") as tmp:
        env = {"COBBLER_FEEDBACK_DB": str(Path(tmp) / "feedback.sqlite3"), **env}
        with app_server(env, Path(tmp) / "app.log") as app:
            for n in sessions:
                _, rows = _round(app.url, n, questions, deadline_s, over_s)
                table(
                    f"Load: {n} shoppers × {questions} questions, {how} "
                    f"(model {env.get('COBBLER_MODEL', 'default')}, "
                    f"max_tokens {env.get('COBBLER_MAX_TOKENS', 'default')}, "
                    f"COBBLER_CONCURRENCY {env.get('COBBLER_CONCURRENCY', '1')})",
                    rows,
                )
        port = free_port()
        floor = [sys.executable, "-m", "bench.load", "--floor-page", str(port)]
        with serve(floor, port, Path(tmp) / "floor.log", "/") as page:
            rows = [
                (f"{n} shoppers {how}: sources p50 / p95", spread(result.sources_s))
                for n in sessions
                for result, _ in [_round(page.url, n, 1, deadline_s, over_s)]
            ]
        table("Floor: the same rounds against a chat page that answers at once", rows)


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
    parser.add_argument(
        "--over", type=float, default=0.0, help="first questions spread over this many seconds"
    )
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
    run(sessions, args.questions, env, args.deadline, args.over)


if __name__ == "__main__":
    main()
