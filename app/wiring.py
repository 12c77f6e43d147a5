"""Creates the heavy resources once (encoder, Chroma client, llama.cpp) and wires them up."""

from __future__ import annotations

from app.generation import ChatBackend, build_messages, fit_to_context, open_chat_model
from app.retrieval import Retriever
from app.service import Assistant
from cobbler.embeddings import Embedder
from cobbler.records import Source
from cobbler.settings import Settings, SettingsError
from cobbler.store import Store, open_client

# An ordinary question, for sizing the prompt at start-up.
SAMPLE_QUESTION = "What do you have that would suit me, and how much does it cost?"


def build_assistant(settings: Settings, with_model: bool = True) -> Assistant:
    store = Store(open_client(settings), settings.collection)
    store.require_active()  # fail early, with the fix, when nothing was ingested
    embedder = Embedder.from_settings(settings)
    chat = open_chat_model(settings) if with_model else None
    retriever = Retriever(embedder, store, settings)
    retriever.index()  # load the keyword index now, not on the first shopper's question
    if chat is not None:
        check_context(chat, retriever, settings)
    return Assistant(retriever, chat, settings)


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
