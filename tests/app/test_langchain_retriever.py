"""The conversation-aware retriever through LangChain's own interface (real store)."""

from __future__ import annotations

from langchain_core.retrievers import BaseRetriever

from app.langchain_retriever import CobblerRetriever
from app.retrieval import Retriever
from app.service import Assistant


def test_a_langchain_retriever_reads_follow_ups_against_what_it_returned(
    bundled_store, bundled_settings, embedder
):
    store, _ = bundled_store
    assistant = Assistant(Retriever(embedder, store, bundled_settings), None, bundled_settings)
    retriever = CobblerRetriever(assistant=assistant)
    assert isinstance(retriever, BaseRetriever)

    question = "Do you have walking boots for women?"
    docs = retriever.invoke(question)
    assert docs and all(d.metadata["tags"].get("type_walking_boot") for d in docs)
    assert all(d.metadata["tags"].get("for_women") for d in docs)
    retriever.remember(question, docs)

    cheaper = retriever.invoke("cheaper ones?")
    # Below the cheapest priced one shown (a product without a price may be among them).
    shown = min(d.metadata["price_min"] for d in docs if d.metadata["price_min"] is not None)
    assert cheaper and all(d.metadata["price_min"] < shown for d in cheaper)
    assert all(d.metadata["tags"].get("for_women") for d in cheaper)

    second = retriever.invoke("tell me about the second one")
    assert [d.id for d in second] == [docs[1].id]
    assert retriever.invoke("What about from Salomon?") == []  # a brand the shop lacks
