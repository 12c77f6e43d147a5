"""Whole ingest runs against the real encoder and a real Chroma store."""

from __future__ import annotations

import json
import time

import pytest

from cobbler.store import Store, open_client
from ingest.pipeline import IngestError, ingest
from tests.conftest import make_settings


def test_bundled_knowledge_base_is_ingested(bundled_store):
    store, report = bundled_store
    assert report.skipped == []
    assert report.products >= 300 and report.document_chunks >= 20
    collection = store.require_active()
    assert collection.count() == report.products + report.document_chunks
    docs = collection.get(where={"kind": "document"}, include=["metadatas"])["metadatas"]
    assert {m["source"].rsplit(".", 1)[-1] for m in docs} >= {"md", "pdf", "html"}
    assert any(m.get("page") == 1 for m in docs if m["source"].endswith(".pdf"))
    products = collection.get(where={"kind": "product"}, limit=5, include=["metadatas"])
    for meta in products["metadatas"]:
        assert {"asin", "brand", "brand_key", "url"} <= meta.keys()


def test_reingest_touches_only_what_changed(tmp_path, embedder, kb_copy):
    settings = make_settings(tmp_path, kb_dir=kb_copy)
    client = open_client(settings)
    first = ingest(settings, embedder, client)
    same = ingest(settings, embedder, client)
    assert same.embedded == 0 and same.collection == first.collection
    assert same.unchanged == first.added and same.added == same.updated == []

    doc = kb_copy / "docs" / "faq.md"
    doc.write_text(doc.read_text() + "\n\n## Gift wrapping\n\nWe gift-wrap any order for £2.\n")
    (kb_copy / "docs" / "shoe-care.md").rename(kb_copy / "docs" / "caring-for-shoes.md")
    removed = next(kb_copy.glob("docs/*.html"))
    removed.unlink()
    changed = ingest(settings, embedder, client)
    assert changed.updated == [doc.relative_to(kb_copy).as_posix()]
    assert changed.added == ["docs/caring-for-shoes.md"]  # renamed: its text is not re-embedded
    assert changed.removed == sorted(["docs/shoe-care.md", removed.relative_to(kb_copy).as_posix()])
    assert 0 < changed.embedded <= 3
    collection = Store(client, settings.collection).require_active()
    sources = {m["source"] for m in collection.get(include=["metadatas"])["metadatas"]}
    assert "docs/caring-for-shoes.md" in sources and "docs/shoe-care.md" not in sources
    assert removed.name not in {s.rsplit("/", 1)[-1] for s in sources}
    names = [c.name for c in client.list_collections() if c.name.startswith("cobbler-g")]
    assert names == [changed.collection]  # the old generation is gone
    views = [c.name for c in client.list_collections() if c.name.startswith("cobbler-views-g")]
    assert views == [changed.collection.replace("cobbler-g", "cobbler-views-g")]  # and its views


def test_each_document_header_is_stored_once_as_a_view(bundled_store):
    """The retriever ranks document chunks by their headers too: ingest embeds each distinct
    header once, beside the chunks, never among them."""
    from cobbler.records import Chunk

    store, report = bundled_store
    collection = store.require_active()
    got = collection.get(include=["documents", "metadatas"])
    rows = zip(got["ids"], got["documents"], got["metadatas"])
    chunks = [Chunk.from_store(id, text, meta) for id, text, meta in rows]
    headers = {c.context for c in chunks if c.kind == "document"}
    views = [v for page in store.views(collection) for v in page["documents"]]
    assert sorted(views) == sorted(headers) and len(headers) > 5
    assert collection.count() == report.products + report.document_chunks  # no view among them


def test_strict_run_with_a_bad_file_publishes_nothing(tmp_path, embedder, kb_copy):
    settings = make_settings(tmp_path, kb_dir=kb_copy)
    client = open_client(settings)
    good = ingest(settings, embedder, client)
    (kb_copy / "broken.json").write_text("[{")
    with pytest.raises(IngestError, match="broken.json"):
        ingest(settings, embedder, client, strict=True)
    assert Store(client, settings.collection).active_name() == good.collection


def test_bad_files_are_skipped_by_name_and_the_rest_ingested(tmp_path, embedder, kb_copy):
    (kb_copy / "broken.json").write_text('[{"title": "x", ')
    (kb_copy / "notes.docx.bin").write_bytes(b"\x00\x01")
    (kb_copy / "binary.md").write_bytes(b"# Hi\x00\x00\x00 binary")
    (kb_copy / "empty.txt").write_text("")
    (kb_copy / "rows.jsonl").write_text(
        json.dumps({"title": "Fine Slipper", "price": "£12.00"}) + "\n{not json\n"
    )
    settings = make_settings(tmp_path, kb_dir=kb_copy)
    report = ingest(settings, embedder, open_client(settings))
    reasons = {(p.file, p.where): p.reason for p in report.skipped}
    assert reasons[("broken.json", None)].startswith("invalid JSON")
    assert reasons[("notes.docx.bin", None)] == "unsupported file type '.bin'"
    assert reasons[("binary.md", None)].startswith("binary content in a text file")
    assert reasons[("empty.txt", None)] == "empty file"
    assert reasons[("rows.jsonl", "line 2")] == "malformed row"
    store = Store(open_client(settings), settings.collection).require_active()
    assert store.get(where={"title": "Fine Slipper"})["ids"]


def test_latin1_text_is_decoded_not_garbled(tmp_path, embedder):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "opening.txt").write_bytes(
        "Café opening hours: Monday to Saturday, 9am–5pm. Gift cards from £10.".encode("cp1252")
    )
    settings = make_settings(tmp_path, kb_dir=kb)
    ingest(settings, embedder, open_client(settings))
    collection = Store(open_client(settings), settings.collection).require_active()
    (text,) = collection.get(include=["documents"])["documents"]
    assert "Café" in text and "£10" in text


def test_oversized_files_and_pdfs_without_text_are_skipped(tmp_path, embedder, kb_copy):
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 50, 50)  # a scan-like page: drawing, no text layer
    (kb_copy / "docs" / "scan.pdf").write_bytes(bytes(pdf.output()))
    (kb_copy / "docs" / "huge.md").write_text("# Huge\n\n" + "x" * 3_000_000)
    settings = make_settings(tmp_path, kb_dir=kb_copy, max_file_mb=2)
    report = ingest(settings, embedder, open_client(settings))
    reasons = {p.file: p.reason for p in report.skipped}
    assert reasons["docs/scan.pdf"].startswith("PDF has no text layer")
    assert reasons["docs/huge.md"] == "larger than the 2 MB limit (COBBLER_MAX_FILE_MB)"
    assert report.products >= 300


def test_a_running_retriever_serves_a_finished_ingest_without_restart(tmp_path, embedder, kb_copy):
    from app.retrieval import POINTER_CHECK_S, Retriever

    settings = make_settings(tmp_path, kb_dir=kb_copy)
    client = open_client(settings)
    ingest(settings, embedder, client)
    retriever = Retriever(embedder, Store(client, settings.collection), settings)
    assert not retriever.search("Quokka Trail Clog").sources[0].title.startswith("Quokka")
    (kb_copy / "catalog" / "new.json").write_text(
        json.dumps([{"title": "Quokka Trail Clog", "price": "£30.00", "asin": "B0QUOKKA01"}])
    )
    ingest(settings, embedder, client)
    time.sleep(POINTER_CHECK_S + 0.1)
    assert retriever.search("Quokka Trail Clog").sources[0].title == "Quokka Trail Clog"


def test_utf16_text_with_its_byte_order_mark_is_read_not_called_binary():
    from ingest.pipeline import decode

    assert decode("title,price\nGröße 42,£10\n".encode("utf-16")) == "title,price\nGröße 42,£10\n"
