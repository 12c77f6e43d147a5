"""Cobbler's conversation-aware retrieval as a LangChain retriever, for LangChain users.

    from app.langchain_retriever import CobblerRetriever
    from app.wiring import build_assistant
    from cobbler.settings import Settings

    retriever = CobblerRetriever(assistant=build_assistant(Settings(), with_model=False))
    docs = retriever.invoke("Any oak coffee tables under 300 euros?")
    retriever.remember("Any oak coffee tables under 300 euros?", docs)
    docs = retriever.invoke("cheaper ones?")  # read against what was shown

Each result is a `Document` whose `page_content` is the source text and whose metadata
holds the source's fields (kind, title, source file, brand, price, url, ...). The same
question reading, filters and honest "none" as the chat apply: a brand the shop lacks
returns no documents.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from app.service import Assistant, turn_of
from app.understanding import Turn
from cobbler.records import Source


class CobblerRetriever(BaseRetriever):
    """Hybrid, filtered retrieval over the published index, reading follow-ups against the
    conversation so far (`conversation`, grown by `remember`)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    assistant: Assistant
    k: int | None = None  # sources per question; None: COBBLER_K
    conversation: list[Turn] = Field(default_factory=list)

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        found, _ = self.assistant.plan(query, self.conversation, self.k)
        return [to_document(s) for s in found.sources]

    def remember(self, question: str, documents: list[Document], answer: str = "") -> Turn:
        """Record a turn: the question, what it returned (in the order shown) and the answer
        given, so the next question can say "the second one" or "cheaper ones?"."""
        _, request = self.assistant.plan(question, self.conversation, self.k)
        sources = [Source.model_validate(d.metadata | {"text": d.page_content}) for d in documents]
        turn = turn_of(question, answer, sources, request)
        self.conversation.append(turn)
        return turn


def to_document(source: Source) -> Document:
    metadata: dict[str, Any] = source.model_dump(exclude={"text"})
    return Document(page_content=source.text, metadata=metadata, id=source.id)
