"""The local chat model (llama.cpp) and the prompt that keeps it to the sources."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from cobbler.records import CODE_LABEL as CODE
from cobbler.records import Source
from cobbler.settings import Settings

log = logging.getLogger(__name__)

SYSTEM_PROMPT = """\
You are Cobbler, the friendly assistant of Cobbler & Co., a UK shoe shop.
Use only the numbered sources to answer. Write a short, friendly answer in full sentences. \
When you mention a product, give its full name and its price as the source writes it, then \
the source number in square brackets, like this: "<product name> costs <price> [2]." \
Cite policy facts the same way. If no source answers the question, say you're sorry that \
you can't find it. Never invent products, prices or policies."""

INSTRUCTIONS = "Answer in full sentences and cite sources like [1]."

Message = dict[str, str]


def format_sources(sources: Sequence[Source]) -> str:
    blocks = []
    for source in sources:
        if source.kind == "product":
            # The shop card without its product code: codes help search, but a small model
            # quotes them instead of the product's name.
            lines = [line for line in source.text.splitlines() if not line.startswith(CODE)]
            blocks.append(f"[{source.n}] Product: " + "\n".join(lines))
        else:
            blocks.append(f"[{source.n}] From {source.where}:\n{source.text}")
    return "\n\n".join(blocks)


def build_messages(
    question: str, sources: Sequence[Source], history: Sequence[Message] = ()
) -> list[Message]:
    """System rules first (a fixed prefix llama.cpp can cache), then the chat, then this turn."""
    turn = (
        f"Sources:\n\n{format_sources(sources)}\n\nQuestion: {question}\n\n{INSTRUCTIONS}".strip()
    )
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        *history,
        {"role": "user", "content": turn},
    ]


def fit_to_context(
    question: str,
    sources: Sequence[Source],
    history: Sequence[Message],
    budget: int,
    count: Callable[[str], int],
) -> tuple[list[Source], list[Message]]:
    """Drop the oldest turns, then the lowest-ranked sources, until the prompt fits `budget`."""
    history = list(history)
    sources = list(sources)

    def size() -> int:
        return sum(count(m["content"]) + 8 for m in build_messages(question, sources, history))

    while history and size() > budget:
        history = history[2:]  # a user turn and its answer
    while sources and size() > budget:
        sources.pop()
    return sources, history


class ChatModel:
    """One loaded GGUF model; llama.cpp is not thread-safe, so callers take turns."""

    def __init__(self, path: Path, label: str, settings: Settings) -> None:
        from llama_cpp import Llama, llama_supports_gpu_offload

        self.label = label
        self.settings = settings
        self.gpu_build = bool(llama_supports_gpu_offload())
        self.llm = Llama(
            model_path=str(path),
            n_ctx=settings.n_ctx,
            n_threads=settings.n_threads,
            n_gpu_layers=settings.n_gpu_layers,
            verbose=False,
        )
        log.info(
            "Model %s (%s, %.0f MB): n_ctx=%d, threads=%d, GPU build=%s, layers offloaded=%s",
            label,
            path,
            path.stat().st_size / 1e6,
            settings.n_ctx,
            settings.n_threads,
            self.gpu_build,
            settings.n_gpu_layers if self.gpu_build else 0,
        )

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode(), add_bos=False, special=True))

    @property
    def prompt_budget(self) -> int:
        """Tokens the prompt may use: the context minus room for the longest answer."""
        return self.settings.n_ctx - self.settings.max_tokens - 16

    def stream(self, messages: list[Message]) -> Iterator[str]:
        for part in self.llm.create_chat_completion(
            messages=messages,
            temperature=self.settings.temperature,
            max_tokens=self.settings.max_tokens,
            repeat_penalty=self.settings.repeat_penalty,
            stream=True,
        ):
            text = part["choices"][0]["delta"].get("content")
            if text:
                yield text
