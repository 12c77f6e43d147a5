"""What a shopper can ask for: sources for a question, and a streamed, cited answer.

Whether the shop has what was asked for is decided here, from the retrieval evidence,
not left to the model: a small model would happily describe products that do not exist.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from typing import Any

from app.checks import check_answer, grounded
from app.generation import ChatBackend, Message, build_messages, fit_to_context
from app.retrieval import Retrieval, Retriever, tokenize
from app.understanding import Constraints, SearchRequest, Shown, Turn, understand
from cobbler.profile import Shop
from cobbler.records import Answer, Source, Timings, card_facts, escape_markdown
from cobbler.settings import Settings

CONTACT_QUERY = "contact customer service phone email opening hours"
# How a model says no; used to catch a "no" the retrieval evidence contradicts.
REFUSAL = re.compile(
    r"\b(?:don't|do not|doesn't|does not) (?:have|know|stock|sell)|can't find|cannot find|"
    r"couldn't find|not available|unfortunately|sorry",
    re.I,
)


def _item(source: Source) -> str:
    """A listed product, its shop text made inert: a title is data, never Markdown or HTML."""
    return f"- {escape_markdown(source.title)}, {source.price_label} [{source.n}]"


def none_answer(
    constraints: Constraints, alternatives: list[Source], label: str, shop: Shop
) -> str:
    wanted = escape_markdown(constraints.describe(shop))
    text = f"Unfortunately, we do not have any {wanted} at the moment."
    if alternatives:
        text += f" Here are some alternatives{f' ({label})' if label else ''} you might like:\n"
        text += "\n".join(_item(s) for s in alternatives)
    return text


def fallback_answer(sources: list[Source]) -> str:
    """When nothing the model wrote survived the checks, list what was found instead."""
    lines = ["I'm sorry, I couldn't put together a reliable answer. Here is what I found:"]
    lines += [
        _item(s) if s.kind == "product" else f"- {escape_markdown(s.where)} [{s.n}]"
        for s in sources
    ]
    return "\n".join(lines)


def listing_answer(
    constraints: Constraints, sources: list[Source], shop: Shop, lead: str = ""
) -> str:
    """The matched products as a list, after `lead` (what the model wrote) if there is one."""
    products = [s for s in sources if s.kind == "product"]
    wanted = escape_markdown(constraints.describe(shop))
    lines = [lead or f"Yes, we have {wanted}.", "Here are some you might like:"]
    lines += [_item(s) for s in products]
    return "\n".join(lines)


def unknown_answer(contact: list[Source]) -> str:
    text = "I'm sorry, I don't know the answer to that from the shop's information."
    if contact:
        text += f" Our customer service team can help: see the contact details [{contact[0].n}]."
    return text


def highlights(source: Source, question: str, limit: int = 2) -> list[str]:
    """The one or two details of a product ("Closure: Lace-Up", or a feature line) that
    share the most words with the question, for the product's card."""
    wanted = set(tokenize(question))
    if source.kind != "product" or not wanted:
        return []
    details, features, _ = card_facts(source.text)
    # A detail's value, not its name: "Width: Standard" does not match "width?" alone.
    candidates = [(d, d.partition(":")[2]) for d in details] + [(f, f) for f in features]
    scored = []
    for i, (text, against) in enumerate(candidates):
        shared = len(wanted & set(tokenize(against)))
        if shared:
            scored.append((-shared, len(text) > 60, i, text))  # short details before features
    return [text for *_, text in sorted(scored)[:limit]]


class Assistant:
    def __init__(self, retriever: Retriever, chat: ChatBackend | None, settings: Settings) -> None:
        self.retriever = retriever
        self.chat = chat
        self.settings = settings

    def understand(self, question: str, conversation: Sequence[Turn] = ()) -> SearchRequest:
        """The search for a question, read against what the shopper was shown before."""
        return understand(
            question,
            conversation,
            self.retriever.catalog(),
            self.retriever,  # what its encoder tells of the question's words
            self.settings.min_relevance,
        )

    def plan(
        self, question: str, conversation: Sequence[Turn] = (), k: int | None = None
    ) -> tuple[Retrieval, SearchRequest]:
        """The sources for a question and how it was read."""
        request = self.understand(question, conversation)
        if request.pinned:  # "the second one": exactly the products the shopper pointed at
            found = self.retriever.fetch(request.pinned)
            if found.sources:
                return found, request
        constraints = request.constraints
        found = self.retriever.search(request.query, constraints, k, topic=request.topic)
        if constraints.hard and not found.matched and (looser := constraints.without_loose()):
            # A filter the shopper did not clearly ask for ("ladies" in a product's name)
            # left nothing: search without it, and say so.
            retry = self.retriever.search(request.query, looser, k, topic=request.topic)
            if retry.matched:
                shop = self.retriever.catalog().shop
                looser.notes.append(
                    f"I found no {constraints.describe(shop)}, so here is what I found for "
                    f"{looser.describe(shop)}."
                )
                return retry, request.model_copy(update={"constraints": looser})
        return found, request

    def search(
        self, question: str, conversation: Sequence[Turn] = (), k: int | None = None
    ) -> tuple[Retrieval, Constraints]:
        found, request = self.plan(question, conversation, k)
        return found, request.constraints

    def retrieve(self, question: str, k: int | None = None) -> tuple[list[Source], float]:
        started = time.perf_counter()
        found, _ = self.search(question, k=k)
        return found.sources, (time.perf_counter() - started) * 1000

    def replay(self, messages: Sequence[dict[str, Any]]) -> list[Turn]:
        """The conversation state of a chat given as messages ({"role", "content"}, and for
        an assistant message optionally the "sources" it was given, as `ask --json` prints
        them). Without sources, each question is searched again to learn what was shown."""
        turns: list[Turn] = []
        for i, message in enumerate(messages):
            if message.get("role") != "user":
                continue
            question = str(message.get("content") or "")
            reply = messages[i + 1] if i + 1 < len(messages) else {}
            if reply.get("role") != "assistant":
                reply = {}
            found, request = self.plan(question, turns)
            sources = found.sources
            if reply.get("sources"):
                sources = [Source.model_validate(s) for s in reply["sources"]]
            answer = str(reply.get("content") or "")
            turns.append(turn_of(question, answer, sources, request))
        return turns

    def stream(self, question: str, conversation: Sequence[Turn] = ()) -> Iterator[Reply]:
        """Yield the answer as it grows: first with its sources and no text, last complete
        with the turn to remember for the next question."""
        started = time.perf_counter()
        found, request = self.plan(question, conversation)
        constraints = request.constraints
        shop = self.retriever.catalog().shop
        # The model sees the turn a follow-up leans on; a question read afresh gets none, so
        # the products of an earlier topic cannot leak into an answer about returns.
        leaned_on = conversation[-1:] if request.kind != "fresh" else []
        history: list[Message] = [
            m
            for turn in leaned_on
            for m in (
                {"role": "user", "content": turn.question},
                {"role": "assistant", "content": turn.answer},
            )
        ]
        timings = Timings(retrieve_ms=round((time.perf_counter() - started) * 1000, 1))
        answer = Reply(answer="", sources=found.sources, timings=timings)
        answer.highlights = self._highlights(question, found.sources)
        # What the shopper should know before the answer: a filter dropped, a currency not
        # applied. Written by us from the evidence, so never subject to the model checks.
        notes = "".join(f"{escape_markdown(n)}\n\n" for n in constraints.notes)

        if constraints.hard and not found.matched and not request.pinned:
            answer.sources, label = self._alternatives(request.query, constraints)
            answer.answer = none_answer(constraints, answer.sources, label, shop)
            answer.outcome, answer.wanted = "none", constraints.describe(shop)
        elif (
            not constraints.about_products
            and not request.pinned
            and found.best_similarity < self.settings.min_relevance
        ):
            answer.sources = self.retriever.search(CONTACT_QUERY, k=1).sources
            answer.answer = unknown_answer(answer.sources)
            answer.outcome, answer.wanted = "unknown", " ".join(question.casefold().split())
        elif self.chat is not None:
            matched = constraints.hard and bool(found.matched)
            answer.sources, history = fit_to_context(
                question,
                found.sources,
                history,
                self.chat.prompt_budget,
                self.chat.count_tokens,
                shop,
                matched,
            )
            yield answer.model_copy()
            turns = self.chat.turns
            ticket = turns.join()
            try:
                told, timeout = 0, 0.0  # the shopper hears of a queue at once
                while ahead := turns.wait(ticket, timeout):
                    if ahead != told:  # and of their place each time it moves
                        told, timeout = ahead, 0.5
                        yield answer.model_copy(update={"ahead": ahead})
                messages = build_messages(question, answer.sources, shop, history, matched)
                for piece in self.chat.stream(messages):
                    if not timings.tokens:
                        timings.first_token_ms = round((time.perf_counter() - started) * 1000, 1)
                    timings.tokens += 1
                    answer.answer += piece
                    yield answer.model_copy(update={"answer": notes + answer.answer})
            finally:  # also when the shopper leaves mid-answer: the next one's turn comes
                turns.leave(ticket)
            brands = [*self.retriever.catalog().brands.values(), *constraints.unknown_brands]
            answer.answer, answer.checks = check_answer(
                answer.answer,
                answer.sources,
                question,
                shop.currency,
                brands,
                contact=shop.profile.contact or "",
                language=shop.profile.language,
                about_products=request.about_products,
            )
            products = [s for s in answer.sources if s.kind == "product"]
            shows = any(f"[{s.n}]" in answer.answer for s in products)
            if constraints.hard and products and not shows and not request.pinned:
                # The evidence says the shop has them: a "no", or a "yes" whose product lines
                # failed the checks, becomes the list of what matched.
                refused = not answer.answer or REFUSAL.search(answer.answer)
                lead = "" if refused else answer.answer
                answer.answer = listing_answer(constraints, answer.sources, shop, lead)
            elif not answer.answer:
                answer.answer = fallback_answer(answer.sources)
                answer.outcome, answer.wanted = "fallback", " ".join(question.casefold().split())
            elif not constraints.about_products and not grounded(
                answer.answer, answer.sources, question
            ):
                # An answer its sources do not bear out: the model filled a gap.
                answer.sources = self.retriever.search(CONTACT_QUERY, k=1).sources
                answer.answer = unknown_answer(answer.sources)
                answer.outcome, answer.wanted = "unknown", " ".join(question.casefold().split())
        answer.answer = (notes + answer.answer).strip()
        answer.highlights = self._highlights(question, answer.sources)
        timings.total_ms = round((time.perf_counter() - started) * 1000, 1)
        answer.turn = turn_of(question, answer.answer, answer.sources, request)
        yield answer

    @staticmethod
    def _highlights(question: str, sources: Sequence[Source]) -> dict[int, list[str]]:
        found = {s.n: highlights(s, question) for s in sources}
        return {n: h for n, h in found.items() if h}

    def _alternatives(self, query: str, constraints: Constraints) -> tuple[list[Source], str]:
        for label, looser in constraints.relaxed():
            found = self.retriever.search(query, looser, k=3, topic="products")
            if found.sources:
                return found.sources, label
        return [], ""

    def ask(self, question: str, conversation: Sequence[Turn] = ()) -> Reply:
        *_, final = self.stream(question, conversation)
        return final


class Reply(Answer):
    """An answer, and the turn a follow-up question will be read against."""

    turn: Turn | None = None
    ahead: int = 0  # while it waits to be written: answers before it (other shoppers')


def turn_of(question: str, answer: str, sources: Sequence[Source], request: SearchRequest) -> Turn:
    """What the shopper was shown: the products in the order the answer cites them (then
    the others listed), the constraints in force and the topic."""
    products = [s for s in sources if s.kind == "product"]
    order = [int(n) for n in re.findall(r"\[(\d+)\]", answer)]
    cited = [s for n in dict.fromkeys(order) for s in products if s.n == n]
    shown = cited + [s for s in products if s not in cited]
    topic = request.topic
    if topic is None:
        products_first = bool(sources) and sources[0].kind == "product"
        topic = "products" if request.about_products or products_first else "documents"
    return Turn(
        question=question,
        answer=answer,
        topic=topic,
        query=request.query,
        constraints=request.constraints,
        shown=[Shown.model_validate(s.model_dump()) for s in shown],
    )
