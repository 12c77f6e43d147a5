"""Answer speed through the app's own code path, against raw llama-cpp-python, same run.

Prints, for the chosen preset (default: `default`): median time to first token through
Assistant.stream (what the UI calls), the floor for that figure (prompt tokens divided by
this run's measured prefill speed), decoding tokens/s through the app and through raw
`Llama.create_chat_completion` on the same model and prompt, and the peak RSS of a running
`python -m app` server answering the same questions.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cobbler  # noqa: F401
from app.generation import build_messages
from app.wiring import build_assistant
from bench.common import table
from bench.servers import app_server
from cobbler.settings import Settings, load_settings

QUESTIONS = [
    "Do you have waterproof walking boots under £90?",
    "How long do I have to return shoes?",
    "How much is next-day delivery?",
    "Any sandals for girls?",
    "What is a UK size 8 in EU sizes?",
    "Can you recommend some running shoes under £80?",
]


def _raw_decode(llm, messages) -> tuple[float, int]:
    """Decoding tokens/s of llama-cpp-python itself on the same prompt."""
    first = None
    tokens = 0
    for part in llm.create_chat_completion(
        messages=messages, temperature=0.2, max_tokens=200, stream=True
    ):
        if part["choices"][0]["delta"].get("content"):
            tokens += 1
            if first is None:
                first = time.perf_counter()
    elapsed = time.perf_counter() - (first or time.perf_counter())
    return (tokens - 1) / elapsed if tokens > 1 and elapsed > 0 else 0.0, tokens


def _prefill_speed(llm, prompt_tokens: list[int]) -> float:
    llm.reset()
    started = time.perf_counter()
    llm.eval(prompt_tokens)
    return len(prompt_tokens) / (time.perf_counter() - started)


def _server_peak_rss(settings: Settings, questions: list[str]) -> float:
    """Start the real app, ask through gradio_client, read the server's VmHWM (peak RSS)."""
    import tempfile

    from gradio_client import Client

    env = {"COBBLER_MODEL": settings.model, "COBBLER_DB_DIR": str(settings.db_dir)}
    with tempfile.TemporaryDirectory() as tmp, app_server(env, Path(tmp) / "app.log") as app:
        client = Client(app.url + "/", verbose=False)
        for question in questions:
            client.predict(question, api_name="/chat")
        status = Path(f"/proc/{app.process.pid}/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
    return peak_kb / 1024


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--db", type=Path, default=Path("vector_db"))
    args = parser.parse_args(argv)
    settings = load_settings({"model": args.model, "db_dir": args.db})
    assistant = build_assistant(settings)
    chat = assistant.chat
    assert chat is not None

    ttft, app_rates, raw_rates, prompt_sizes = [], [], [], []
    for question in QUESTIONS:
        answer = assistant.ask(question)
        if not answer.timings.tokens:
            continue  # answered from retrieval evidence alone (no model call)
        ttft.append(answer.timings.first_token_ms / 1000)
        decode_s = (answer.timings.total_ms - answer.timings.first_token_ms) / 1000
        if answer.timings.tokens > 1 and decode_s > 0:
            app_rates.append((answer.timings.tokens - 1) / decode_s)
        messages = build_messages(question, answer.sources, assistant.retriever.catalog().shop)
        prompt_sizes.append(sum(chat.count_tokens(m["content"]) + 4 for m in messages))
        raw_rate, _ = _raw_decode(chat.llm, messages)
        raw_rates.append(raw_rate)
    prefill = _prefill_speed(chat.llm, chat.llm.tokenize(b"word " * 400))
    floor = statistics.median(prompt_sizes) / prefill
    app_rate, raw_rate = statistics.median(app_rates), statistics.median(raw_rates)
    del assistant, chat
    peak = _server_peak_rss(settings, QUESTIONS[:3])
    table(
        f"Answering with the '{settings.model}' preset ({len(ttft)} model answers)",
        [
            (
                "time to first token",
                f"median {statistics.median(ttft):.2f} s "
                f"(target <= 2.0 s; min {min(ttft):.2f}, max {max(ttft):.2f})",
            ),
            (
                "prefill floor",
                f"{floor:.2f} s = median prompt {statistics.median(prompt_sizes):.0f}"
                f" tokens / {prefill:.0f} tokens/s measured prefill; ratio to floor "
                f"{statistics.median(ttft) / floor:.2f}",
            ),
            (
                "decoding",
                f"app {app_rate:.1f} tokens/s, raw llama-cpp-python {raw_rate:.1f} "
                f"tokens/s, ratio {app_rate / raw_rate:.2f} (target >= 0.9)",
            ),
            ("peak RSS of the app", f"{peak:.0f} MB (target <= 2560 MB)"),
        ],
    )


if __name__ == "__main__":
    main()
