"""What a shopper can ask for: sources for a question, and a streamed, cited answer.

Whether the shop has what was asked for is decided here, from the retrieval evidence,
not left to the model: a small model would happily describe products that do not exist.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence

from app.checks import check_answer
from app.constraints import Constraints, is_follow_up, parse, resolve
from app.generation import ChatBackend, Message, build_messages, fit_to_context
from app.retrieval import Retrieval, Retriever
from cobbler.records import Answer, Source, Timings
from cobbler.settings import Settings

CONTACT_QUERY = "contact customer service phone email opening hours"
# How a model says no; used to catch a "no" the retrieval evidence contradicts.
REFUSAL = re.compile(
    r"\b(?:don't|do not|doesn't|does not) (?:have|know|stock|sell)|can't find|cannot find|"
    r"couldn't find|not available|unfortunately|sorry",
    re.I,
)


def none_answer(constraints: Constraints, alternatives: list[Source], label: str) -> str:
    text = f"Unfortunately, we do not have any {constraints.describe()} at the moment."
    if alternatives:
        text += f" Here are some alternatives{f' ({label})' if label else ''} you might like:\n"
        text += "\n".join(f"- {s.title}, {s.price_label} [{s.n}]" for s in alternatives)
    return text


def fallback_answer(sources: list[Source]) -> str:
    """When nothing the model wrote survived the checks, list what was found instead."""
    lines = ["I'm sorry, I couldn't put together a reliable answer. Here is what I found:"]
    lines += [
        f"- {s.title}, {s.price_label} [{s.n}]" if s.kind == "product" else f"- {s.where} [{s.n}]"
        for s in sources
    ]
    return "\n".join(lines)


def listing_answer(constraints: Constraints, sources: list[Source], lead: str = "") -> str:
    """The matched products as a list, after `lead` (what the model wrote) if there is one."""
    products = [s for s in sources if s.kind == "product"]
    lines = [lead or f"Yes, we have {constraints.describe()}.", "Here are some you might like:"]
    lines += [f"- {s.title}, {s.price_label} [{s.n}]" for s in products]
    return "\n".join(lines)


def unknown_answer(contact: list[Source]) -> str:
    text = "I'm sorry, I don't know the answer to that from the shop's information."
    if contact:
        text += f" Our customer service team can help: see the contact details [{contact[0].n}]."
    return text


class Assistant:
    def __init__(self, retriever: Retriever, chat: ChatBackend | None, settings: Settings) -> None:
        self.retriever = retriever
        self.chat = chat
        self.settings = settings

    def understand(self, question: str, earlier: Sequence[str] = ()) -> tuple[str, Constraints]:
        """The text to search with and the constraints, follow-ups resolved against `earlier`."""
        catalog = self.retriever.catalog()
        constraints = resolve(question, earlier, catalog)
        query = question
        if earlier and is_follow_up(question, parse(question, catalog)):
            query = f"{earlier[-1]} {question}"
            if constraints.cheaper_than_before:
                before = self.retriever.search(
                    earlier[-1], resolve(earlier[-1], earlier[:-1], catalog)
                )
                prices = [s.price_min for s in before.sources if s.price_min is not None]
                if prices:
                    constraints.price_max = round(min(prices) - 0.01, 2)
        return query, constraints

    def search(
        self, question: str, earlier: Sequence[str] = (), k: int | None = None
    ) -> tuple[Retrieval, Constraints]:
        query, constraints = self.understand(question, earlier)
        return self.retriever.search(query, constraints, k), constraints

    def retrieve(self, question: str, k: int | None = None) -> tuple[list[Source], float]:
        started = time.perf_counter()
        found, _ = self.search(question, k=k)
        return found.sources, (time.perf_counter() - started) * 1000

    def stream(self, question: str, history: Sequence[Message] = ()) -> Iterator[Answer]:
        """Yield the answer as it grows: first with its sources and no text, last complete."""
        started = time.perf_counter()
        earlier = [m["content"] for m in history if m["role"] == "user"]
        found, constraints = self.search(question, earlier)
        timings = Timings(retrieve_ms=round((time.perf_counter() - started) * 1000, 1))
        answer = Answer(answer="", sources=found.sources, timings=timings)

        if constraints.hard and not found.matched:
            answer.sources, label = self._alternatives(question, constraints)
            answer.answer = none_answer(constraints, answer.sources, label)
        elif not constraints.about_products and found.best_similarity < self.settings.min_relevance:
            answer.sources = self.retriever.search(CONTACT_QUERY, k=1).sources
            answer.answer = unknown_answer(answer.sources)
        elif self.chat is not None:
            answer.sources, history = fit_to_context(
                question, found.sources, history, self.chat.prompt_budget, self.chat.count_tokens
            )
            yield answer.model_copy()
            with self.chat.turn:
                messages = build_messages(question, answer.sources, history)
                for piece in self.chat.stream(messages):
                    if not timings.tokens:
                        timings.first_token_ms = round((time.perf_counter() - started) * 1000, 1)
                    timings.tokens += 1
                    answer.answer += piece
                    yield answer.model_copy()
            answer.answer, answer.checks = check_answer(answer.answer, answer.sources, question)
            products = [s for s in answer.sources if s.kind == "product"]
            shows = any(f"[{s.n}]" in answer.answer for s in products)
            if constraints.hard and products and not shows:
                # The evidence says the shop has them: a "no", or a "yes" whose product lines
                # failed the checks, becomes the list of what matched.
                refused = not answer.answer or REFUSAL.search(answer.answer)
                lead = "" if refused else answer.answer
                answer.answer = listing_answer(constraints, answer.sources, lead)
            elif not answer.answer:
                answer.answer = fallback_answer(answer.sources)
        answer.answer = answer.answer.strip()
        timings.total_ms = round((time.perf_counter() - started) * 1000, 1)
        yield answer

    def _alternatives(self, question: str, constraints: Constraints) -> tuple[list[Source], str]:
        for label, looser in constraints.relaxed():
            found = self.retriever.search(question, looser, k=3)
            if found.sources:
                return found.sources, label
        return [], ""

    def ask(self, question: str, history: Sequence[Message] = ()) -> Answer:
        *_, final = self.stream(question, history)
        return final
