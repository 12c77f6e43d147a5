"""Answer speed through the app's own code path, against raw llama-cpp-python, same run.

Prints, for the chosen preset (default: `default`) over the bundled evaluation questions
(those without a chat history): time to first token through Assistant.ask (what the UI
calls), median and p90; prompt tokens per answer and how many llama.cpp had to evaluate
(the rest came from its cache: the rules); the ratio of the first-token time to its floor
(the evaluated tokens ÷ this run's raw prefill speed); decoding tokens/s through the app
and through raw `Llama.create_chat_completion` on the same model and prompt; the quality
of these same answers, judged as `eval answers` judges them (a speed-up must not buy a
worse answer); and the
resident memory of a running `python -m app` server at start, after its first answer and
after 50, with its peak, and whether torch was loaded into it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cobbler  # noqa: F401
from app.evaluation import Test, answer_scores, judge_answer, load_tests
from app.generation import build_messages, system_prompt
from app.wiring import build_assistant
from bench.common import ROOT, percentile, table
from bench.servers import app_server
from cobbler.settings import Settings, load_settings

EVALS = ROOT / "evals" / "bundled.jsonl"


def questions(limit: int | None = None) -> list[Test]:
    """The bundled evaluation's single-turn questions, in file order."""
    return [t for t in load_tests(EVALS) if not t.history][:limit]


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
    speed = len(prompt_tokens) / (time.perf_counter() - started)
    llm.reset()
    return speed


def _memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak) of a process, in MB."""
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return {
        line.split(":")[0]: int(line.split()[1]) / 1024
        for line in status
        if line.startswith(("VmRSS", "VmHWM"))
    }


def _torch_loaded(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def server_memory(settings: Settings, asked: list[str], answers: int) -> list[tuple[str, str]]:
    """Start the real app, ask through gradio_client, read the server's memory as it goes."""
    import tempfile

    from gradio_client import Client

    env = {"COBBLER_MODEL": settings.model, "COBBLER_DB_DIR": str(settings.db_dir.resolve())}
    rows = []
    with tempfile.TemporaryDirectory() as tmp, app_server(env, Path(tmp) / "app.log") as app:
        pid = app.process.pid
        rows.append(("RSS at start", f"{_memory(pid)['VmRSS']:.0f} MB"))
        client = Client(app.url + "/", verbose=False)
        for n in range(1, answers + 1):
            client.predict(asked[(n - 1) % len(asked)], api_name="/chat")
            if n == 1:
                rows.append(("RSS after the first answer", f"{_memory(pid)['VmRSS']:.0f} MB"))
        memory = _memory(pid)
        rows.append((f"RSS after {answers} answers", f"{memory['VmRSS']:.0f} MB"))
        rows.append(("peak RSS (VmHWM)", f"{memory['VmHWM']:.0f} MB (target <= 1800 MB)"))
        rows.append(("torch in the server", "yes" if _torch_loaded(pid) else "no"))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--db", type=Path, default=Path("vector_db"))
    parser.add_argument("--questions", type=int, help="only the first N bundled questions")
    parser.add_argument("--answers", type=int, default=50, help="answers before reading RSS")
    parser.add_argument("--no-server", action="store_true", help="skip the served app's RSS")
    args = parser.parse_args(argv)
    settings = load_settings({"model": args.model, "db_dir": args.db})
    assistant = build_assistant(settings)
    chat = assistant.chat
    assert chat is not None
    shop = assistant.retriever.catalog().shop
    asked = questions(args.questions)

    # Raw prefill speed before and after the answers: the machine may be busier in between.
    probe = chat.llm.tokenize(b"word " * 400)
    prefill = [_prefill_speed(chat.llm, probe)]
    rules = system_prompt(shop)
    chat.warm(rules)
    ttft, prompts, evaluated, ratios, app_rates, raw_rates, judged = [], [], [], [], [], [], []
    for test in asked:
        question = test.question
        answer = assistant.ask(question)
        judged.append((test.split, judge_answer(test, answer)))
        if not answer.timings.tokens:
            continue  # answered from retrieval evidence alone (no model call)
        tokens, new = chat.prompt_stats
        ttft.append(answer.timings.first_token_ms / 1000)
        prompts.append(tokens)
        evaluated.append(new)
        decode_s = (answer.timings.total_ms - answer.timings.first_token_ms) / 1000
        if answer.timings.tokens > 1 and decode_s > 0:
            app_rates.append((answer.timings.tokens - 1) / decode_s)
        if len(raw_rates) < 3:  # raw decoding on the same prompt: a few are enough
            messages = build_messages(question, answer.sources, shop)
            raw_rates.append(_raw_decode(chat.llm, messages)[0])
            chat.warm(rules)  # the rules back in the cache, as the app keeps them
    prefill.append(_prefill_speed(chat.llm, probe))
    speed = statistics.mean(prefill)
    ratios = [t / (n / speed) for t, n in zip(ttft, evaluated, strict=True) if n]
    app_rate, raw_rate = statistics.median(app_rates), statistics.median(raw_rates)
    rows = [
        (
            "time to first token",
            f"median {statistics.median(ttft):.2f} s, p90 {percentile(ttft, 0.9):.2f} s "
            f"(targets <= 3.0 s, <= 4.5 s; min {min(ttft):.2f}, max {max(ttft):.2f})",
        ),
        (
            "prompt tokens",
            f"median {statistics.median(prompts):.0f}, p90 {percentile(prompts, 0.9):.0f}; "
            f"evaluated per turn (not cached) median {statistics.median(evaluated):.0f}, "
            f"p90 {percentile(evaluated, 0.9):.0f}",
        ),
        (
            "raw prefill speed",
            f"{speed:.0f} tokens/s ({' then '.join(f'{p:.0f}' for p in prefill)}; 400 tokens)",
        ),
        (
            "first token / prefill floor",
            f"median {statistics.median(ratios):.2f} (floor = evaluated tokens / raw prefill "
            "speed; the rest is retrieval and waiting)",
        ),
        (
            "decoding",
            f"app {app_rate:.1f} tokens/s, raw llama-cpp-python {raw_rate:.1f} "
            f"tokens/s, ratio {app_rate / raw_rate:.2f} (target >= 0.9)",
        ),
    ]
    for split in (None, "tune", "report"):
        quality = answer_scores([j for t, j in judged if split in (None, t)])
        refusal = quality.refusal_accuracy
        rows.append(
            (
                f"quality{f', {split} split' if split else ''}",
                f"keyword recall {quality.keyword_recall:.3f}, citation validity "
                f"{quality.citation_validity:.3f}, refusal "
                f"{'-' if refusal is None else f'{refusal:.3f}'}, false refusals "
                f"{quality.false_refusal_rate or 0:.3f} ({quality.n} questions)",
            )
        )
    del assistant, chat
    if not args.no_server:
        rows += server_memory(settings, [t.question for t in asked], args.answers)
    table(f"Answering with the '{settings.model}' preset ({len(ttft)} model answers)", rows)


if __name__ == "__main__":
    main()
