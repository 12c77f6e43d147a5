"""Shared fixtures: the real encoder, a real Chroma store of the bundled knowledge base,
and the real `small` llama.cpp model, each created once per test session."""

from __future__ import annotations

import os
import shutil
from functools import cache
from pathlib import Path

import pytest

import cobbler  # noqa: F401  (offline switches first)
from cobbler.embeddings import Embedder
from cobbler.records import Source, format_price
from cobbler.settings import Settings
from cobbler.store import Store, open_client

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_KB = ROOT / "knowledge_base"
SHARED_DATA = ROOT.parent / "shared" / "data"
SHOES_CSV = SHARED_DATA / "amazon_uk_shoes_1k.csv"


SHOPS = ROOT / "tests" / "fixtures" / "shops"  # small shops of other goods and currencies


@cache
def catalog_of(kb: Path):
    """What the app would know of a knowledge base's shop, learned as ingest learns it
    (no encoder, no store): for tests of reading questions."""
    from app.understanding import Catalog
    from cobbler.profile import load_profile
    from ingest.pipeline import learn_shop, load_knowledge_base

    profile = load_profile(kb)
    _, chunks, _ = load_knowledge_base(Settings(kb_dir=kb), profile=profile)
    shop = learn_shop(chunks, profile)
    return Catalog.build(shop, [c.text for c in chunks], [c.metadata() for c in chunks])


def make_settings(tmp: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "kb_dir": BUNDLED_KB,
        "db_dir": tmp / "db",
        "models_dir": ROOT / "models",
        "model": "small",
        "n_threads": os.cpu_count() or 2,
        "temperature": 0.0,  # the same answer every run
    }
    values.update(overrides)
    return Settings(**values)


def app_env(tmp: Path, kb: Path, **settings: str) -> dict[str, str]:
    """Environment for a child `python -m ingest` / `python -m app` on a private store."""
    return {
        **os.environ,
        "COBBLER_KB_DIR": str(kb),
        "COBBLER_DB_DIR": str(tmp / "db"),
        "COBBLER_FEEDBACK_DB": str(tmp / "feedback.sqlite3"),
        "COBBLER_MODEL": "small",
        "COBBLER_MODELS_DIR": str(ROOT / "models"),
        **{f"COBBLER_{name.upper()}": value for name, value in settings.items()},
    }


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    settings = Settings()
    return Embedder.from_settings(settings)


@pytest.fixture(scope="session")
def bundled_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(tmp_path_factory.mktemp("bundled"))


@pytest.fixture(scope="session")
def bundled_store(bundled_settings: Settings, embedder: Embedder):
    """The bundled knowledge base ingested once into a temporary real Chroma store."""
    from ingest.pipeline import ingest

    client = open_client(bundled_settings)
    report = ingest(bundled_settings, embedder, client)
    return Store(client, bundled_settings.collection), report


@pytest.fixture(scope="session")
def small_model(bundled_settings: Settings):
    from app.generation import ChatModel
    from cobbler.models import resolve_chat_model

    return ChatModel(*resolve_chat_model(bundled_settings), bundled_settings)


@pytest.fixture(scope="session")
def assistant(bundled_store, embedder, small_model, bundled_settings):
    from app.retrieval import Retriever
    from app.service import Assistant

    store, _ = bundled_store
    return Assistant(Retriever(embedder, store, bundled_settings), small_model, bundled_settings)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled knowledge base."""
    target = tmp_path / "kb"
    shutil.copytree(BUNDLED_KB, target)
    return target


def product_source(
    n: int, title: str, low: float, high: float | None = None, currency: str = "GBP", **fields
) -> Source:
    """A retrieved product for tests of what is done with sources (no store needed)."""
    return Source(
        id=f"p{n}",
        kind="product",
        n=n,
        score=1.0,
        title=title,
        source="c.json",
        text=f"{title}\nPrice: {format_price(low, low, currency)}",
        price_min=low,
        price_max=high or low,
        currency=currency,
        brand=title.split()[0],
        **fields,
    )


def document_source(n: int, title: str, text: str, source: str = "doc.md") -> Source:
    """A retrieved document chunk, as `product_source` is a product."""
    return Source(
        id=f"d{n}", kind="document", n=n, score=1.0, title=title, source=source, text=text
    )


def needs_shared_data() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not SHOES_CSV.is_file(), reason=f"real catalog {SHOES_CSV} is absent (no ../shared)"
    )
