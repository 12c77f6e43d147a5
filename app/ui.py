"""The Gradio chat page. It only calls the Assistant and the feedback store.

Each answer is two assistant messages: its sources (product cards and document lines,
numbered as the answer cites them, shown as soon as retrieval ends), then the answer text,
whose every [n] links to source n. Shop text is untrusted: everything put into the HTML is
escaped here, and the chatbot sanitises HTML as well, so a `<script>` in a catalog entry
shows as text.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import time
import uuid
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
from cobbler.records import Answer, Source
from cobbler.store import Store, StoreError

log = logging.getLogger(__name__)

# An assistant message that holds an answer's sources starts with this, so the history the
# model sees leaves it out.
SOURCES_OPEN = '<section class="sources'
# System fonts only: the default theme would fetch web fonts from a CDN.
THEME = gr.themes.Soft(
    font=["system-ui", "Segoe UI", "Helvetica", "Arial", "sans-serif"],
    font_mono=["ui-monospace", "Menlo", "Consolas", "monospace"],
)
# A picture frame drawn in CSS: the placeholder a product card shows until (and unless) its
# image loads, which offline it never does. No file, no request.
_FRAME = (
    "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24' "
    "fill='none' stroke='%239ca3af' stroke-width='1.5'%3E%3Crect x='3' y='4' width='18' "
    "height='16' rx='2'/%3E%3Ccircle cx='9' cy='10' r='2'/%3E%3Cpath d='M21 17l-5-5-9 8'/%3E"
    "%3C/svg%3E"
)
CSS = """
#chat .message { max-width: 100%; }
#chat details { font-size: 0.85em; opacity: 0.8; }
#chat .sources { display: block; }
#chat .sources ul { list-style: none; padding: 0; margin: 0; }
/* One row of cards that scrolls sideways: the answer stays close below, on a phone too. */
#chat .cards { display: grid; grid-auto-flow: column; gap: 0.6rem; overflow-x: auto;
  grid-auto-columns: minmax(10.5rem, 12rem); padding-bottom: 0.3rem; }
#chat .card, #chat .doc { position: relative; border: 1px solid var(--border-color-primary);
  border-radius: 0.6rem; padding: 0.5rem; margin: 0 !important; scroll-margin: 1rem; }
#chat .card { display: flex; flex-direction: column; gap: 0.2rem; }
#chat .docs { display: flex; flex-direction: column; gap: 0.4rem; margin-top: 0.6rem !important; }
#chat .card.cited, #chat .doc.cited { border-color: var(--color-accent); border-width: 2px; }
#chat .card:target, #chat .doc:target { outline: 3px solid var(--color-accent);
  outline-offset: 2px; }
#chat .num { display: inline-block; min-width: 1.6em; padding: 0 0.3em; border-radius: 0.8em;
  background: var(--neutral-200); color: var(--neutral-900); text-align: center;
  font-weight: 600; font-size: 0.85em; }
#chat .badge { margin-left: 0.3em; font-size: 0.75em; font-weight: 600; text-transform: uppercase;
  color: var(--color-accent); }
#chat .thumb { position: relative; display: block; height: 7rem; border-radius: 0.4rem;
  overflow: hidden; background: var(--neutral-100) url("FRAME") center / 3rem no-repeat; }
#chat .thumb img { position: absolute; inset: 0; width: 100%; height: 100%; margin: 0;
  object-fit: contain; background: transparent; color: transparent; border: 0; }
/* An image that cannot load (offline, the normal case) shows the placeholder, not the
   browser's broken-image icon: the pseudo-element is drawn only for a failed image. */
#chat .thumb img::after { content: ""; position: absolute; inset: 0;
  background: var(--neutral-100) url("FRAME") center / 3rem no-repeat; }
#chat .name { font-weight: 600; line-height: 1.25; }
#chat .brand, #chat .matched, #chat .where { font-size: 0.85em; opacity: 0.85; }
#chat .price { font-weight: 600; }
#chat .matched li::before { content: "✓ "; }
/* gr.Navbar(visible=False) is not honoured by Gradio 6.31's front end: hide its bar. */
.nav-holder { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 640px) { #chat { height: 60vh !important; }
  #chat .cards { grid-auto-columns: minmax(9rem, 70vw); } }
""".replace("FRAME", _FRAME)


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
        return f"/gradio_api/file={quote(str(path))}{place(source)}"


def place(source: Source) -> str:
    """Where in a document a link opens: the PDF's page, or the section's heading (a text
    fragment, which the browser scrolls to and highlights)."""
    if source.page:
        return f"#page={source.page}"
    if source.section:
        heading = source.section.split(" › ")[-1]
        return "#:~:text=" + quote(heading, safe="").replace("-", "%2D")
    return ""


def cited_numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def cite(text: str, sources: list[Source], anchor: str) -> str:
    """Each [n] in the answer becomes a link to source n's card or line on the page."""
    numbers = {s.n for s in sources}

    def link(match: re.Match[str]) -> str:
        n = int(match.group(1))
        return f"[[{n}]](#{anchor}-s{n})" if n in numbers else match.group(0)

    return re.sub(r"(?<!\\)\[(\d+)\](?!\()", link, text)


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _web(url: str | None) -> str | None:
    return url if url and url.startswith(("http://", "https://")) else None


def card(source: Source, anchor: str, cited: bool, matched: list[str], href: str | None) -> str:
    """A product as a card: picture (or the placeholder), name, brand, price, the details
    that matched the question, a link to its page. Every shop text is escaped."""
    name = _esc(source.title)
    image = _web(source.image_url)
    picture = (
        f'<img src="{_esc(image)}" alt="" loading="lazy" referrerpolicy="no-referrer">'
        if image
        else ""
    )
    parts = [
        f'<li class="card{" cited" if cited else ""}" id="{anchor}-s{source.n}" tabindex="-1">',
        f'<span><span class="num"><span class="sr-only">Source </span>{source.n}</span>',
        '<span class="badge">Cited</span>' if cited else "",
        "</span>",
        f'<span class="thumb" aria-hidden="true">{picture}</span>',
        f'<span class="name"><a href="{_esc(href)}">{name}</a></span>'
        if href
        else f'<span class="name">{name}</span>',
        f'<span class="brand">{_esc(source.brand)}</span>' if source.brand else "",
        f'<span class="price">{_esc(source.price_label)}</span>',
    ]
    if matched:
        items = "".join(f"<li>{_esc(m)}</li>" for m in matched)
        parts.append(f'<ul class="matched" aria-label="Matches your question">{items}</ul>')
    parts.append("</li>")
    return "".join(parts)


def document_line(source: Source, anchor: str, cited: bool, href: str | None) -> str:
    """A document source: its file (a link that opens it at the section or page), heading
    path and page."""
    file = _esc(source.source)
    opened = f'<a href="{_esc(href)}">{file}</a>' if href else file
    where = [_esc(source.section)] if source.section else []
    if source.page:
        where.append(f"page {source.page}")
    return "".join(
        [
            f'<li class="doc{" cited" if cited else ""}" id="{anchor}-s{source.n}" tabindex="-1">',
            f'<span class="num"><span class="sr-only">Source </span>{source.n}</span>',
            '<span class="badge">Cited</span>' if cited else "",
            f" {opened}",
            f' <span class="where">› {" › ".join(where)}</span>' if where else "",
            "</li>",
        ]
    )


def sources_html(answer: Answer, links: Links, anchor: str, footer: str = "") -> str:
    """An answer's sources, numbered as the answer cites them: product cards in a grid,
    then documents; the cited ones marked. One line of HTML, so Markdown leaves it alone."""
    cited = cited_numbers(answer.answer)
    products = [s for s in answer.sources if s.kind == "product"]
    documents = [s for s in answer.sources if s.kind != "product"]
    parts = [f'{SOURCES_OPEN}{" done" if footer else ""}" aria-label="Sources">']
    if products:
        parts.append('<ul class="cards" aria-label="Products">')
        parts += [
            card(s, anchor, s.n in cited, answer.highlights.get(s.n, []), links.href(s))
            for s in products
        ]
        parts.append("</ul>")
    if documents:
        parts.append('<ul class="docs" aria-label="Documents">')
        parts += [document_line(s, anchor, s.n in cited, links.href(s)) for s in documents]
        parts.append("</ul>")
    parts.append(footer)
    parts.append("</section>")
    return "".join(parts)


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
    answer: Answer,
    links: Links,
    anchor: str,
    model: str = "",
    gpu: bool = False,
    done: bool = False,
    ahead: int = 0,
) -> list[str]:
    """The assistant messages for an answer: its sources (shown as soon as they are known),
    then the answer text with each [n] linked to its source (or, until it starts, how many
    other shoppers' answers are being written before it)."""
    if answer.answer:
        text = cite(answer.answer, answer.sources, anchor)
    elif ahead:
        text = f"… one moment: {ahead} other {'answer is' if ahead == 1 else 'answers are'} "
        text += "being written before yours."
    else:
        text = "…"
    if not answer.sources:
        return [text]
    footer = details(answer, model, gpu) if done else ""
    return [sources_html(answer, links, anchor, footer), text]


def _history(messages: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Earlier turns as plain text for the model, without their rendered sources lists."""
    turns = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):  # Gradio may hand over [{"type": "text", "text": ...}]
            content = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str) or content.startswith(SOURCES_OPEN):
            continue  # an answer's sources: shown to the shopper, not part of the dialogue
        if message.get("role") in ("user", "assistant"):
            turns.append({"role": message["role"], "content": content})
    return turns


def build_ui(
    assistant: Assistant,
    feedback: FeedbackStore,
    kb_dir: Path,
    max_question_chars: int = 1000,
    served: ServedFiles | None = None,
    owner_page: bool = True,
) -> gr.Blocks:
    """The chat page, and with `owner_page` the shop owner's page at /owner (only when the
    app stays on this machine or asks for a login: see app.__main__)."""
    served = served or ServedFiles(kb_dir, assistant.retriever.store)
    links = Links(kb_dir, served.sources)
    chat = assistant.chat
    model = chat.label if chat else "no model"
    gpu = bool(chat and chat.gpu_build and chat.settings.n_gpu_layers != 0)
    # Rendered message → (question, Answer), so a thumbs up/down finds what it is about.
    answered: OrderedDict[tuple[str, str], tuple[str, Answer]] = OrderedDict()

    def respond(
        message: str, history: list[dict[str, Any]], turns: list[Turn] | None, request: gr.Request
    ) -> Iterator[tuple[list[str] | str, list[Turn]]]:
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
        anchor = "a" + uuid.uuid4().hex[:8]  # this answer's sources' ids on the page
        final = None
        try:
            for final in assistant.stream(question, turns):
                yield render(final, links, anchor, ahead=final.ahead), turns
        except ModelError as exc:  # a model server that went away: say so, keep the page
            log.error("%s", exc)
            yield (
                "Sorry, I can't answer just now: the shop's model is unavailable. Try again soon.",
                turns,
            )
            return
        if final is not None:
            shown = render(final, links, anchor, model, gpu, done=True)
            session = request.session_hash or ""
            for text in shown:
                answered[(session, text)] = (question, final)
            while len(answered) > 4000:
                answered.popitem(last=False)
            feedback.unanswered(session, question, final)
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
        gr.Navbar(visible=False)  # shoppers see the chat alone; the owner's page is /owner
        last_feedback = gr.State(None)
        conversation = gr.State([])  # this browser session's turns (app.understanding.Turn)
        chatbot = gr.Chatbot(
            elem_id="chat",
            height="65vh",
            sanitize_html=True,
            feedback_options=("Like", "Dislike"),
            buttons=["copy"],
            # Sources and answer each get their own copy and thumbs buttons, so "copy"
            # copies the answer alone.
            group_consecutive_messages=False,
            label=f"Chat with {shop.profile.assistant}",
            show_label=False,  # its badge floats over the first card; the log has its own name
        )
        gr.ChatInterface(
            respond,
            multimodal=False,  # text only: the page takes no uploads
            chatbot=chatbot,
            textbox=gr.Textbox(
                placeholder=f"Ask about {topics}…",
                label="Your question",
                show_label=False,
                elem_id="question",
                submit_btn="Send",
                stop_btn="Stop",
            ),
            title=f"{shop.profile.assistant} · {shop.profile.name or 'your shop assistant'}",
            description=f"Ask about {topics}. Answers come from the shop's own catalogue "
            "and policies, with their sources.",
            examples=[[example, None] for example in shop.examples()],
            additional_inputs=[conversation],
            additional_outputs=[conversation],
            # Every shopper's search runs at once, so sources show at once; writing the
            # answers takes turns in the model's own queue (ChatBackend.turns), which
            # COBBLER_CONCURRENCY sizes.
            concurrency_limit=None,
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
    if owner_page:
        from app.owner import build_owner_page

        with page.route("Shop owner", "/owner", show_in_navbar=False):
            build_owner_page(page, assistant.retriever.store, feedback)
    return page
