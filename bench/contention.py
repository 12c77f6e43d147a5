"""The query encoder while llama.cpp answers another shopper: do they fight over the cores?

One thread embeds short questions, one at a time, as the app does for each shopper; the
same questions are embedded again while another thread keeps llama.cpp generating (the
in-process model with the app's own thread count). Printed for each encoder set-up: p50 and
p90 per question alone and during generation, and their ratio. The set-ups are the app's
(COBBLER_ENCODER_THREADS threads, for each backend) and torch on every core, as it ran
before threads were set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time
from collections.abc import Callable

import cobbler  # noqa: F401
from bench.common import percentile, table
from cobbler.embeddings import Embedder
from cobbler.settings import Settings, load_settings

QUESTIONS = [
    "Do you have waterproof walking boots under £90?",
    "How long do I have to return them?",
    "How much is next-day delivery?",
    "Any sandals for girls?",
    "What is a UK size 8 in EU sizes?",
    "Do you sell slippers for men?",
    "Can I pay with PayPal?",
    "Trail running shoes from Ardent Run",
]


def _timed(embed: Callable[[str], object], rounds: int) -> list[float]:
    times = []
    for i in range(rounds):
        question = f"{QUESTIONS[i % len(QUESTIONS)]} ({i})"  # never a cached vector
        started = time.perf_counter()
        embed(question)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _generating(settings: Settings, stop: threading.Event, started: threading.Event) -> None:
    """Keep the app's in-process model answering until `stop` is set."""
    from app.generation import ChatModel
    from cobbler.models import resolve_chat_model

    chat = ChatModel(*resolve_chat_model(settings), settings)
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Write a long story about a lighthouse keeper. " * 20},
    ]
    while not stop.is_set():
        chat.llm.reset()  # the prompt is evaluated again each time: prefill and decoding both
        for _ in chat.stream(messages, max_tokens=64):
            started.set()
            if stop.is_set():
                break


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default", help="preset that generates meanwhile")
    parser.add_argument("--rounds", type=int, default=40, help="questions per measurement")
    args = parser.parse_args(argv)
    settings = load_settings({"model": args.model})
    cores = os.cpu_count() or 1
    setups = [
        ("onnx", settings.encoder_threads),
        ("onnx-int8", settings.encoder_threads),
        ("torch", settings.encoder_threads),
        ("torch", cores),  # as before: torch's default, every core
    ]
    encoders = []
    for backend, threads in setups:
        embedder = Embedder.from_settings(
            settings.model_copy(update={"embedding_backend": backend}), threads=threads
        )
        encoders.append((backend, threads, embedder))

    # Alone before and after the generation: other work on the machine comes and goes.
    alone: dict[int, list[float]] = {}
    for i, (backend, threads, embedder) in enumerate(encoders):
        _use_threads(backend, threads)
        embedder.embed_query("warm up")
        alone[i] = _timed(embedder.embed_query, args.rounds // 2)

    stop, started = threading.Event(), threading.Event()
    generator = threading.Thread(target=_generating, args=(settings, stop, started), daemon=True)
    generator.start()
    started.wait(timeout=600)
    busy: dict[int, list[float]] = {}
    try:
        for i, (backend, threads, embedder) in enumerate(encoders):
            _use_threads(backend, threads)
            busy[i] = _timed(embedder.embed_query, args.rounds)
    finally:
        stop.set()
        generator.join()
    for i, (backend, threads, embedder) in enumerate(encoders):
        _use_threads(backend, threads)
        alone[i] += _timed(embedder.embed_query, args.rounds - args.rounds // 2)

    rows = []
    for i, (backend, threads, _) in enumerate(encoders):
        quiet, loaded = statistics.median(alone[i]), statistics.median(busy[i])
        rows.append(
            (
                f"{backend}, {threads} thread{'s' if threads > 1 else ''}",
                f"alone p50 {quiet:.0f} ms p90 {percentile(alone[i], 0.9):.0f}; during generation "
                f"p50 {loaded:.0f} ms p90 {percentile(busy[i], 0.9):.0f} (x{loaded / quiet:.1f})",
            )
        )
    rows.append(("target", "p50 <= 40 ms during generation with the app's encoder"))
    table(
        f"Question embedding while '{settings.model}' generates with {settings.n_threads} "
        f"llama.cpp threads on {cores} cores ({args.rounds} questions each)",
        rows,
    )


def _use_threads(backend: str, threads: int) -> None:
    """torch's thread count is the whole process's: set it before each torch set-up."""
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)


if __name__ == "__main__":
    main()
