"""The shop owner's page: what the published index was built from, and what shoppers asked
that the shop could not answer. It reads the store and the local feedback database only;
nothing here leaves the machine.

Served at /owner only when the app stays on this machine or asks for a login (app.__main__).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import gradio as gr

from app.feedback import GAP_COLUMNS, FeedbackStore, write_csv
from cobbler.records import escape_markdown
from cobbler.store import IndexSummary, Store, StoreError

SKIPPED_COLUMNS = ["file", "where", "reason"]
MAPPING_COLUMNS = ["catalog file", "field", "column read"]
DISLIKED_COLUMNS = ["when", "question", "comment", "answer"]  # the comment before the long answer


def index_text(summary: IndexSummary | None) -> str:
    """The index in one paragraph (Markdown; file names escaped)."""
    if summary is None:
        return "**Nothing is ingested yet.** Run `make ingest` (python -m ingest)."
    built = (
        time.strftime("%Y-%m-%d %H:%M", time.localtime(summary.built))
        if summary.built
        else "unknown"
    )
    skipped = len(summary.skipped)
    return (
        f"**Index built {built}** from {summary.files} files: "
        f"**{summary.products}** products and **{summary.document_chunks}** document chunks "
        f"({summary.chunks} chunks in all). "
        f"{skipped} row{'s' if skipped != 1 else ''} or file{'s' if skipped != 1 else ''} "
        f"skipped. Index `{escape_markdown(summary.collection)}`."
    )


def skipped_rows(summary: IndexSummary | None) -> list[list[str]]:
    if summary is None:
        return []
    return [
        [p.get("file") or "", p.get("where") or "", p.get("reason") or ""] for p in summary.skipped
    ]


def mapping_rows(summary: IndexSummary | None) -> list[list[str]]:
    if summary is None:
        return []
    return [
        [file, role, column]
        for file, mapping in sorted(summary.catalogs.items())
        for role, column in mapping.items()
    ]


def build_owner_page(page: gr.Blocks, store: Store, feedback: FeedbackStore) -> None:
    """The owner's components, inside `page`'s current route. Refreshed on every visit."""
    exports = Path(tempfile.mkdtemp(prefix="cobbler-owner-"))

    def load() -> tuple[Any, ...]:
        try:
            summary = store.summary()
        except StoreError as exc:
            summary, note = None, f"**The index cannot be read:** {escape_markdown(str(exc))}"
        else:
            note = index_text(summary)
        gaps = feedback.gaps()
        disliked = feedback.disliked()
        gaps_csv = exports / "unanswered-questions.csv"
        disliked_csv = exports / "thumbs-down.csv"
        with gaps_csv.open("w", newline="", encoding="utf-8") as out:
            write_csv(out, gaps, GAP_COLUMNS)
        with disliked_csv.open("w", newline="", encoding="utf-8") as out:
            write_csv(out, disliked, DISLIKED_COLUMNS)
        return (
            note,
            skipped_rows(summary),
            mapping_rows(summary),
            [[row[c] for c in GAP_COLUMNS] for row in gaps],
            [[row[c] for c in DISLIKED_COLUMNS] for row in disliked],
            gr.update(value=str(gaps_csv), interactive=bool(gaps)),
            gr.update(value=str(disliked_csv), interactive=bool(disliked)),
        )

    gr.Markdown(
        "[← Back to the chat](./)\n\n# Shop owner\n"
        "What the assistant knows, and what shoppers asked that it could not answer."
    )
    refresh = gr.Button("Refresh", size="sm", elem_id="owner-refresh")
    gr.Markdown("## What was ingested")
    index = gr.Markdown(elem_id="owner-index")
    skipped = gr.Dataframe(
        headers=SKIPPED_COLUMNS,
        label="Skipped rows and files, with the reason",
        interactive=False,
        wrap=True,
        elem_id="owner-skipped",
    )
    mapping = gr.Dataframe(
        headers=MAPPING_COLUMNS,
        label="Catalog columns: which column was read for each field",
        interactive=False,
        wrap=True,
        elem_id="owner-mapping",
    )
    gr.Markdown("## What the shop could not answer")
    gaps = gr.Dataframe(
        headers=GAP_COLUMNS,
        label="Questions answered with an honest none or “I don't know”, grouped by what was "
        "asked for",
        interactive=False,
        wrap=True,
        elem_id="owner-gaps",
    )
    gaps_csv = gr.DownloadButton("Download as CSV", size="sm", elem_id="owner-gaps-csv")
    disliked = gr.Dataframe(
        headers=DISLIKED_COLUMNS,
        label="Thumbs-down answers and their comments",
        interactive=False,
        wrap=True,
        elem_id="owner-disliked",
    )
    disliked_csv = gr.DownloadButton("Download as CSV", size="sm", elem_id="owner-disliked-csv")
    outputs = [index, skipped, mapping, gaps, disliked, gaps_csv, disliked_csv]
    page.load(load, None, outputs, api_visibility="private")
    refresh.click(load, None, outputs, api_visibility="private")
