"""Creates the heavy resources once (encoder, Chroma client, llama.cpp) and wires them up."""

from __future__ import annotations

from app.generation import open_chat_model
from app.retrieval import Retriever
from app.service import Assistant
from cobbler.embeddings import Embedder
from cobbler.settings import Settings
from cobbler.store import Store, open_client


def build_assistant(settings: Settings, with_model: bool = True) -> Assistant:
    store = Store(open_client(settings), settings.collection)
    store.require_active()  # fail early, with the fix, when nothing was ingested
    embedder = Embedder.from_settings(settings)
    chat = open_chat_model(settings) if with_model else None
    retriever = Retriever(embedder, store, settings)
    retriever.index()  # load the keyword index now, not on the first shopper's question
    return Assistant(retriever, chat, settings)
