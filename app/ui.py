"""The Gradio chat page. It only calls the Assistant and the feedback store.

Shop text is untrusted: titles and snippets are escaped before they reach Markdown, and
the chatbot sanitises HTML, so a `<script>` in a catalog entry shows as text.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any
from urllib.parse import quote

import gradio as gr

from app.feedback import FeedbackStore
from app.retrieval import POINTER_CHECK_S
from app.service import Assistant
from app.understanding import Turn
from cobbler.models import ModelError
from cobbler.records import Answer, Source, escape_markdown
from cobbler.store import Store, StoreError

log = logging.getLogger(__name__)

SOURCES_MARK = "\n\n---\n"
# System fonts only: the default theme would fetch web fonts from a CDN.
THEME = gr.themes.Soft(
    font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"],
)
CSS = """
#chat .message { max-width: 100%; }
#chat details { font-size: 0.85em; opacity: 0.8; }
@media (max-width: 640px) { #chat { height: 60vh !important; } }
"""


class ServedFiles:
    """The knowledge-base files the page links to and its file route serves: those the
    published index holds document chunks of, and nothing else (not a hidden `.env`, not a
    skipped file or link, not a catalog). Follows the store's pointer like the retriever,
    so a finished ingest is linked and served, and a removed file no longer, without a
    restart."""

    def __init__(self, kb_dir: Path, store: Store) -> None:
        self.kb_dir = kb_dir.resolve()
        self.store = store
        # Absolute paths for Gradio's `allowed_paths`; Gradio reads `page.allowed_paths` on
        # every file request, so refreshing that list is enough.
        self.allowed: list[str] = []
        self.page: gr.Blocks | None = None
        self._sources: frozenset[str] = frozenset()
        self._collection: str | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()

    def sources(self) -> frozenset[str]:
        """Relative paths of the published index's documents (checked at most once a second)."""
        if time.monotonic() - self._checked > POINTER_CHECK_S:
            self.refresh()
        return self._sources

    def refresh(self) -> None:
        with self._lock:
            self._checked = time.monotonic()
            try:
                if self.store.active_name() == self._collection:
                    return
                name, sources = self.store.document_files()
            except StoreError as exc:  # keep serving what was published; the app says why
                log.warning("%s", exc)
                return
            paths = {(self.kb_dir / s).resolve() for s in sources}
            self.allowed[:] = sorted(str(p) for p in paths if p.is_relative_to(self.kb_dir))
            if self.page is not None:
                self.page.allowed_paths = list(self.allowed)
            self._collection, self._sources = name, sources

    def follow(self, every: float = 2 * POINTER_CHECK_S) -> None:
        """Refresh in the background, so the file route follows an ingest even while
        nobody is asking questions."""

        def loop() -> None:
            while True:
                time.sleep(every)
                self.refresh()

        threading.Thread(target=loop, name="served-files", daemon=True).start()


class Links:
    """Where a citation points: the product page, or a document of the published index
    inside the knowledge base. `files` gives the documents that may be linked (by default
    none)."""

    def __init__(self, kb_dir: Path, files: Callable[[], AbstractSet[str]] = frozenset) -> None:
        self.kb_dir = kb_dir.resolve()
        self.files = files

    def href(self, source: Source) -> str | None:
        if source.kind == "product":
            return (
                source.url
                if source.url and source.url.startswith(("http://", "https://"))
                else None
            )
        if source.source not in self.files():
            return None  # only what was ingested: never a skipped, hidden or linked file
        path = (self.kb_dir / source.source).resolve()
        if not path.is_relative_to(self.kb_dir) or not path.is_file():
            return None  # never link to anything outside the knowledge base
        page = f"#page={source.page}" if source.page else ""
        return f"/gradio_api/file={quote(str(path))}{page}"

    def line(self, source: Source) -> str:
        href = self.href(source)
        if source.kind == "product":
            name = escape_markdown(source.title)
            name = f"[{name}]({href})" if href else name
            brand = f" · {escape_markdown(source.brand)}" if source.brand else ""
            return f"{source.n}. **{name}**{brand} · {source.price_label}"
        where = escape_markdown(source.where)
        return f"{source.n}. [{where}]({href})" if href else f"{source.n}. {where}"

    def cite(self, text: str, sources: list[Source]) -> str:
        """Each [n] in the answer becomes a link to source n."""
        hrefs = {s.n: self.href(s) for s in sources}

        def link(match: re.Match[str]) -> str:
            href = hrefs.get(int(match.group(1)))
            return f"[\\[{match.group(1)}\\]]({href})" if href else match.group(0)

        return re.sub(r"\[(\d+)\]", link, text)


def details(answer: Answer, model: str, gpu: bool) -> str:
    t = answer.timings
    parts = [f"retrieval {t.retrieve_ms:.0f} ms"]
    if t.tokens:
        rate = t.tokens / max(t.total_ms - t.first_token_ms, 1) * 1000
        parts += [
            f"first token {t.first_token_ms / 1000:.1f} s",
            f"{rate:.0f} tokens/s",
            model,
            "GPU offload on" if gpu else "CPU",
        ]
    if not answer.checks.ok:
        parts.append("answer corrected by source checks")
    return f"<details><summary>Details</summary>{' · '.join(parts)}</details>"


def render(
    answer: Answer, links: Links, model: str = "", gpu: bool = False, done: bool = False
) -> str:
    text = links.cite(answer.answer, answer.sources) if answer.answer else "…"
    if not answer.sources:
        return text
    cited = {int(n) for n in re.findall(r"\[(\d+)\]", answer.answer)}
    used = [s for s in answer.sources if s.n in cited]
    other = [s for s in answer.sources if s.n not in cited]
    parts = [text, SOURCES_MARK]
    if used:
        parts.append("**Sources**\n\n" + "\n".join(links.line(s) for s in used) + "\n\n")
    if other:
        label = "Also found" if used else "Sources"
        parts.append(f"**{label}**\n\n" + "\n".join(links.line(s) for s in other) + "\n\n")
    if done:
        parts.append(details(answer, model, gpu))
    return "".join(parts)


def _history(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Earlier turns as plain text for the model, without their rendered sources lists."""
    turns = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):  # Gradio may hand over [{"type": "text", "text": ...}]
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        if isinstance(content, str) and message.get("role") in ("user", "assistant"):
            turns.append({"role": message["role"], "content": content.split(SOURCES_MARK)[0]})
    return turns


def build_ui(
    assistant: Assistant,
    feedback: FeedbackStore,
    kb_dir: Path,
    max_question_chars: int = 1000,
    concurrency: int = 1,
    served: ServedFiles | None = None,
) -> gr.Blocks:
    served = served or ServedFiles(kb_dir, assistant.retriever.store)
    links = Links(kb_dir, served.sources)
    chat = assistant.chat
    model = chat.label if chat else "no model"
    gpu = bool(chat and chat.gpu_build and chat.settings.n_gpu_layers != 0)
    # Rendered answer → (question, Answer), so a thumbs up/down finds what it is about.
    answered: OrderedDict[tuple[str, str], tuple[str, Answer]] = OrderedDict()

    def respond(
        message: str, history: list[dict[str, Any]], turns: list[Turn] | None, request: gr.Request
    ) -> Iterator[tuple[str, list[Turn]]]:
        question = (message or "").strip()
        turns = _in_step(turns or [], history)
        if not question:
            yield f"Please type a question about {topics}.", turns
            return
        if len(question) > max_question_chars:
            too_long = (
                f"That question is too long: please keep it under {max_question_chars} letters."
            )
            yield too_long, turns
            return
        final = None
        try:
            for final in assistant.stream(question, turns):
                yield render(final, links), turns
        except ModelError as exc:  # a model server that went away: say so, keep the page
            log.error("%s", exc)
            yield (
                "Sorry, I can't answer just now: the shop's model is unavailable. Try again soon.",
                turns,
            )
            return
        if final is not None:
            shown = render(final, links, model, gpu, done=True)
            answered[(request.session_hash or "", shown)] = (question, final)
            while len(answered) > 2000:
                answered.popitem(last=False)
            yield shown, [*turns, final.turn] if final.turn else turns

    def _in_step(turns: list[Turn], history: list[dict[str, Any]]) -> list[Turn]:
        """The remembered turns that match the chat on screen: after a retry, an undo or a
        cleared chat, what the shopper sees is the conversation, so the state follows it."""
        messages = _history(history)
        asked = [m["content"] for m in messages if m["role"] == "user"]
        if [t.question for t in turns] == asked:
            return turns
        if [t.question for t in turns[: len(asked)]] == asked:
            return turns[: len(asked)]
        return assistant.replay(messages)  # rebuilt from the chat itself

    def on_like(data: gr.LikeData, request: gr.Request) -> tuple[int | None, Any]:
        value = data.value[0] if isinstance(data.value, list) else data.value
        if isinstance(value, dict):
            value = value.get("value") or value.get("text") or ""
        found = answered.get((request.session_hash or "", str(value)))
        if found is None or data.liked is None:
            return None, gr.update()
        question, answer = found
        row = feedback.record(request.session_hash or "", question, answer, model, data.liked)
        return row, gr.update(visible=True, value="")

    def on_comment(row: int | None, text: str) -> Any:
        if row is not None and text.strip():
            feedback.comment(row, text.strip()[:2000])
        return gr.update(visible=False, value="")

    shop = assistant.retriever.catalog().shop
    sells = shop.sells or "what we sell"
    topics = f"{sells}, delivery or returns"
    page_title = f"{shop.profile.assistant} · {shop.name}"
    with gr.Blocks(title=page_title, analytics_enabled=False) as page:
        last_feedback = gr.State(None)
        conversation = gr.State([])  # this browser session's turns (app.understanding.Turn)
        chatbot = gr.Chatbot(
            elem_id="chat",
            height="65vh",
            sanitize_html=True,
            feedback_options=("Like", "Dislike"),
            label="Cobbler",
        )
        gr.ChatInterface(
            respond,
            multimodal=False,  # text only: the page takes no uploads
            chatbot=chatbot,
            title=f"{shop.profile.assistant} · {shop.profile.name or 'your shop assistant'}",
            description=f"Ask about {topics}. Answers come from the shop's own catalogue "
            "and policies, with their sources.",
            examples=[[example, None] for example in shop.examples()],
            additional_inputs=[conversation],
            additional_outputs=[conversation],
            concurrency_limit=concurrency,
            flagging_mode="never",
            fill_height=False,
            api_name="chat",  # a stable name for scripts and the load test (gradio_client)
        )
        comment = gr.Textbox(
            label="Thanks! Anything to add about that answer? (optional)",
            visible=False,
            elem_id="feedback-comment",
            submit_btn="Send",
        )
        chatbot.like(on_like, None, [last_feedback, comment])
        comment.submit(on_comment, [last_feedback, comment], comment)
    return page
