"""Creates the heavy resources once (encoder, Chroma client, llama.cpp) and wires them up."""

from __future__ import annotations

import logging
import os

from app.generation import (
    ChatBackend,
    ChatModel,
    build_messages,
    fit_to_context,
    open_chat_model,
    system_prompt,
)
from app.retrieval import Retriever
from app.service import Assistant
from cobbler.embeddings import Embedder
from cobbler.records import Source
from cobbler.settings import Settings, SettingsError
from cobbler.store import Store, open_client

# An ordinary question, for sizing the prompt at start-up.
SAMPLE_QUESTION = "What do you have that would suit me, and how much does it cost?"

log = logging.getLogger(__name__)


def build_assistant(settings: Settings, with_model: bool = True) -> Assistant:
    store = Store(open_client(settings), settings.collection)
    store.require_active()  # fail early, with the fix, when nothing was ingested
    # Questions get few encoder threads: llama.cpp may be answering someone on every core.
    embedder = Embedder.from_settings(settings, threads=settings.encoder_threads)
    chat = open_chat_model(settings) if with_model else None
    retriever = Retriever(embedder, store, settings)
    retriever.index()  # load the keyword index now, not on the first shopper's question
    embedder.load()  # and the encoder: the first question should not wait for it
    log.info(
        thread_plan(settings, embedder, local_model=chat is not None and not settings.llm_base_url)
    )
    if chat is not None:
        check_context(chat, retriever, settings)
    if isinstance(chat, ChatModel):
        chat.warm(system_prompt(retriever.catalog().shop))
    return Assistant(retriever, chat, settings)


def thread_plan(settings: Settings, embedder: Embedder, local_model: bool) -> str:
    """One start-up line: who may use how many of this machine's cores."""
    cores = os.cpu_count() or 1
    model = f"llama.cpp {settings.n_threads} (COBBLER_N_THREADS)" if local_model else ""
    encoder = f"query encoder {embedder.threads} (COBBLER_ENCODER_THREADS, {embedder.backend})"
    return f"Threads on {cores} cores: " + ", ".join(filter(None, [model, encoder]))


def check_context(chat: ChatBackend, retriever: Retriever, settings: Settings) -> None:
    """Refuse a context window that cannot hold the rules, a question and one typical source
    (the longest but a tenth of the index's chunks): every answer would have no sources."""
    index = retriever.index()
    if not index.texts:
        return
    by_length = sorted(range(len(index.texts)), key=lambda i: len(index.texts[i]))
    row = by_length[int(0.9 * (len(by_length) - 1))]
    source = Source.from_store(index.ids[row], index.texts[row], index.metadatas[row], n=1, score=1)
    shop = retriever.catalog().shop
    kept, _ = fit_to_context(
        SAMPLE_QUESTION, [source], [], chat.prompt_budget, chat.count_tokens, shop
    )
    if kept:
        return
    prompt = sum(
        chat.count_tokens(m["content"]) + 8 for m in build_messages(SAMPLE_QUESTION, [source], shop)
    )
    needed = prompt + settings.max_tokens + 16  # generation.prompt_budget's margin
    raise SettingsError(
        f"COBBLER_N_CTX={settings.n_ctx} is too small: the rules, a question and one typical "
        f"source take about {prompt} tokens, plus COBBLER_MAX_TOKENS={settings.max_tokens} "
        f"for the answer; set COBBLER_N_CTX to at least {-(-needed // 256) * 256} "
        "(or lower COBBLER_MAX_TOKENS)"
    )
