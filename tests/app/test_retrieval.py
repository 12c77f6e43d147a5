"""Retrieval over the ingested bundled knowledge base (real encoder, real Chroma)."""

from __future__ import annotations

import json

import numpy as np

from app.retrieval import Retriever, tokenize
from tests.conftest import BUNDLED_KB


def test_a_product_title_finds_that_product_first(bundled_store, bundled_settings, embedder):
    store, _ = bundled_store
    products = json.loads((BUNDLED_KB / "catalog" / "products.json").read_text())
    retriever = Retriever(embedder, store, bundled_settings)
    for product in products[:: len(products) // 8][:8]:
        sources = retriever.retrieve(product["title"], k=5)
        assert sources[0].asin == product["asin"], product["title"]
        assert [s.n for s in sources] == [1, 2, 3, 4, 5]


def test_policy_question_finds_the_returns_document(bundled_store, bundled_settings, embedder):
    store, _ = bundled_store
    sources = Retriever(embedder, store, bundled_settings).retrieve(
        "How long do I have to return shoes?"
    )
    assert sources[0].kind == "document"
    assert "return" in sources[0].source


def test_the_dense_side_ranks_every_stored_chunk_exactly(bundled_store, bundled_settings, embedder):
    """Chroma's HNSW search is approximate and its graph differs from process to process: the
    same question got a different 40th candidate, so other scores and now and then another
    answer, in two runs. The dense ranking is the exact cosine order of everything stored."""
    store, _ = bundled_store
    settings = bundled_settings.model_copy(update={"join_neighbours": False})
    retriever = Retriever(embedder, store, settings)
    pages = list(store.contents(store.active()))
    ids = [id for page in pages for id in page["ids"]]
    vectors = np.vstack([np.asarray(page["embeddings"], dtype=np.float32) for page in pages])
    for question in ["How much is it to replace a zip?", "waterproof boots for walking"]:
        similarity = vectors @ np.asarray(embedder.embed_query(question), dtype=np.float32)
        exact = [ids[i] for i in np.argsort(-similarity, kind="stable")[:40]]
        found = retriever.search(question, k=40, dense_only=True).sources
        assert [s.id for s in found] == exact, question


def test_only_names_the_shop_does_not_sell_count_as_unknown_brands(
    bundled_store, bundled_settings, embedder
):
    """Shop words ("Men's", "Sneakers", "other brands") are not brands the shop lacks."""
    from app.understanding import parse

    store, _ = bundled_store
    catalog = Retriever(embedder, store, bundled_settings).catalog()
    shop_words = ("Men's slippers", "Sneakers for kids under £30", "Do you repair other brands?")
    for question in shop_words:
        assert parse(question, catalog).unknown_brands == [], question
    assert parse("Any Balenciaga sandals?", catalog).unknown_brands == ["Balenciaga"]


def test_keyword_tokens_are_stemmed_prose_and_whole_codes():
    assert tokenize("Priced, pricing, prices and the price") == ["pric"] * 4
    assert tokenize("policies founded running") == ["policy", "found", "run"]
    # Codes, sizes and amounts stay whole; a hyphenated code also gives its parts.
    assert tokenize("B08BLP231K size 9.5 at 49.99") == ["b08blp231k", "siz", "9.5", "49.99"]
    assert tokenize("AB-1200 AI-powered") == ["ab-1200", "ab", "1200", "ai", "power"]
    assert tokenize("Naïve cafés") == ["naïve", "cafés"]  # accented words as typed


def test_word_pairs_join_words_that_stand_next_to_each_other():
    from app.retrieval import keyword_tokens, word_pairs

    assert word_pairs("Late fees for the rent") == ["lat_fee"]  # "for the" breaks the pair
    assert word_pairs("late fee\nnotice") == ["lat_fee"]  # and so does a new line
    assert word_pairs("the AB-1200 boot") == ["ab-1200_ab", "ab_1200", "1200_boot"]
    assert keyword_tokens("late fee", pairs=True) == ["lat", "fee", "lat_fee"]
    assert keyword_tokens("late fee") == tokenize("late fee")


def test_a_document_chunk_is_lifted_by_its_neighbour_and_products_keep_the_lead():
    from types import SimpleNamespace

    from app.retrieval import _lift_neighbours

    metadatas = [
        {"kind": "document", "source": "a.md", "part": 0},
        {"kind": "document", "source": "a.md", "part": 1},
        {"kind": "document", "source": "b.md", "part": 0},
        {"kind": "product"},
    ]
    index = SimpleNamespace(
        metadatas=metadatas, neighbour={("a.md", 0): 0, ("a.md", 1): 1, ("b.md", 0): 2}
    )
    lifted = _lift_neighbours(index, {0: 0.6, 1: 0.5, 2: 0.8, 3: 0.9}, 0.5)
    # a.md's two chunks (0.6 + 0.25, 0.5 + 0.3) pass b.md's lone one (0.8) ...
    assert sorted(lifted, key=lifted.get, reverse=True) == [3, 0, 1, 2]
    # ... and the best document is scaled back to the best document score before (0.8),
    # so the product still leads.
    assert max(lifted[i] for i in (0, 1, 2)) == 0.8
    assert lifted[3] == 0.9


def test_adjacent_chunks_read_as_one_text_with_the_overlap_said_once():
    from app.retrieval import _stitch

    first = "Water ferns twice a week in summer, and once a week"
    second = "and once a week in winter when growth slows."
    assert _stitch([first, second]) == (
        "Water ferns twice a week in summer, and once a week in winter when growth slows."
    )
    assert _stitch(["No overlap here.", "Next part."]) == "No overlap here.\nNext part."


def test_a_chunk_joins_its_retrieved_neighbour_in_the_same_section():
    from types import SimpleNamespace

    from app.retrieval import _joined

    # Only the two fields _joined reads; a real Index needs a store.
    doc = {"kind": "document", "source": "guide.md"}
    metadatas = [
        doc | {"part": 0, "section": "Care"},
        doc | {"part": 1, "section": "Care"},
        doc | {"part": 2, "section": "Pests"},
        {"kind": "product", "source": "catalog.csv"},
    ]
    index = SimpleNamespace(
        metadatas=metadatas,
        neighbour={("guide.md", m["part"]): i for i, m in enumerate(metadatas[:3])},
    )
    # Row 1 is joined by row 0 (adjacent, same section); row 2 is another section.
    assert _joined(index, [1, 3, 0, 2], k=3) == [[1, 0], 3, 2]


def test_a_section_is_found_by_what_its_headings_say(tmp_path, embedder):
    """A chunk whose text never names its topic is still found by its file name, title and
    heading (its header, embedded at ingest), weighted by COBBLER_HEADER_WEIGHT."""
    from cobbler.store import Store, open_client
    from ingest.pipeline import ingest
    from tests.conftest import make_settings

    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "warranty.md").write_text(
        "# Warranty\n\n## Faulty items\n\n"
        "Send us a photo and the order number within two years and we repair it or swap it.\n"
    )
    (kb / "care.md").write_text(
        "# Looking after your things\n\n## Stains\n\n"
        "Send us a photo of the stain and the order number and we reply within two days.\n"
    )
    settings = make_settings(tmp_path, kb_dir=kb)
    ingest(settings, embedder, open_client(settings))
    store = Store(open_client(settings), settings.collection)
    question = "Is a faulty item covered by the warranty?"
    # The headers' vectors are read only when a header weight is set; weight 0 ignores them.
    index = Retriever(embedder, store, settings.model_copy(update={"header_weight": 0.6})).index()
    documents = ~index.columns["product"]
    warranty = next(i for i, m in enumerate(index.metadatas) if m["source"] == "warranty.md")
    care = 1 - warranty  # one chunk each
    margins = {}
    for weight in (0.0, 0.6):
        retriever = Retriever(
            embedder, store, settings.model_copy(update={"header_weight": weight})
        )
        ranked, _ = retriever._dense(index, retriever.embed(question), documents, 2)
        margins[weight] = dict(ranked)[warranty] - dict(ranked)[care]
    assert margins[0.6] > margins[0.0]
    headed = settings.model_copy(update={"header_weight": 0.6})
    found = Retriever(embedder, store, headed).search(question, dense_only=True).sources
    assert found[0].source == "warranty.md"


def test_keywords_read_a_document_header_and_fusion_adds_the_scaled_scores(tmp_path, embedder):
    """BM25 reads a document chunk's header (COBBLER_CONTEXT_HEADERS=keywords), so a word of
    its file name finds it; fusion by score gives each side's best 1 and its last candidate
    0, so a chunk both sides put first scores 2."""
    from cobbler.store import Store, open_client
    from ingest.pipeline import ingest
    from tests.conftest import make_settings

    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "kettle-descaling.md").write_text(
        "# Kettles\n\nFill it with equal parts vinegar and water, boil, then rinse it twice.\n"
    )
    (kb / "delivery.md").write_text("# Delivery\n\nParcels arrive within three working days.\n")
    (kb / "hours.md").write_text("# Opening hours\n\nThe shop opens at nine on weekdays.\n")
    settings = make_settings(tmp_path, kb_dir=kb)
    assert settings.context_headers == "keywords" and settings.fusion == "scores"
    ingest(settings, embedder, open_client(settings))
    store = Store(open_client(settings), settings.collection)
    question = "How do I go about descaling?"
    retriever = Retriever(embedder, store, settings)
    found = retriever.search(question, keywords_only=True).sources
    assert [s.source for s in found] == ["kettle-descaling.md"]  # "descaling" is in no text
    unheaded = settings.model_copy(update={"context_headers": "none"})
    assert Retriever(embedder, store, unheaded).search(question, keywords_only=True).sources == []
    fused = retriever.search(question).sources
    assert fused[0].source == "kettle-descaling.md" and fused[0].score == 2.0
    assert fused[-1].score == 0.0  # the vector side's last candidate, no keyword


def test_an_amount_that_names_no_product_is_a_policy_s_when_documents_come_closer(
    bundled_store, bundled_settings, embedder
):
    from app.service import Assistant

    store, _ = bundled_store
    assistant = Assistant(Retriever(embedder, store, bundled_settings), None, bundled_settings)
    for question in ("Is delivery free on orders over £50?", "Do you deliver parcels over 20 kg?"):
        found, constraints = assistant.search(question)
        # Before, "over £50" became a price filter and the delivery page was never searched.
        assert found.sources[0].source == "docs/delivery.md", question
        assert not constraints.bounded and not constraints.weighed
    (boots,) = assistant.replay([{"role": "user", "content": "Any walking boots for men?"}])
    found, _ = assistant.search("and is delivery free on orders over £50?", [boots])
    assert found.sources[0].source == "docs/delivery.md"
    found, constraints = assistant.search("anything under £30?")
    assert constraints.upper == 30 and found.sources
    assert all(s.kind == "product" and s.price_min <= 30 for s in found.sources)
